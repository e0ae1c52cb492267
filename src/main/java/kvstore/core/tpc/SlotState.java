package kvstore.core.tpc;

/**
 * One replica's part in one transaction, as the leader knows it (PROTOCOL.md, "Write path"):
 * <pre>
 *   AWAITING_VOTE --yes / no answer--> HELD --decision--> PHASE2_DUE --sent--> PHASE2_SENT --ack--> SETTLED
 *        |                                                     ^                   |
 *        +--no--> VOTED_NO (SETTLED unless it must be told)    +------ retry ------+
 * </pre>
 * A replica that gave no answer may still have prepared, so it is HELD like a yes: an abort
 * must reach it. A replica evicted from the membership is SETTLED: it holds nothing it keeps.
 */
enum SlotState {
    AWAITING_VOTE, VOTED_NO, HELD, PHASE2_DUE, PHASE2_SENT, SETTLED;

    /** The replica may hold the key prepared by this transaction, or not yet have applied its decision. */
    boolean unsettled() {
        return this == AWAITING_VOTE || this == HELD || this == PHASE2_DUE || this == PHASE2_SENT;
    }

    boolean phase2Pending() {
        return this == PHASE2_DUE || this == PHASE2_SENT;
    }
}
