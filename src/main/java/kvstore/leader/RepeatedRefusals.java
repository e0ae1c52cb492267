package kvstore.leader;

import java.util.HashMap;
import java.util.Map;

/**
 * Which refused registrations are worth a log line. A follower started while the capacity is
 * full asks again every 5 s until it is raised (an operator prepares a machine, then raises the
 * capacity); one line per attempt buried the log. A refusal is logged when it is the first for
 * that follower, when its reason changed, or once a minute while it goes on. Pure: time is a
 * parameter. At most {@link #MAX_FOLLOWERS} followers are remembered (then it starts afresh).
 */
final class RepeatedRefusals {
    static final long REPEAT_MILLIS = 60_000;
    static final int MAX_FOLLOWERS = 1_000;

    private record Logged(String reason, long atMillis) {}

    private final Map<String, Logged> last = new HashMap<>();

    /** True when this refusal should be logged (and it is remembered as logged). */
    boolean shouldLog(String follower, String reason, long nowMillis) {
        Logged l = last.get(follower);
        if (l != null && l.reason().equals(reason) && nowMillis - l.atMillis() < REPEAT_MILLIS) return false;
        if (l == null && last.size() >= MAX_FOLLOWERS) last.clear();
        last.put(follower, new Logged(reason, nowMillis));
        return true;
    }

    /** The follower registered: its next refusal is news again. */
    void accepted(String follower) {
        last.remove(follower);
    }
}
