package kvstore.core.tpc;

import kvstore.core.log.LogRecord;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The outcomes of writes that carried a {@code rid} (SPEC.md section 11, "Retries that apply
 * once"): what the first request was answered, so a repeat gets the same answer and is not
 * applied again. It keeps the last {@link #KEEP_COUNT} rids and every rid of the last
 * {@link #KEEP_MILLIS}, and never more than {@link #HARD_MAX} (a bound on memory: at 1,600
 * writes a second for ten minutes the two rules agree). Entries are kept in the order they were
 * recorded, so the oldest go first. The leader keeps one in its log; so does every follower, for
 * the rids of the writes it applied, so that a new leader can learn what its predecessor did.
 */
public final class RidMemory {
    public static final int KEEP_COUNT = 100_000;
    public static final long KEEP_MILLIS = 10 * 60_000;
    public static final int HARD_MAX = 1_000_000;

    /** What a write with this rid was answered. */
    public record Outcome(String rid, long fingerprint, int status, long version, String body, long atMillis) {
        public LogRecord.Rid record() {
            return new LogRecord.Rid(rid, fingerprint, status, version, body, atMillis);
        }

        public static Outcome of(LogRecord.Rid r) {
            return new Outcome(r.rid(), r.fingerprint(), r.status(), r.version(), r.body(), r.atMillis());
        }

        public boolean committed() {
            return status >= 200 && status < 300;
        }
    }

    private final LinkedHashMap<String, Outcome> byRid = new LinkedHashMap<>();

    public Outcome get(String rid) {
        return byRid.get(rid);
    }

    public void put(Outcome o) {
        byRid.remove(o.rid());
        byRid.put(o.rid(), o);
        trim(o.atMillis());
    }

    private void trim(long nowMillis) {
        Iterator<Outcome> it = byRid.values().iterator();
        while (it.hasNext() && byRid.size() > KEEP_COUNT) {
            Outcome oldest = it.next();
            if (byRid.size() <= HARD_MAX && oldest.atMillis() > nowMillis - KEEP_MILLIS) break;
            it.remove();
        }
    }

    public int size() {
        return byRid.size();
    }

    public void snapshot(List<LogRecord> out) {
        for (Outcome o : byRid.values()) out.add(o.record());
    }

    /** True for 1 to 64 of {@code A-Z a-z 0-9 . _ : -} (SPEC.md section 11). */
    public static boolean valid(String rid) {
        if (rid == null || rid.isEmpty() || rid.length() > 64) return false;
        for (int i = 0; i < rid.length(); i++) {
            char c = rid.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
            if (!ok) return false;
        }
        return true;
    }
}
