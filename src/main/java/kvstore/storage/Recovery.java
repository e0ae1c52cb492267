package kvstore.storage;

import kvstore.core.log.Decoded;
import kvstore.core.log.FileHeader;
import kvstore.core.log.LogCodec;
import kvstore.core.log.LogRecord;
import kvstore.core.log.LogState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Rebuilds a node's state from its data directory (PROTOCOL.md, "Recovery"; SPEC.md section 5):
 * the newest snapshot, then every later segment in order, into a fresh {@link LogState}.
 *
 * <p>It reads everything first and changes the directory only once the whole of it is known to
 * be sound. Then, and only then, it removes leftovers (temporary files, segments and snapshots
 * that a newer snapshot covers), cuts a torn tail (keeping the cut bytes in a {@code .broken}
 * file) and creates the segment to append to. Damage anywhere but the tail of the newest segment
 * throws {@link CorruptLogException} naming the file and offset, with nothing changed.
 *
 * <p>Blocking: run it on a worker thread, never on an event loop.
 */
public final class Recovery {
    private Recovery() {}

    private static final Logger LOG = LoggerFactory.getLogger(Recovery.class);
    private static final long PROGRESS_EVERY_MILLIS = 2_000;

    /** What recovery found and left in place. */
    public record Result(String identity, boolean fresh, long activeSegment, long activeBytes,
                         long closedBytes, long snapshotSeq, long snapshotBytes,
                         long records, long bytesReplayed, long tornBytes, long millis) {}

    /**
     * Counts progress and says so every few seconds, for long recoveries. A background replay
     * (compaction, while the node serves) also yields the CPU: after about 20 ms of work it
     * sleeps twice as long, so that on a small machine it never starves the event loops.
     */
    static final class Progress {
        private static final long SLICE_NANOS = 20_000_000L;
        final long startNanos = System.nanoTime();
        long lastReport = startNanos;
        long records, bytes;
        final String what;
        final boolean background;
        private long sliceStart = startNanos;

        Progress(String what) { this(what, false); }

        Progress(String what, boolean background) {
            this.what = what;
            this.background = background;
        }

        void add(long recordBytes) {
            records++;
            bytes += recordBytes;
            if (background && (records & 0x3FF) == 0) yieldIfDue();
            if ((records & 0x3FFF) == 0) {
                long now = System.nanoTime();
                if (now - lastReport > PROGRESS_EVERY_MILLIS * 1_000_000L) {
                    lastReport = now;
                    LOG.info("{}: {} records, {} bytes replayed so far", what, records, bytes);
                }
            }
        }

        long millis() { return (System.nanoTime() - startNanos) / 1_000_000L; }

        /** Worker thread only: a pause in proportion to the work done since the last one. */
        void yieldIfDue() {
            long worked = System.nanoTime() - sliceStart;
            if (worked < SLICE_NANOS) return;
            try {
                Thread.sleep(2 * worked / 1_000_000L);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sliceStart = System.nanoTime();
        }
    }

