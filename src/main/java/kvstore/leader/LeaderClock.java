package kvstore.leader;

/**
 * The leader's time: milliseconds from {@link System#nanoTime()}, which never goes back (a
 * wall-clock step must not expire deadlines early or late). Every deadline the coordinator
 * gives, and every time it is told, is on this clock.
 */
final class LeaderClock {
    private LeaderClock() {}

    static long now() {
        return System.nanoTime() / 1_000_000L;
    }

    /** Wall-clock time minus {@link #now()}: what turns a deadline into a time people read. */
    static long wallOffset() {
        return System.currentTimeMillis() - now();
    }
}
