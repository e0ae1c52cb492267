package kvstore.storage;

import io.vertx.core.Vertx;
import io.vertx.junit5.Checkpoint;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import kvstore.core.Write;
import kvstore.core.TxId;
import kvstore.core.log.FileHeader;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Participant;
import kvstore.testing.Await;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The log on a real Vert.x event loop and real files: group commit shares fsyncs, everything
 * acknowledged is there after reopening, and compaction bounds the log while keeping the state.
 * Each test gets its own {@code Vertx} from vertx-junit5, closed after it; appends are counted
 * with a checkpoint each, and the checks on the files run on the test thread once all are in.
 */
@ExtendWith(VertxExtension.class)
@Timeout(120)
class LogStoreTest {
    @TempDir
    Path dir;
    Vertx vertx;

    @BeforeEach
    void injectVertx(Vertx vertx) {
        this.vertx = vertx;
    }

    LogStore open(LogStore.Settings s, Participant state) throws Exception {
        Recovery.Result rec = Recovery.recover(dir, FileHeader.FOLLOWER, state);
        return vertx.<LogStore>executeBlocking(() -> null).compose(x -> LogStore.open(vertx, dir, FileHeader.FOLLOWER, s, Participant::new, rec))
                .await(10, TimeUnit.SECONDS);
    }

    static LogRecord prepare(int i, String value) {
        return new LogRecord.Prepare(new TxId(1, i), 1, 0, null, List.of(Write.put("k" + (i % 50), value)));
    }

    /**
     * Appends on the store's own context, like a verticle would, and waits until every append has
     * been acknowledged as durable: one checkpoint per record, so a failed or missing
     * acknowledgement fails the test and names itself.
     */
    void appendAll(LogStore store, List<LogRecord> recs) throws Throwable {
        VertxTestContext ctx = new VertxTestContext();
        Checkpoint durable = ctx.checkpoint(recs.size());
        vertx.runOnContext(v -> {
            for (LogRecord r : recs) store.append(r).onComplete(ctx.succeeding(x -> durable.flag()));
        });
        assertTrue(ctx.awaitCompletion(60, TimeUnit.SECONDS), "every append acknowledged within 60 s");
        if (ctx.failed()) throw ctx.causeOfFailure();
    }

    @Test
    void concurrentAppendsShareFsyncsAndSurviveReopening() throws Throwable {
        LogStore store = open(LogStore.Settings.defaults(), new Participant());
        List<LogRecord> recs = new ArrayList<>();
        for (int i = 1; i <= 500; i++) {
            recs.add(prepare(i, "v" + i));
            recs.add(new LogRecord.Commit(new TxId(1, i), i));
        }
        appendAll(store, recs);
        assertEquals(1000, store.recordsWritten());
        assertTrue(store.fsyncs() < 100, "group commit: far fewer fsyncs than records, got " + store.fsyncs());
        Participant again = new Participant();
        Recovery.recover(dir, FileHeader.FOLLOWER, again);
        assertEquals(50, again.keyCount());
        assertEquals("v500", new String(again.value("k0"), StandardCharsets.UTF_8));
    }

    @Test
    void withoutGroupCommitEveryRecordHasItsOwnFsync() throws Throwable {
        LogStore store = open(new LogStore.Settings(4 << 20, false, 8 << 20), new Participant());
        List<LogRecord> recs = new ArrayList<>();
        for (int i = 1; i <= 40; i++) recs.add(prepare(i, "v"));
        appendAll(store, recs);
        assertEquals(40, store.fsyncs());
    }