    public static Result recover(Path dir, int role, LogState state) throws CorruptLogException, IOException {
        if (!Files.exists(dir)) Files.createDirectories(dir);
        if (!Files.isDirectory(dir)) throw new IOException("data directory " + dir + " is not a directory");
        if (!Files.isReadable(dir) || !Files.isWritable(dir) || !Files.isExecutable(dir)) {
            throw new IOException("data directory " + dir + " is not readable and writable");
        }
        LogFiles.Listing listing = LogFiles.list(dir);
        Progress progress = new Progress("recovery of " + dir);
        List<Path> toDelete = new ArrayList<>(listing.temporary());
        String identity = null;
        long snapSeq = 0, snapBytes = 0;

        if (!listing.snapshots().isEmpty()) {
            Map.Entry<Long, Path> newest = listing.snapshots().lastEntry();
            snapSeq = newest.getKey();
            snapBytes = LogFiles.sizeOf(newest.getValue());
            identity = readSnapshot(newest.getValue(), role, null, snapSeq, state, progress);
            for (Path older : listing.snapshots().headMap(snapSeq).values()) toDelete.add(older);
            for (Path covered : listing.segments().headMap(snapSeq, true).values()) toDelete.add(covered);
        }
        List<Map.Entry<Long, Path>> segments = new ArrayList<>(listing.segments().tailMap(snapSeq, false).entrySet());
        long expected = snapSeq + 1; // without a snapshot, history starts at segment 1
        for (Map.Entry<Long, Path> e : segments) {
            if (e.getKey() != expected) {
                throw new CorruptLogException(dir.resolve(LogFiles.segment(dir, expected).getFileName()), 0,
                        "segment " + expected + " is missing (found " + e.getValue().getFileName() + ")");
            }
            expected++;
        }

        long tornAt = -1, tornBytes = 0, closedBytes = 0, activeBytes = 0, activeSeq;
        Path tornFile = null;
        for (int i = 0; i < segments.size(); i++) {
            Path file = segments.get(i).getValue();
            boolean newest = i == segments.size() - 1;
            SegmentScan scan = scanSegment(file, role, identity, segments.get(i).getKey(), state, progress, newest);
            identity = scan.identity;
            if (scan.tornAt >= 0) {
                tornAt = scan.tornAt;
                tornBytes = scan.size - scan.tornAt;
                tornFile = file;
            }
            if (newest) activeBytes = scan.tornAt >= 0 ? scan.tornAt : scan.size;
            else closedBytes += scan.size;
        }

        // Everything is read and sound: only now change the directory.
        boolean fresh = identity == null;
        if (fresh) identity = UUID.randomUUID().toString();
        for (Path p : toDelete) {
            Files.deleteIfExists(p);
            LOG.info("removed leftover {}", p.getFileName());
        }
        if (tornFile != null) {
            cutTornTail(tornFile, tornAt);
            LOG.warn("torn tail: cut {} bytes at offset {} of {} (kept in {}.broken)", tornBytes, tornAt, tornFile, tornFile.getFileName());
        }
        if (segments.isEmpty()) {
            activeSeq = snapSeq + 1;
            createSegment(dir, role, identity, activeSeq);
            activeBytes = LogFiles.sizeOf(LogFiles.segment(dir, activeSeq));
        } else {
            activeSeq = segments.get(segments.size() - 1).getKey();
        }
        if (!toDelete.isEmpty()) LogFiles.fsyncDirectory(dir);
        return new Result(identity, fresh, activeSeq, activeBytes, closedBytes, snapSeq, snapBytes,
                progress.records, progress.bytes, tornBytes, progress.millis());
    }

    /* --- Reading --- */

    private record SegmentScan(String identity, long size, long tornAt) {}

    private static FileHeader readHeader(RecordReader r, Path file, int kind, int role, String identity, long seq)
            throws IOException, CorruptLogException {
        byte[] head = r.head(512);
        Object h = LogCodec.decodeHeader(head, head.length);
        if (h instanceof String why) throw new CorruptLogException(file, 0, "bad header: " + why);
        FileHeader fh = (FileHeader) h;
        if (fh.kind() != kind) throw new CorruptLogException(file, 0, "bad header: not a " + (kind == FileHeader.SEGMENT ? "log segment" : "snapshot"));
        if (fh.role() != role) {
            throw new CorruptLogException(file, 0, "bad header: a " + FileHeader.roleName(fh.role())
                    + "'s file in a " + FileHeader.roleName(role) + "'s data directory");
        }
        if (identity != null && !identity.equals(fh.identity())) {
            throw new CorruptLogException(file, 0, "bad header: node identity " + fh.identity() + " differs from " + identity);
        }
        if (fh.sequence() != seq) throw new CorruptLogException(file, 0, "bad header: sequence " + fh.sequence() + " in a file named " + seq);
        r.seek(LogCodec.headerLength(head, head.length));
        return fh;
    }

    /** Reads a whole snapshot strictly: any damage is corruption. Returns its identity. */
    static String readSnapshot(Path file, int role, String identity, long seq, LogState state, Progress progress)
            throws IOException, CorruptLogException {
        try (RecordReader r = new RecordReader(file)) {
            FileHeader h = readHeader(r, file, FileHeader.SNAPSHOT, role, identity, seq);
            long count = 0;
            while (true) {
                long at = r.offset();
                Decoded d = r.next();
                if (d instanceof Decoded.Ok ok) {
                    if (ok.record() instanceof LogRecord.SnapshotEnd end) {
                        if (end.records() != count) {
                            throw new CorruptLogException(file, at, "snapshot holds " + count + " records, its end says " + end.records());
                        }
                        if (r.offset() != r.size()) throw new CorruptLogException(file, r.offset(), "bytes after the snapshot's end");
                        return h.identity();
                    }
                    applyOrCorrupt(state, ok.record(), file, at);
                    count++;
                    progress.add(ok.length());
                } else if (d instanceof Decoded.Bad bad) {
                    throw new CorruptLogException(file, at, bad.reason());
                } else {
                    throw new CorruptLogException(file, at, "snapshot ends without its end record");
                }
            }
        }
    }

