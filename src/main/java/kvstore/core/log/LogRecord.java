package kvstore.core.log;

import kvstore.core.TxId;
import kvstore.core.Write;
import kvstore.core.view.View;

import java.util.List;

/**
 * Everything a node writes down (PROTOCOL.md, "Write path", "Recovery", "Versions" and "Views").
 * Followers write {@link Prepare}, {@link Commit}, {@link Abort}, {@link Epoch}, {@link ViewRecord},
 * {@link Copy}, {@link Copied}, {@link Rid} and {@link Decided} (a presumed abort they may be asked
 * about again); the leader writes {@link Epoch}, {@link ViewRecord}, {@link Decision},
 * {@link Abort}, {@link End} and {@link Rid}. Snapshots (compacted state) also hold {@link Data},
 * {@link Hand}, {@link Outcomes} and {@link HighVersion}, and close with {@link SnapshotEnd} so a
 * reader can check it saw every record.
 *
 * <p>The byte layout of each type is in {@link LogCodec}.
 */
public sealed interface LogRecord {

    /** A follower's yes vote in the making: its keys locked by tx until its COMMIT or ABORT. */
    /**
     * A yes vote's writes. {@code view}: the view this follower held when it prepared them (0:
     * unknown) — a copy source does not serve keys a transaction from before a move holds.
     */
    record Prepare(TxId tx, long epoch, long sinceMillis, String rid, List<Write> writes, long view) implements LogRecord {
        public Prepare {
            writes = List.copyOf(writes);
        }

        public Prepare(TxId tx, long epoch, long sinceMillis, String rid, List<Write> writes) {
            this(tx, epoch, sinceMillis, rid, writes, 0);
        }
    }

    /** Phase 2 applied: the prepared writes are now the keys' committed state, at {@code version}. */
    record Commit(TxId tx, long version) implements LogRecord {}

    /** On a follower: the prepared writes are dropped. On the leader: tx can never commit. */
    record Abort(TxId tx) implements LogRecord {}

    /** The highest leader epoch this node has accepted (follower) or taken (leader). */
    record Epoch(long epoch) implements LogRecord {}

    /**
     * The leader's commit decision: the version it gives the writes, their keys, every replica to
     * tell, and the view the transaction began in (a member that joined later never prepared it).
     */
    record Decision(TxId tx, long version, List<String> keys, List<Long> replicaIds, long view) implements LogRecord {
        public Decision {
            keys = List.copyOf(keys);
            replicaIds = List.copyOf(replicaIds);
        }

        public Decision(TxId tx, long version, List<String> keys, List<Long> replicaIds) {
            this(tx, version, keys, replicaIds, 0);
        }
    }

    /** Every replica acknowledged phase 2 of tx: the leader may forget it. */
    record End(TxId tx) implements LogRecord {}

    /** The membership, as the leader made it (SPEC.md section 10). */
    record ViewRecord(View view) implements LogRecord {}

    /** Snapshot: a key and its version; a null value is a deleted key kept while keys move. */
    record Data(String key, long version, byte[] value) implements LogRecord {}

    /** A page of keys copied from a current replica, each applied only if newer than what is held. */
    record Copy(List<Data> entries) implements LogRecord {
        public Copy {
            entries = List.copyOf(entries);
        }
    }

    /** This follower holds every key of copy round {@code round} (PROTOCOL.md, "Views and moving keys"). */
    record Copied(long round) implements LogRecord {}

    /** The outcome of a write that carried a rid (SPEC.md section 11). */
    record Rid(String rid, long fingerprint, int status, long version, String body, long atMillis) implements LogRecord {}

    /** A tx this follower decided and may still be asked about (snapshots; and a presumed abort). */
    record Decided(TxId tx, boolean committed) implements LogRecord {}

    /** Snapshot only: a key changed by hand through the manual slot. */
    record Hand(String key) implements LogRecord {}

    /** Snapshot only: a leader epoch's decided transactions, as bitsets of their sequence numbers. */
    record Outcomes(long epoch, byte[] committed, byte[] aborted) implements LogRecord {}

    /** The highest version a node has seen: versions are never reused (leader snapshots). */
    record HighVersion(long version) implements LogRecord {}

    /** Snapshot only, last: how many records came before it. */
    record SnapshotEnd(long records) implements LogRecord {}
}
