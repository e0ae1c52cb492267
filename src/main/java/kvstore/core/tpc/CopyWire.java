package kvstore.core.tpc;

import kvstore.core.log.Bytes;
import kvstore.core.log.LogRecord;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A page of a copy on the wire ({@code GET /tpc/copy}, from a source follower to a gainer), in
 * binary: a page carries thousands of 100-byte values, and percent-encoding them was half of a
 * source's time. After the magic {@code KVC1}, one entry per key, big-endian:
 * <pre>
 *   'v' keyLen:int key:UTF-8 version:long valueLen:int value     a live key
 *   'd' keyLen:int key:UTF-8 version:long                        a deleted key (a tombstone)
 * </pre>
 * then {@code 'n' keyLen:int key} (ask again after that key) or {@code 'e'} (this source is done),
 * and nothing after it.
 */
public final class CopyWire {
    private CopyWire() {}

    static final byte[] MAGIC = {'K', 'V', 'C', '1'};
    public static final String CONTENT_TYPE = "application/octet-stream";

    public static byte[] encode(Participant.CopyPage page) {
        // the exact size when the keys are ASCII, so that the page is not copied again to trim it
        int size = MAGIC.length + (page.next() == null ? 1 : 5 + page.next().length());
        for (LogRecord.Data d : page.entries()) size += 13 + d.key().length() + (d.value() == null ? 0 : 4 + d.value().length);
        Bytes out = new Bytes(size);
        out.put(MAGIC);
        for (LogRecord.Data d : page.entries()) {
            out.put(d.value() == null ? 'd' : 'v');
            out.str(d.key());
            out.putLong(d.version());
            if (d.value() != null) out.bytes(d.value());
        }
        if (page.next() == null) out.put('e');
        else out.put('n').str(page.next());
        return out.toArray();
    }

    /** The page, or null if the bytes are not one. */
    public static Participant.CopyPage decode(byte[] b) {
        Reader r = new Reader(b);
        if (b.length < MAGIC.length) return null;
        for (byte m : MAGIC) if (b[r.at++] != m) return null;
        List<LogRecord.Data> out = new ArrayList<>();
        while (r.at < b.length) {
            byte tag = b[r.at++];
            if (tag == 'e' || tag == 'n') {
                String next = tag == 'e' ? null : r.string();
                if (tag == 'n' && (next == null || next.isEmpty())) return null;
                return r.at == b.length ? new Participant.CopyPage(out, next) : null;
            }
            if (tag != 'v' && tag != 'd') return null;
            String key = r.string();
            long version = r.longValue();
            if (key == null || key.isEmpty() || version < 0) return null;
            byte[] value = null;
            if (tag == 'v' && (value = r.bytes()) == null) return null;
            out.add(new LogRecord.Data(key, version, value));
        }
        return null; // no 'e' or 'n': cut short
    }

    /** Reads big-endian fields; a length past the end gives null (-1 for a long). */
    private static final class Reader {
        final byte[] b;
        int at;

        Reader(byte[] b) {
            this.b = b;
        }

        byte[] bytes() {
            if (b.length - at < 4) return null;
            int n = (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | b[at + 3] & 0xff;
            at += 4;
            if (n < 0 || n > b.length - at) return null;
            byte[] out = java.util.Arrays.copyOfRange(b, at, at + n);
            at += n;
            return out;
        }

        String string() {
            if (b.length - at < 4) return null;
            int n = (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | b[at + 3] & 0xff;
            at += 4;
            if (n < 0 || n > b.length - at) return null;
            String s = new String(b, at, n, StandardCharsets.UTF_8);
            at += n;
            return s;
        }

        long longValue() {
            if (b.length - at < 8) {
                at = b.length;
                return -1;
            }
            long v = 0;
            for (int i = 0; i < 8; i++) v = v << 8 | (b[at++] & 0xff);
            return v;
        }
    }
}
