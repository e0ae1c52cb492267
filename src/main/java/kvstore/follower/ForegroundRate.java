package kvstore.follower;

/**
 * The leader's messages (prepares, commits, aborts, reads) this follower answered in about the
 * last second. A copy source reports it with each page, so that the gainer copies slowly while
 * clients are being served (see {@link CopyPace}). Event loop only; time comes in as parameters.
 */
final class ForegroundRate {
    private static final long SECOND = 1_000_000_000L;
    private long bucketStart;
    private long current, previous;

    ForegroundRate(long nowNanos) {
        bucketStart = nowNanos;
    }

    void add(int messages, long nowNanos) {
        roll(nowNanos);
        current += messages;
    }

    /** The larger of this second's count so far and the last whole second's (0 after two quiet seconds). */
    long perSecond(long nowNanos) {
        roll(nowNanos);
        return Math.max(current, previous);
    }

    private void roll(long now) {
        long elapsed = now - bucketStart;
        if (elapsed < SECOND) return;
        previous = elapsed < 2 * SECOND ? current : 0;
        current = 0;
        bucketStart = now;
    }
}
