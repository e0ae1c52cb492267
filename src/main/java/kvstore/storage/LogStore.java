package kvstore.storage;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import kvstore.core.log.Bytes;
import kvstore.core.log.FileHeader;
import kvstore.core.log.LogCodec;
import kvstore.core.log.LogRecord;
import kvstore.core.log.LogState;
import kvstore.fault.FaultPoints;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The append-only log of one node, written through Vert.x's {@link AsyncFile} (PROTOCOL.md,
 * "Recovery"). All methods must be called on the owning verticle's event loop.
 *
 * <h2>Group commit</h2>
 * One write is in flight at a time, in order, so a crash can tear the tail but never leave a
 * hole. Records appended while a write and its fsync are running wait in a queue; when they
 * finish, everything queued goes out as one write followed by one fsync, and every waiter whose
 * record was in that write is completed. So concurrent prepares share fsyncs, and nothing is
 * acknowledged before the fsync that covers it completed. With {@code groupCommit} off (for the
 * benchmark's comparison) each record gets its own write and fsync.
 *
 * <h2>Segments and compaction</h2>
 * When the active segment passes {@code segmentBytes} a new one is created (atomically, see
 * {@link LogFiles}) and the old one is closed for good. When closed segments add up to more
 * than the last snapshot (and at least {@code compactMinBytes}), a worker thread replays the
 * last snapshot and the closed segments into a fresh state, writes a new snapshot and deletes
 * what it covers. The live state is never touched by that thread, so restart time follows the
 * data size, not the history length.
 *
 * <p>A failed write or fsync is fatal ({@link Fatal}): never retried.
 */
public final class LogStore {

    public record Settings(long segmentBytes, boolean groupCommit, long compactMinBytes) {
        public static Settings defaults() {
            return new Settings(8L << 20, true, 16L << 20);
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(LogStore.class);

    /** A queued record (bytes) and who waits for it to be durable (may be null), or a barrier (bytes null). */
    private record Entry(byte[] bytes, Promise<Void> waiter) {}

    private final Vertx vertx;
    private final Path dir;
    private final int role;
    private final String identity;
    private final Settings settings;
    private final Supplier<LogState> freshState;
    private final String faultPrefix;

    private AsyncFile file;
    private long seq;
    private long position;
    private long closedBytes;
    private long snapshotSeq;
    private long snapshotBytes;

    private final ArrayDeque<Entry> queue = new ArrayDeque<>();
    private List<Promise<Void>> inflight = new ArrayList<>();
    private boolean busy;      // a write+fsync or a segment roll is running
    private boolean writing;   // a write+fsync is running: its waiters are in `inflight`
    private boolean compacting;
    private Future<Long> compaction = Future.succeededFuture(0L); // the one running, for close()
    private boolean closed;

    private long fsyncs, recordsWritten, bytesWritten, compactions;

    private LogStore(Vertx vertx, Path dir, int role, String identity, Settings settings,
                     Supplier<LogState> freshState, Recovery.Result rec) {
        this.vertx = vertx;
        this.dir = dir;
        this.role = role;
        this.identity = identity;
        this.settings = settings;
        this.freshState = freshState;
        this.faultPrefix = role == FileHeader.LEADER ? "leader." : "follower.";
        this.seq = rec.activeSegment();
        this.position = rec.activeBytes();
        this.closedBytes = rec.closedBytes();
        this.snapshotSeq = rec.snapshotSeq();
        this.snapshotBytes = rec.snapshotBytes();
    }

    /** Opens the active segment that {@link Recovery} left in place. Call on the owning event loop. */
    public static Future<LogStore> open(Vertx vertx, Path dir, int role, Settings settings,
                                        Supplier<LogState> freshState, Recovery.Result rec) {
        LogStore store = new LogStore(vertx, dir, role, rec.identity(), settings, freshState, rec);
        return vertx.fileSystem().open(LogFiles.segment(dir, rec.activeSegment()).toString(), writeOptions())
                .map(f -> {
                    store.file = f;
                    store.maybeCompact(); // a restart after a long history compacts it at once
                    return store;
                });
    }

    private static OpenOptions writeOptions() {
        return new OpenOptions().setRead(false).setWrite(true).setCreate(false).setTruncateExisting(false);
    }

    /* --- Appending --- */

    /** Appends a record; the future completes once it is durable. */
    public Future<Void> append(LogRecord r) {
        Promise<Void> p = Promise.promise();
        enqueue(LogCodec.encode(r), p);
        return p.future();
    }

    /** Appends records in order; the future completes once all of them are durable (one fsync, usually). */
    public Future<Void> append(List<LogRecord> records) {
        for (int i = 0; i < records.size() - 1; i++) appendLazy(records.get(i));
        return records.isEmpty() ? barrier() : append(records.get(records.size() - 1));
    }

    /** Appends a record nobody waits for (it becomes durable with the next fsync). */
    public void appendLazy(LogRecord r) {
        enqueue(LogCodec.encode(r), null);
    }

    /** Completes once every record appended so far is durable. */
    public Future<Void> barrier() {
        if (queue.isEmpty() && !writing) return Future.succeededFuture();
        Promise<Void> p = Promise.promise();
        if (queue.isEmpty()) inflight.add(p);
        else queue.add(new Entry(null, p));
        return p.future();
    }

    private void enqueue(byte[] bytes, Promise<Void> waiter) {
        if (closed) {
            if (waiter != null) waiter.fail("log closed");
            return;
        }
        queue.add(new Entry(bytes, waiter));
        writeNext();
    }

    /** Starts the next write and fsync if none is running. */
    private void writeNext() {
        if (busy || queue.isEmpty() || file == null) return;
        busy = true;
        List<Promise<Void>> waiters = new ArrayList<>();
        int total = 0, count = 0;
        List<byte[]> parts = new ArrayList<>();
        while (!queue.isEmpty()) {
            Entry e = queue.peek();
            if (e.bytes != null && count > 0 && !settings.groupCommit()) break;
            queue.poll();
            if (e.waiter != null) waiters.add(e.waiter);
            if (e.bytes != null) {
                parts.add(e.bytes);
                total += e.bytes.length;
                count++;
            }
        }
        if (count == 0) {
            busy = false;
            for (Promise<Void> w : waiters) w.complete();
            writeNext();
            return;
        }
        Buffer buf;
        if (parts.size() == 1) buf = kvstore.http.Wrap.bytes(parts.get(0)); // not copied: a copy page is half a megabyte
        else {
            buf = Buffer.buffer(total);
            for (byte[] b : parts) buf.appendBytes(b);
        }
        long at = position;
        position += total;
        recordsWritten += count;
        bytesWritten += total;
        inflight = waiters;
        writing = true;
        if (FaultPoints.armed(faultPrefix + "torn-write")) {
            tornWriteAndHalt(buf, at);
            return;
        }
        long startedNanos = System.nanoTime();
        file.write(buf, at).compose(v -> file.flush()).onComplete(ar -> {
            if (ar.failed()) {
                Fatal.halt("write or fsync of " + LogFiles.segment(dir, seq) + " failed", ar.cause());
                return;
            }
            fsyncs++;
            slowSyncCheck(System.nanoTime() - startedNanos, buf.length());
            List<Promise<Void>> done = inflight;
            inflight = new ArrayList<>();
            writing = false;
            // Decide the roll before answering anyone: a waiter may append at once (the next page
            // of a copy, a participant's next step), and that write must wait for the roll, not run
            // beside it (the roll would swap the file under it, and the next write would take over
            // its waiters).
            if (position >= settings.segmentBytes()) roll();
            else busy = false;
            for (Promise<Void> w : done) w.complete();
            writeNext();
        });
    }

    private static final long SLOW_SYNC_NANOS = 100_000_000L;
    private long slowSyncs, lastSlowWarningNanos;

    /** Like etcd's "slow fdatasync" warning: the disk is what slows every write. At most one line a minute. */
    private void slowSyncCheck(long nanos, int bytes) {
        if (nanos < SLOW_SYNC_NANOS) return;
        slowSyncs++;
        long now = System.nanoTime();
        if (now - lastSlowWarningNanos > 60_000_000_000L) {
            lastSlowWarningNanos = now;
            LOG.warn("slow log write and fsync in {}: {} ms for {} bytes ({} so far; the disk is slow or busy)",
                    dir, nanos / 1_000_000L, bytes, slowSyncs);
        }
    }

    /** Fault point: write half of the batch, make it durable, and die, leaving a torn record. */
    private void tornWriteAndHalt(Buffer buf, long at) {
        Buffer half = buf.getBuffer(0, Math.max(1, buf.length() / 2 + 3));
        file.write(half, at).compose(v -> file.flush()).onComplete(ar -> FaultPoints.halt(faultPrefix + "torn-write"));
    }

    /* --- Segments and compaction --- */

    private void roll() {
        busy = true;
        long next = seq + 1;
        vertx.executeBlocking(() -> {
            Recovery.createSegment(dir, role, identity, next);
            return Files.size(LogFiles.segment(dir, next));
        }).compose(size -> vertx.fileSystem().open(LogFiles.segment(dir, next).toString(), writeOptions()).map(f -> {
            AsyncFile old = file;
            file = f;
            closedBytes += position;
            position = size;
            seq = next;
            old.close();
            return f;
        })).onComplete(ar -> {
            if (ar.failed()) {
                Fatal.halt("creating log segment " + next + " in " + dir + " failed", ar.cause());
                return;
            }
            busy = false;
            maybeCompact();
            writeNext();
        });
    }

    /**
     * Holds compaction back while a copy runs, for each {@code reason} held ({@code "gainer"},
     * {@code "source"}). A gainer's copy of a million keys writes 100 MB of log, and compacting it
     * as it grows (at 16, 32, 64 MB) replayed as much again on the other core; a source that
     * compacts while it serves pages takes that core from the copy too. Released, one compaction
     * covers the whole copy. The log grows by at most what is written meanwhile.
     */
    public void holdCompaction(String reason, boolean hold) {
        if (hold) compactionHeldFor.add(reason);
        else if (compactionHeldFor.remove(reason) && compactionHeldFor.isEmpty()) maybeCompact();
    }

    private final java.util.Set<String> compactionHeldFor = new java.util.HashSet<>(2);

    private void maybeCompact() {
        if (compacting || closed || !compactionHeldFor.isEmpty() || closedBytes < Math.max(settings.compactMinBytes(), snapshotBytes)) return;
        compacting = true;
        long upTo = seq - 1;
        long covered = closedBytes;
        long fromSnapshot = snapshotSeq;
        long started = System.nanoTime();
        compaction = vertx.executeBlocking(() -> compact(fromSnapshot, upTo), false);
        compaction.onComplete(ar -> {
            compacting = false;
            if (ar.failed()) {
                Fatal.halt("compaction of " + dir + " failed", ar.cause());
                return;
            }
            closedBytes -= covered;
            snapshotBytes = ar.result();
            snapshotSeq = upTo;
            compactions++;
            LOG.info("compacted {}: snapshot of segments up to {} is {} bytes ({} ms)", dir, upTo, snapshotBytes,
                    (System.nanoTime() - started) / 1_000_000L);
            maybeCompact(); // segments closed while it ran (a burst of writes) are not left for the next roll
        });
    }

    /** Worker thread: replays snapshot + closed segments into a fresh state and snapshots it. */
    private long compact(long fromSnapshot, long upTo) throws Exception {
        LogState state = freshState.get();
        Recovery.Progress progress = new Recovery.Progress("compaction of " + dir, true);
        if (fromSnapshot > 0) Recovery.readSnapshot(LogFiles.snapshot(dir, fromSnapshot), role, identity, fromSnapshot, state, progress);
        for (long s = fromSnapshot + 1; s <= upTo; s++) {
            Recovery.readClosedSegment(LogFiles.segment(dir, s), role, identity, s, state, progress);
        }
        long size = Recovery.writeSnapshot(dir, role, identity, upTo, state.snapshotRecords(), progress);
        if (fromSnapshot > 0) Files.deleteIfExists(LogFiles.snapshot(dir, fromSnapshot));
        for (long s = fromSnapshot + 1; s <= upTo; s++) Files.deleteIfExists(LogFiles.segment(dir, s));
        LogFiles.fsyncDirectory(dir);
        return size;
    }

    /** Waits for queued records to be durable and a running compaction to end, then closes the file. Later appends fail. */
    public Future<Void> close() {
        Future<Void> drained = barrier();
        closed = true;
        Future<Long> compacted = compaction.recover(e -> Future.succeededFuture(0L));
        return drained.compose(v -> compacted).compose(v -> file == null ? Future.succeededFuture() : file.close());
    }

    /* --- Figures for status and metrics --- */

    public String identity() { return identity; }

    /** Bytes of every log file of this node: snapshot, closed segments and the active one. */
    public long logBytes() { return snapshotBytes + closedBytes + position; }

    public long fsyncs() { return fsyncs; }

    /** Writes whose write and fsync took over 100 ms. */
    public long slowSyncs() { return slowSyncs; }

    public long recordsWritten() { return recordsWritten; }

    public long bytesWritten() { return bytesWritten; }

    public long compactions() { return compactions; }

    /** A compaction has started and not yet ended. */
    boolean compacting() { return compacting; }

    /** Records waiting for the running write and fsync to finish (a gauge of how busy the disk is). */
    public int queued() { return queue.size(); }
}
