package kvstore.core.log;

import java.util.List;

/**
 * A state rebuilt from log records: the follower's {@code Participant} or the leader's
 * {@code LeaderLog}. Recovery and compaction replay records into a fresh one; a snapshot is
 * the records that rebuild it.
 */
public interface LogState {
    /** Applies one record; throws IllegalStateException for one that cannot follow the state. */
    void apply(LogRecord r);

    /** Records that rebuild this state from nothing, in order. */
    List<LogRecord> snapshotRecords();
}
