package kvstore.core;

import kvstore.core.log.LogRecord;
import kvstore.core.log.LogState;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the leader's log says (PROTOCOL.md, "Leader restart"): the registry of followers, the
 * highest epoch taken, and the commit decisions not yet acknowledged by every replica.
 */
public final class LeaderLog implements LogState {
    private long epoch;
    private final LinkedHashMap<String, LogRecord.Register> registry = new LinkedHashMap<>();
    private final LinkedHashMap<TxId, LogRecord.Decision> undecided = new LinkedHashMap<>();

    @Override
    public void apply(LogRecord r) {
        if (r instanceof LogRecord.Epoch e) {
            epoch = Math.max(epoch, e.epoch());
        } else if (r instanceof LogRecord.Register g) {
            registry.put(g.port() + ":" + g.host(), g);
        } else if (r instanceof LogRecord.Decision d) {
            undecided.put(d.tx(), d);
        } else if (r instanceof LogRecord.End e) {
            undecided.remove(e.tx());
        } else if (r instanceof LogRecord.Abort) {
            // An inherited transaction aborted by a later epoch: nothing to remember once recorded.
        } else {
            throw new IllegalStateException("a leader log cannot hold " + r.getClass().getSimpleName());
        }
    }

    @Override
    public List<LogRecord> snapshotRecords() {
        List<LogRecord> out = new ArrayList<>(1 + registry.size() + undecided.size());
        out.add(new LogRecord.Epoch(epoch));
        out.addAll(registry.values());
        out.addAll(undecided.values());
        return out;
    }

    public long epoch() { return epoch; }

    public List<LogRecord.Register> registry() { return new ArrayList<>(registry.values()); }

    public List<LogRecord.Decision> undecided() { return new ArrayList<>(undecided.values()); }

    public Map<TxId, LogRecord.Decision> undecidedById() { return undecided; }
}
