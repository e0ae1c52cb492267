package kvstore.core.log;

import kvstore.core.Op;
import kvstore.core.TxId;

import java.util.List;

/**
 * Everything a node writes down (PROTOCOL.md, "Write path" and "Recovery"). Followers write
 * {@link Prepare}, {@link Commit}, {@link Abort} and {@link Epoch}; the leader writes
 * {@link Register}, {@link Epoch}, {@link Decision}, {@link Abort} and {@link End}. Snapshots
 * (compacted state) hold {@link Data}, {@link Decided} and {@link Hand} records besides those,
 * and close with {@link SnapshotEnd} so a reader can check it saw every record.
 *
 * <p>The byte layout of each type is in {@link LogCodec}.
 */
public sealed interface LogRecord {

    /** A follower's yes vote in the making: key locked by tx until its COMMIT or ABORT. */
    record Prepare(TxId tx, long epoch, String key, Op op, byte[] value, long sinceMillis) implements LogRecord {}

    /** Phase 2 applied: the prepared write is now the key's committed state. */
    record Commit(TxId tx) implements LogRecord {}

    /** On a follower: the prepared write is dropped. On the leader: tx can never commit. */
    record Abort(TxId tx) implements LogRecord {}

    /** The highest leader epoch this node has accepted (follower) or taken (leader). */
    record Epoch(long epoch) implements LogRecord {}

    /** The leader's commit decision, with what it needs to finish phase 2 after a restart. */
    record Decision(TxId tx, String key, List<Long> replicaIds) implements LogRecord {}

    /** Every replica acknowledged phase 2 of tx: the leader may forget it. */
    record End(TxId tx) implements LogRecord {}

    /** A follower in the leader's registry. Identity is null for one registered by hand. */
    record Register(String host, int port, String identity) implements LogRecord {}

    /** Snapshot only: a committed key and its value. */
    record Data(String key, byte[] value) implements LogRecord {}

    /** Snapshot only: a tx this follower decided and may still be asked about. */
    record Decided(TxId tx, boolean committed) implements LogRecord {}

    /** Snapshot only: a key changed by hand through the manual slot. */
    record Hand(String key) implements LogRecord {}

    /** Snapshot only: a leader epoch's decided transactions, as bitsets of their sequence numbers. */
    record Outcomes(long epoch, byte[] committed, byte[] aborted) implements LogRecord {}

    /** Snapshot only, last: how many records came before it. */
    record SnapshotEnd(long records) implements LogRecord {}
}
