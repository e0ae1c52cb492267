package kvstore.core.tpc;

import kvstore.core.Member;
import kvstore.core.TxId;
import kvstore.core.Write;
import kvstore.core.log.LogRecord;

import java.util.List;

/**
 * What the {@link Coordinator} asks its shell to do, in order (raft's {@code Ready}). The shell
 * ({@link EffectRunner}) runs each one and reports completions back as events; it never decides
 * anything itself. Every message to a follower has a deadline: past it, the shell reports "no
 * answer" whatever the network does.
 */
public sealed interface Effect {

    /** Phase 1 to one replica: its writes of tx; report {@link Coordinator#voted}. */
    record SendPrepare(TxId tx, Member to, List<Write> writes, String rid, long deadlineMillis) implements Effect {}

    /** Append records; when {@code token} is not 0, report {@link Coordinator#durable} once they are durable. */
    record Append(List<LogRecord> records, long token) implements Effect {}

    /** Phase 2 to one replica; report {@link Coordinator#phase2Done}. {@code rid} is remembered with it. */
    record SendPhase2(TxId tx, Member to, boolean commit, long version, RidMemory.Outcome rid, long deadlineMillis) implements Effect {}

    /** A linearizable read from one replica; report {@link Coordinator#readDone}. */
    record SendRead(long readId, Member to, String key, long deadlineMillis) implements Effect {}

    /** Ask one replica what became of an inherited transaction; report {@link Coordinator#outcomeKnown}. */
    record QueryOutcome(TxId tx, Member to, long deadlineMillis) implements Effect {}

    /** Ask one replica what it knows of a rid; report {@link Coordinator#ridAnswered}. */
    record QueryRid(long queryId, Member to, String rid, long deadlineMillis) implements Effect {}

    /** Answer client request {@code reqId}. */
    record Reply(long reqId, Answer answer) implements Effect {}

    /** A follower has accepted a newer leader's epoch: this leader must step down. */
    record Deposed() implements Effect {}

    /** Something that must never happen did: log it loudly. */
    record Alarm(String message) implements Effect {}
}
