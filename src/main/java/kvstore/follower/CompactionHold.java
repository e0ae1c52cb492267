package kvstore.follower;

import io.vertx.core.Vertx;

import java.util.function.Consumer;

/**
 * Holds the log's compaction back for one reason (a copy this follower runs or serves) and lets
 * it go a while after that ends: a compaction replays the whole log on the other core, and at
 * once it would take that core from the copy or from the switch of the range that follows it.
 * One pending release at a time: a later hold cancels it, a later release moves it (a timer left
 * from an earlier round let go two seconds into the next one's wait).
 */
final class CompactionHold {
    private final Vertx vertx;
    private final Consumer<Boolean> hold;
    private final long afterMillis;
    private long releaseTimer = -1;

    /** @param hold told true to hold, false to let go (the log's {@code holdCompaction} for this reason) */
    CompactionHold(Vertx vertx, Consumer<Boolean> hold, long afterMillis) {
        this.vertx = vertx;
        this.hold = hold;
        this.afterMillis = afterMillis;
    }

    /** Holds from now on, until a release. */
    void hold() {
        cancelRelease();
        hold.accept(true);
    }

    /** Lets go {@code afterMillis} from now, unless held or released again before. */
    void releaseLater() {
        cancelRelease();
        releaseTimer = vertx.setTimer(afterMillis, t -> {
            releaseTimer = -1;
            hold.accept(false);
        });
    }

    /** Lets go now (the follower stops). */
    void releaseNow() {
        cancelRelease();
        hold.accept(false);
    }

    private void cancelRelease() {
        if (releaseTimer >= 0) vertx.cancelTimer(releaseTimer);
        releaseTimer = -1;
    }
}
