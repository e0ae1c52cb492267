package kvstore.core;

import kvstore.core.log.LogRecord;
import kvstore.core.log.LogState;
import kvstore.core.tpc.RidMemory;
import kvstore.core.view.View;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * What the leader's log says (PROTOCOL.md, "Leader restart"): the highest epoch taken, the
 * latest view (the membership), the commit decisions not yet acknowledged by every replica, the
 * highest version given, and the outcomes of writes that carried a rid.
 */
public final class LeaderLog implements LogState {
    private long epoch;
    private View view;
    private long highVersion;
    private final LinkedHashMap<TxId, LogRecord.Decision> undecided = new LinkedHashMap<>();
    private final RidMemory rids = new RidMemory();

    @Override
    public void apply(LogRecord r) {
        if (r instanceof LogRecord.Epoch e) {
            epoch = Math.max(epoch, e.epoch());
        } else if (r instanceof LogRecord.ViewRecord v) {
            if (v.view().newerThan(view)) view = v.view();
        } else if (r instanceof LogRecord.Decision d) {
            undecided.put(d.tx(), d);
            highVersion = Math.max(highVersion, d.version());
        } else if (r instanceof LogRecord.End e) {
            undecided.remove(e.tx());
        } else if (r instanceof LogRecord.Abort) {
            // An inherited transaction aborted by a later epoch: nothing to remember once recorded.
        } else if (r instanceof LogRecord.Rid d) {
            rids.put(RidMemory.Outcome.of(d));
            highVersion = Math.max(highVersion, d.version());
        } else if (r instanceof LogRecord.HighVersion h) {
            highVersion = Math.max(highVersion, h.version());
        } else {
            throw new IllegalStateException("a leader log cannot hold " + r.getClass().getSimpleName());
        }
    }

    @Override
    public List<LogRecord> snapshotRecords() {
        List<LogRecord> out = new ArrayList<>(3 + undecided.size() + rids.size());
        out.add(new LogRecord.Epoch(epoch));
        out.add(new LogRecord.HighVersion(highVersion));
        if (view != null) out.add(new LogRecord.ViewRecord(view));
        out.addAll(undecided.values());
        rids.snapshot(out);
        return out;
    }

    public long epoch() { return epoch; }

    /** The latest view, or null when no follower has ever registered. */
    public View view() { return view; }

    public long highVersion() { return highVersion; }

    public List<LogRecord.Decision> undecided() { return new ArrayList<>(undecided.values()); }

    /** The rids remembered; the leader takes this memory over when it starts. */
    public RidMemory rids() { return rids; }
}
