import kvstore.core.Op;
import kvstore.core.TxId;
import kvstore.core.log.Bytes;
import kvstore.core.log.FileHeader;
import kvstore.core.log.LogCodec;
import kvstore.core.log.LogRecord;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.UUID;

/**
 * Writes a follower's data directory directly with the log codec, without running 2PC:
 *   snapshot DIR KEYS VALUE_BYTES TAIL_TXS   a snapshot of KEYS keys plus a log tail of TAIL_TXS
 *                                            committed writes (the steady state after compaction)
 *   history  DIR RECORDS KEYS VALUE_BYTES    RECORDS log records (PREPARE+COMMIT pairs) over KEYS
 *                                            keys in 4 MB segments, no snapshot (a long history)
 * Run: java -cp target/kvstore.jar bench/GenData.java ...
 */
public class GenData {
    static final String ID = UUID.randomUUID().toString();
    static final long SEGMENT_BYTES = 4L << 20;

    public static void main(String[] a) throws IOException {
        Path dir = Path.of(a[1]);
        Files.createDirectories(dir);
        if (a[0].equals("snapshot")) snapshot(dir, Integer.parseInt(a[2]), Integer.parseInt(a[3]), Integer.parseInt(a[4]));
        else history(dir, Long.parseLong(a[2]), Integer.parseInt(a[3]), Integer.parseInt(a[4]));
    }

    static byte[] value(int bytes, long n) {
        byte[] v = new byte[bytes];
        Arrays.fill(v, (byte) 'x');
        byte[] id = Long.toString(n).getBytes();
        System.arraycopy(id, 0, v, 0, Math.min(id.length, bytes));
        return v;
    }

    static void snapshot(Path dir, int keys, int valueBytes, int tail) throws IOException {
        Bytes b = new Bytes(1 << 20);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(dir.resolve("snap-0000000001.snap")), 1 << 20)) {
            out.write(LogCodec.encodeHeader(new FileHeader(FileHeader.SNAPSHOT, FileHeader.FOLLOWER, ID, 1)));
            LogCodec.encode(new LogRecord.Epoch(1), b);
            for (int i = 0; i < keys; i++) {
                LogCodec.encode(new LogRecord.Data("k" + i, value(valueBytes, i)), b);
                if (b.length() > (1 << 19)) { out.write(b.array(), 0, b.length()); b.clear(); }
            }
            LogCodec.encode(new LogRecord.SnapshotEnd(keys + 1), b);
            out.write(b.array(), 0, b.length());
        }
        b.clear();
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(dir.resolve("wal-0000000002.log")), 1 << 20)) {
            out.write(LogCodec.encodeHeader(new FileHeader(FileHeader.SEGMENT, FileHeader.FOLLOWER, ID, 2)));
            for (int i = 0; i < tail; i++) {
                TxId tx = new TxId(1, i + 1);
                LogCodec.encode(new LogRecord.Prepare(tx, 1, "k" + (i % keys), Op.PUT, value(valueBytes, i), 0), b);
                LogCodec.encode(new LogRecord.Commit(tx), b);
                if (b.length() > (1 << 19)) { out.write(b.array(), 0, b.length()); b.clear(); }
            }
            out.write(b.array(), 0, b.length());
        }
        System.out.println("wrote a snapshot of " + keys + " keys (" + valueBytes + "-byte values) and a tail of " + tail + " writes to " + dir);
    }

    static void history(Path dir, long records, int keys, int valueBytes) throws IOException {
        Bytes b = new Bytes(1 << 20);
        long seq = 0, written = 0, segmentBytes = 0;
        OutputStream out = null;
        for (long r = 0; r < records; r += 2) {
            if (out == null || segmentBytes >= SEGMENT_BYTES) {
                if (out != null) { out.write(b.array(), 0, b.length()); b.clear(); out.close(); }
                seq++;
                out = new BufferedOutputStream(Files.newOutputStream(dir.resolve(String.format("wal-%010d.log", seq))), 1 << 20);
                byte[] h = LogCodec.encodeHeader(new FileHeader(FileHeader.SEGMENT, FileHeader.FOLLOWER, ID, seq));
                out.write(h);
                segmentBytes = h.length;
            }
            TxId tx = new TxId(1, r / 2 + 1);
            int before = b.length();
            LogCodec.encode(new LogRecord.Prepare(tx, 1, "k" + (r / 2 % keys), Op.PUT, value(valueBytes, r), 0), b);
            LogCodec.encode(new LogRecord.Commit(tx), b);
            segmentBytes += b.length() - before;
            written += 2;
            if (b.length() > (1 << 19)) { out.write(b.array(), 0, b.length()); b.clear(); }
        }
        out.write(b.array(), 0, b.length());
        out.close();
        System.out.println("wrote " + written + " records over " + keys + " keys in " + seq + " segments to " + dir);
    }
}