    @Test
    void compactionKeepsTheStateAndBoundsTheLog() throws Throwable {
        LogStore.Settings small = new LogStore.Settings(64 << 10, true, 128 << 10);
        LogStore store = open(small, new Participant());
        Participant model = new Participant();
        int n = 0;
        for (int round = 0; round < 40; round++) {
            List<LogRecord> recs = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                n++;
                LogRecord p = prepare(n, "value-" + n + "-" + "x".repeat(40));
                LogRecord c = new LogRecord.Commit(new TxId(1, n), n);
                recs.add(p);
                recs.add(c);
                model.apply(p);
                model.apply(c);
            }
            appendAll(store, recs);
        }
        Await.until("a compaction", Duration.ofSeconds(30), () -> store.compactions() > 0);
        long written = store.bytesWritten();
        Await.until("log bounded", Duration.ofSeconds(30), () -> store.logBytes() < written / 4);
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.anyMatch(p -> p.getFileName().toString().endsWith(".snap")));
        }
        store.close().await(30, java.util.concurrent.TimeUnit.SECONDS); // a later compaction may still be deleting segments
        Participant again = new Participant();
        Recovery.recover(dir, FileHeader.FOLLOWER, again);
        assertEquals(model.keyCount(), again.keyCount());
        for (String k : model.keys(null, null, 1000).keys()) {
            assertEquals(new String(model.value(k), StandardCharsets.UTF_8), new String(again.value(k), StandardCharsets.UTF_8), k);
        }
    }

    /**
     * A copy holds compaction back, on the gainer and on a source: none starts however much is
     * logged while either holds it, and one covers it all once both released it.
     */
    @Test
    void compactionWaitsWhileHeldAndRunsOnceReleased() throws Throwable {
        LogStore store = open(new LogStore.Settings(64 << 10, true, 128 << 10), new Participant());
        vertx.runOnContext(v -> {
            store.holdCompaction("gainer", true);
            store.holdCompaction("source", true);
        });
        int n = 0;
        for (int round = 0; round < 20; round++) {
            List<LogRecord> recs = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                n++;
                recs.add(prepare(n, "value-" + n + "-" + "x".repeat(40)));
                recs.add(new LogRecord.Commit(new TxId(1, n), n));
            }
            appendAll(store, recs);
        }
        long written = store.bytesWritten();
        assertTrue(written > 4 * (128 << 10), "enough logged for a compaction: " + written);
        assertEquals(0, store.compactions(), "held: none ran");
        assertFalse(store.compacting(), "held: none started");
        vertx.runOnContext(v -> store.holdCompaction("gainer", false));
        appendAll(store, List.of(prepare(n + 1, "one more"))); // a roll's check for a compaction runs too
        assertEquals(0, store.compactions(), "still held by the source: none ran");
        assertFalse(store.compacting(), "still held by the source: none started");
        vertx.runOnContext(v -> store.holdCompaction("source", false));
        Await.until("a compaction once released", Duration.ofSeconds(30), () -> store.compactions() > 0);
        Await.until("log bounded", Duration.ofSeconds(30), () -> store.logBytes() < written / 4);
        store.close().await(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    /**
     * Appends made by whoever is told a record is durable (the next step of a copy, a participant's
     * next message) while the segment is full: the roll must not run beside the write they start,
     * or a later write takes over the waiters of the running one (they were never answered, and
     * the later ones were answered before their fsync).
     */
    @Test
    void appendsMadeOnAcknowledgementSurviveSegmentRolls() throws Throwable {
        LogStore store = open(new LogStore.Settings(4 << 10, true, 1L << 40), new Participant());
        int chains = 8, steps = 150;
        VertxTestContext ctx = new VertxTestContext();
        Checkpoint durable = ctx.checkpoint(chains * steps);
        int[] next = {0};
        vertx.runOnContext(v -> {
            for (int c = 0; c < chains; c++) {
                int chain = c;
                new Object() {
                    void step(int k) {
                        int n = ++next[0];
                        LogRecord r = new LogRecord.Prepare(new TxId(1, n), 1, 0, null, List.of(Write.put("c" + n, "chain" + chain + "-" + k)));
                        store.append(r).onComplete(ctx.succeeding(x -> {
                            durable.flag();
                            if (k + 1 < steps) step(k + 1);
                        }));
                    }
                }.step(0);
            }
        });
        assertTrue(ctx.awaitCompletion(30, TimeUnit.SECONDS), "every append acknowledged within 30 s: " + store.recordsWritten()
                + " records written");
        if (ctx.failed()) throw ctx.causeOfFailure();
        store.close().await(30, TimeUnit.SECONDS);
        Participant again = new Participant();
        Recovery.recover(dir, FileHeader.FOLLOWER, again);
        assertEquals(chains * steps, again.prepared().size());
    }
}
