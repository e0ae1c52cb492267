package kvstore.core.tpc;

import kvstore.core.Member;
import kvstore.core.TxId;
import kvstore.core.Write;

import java.util.ArrayList;
import java.util.List;

/**
 * One two-phase commit as the leader runs it: its id, the keys it writes, the replica slots,
 * its decision and version. A transaction begun by this leader belongs to a {@link Job}; one
 * inherited from an earlier epoch (found prepared on a follower, or decided in our log without
 * an END) has none.
 */
final class Transaction {
    enum State {
        /** Phase 1 is running. */
        PREPARING,
        /** Every replica voted yes; the commit decision is being made durable. */
        DECIDING,
        COMMITTED,
        ABORTED,
        /** Inherited, cluster mode: asking the replicas whether any committed it. */
        RESOLVING,
        /** Inherited and undecided: the abort is being made durable before anyone is told. */
        ABORTING
    }

    /** One replica's part: what it prepares, and where it stands. */
    static final class Slot {
        final Member member;
        final List<Write> writes;
        SlotState state;
        String reason;          // the error body of a no vote
        long heldVersion;       // the highest version the replica holds of the keys (its vote says)
        int attempts;           // phase-2 messages sent without an acknowledgement
        long notBefore;         // phase 2: not before this time (backoff)

        Slot(Member member, List<Write> writes, SlotState state) {
            this.member = member;
            this.writes = writes;
            this.state = state;
        }
    }

    final TxId id;
    final Job job;
    final List<String> keys;
    final long view;
    final List<Slot> slots = new ArrayList<>(3);
    State state;
    long version;
    RidMemory.Outcome rid;      // sent with phase 2 so followers remember it
    String ridText;             // the rid the prepare carried (held reports bring it back)
    /**
     * A replica may rightly answer phase 2 with "never prepared": an orphan's abort (the report
     * that raised it may be older than the commit that finished it), or an inherited transaction
     * resolved by asking the key's replicas now (some joined after it was prepared).
     */
    boolean refusalExpected;

    Transaction(TxId id, Job job, List<String> keys, long view, State state) {
        this.id = id;
        this.job = job;
        this.keys = keys;
        this.view = view;
        this.state = state;
    }

    Slot slot(long followerId) {
        for (Slot s : slots) if (s.member.id() == followerId) return s;
        return null;
    }

    boolean committed() {
        return state == State.COMMITTED;
    }

    boolean decided() {
        return state == State.DECIDING || state == State.COMMITTED;
    }

    /** The replica may hold one of our keys prepared by this tx, or not yet have applied its decision. */
    boolean unsettledAt(long followerId) {
        Slot s = slot(followerId);
        return s != null && s.state.unsettled();
    }

    /** Phase 1 and 2 are over on every replica: the transaction can be forgotten. */
    boolean settled() {
        if (state == State.PREPARING || state == State.DECIDING || state == State.RESOLVING || state == State.ABORTING) return false;
        for (Slot s : slots) if (s.state.unsettled()) return false;
        return true;
    }
}