    /**
     * Reads a segment. In the newest one a bad or incomplete record with nothing valid after it
     * is a torn tail (its offset is returned); anywhere else damage is corruption.
     */
    private static SegmentScan scanSegment(Path file, int role, String identity, long seq, LogState state,
                                           Progress progress, boolean newest) throws IOException, CorruptLogException {
        try (RecordReader r = new RecordReader(file)) {
            FileHeader h = readHeader(r, file, FileHeader.SEGMENT, role, identity, seq);
            while (true) {
                long at = r.offset();
                Decoded d = r.next();
                if (d instanceof Decoded.Ok ok) {
                    if (ok.record() instanceof LogRecord.SnapshotEnd) throw new CorruptLogException(file, at, "snapshot record in a segment");
                    applyOrCorrupt(state, ok.record(), file, at);
                    progress.add(ok.length());
                    continue;
                }
                if (at == r.size()) return new SegmentScan(h.identity(), r.size(), -1);
                String reason = d instanceof Decoded.Bad bad ? bad.reason() : "incomplete record";
                if (!newest) throw new CorruptLogException(file, at, reason + " in a segment that is not the newest");
                byte[] rest = r.rest(at);
                int good = LogCodec.findValidRecord(rest, 1, rest.length);
                if (good >= 0) {
                    throw new CorruptLogException(file, at, reason + ", followed by a valid record at offset " + (at + good));
                }
                return new SegmentScan(h.identity(), r.size(), at);
            }
        }
    }

    /** Reads closed segments strictly (compaction): they were fsynced, so any damage is corruption. */
    static String readClosedSegment(Path file, int role, String identity, long seq, LogState state, Progress progress)
            throws IOException, CorruptLogException {
        try (RecordReader r = new RecordReader(file)) {
            FileHeader h = readHeader(r, file, FileHeader.SEGMENT, role, identity, seq);
            while (true) {
                long at = r.offset();
                Decoded d = r.next();
                if (d instanceof Decoded.Ok ok) {
                    applyOrCorrupt(state, ok.record(), file, at);
                    progress.add(ok.length());
                } else if (at == r.size()) {
                    return h.identity();
                } else {
                    throw new CorruptLogException(file, at, d instanceof Decoded.Bad bad ? bad.reason() : "incomplete record");
                }
            }
        }
    }

    private static void applyOrCorrupt(LogState state, LogRecord rec, Path file, long at) throws CorruptLogException {
        try {
            state.apply(rec);
        } catch (IllegalStateException e) {
            throw new CorruptLogException(file, at, e.getMessage());
        }
    }

    /* --- Changing the directory (only after everything was read) --- */

    private static void cutTornTail(Path file, long at) throws IOException {
        Path broken = file.resolveSibling(file.getFileName() + ".broken");
        try (FileChannel src = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
             FileChannel dst = FileChannel.open(broken, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     StandardOpenOption.APPEND)) {
            long n = src.size() - at;
            long done = 0;
            while (done < n) done += src.transferTo(at + done, n - done, dst);
            dst.force(true);
            src.truncate(at);
            src.force(true);
        }
        LogFiles.fsyncDirectory(file.getParent());
    }

    /** Creates segment {@code seq} holding only its header, atomically. */
    public static void createSegment(Path dir, int role, String identity, long seq) throws IOException {
        byte[] header = LogCodec.encodeHeader(new FileHeader(FileHeader.SEGMENT, role, identity, seq));
        LogFiles.writeAtomically(LogFiles.segment(dir, seq), header);
    }

    /** Writes a snapshot of {@code records} covering segments up to {@code seq}, atomically. */
    public static long writeSnapshot(Path dir, int role, String identity, long seq, List<LogRecord> records) throws IOException {
        return writeSnapshot(dir, role, identity, seq, records, null);
    }

    /** The same, yielding the CPU as {@code progress} says (compaction in the background). */
    static long writeSnapshot(Path dir, int role, String identity, long seq, List<LogRecord> records, Progress progress) throws IOException {
        Path target = LogFiles.snapshot(dir, seq);
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        long size;
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            kvstore.core.log.Bytes out = new kvstore.core.log.Bytes(1 << 20);
            out.put(LogCodec.encodeHeader(new FileHeader(FileHeader.SNAPSHOT, role, identity, seq)));
            long count = 0;
            for (LogRecord rec : records) {
                LogCodec.encode(rec, out);
                count++;
                if (progress != null && progress.background && (count & 0x3FF) == 0) progress.yieldIfDue();
                if (out.length() >= (1 << 20)) drain(ch, out);
            }
            LogCodec.encode(new LogRecord.SnapshotEnd(count), out);
            drain(ch, out);
            ch.force(true);
            size = ch.size();
        }
        Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        LogFiles.fsyncDirectory(dir);
        return size;
    }

    private static void drain(FileChannel ch, kvstore.core.log.Bytes out) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(out.array(), 0, out.length());
        while (b.hasRemaining()) ch.write(b);
        out.clear();
    }
}
