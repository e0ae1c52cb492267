package kvstore.follower;

/**
 * How long a gainer waits after each page of a copy: it keeps to {@code --copy-rate}, and while
 * the page's source reports clients served (more than {@link #BUSY_MESSAGES_PER_SECOND} leader
 * messages a second; an idle cluster's checks are a few) to at most
 * {@link #BUSY_BYTES_PER_SECOND}. On 2 cores a copy is held back by the CPU it takes from the
 * foreground, not by a pace of several MiB/s (bench/move.sh part (b)): only a low one leaves
 * the foreground its throughput and latency. Pure: time comes in as a parameter.
 */
final class CopyPace {
    static final long BUSY_MESSAGES_PER_SECOND = 100;
    /**
     * Half a MiB a second. At half the store's maximum on 2 cores, 2 MiB/s took the joining
     * member 15-19% of the machine and the foreground never caught up during the move; at this
     * rate it did (bench/move.sh part (b), docs/benchmarks.md).
     */
    static final long BUSY_BYTES_PER_SECOND = 512L << 10;

    static final int PAGE_KEYS = 4_096;
    /** Pages are smaller while the source serves clients. */
    static final int BUSY_PAGE_KEYS = 512;

    private final long bytesPerSecond;
    private long paidUntil;

    /** @param bytesPerSecond {@code --copy-rate} in bytes a second, 0 for no limit */
    CopyPace(long bytesPerSecond, long nowMillis) {
        this.bytesPerSecond = bytesPerSecond;
        this.paidUntil = nowMillis;
    }

    /** The rate in force (0: none) when the source answered {@code foreground} messages a second. */
    long rate(long foreground) {
        if (foreground <= BUSY_MESSAGES_PER_SECOND) return bytesPerSecond;
        return bytesPerSecond <= 0 ? BUSY_BYTES_PER_SECOND : Math.min(bytesPerSecond, BUSY_BYTES_PER_SECOND);
    }

    /**
     * The keys to ask a source for in one page: fewer while it serves clients (a page is then a
     * short stall of each side's event loop), and for the first page of a round, before the source
     * has said whether it does ({@code foreground} below 0).
     */
    static int pageKeys(long foreground) {
        return foreground < 0 || foreground > BUSY_MESSAGES_PER_SECOND ? BUSY_PAGE_KEYS : PAGE_KEYS;
    }

    /** A page of {@code bytes} was copied from a source that reported {@code foreground}: the milliseconds to wait. */
    long after(long bytes, long foreground, long nowMillis) {
        long rate = rate(foreground);
        if (rate <= 0) {
            paidUntil = nowMillis;
            return 0;
        }
        // At most a second of credit: a pause (a slow source, a busy spell) is not made up in a burst.
        paidUntil = Math.max(paidUntil, nowMillis - 1_000) + bytes * 1000 / rate;
        return Math.max(0, paidUntil - nowMillis);
    }
}
