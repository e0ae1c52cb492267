package kvstore.core.tpc;

import kvstore.core.Member;
import kvstore.core.Op;
import kvstore.core.TxId;

import java.util.List;

/**
 * What the {@link Coordinator} asks its shell to do, in order (raft's {@code Ready}). The shell
 * runs each one and reports completions back as events; it never decides anything itself.
 */
public sealed interface Effect {

    /** Phase 1: {@code PUT /?key&val&tx&epoch} or {@code DELETE /?key&tx&epoch} to one replica. */
    record SendPrepare(TxId tx, Member to, String key, Op op, String value) implements Effect {}

    /** Make the commit decision durable, then report {@link Coordinator#decisionDurable}. */
    record AppendDecision(TxId tx, String key, List<Long> replicaIds) implements Effect {}

    /** Record that an old transaction is aborted, then report {@link Coordinator#abortDurable}. */
    record AppendAbort(TxId tx) implements Effect {}

    /** Every replica acknowledged phase 2: append END (no need to wait for it). */
    record AppendEnd(TxId tx) implements Effect {}

    /** Phase 2 to one replica after {@code delayMillis}; report {@link Coordinator#phase2Done}. */
    record SendPhase2(TxId tx, Member to, boolean commit, long delayMillis) implements Effect {}

    /** A linearizable read from one replica; report {@link Coordinator#readDone}. */
    record SendRead(long reqId, Member to, String key) implements Effect {}

    /** Answer client request {@code reqId}. {@code value} is the body of a 200. */
    record Reply(long reqId, int status, String body, byte[] value) implements Effect {}

    /** Ask one replica what became of an inherited transaction; report {@link Coordinator#outcomeKnown}. */
    record QueryOutcome(TxId tx, Member to, long delayMillis) implements Effect {}

    /** A follower has accepted a newer leader's epoch: this leader must step down. */
    record Deposed() implements Effect {}

    /** Something that must never happen did: log it loudly. */
    record Alarm(String message) implements Effect {}
}
