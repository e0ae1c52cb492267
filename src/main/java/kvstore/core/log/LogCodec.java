package kvstore.core.log;

import kvstore.core.Write;
import kvstore.core.TxId;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * The byte format of log files, down to the byte. All integers are big-endian.
 *
 * <pre>
 * file header (starts every segment and snapshot)
 *   magic     8 bytes  "KVSTORE\n"
 *   version   u16      2
 *   kind      u8       1 = log segment, 2 = snapshot
 *   role      u8       1 = leader, 2 = follower
 *   sequence  u64      segment number; for a snapshot, the last segment it covers
 *   idLen     u16      length of the identity
 *   identity  idLen bytes, UTF-8: the node identity made at the data directory's first start
 *   crc       u32      CRC32C of every header byte before it
 *
 * record
 *   length    u32      bytes of type + payload (1 .. MAX_RECORD_BYTES)
 *   crc       u32      CRC32C of type + payload
 *   type      u8       see below
 *   payload   length - 1 bytes
 *
 * payloads (str = u32 length + UTF-8 bytes; bytes = u32 length + bytes; opt = u8 0 (absent) or
 * 1 then bytes; tx = u64 epoch + u64 seq; v = u64 version)
 *   1 PREPARE   tx, u64 epoch, u64 sinceMillis, str rid ("": none), u64 view, u16 n, n x write
 *               write = u8 kind (1 PUT, 2 DELETE, 3 CHECK), u8 blind, str key, opt value, i64 ifVersion (-1: none)
 *   2 COMMIT    tx, v
 *   3 ABORT     tx
 *   4 EPOCH     u64 epoch
 *   5 DECISION  tx, v, u16 n, n x str key, u16 m, m x u64 replica ring id
 *   6 END       tx
 *   7 VIEW      u64 number, u64 epoch, u16 redundancy, u16 vnodes, u16 capacity, u64 copyRound,
 *               u8 flags (1 settled, 2 formed),
 *               u16 n, n x (str host, u32 port)                                   base
 *               u16 n, n x (str host, u32 port, str identity, u8 draining, u64 since)  members
 *               u16 n, n x u64 id                                                 gone
 *               u16 n, n x u64 id                                                 current
 *               u16 n, n x (str host, u32 port, u64 sinceMillis, u8 rejoin)      evicted
 *   8 DATA      str key, v, opt value (absent: a deleted key)
 *   9 DECIDED   tx, u8 committed
 *  10 HAND      str key
 *  11 SNAPEND   u64 number of records before this one
 *  12 OUTCOMES  u64 epoch, bytes committed, bytes aborted (java.util.BitSet.toByteArray of tx seqs)
 *  13 COPY      u32 n, n x (str key, v, opt value)
 *  14 COPIED    u64 round
 *  15 RID       str rid, u64 fingerprint, u16 status, v, str body, u64 atMillis
 *  16 HIGHVER   v
 * </pre>
 *
 * Decoding never throws on bad input: it answers {@link Decoded.Bad} or
 * {@link Decoded.Incomplete}, and the caller decides whether that is a torn tail or corruption.
 */
public final class LogCodec {
    private LogCodec() {}

    public static final byte[] MAGIC = "KVSTORE\n".getBytes(StandardCharsets.US_ASCII);
    public static final int VERSION = 3; // 3: PREPARE and DECISION carry their view
    public static final int RECORD_HEADER_BYTES = 8;
    /** Large enough for any record at any sane key/value limit; a longer length field is damage. */
    public static final int MAX_RECORD_BYTES = 16 * 1024 * 1024;
    private static final int MAX_IDENTITY_BYTES = 256;

    static final int PREPARE = 1, COMMIT = 2, ABORT = 3, EPOCH = 4, DECISION = 5, END = 6,
            VIEW = 7, DATA = 8, DECIDED = 9, HAND = 10, SNAPEND = 11, OUTCOMES = 12, COPY = 13, COPIED = 14,
            RID = 15, HIGHVER = 16, LAST_TYPE = 16;

    /* --- Header --- */

    public static byte[] encodeHeader(FileHeader h) {
        byte[] id = h.identity().getBytes(StandardCharsets.UTF_8);
        if (id.length > MAX_IDENTITY_BYTES) throw new IllegalArgumentException("identity too long");
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 2 + 1 + 1 + 8 + 2 + id.length + 4);
        b.put(MAGIC).putShort((short) VERSION).put((byte) h.kind()).put((byte) h.role())
                .putLong(h.sequence()).putShort((short) id.length).put(id);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /** The header's length in bytes, or -1 if {@code buf} is too short to tell. */
    public static int headerLength(byte[] buf, int len) {
        int fixed = MAGIC.length + 2 + 1 + 1 + 8;
        if (len < fixed + 2) return -1;
        int idLen = ((buf[fixed] & 0xFF) << 8) | (buf[fixed + 1] & 0xFF);
        return fixed + 2 + idLen + 4;
    }

    /** Decodes a header, or explains why the bytes are not one. */
    public static Object decodeHeader(byte[] buf, int len) {
        // The magic first, so that a file of garbage is called that rather than "short".
        int m = Math.min(len, MAGIC.length);
        if (!Arrays.equals(buf, 0, m, MAGIC, 0, m)) return "bad magic (not a kvstore file)";
        int hl = headerLength(buf, len);
        if (hl < 0 || hl > len) return "file shorter than its header";
        ByteBuffer b = ByteBuffer.wrap(buf, 0, hl);
        b.position(MAGIC.length);
        int version = b.getShort() & 0xFFFF;
        int kind = b.get() & 0xFF;
        int role = b.get() & 0xFF;
        long seq = b.getLong();
        int idLen = b.getShort() & 0xFFFF;
        if (idLen > MAX_IDENTITY_BYTES) return "identity length " + idLen + " too long";
        String id = new String(buf, b.position(), idLen, StandardCharsets.UTF_8);
        b.position(b.position() + idLen);
        int stored = b.getInt();
        CRC32C crc = new CRC32C();
        crc.update(buf, 0, hl - 4);
        if ((int) crc.getValue() != stored) return "header checksum mismatch";
        if (version != VERSION) return "unsupported format version " + version;
        if (kind != FileHeader.SEGMENT && kind != FileHeader.SNAPSHOT) return "unknown file kind " + kind;
        if (role != FileHeader.LEADER && role != FileHeader.FOLLOWER) return "unknown role " + role;
        return new FileHeader(kind, role, id, seq);
    }

    /* --- Records --- */

    /** Appends the framed record (length, CRC, type, payload) to {@code out}. */
    public static void encode(LogRecord r, Bytes out) {
        int start = out.length();
        out.putInt(0).putInt(0);
        int typeAt = out.length();
        if (r instanceof LogRecord.Prepare p) {
            out.put(PREPARE).tx(p.tx()).putLong(p.epoch()).putLong(p.sinceMillis()).str(p.rid() == null ? "" : p.rid())
                    .putLong(p.view()).putShort(p.writes().size());
            for (Write w : p.writes()) {
                out.put(w.kind().ordinal() + 1).put(w.blind() ? 1 : 0).str(w.key());
                opt(out, w.value() == null ? null : w.value().getBytes(StandardCharsets.UTF_8));
                out.putLong(w.ifVersion());
            }
        } else if (r instanceof LogRecord.Commit c) {
            out.put(COMMIT).tx(c.tx()).putLong(c.version());
        } else if (r instanceof LogRecord.Abort a) {
            out.put(ABORT).tx(a.tx());
        } else if (r instanceof LogRecord.Epoch e) {
            out.put(EPOCH).putLong(e.epoch());
        } else if (r instanceof LogRecord.Decision d) {
            out.put(DECISION).tx(d.tx()).putLong(d.version()).putShort(d.keys().size());
            for (String k : d.keys()) out.str(k);
            out.putShort(d.replicaIds().size());
            for (long id : d.replicaIds()) out.putLong(id);
            out.putLong(d.view());
        } else if (r instanceof LogRecord.End e) {
            out.put(END).tx(e.tx());
        } else if (r instanceof LogRecord.ViewRecord v) {
            out.put(VIEW);
            ViewCodec.encode(v.view(), out);
        } else if (r instanceof LogRecord.Data d) {
            out.put(DATA);
            data(out, d);
        } else if (r instanceof LogRecord.Decided d) {
            out.put(DECIDED).tx(d.tx()).put(d.committed() ? 1 : 0);
        } else if (r instanceof LogRecord.Hand h) {
            out.put(HAND).str(h.key());
        } else if (r instanceof LogRecord.SnapshotEnd s) {
            out.put(SNAPEND).putLong(s.records());
        } else if (r instanceof LogRecord.Outcomes o) {
            out.put(OUTCOMES).putLong(o.epoch()).bytes(o.committed()).bytes(o.aborted());
        } else if (r instanceof LogRecord.Copy c) {
            out.put(COPY).putInt(c.entries().size());
            for (LogRecord.Data d : c.entries()) data(out, d);
        } else if (r instanceof LogRecord.Copied c) {
            out.put(COPIED).putLong(c.round());
        } else if (r instanceof LogRecord.Rid d) {
            out.put(RID).str(d.rid()).putLong(d.fingerprint()).putShort(d.status()).putLong(d.version())
                    .str(d.body() == null ? "" : d.body()).putLong(d.atMillis());
        } else if (r instanceof LogRecord.HighVersion h) {
            out.put(HIGHVER).putLong(h.version());
        } else {
            throw new IllegalStateException("unknown record " + r);
        }
        int len = out.length() - typeAt;
        if (len > MAX_RECORD_BYTES) throw new IllegalArgumentException("record too large: " + len);
        CRC32C crc = new CRC32C();
        crc.update(out.array(), typeAt, len);
        out.setInt(start, len);
        out.setInt(start + 4, (int) crc.getValue());
    }

    public static byte[] encode(LogRecord r) {
        Bytes b = new Bytes(sizeHint(r));
        encode(r, b);
        return b.toArray();
    }

    /** Decodes the record starting at {@code off}; bytes beyond {@code limit} are not there. */
    public static Decoded decode(byte[] buf, int off, int limit) {
        if (limit - off < RECORD_HEADER_BYTES) return Decoded.INCOMPLETE;
        int len = getInt(buf, off);
        if (len < 1 || len > MAX_RECORD_BYTES) return new Decoded.Bad("impossible record length " + Integer.toUnsignedString(len));
        if ((long) limit - off - RECORD_HEADER_BYTES < len) return Decoded.INCOMPLETE;
        int stored = getInt(buf, off + 4);
        CRC32C crc = new CRC32C();
        crc.update(buf, off + RECORD_HEADER_BYTES, len);
        if ((int) crc.getValue() != stored) return new Decoded.Bad("record checksum mismatch");
        try {
            LogRecord r = payload(ByteBuffer.wrap(buf, off + RECORD_HEADER_BYTES, len));
            return new Decoded.Ok(r, RECORD_HEADER_BYTES + len);
        } catch (RuntimeException e) {
            // The checksum matched, so these bytes were written by a codec that disagrees with
            // this one (or by a bug): never a torn write. Report it as damage.
            return new Decoded.Bad("undecodable record payload (" + e.getMessage() + ")");
        }
    }

    /**
     * The offset of the first whole, valid record that starts after {@code from}, or -1. Used to
     * tell a torn tail (nothing valid follows the damage) from corruption (something does). The
     * cheap structural checks run before the checksum, so garbage is rejected fast.
     */
    public static int findValidRecord(byte[] buf, int from, int limit) {
        for (int p = from; p + RECORD_HEADER_BYTES < limit; p++) {
            int len = getInt(buf, p);
            if (len < 1 || len > MAX_RECORD_BYTES || (long) p + RECORD_HEADER_BYTES + len > limit) continue;
            int type = buf[p + RECORD_HEADER_BYTES] & 0xFF;
            if (type < PREPARE || type > LAST_TYPE) continue;
            try {
                payload(ByteBuffer.wrap(buf, p + RECORD_HEADER_BYTES, len));
            } catch (RuntimeException e) {
                continue;
            }
            CRC32C crc = new CRC32C();
            crc.update(buf, p + RECORD_HEADER_BYTES, len);
            if ((int) crc.getValue() == getInt(buf, p + 4)) return p;
        }
        return -1;
    }

    private static LogRecord payload(ByteBuffer b) {
        int type = b.get() & 0xFF;
        LogRecord r = switch (type) {
            case PREPARE -> {
                TxId tx = tx(b);
                long epoch = b.getLong();
                long since = b.getLong();
                String rid = str(b);
                long view = b.getLong();
                int n = b.getShort() & 0xFFFF;
                List<Write> writes = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    int kind = b.get() & 0xFF;
                    if (kind < 1 || kind > 3) throw new IllegalArgumentException("bad write kind " + kind);
                    int blind = b.get();
                    if (blind != 0 && blind != 1) throw new IllegalArgumentException("bad flag " + blind);
                    String key = str(b);
                    byte[] value = opt(b);
                    long ifVersion = b.getLong();
                    writes.add(new Write(Write.Kind.values()[kind - 1], key,
                            value == null ? null : new String(value, StandardCharsets.UTF_8), ifVersion, blind == 1));
                }
                yield new LogRecord.Prepare(tx, epoch, since, rid.isEmpty() ? null : rid, writes, view);
            }
            case COMMIT -> new LogRecord.Commit(tx(b), b.getLong());
            case ABORT -> new LogRecord.Abort(tx(b));
            case EPOCH -> new LogRecord.Epoch(b.getLong());
            case DECISION -> {
                TxId tx = tx(b);
                long version = b.getLong();
                int n = b.getShort() & 0xFFFF;
                List<String> keys = new ArrayList<>(n);
                for (int i = 0; i < n; i++) keys.add(str(b));
                int m = b.getShort() & 0xFFFF;
                List<Long> ids = new ArrayList<>(m);
                for (int i = 0; i < m; i++) ids.add(b.getLong());
                yield new LogRecord.Decision(tx, version, keys, ids, b.getLong());
            }
            case END -> new LogRecord.End(tx(b));
            case VIEW -> new LogRecord.ViewRecord(ViewCodec.decode(b));
            case DATA -> data(b);
            case DECIDED -> {
                TxId tx = tx(b);
                int c = b.get();
                if (c != 0 && c != 1) throw new IllegalArgumentException("bad flag " + c);
                yield new LogRecord.Decided(tx, c == 1);
            }
            case HAND -> new LogRecord.Hand(str(b));
            case SNAPEND -> new LogRecord.SnapshotEnd(b.getLong());
            case OUTCOMES -> new LogRecord.Outcomes(b.getLong(), bytes(b), bytes(b));
            case COPY -> {
                int n = b.getInt();
                if (n < 0 || n > b.remaining()) throw new IllegalArgumentException("bad count " + n);
                List<LogRecord.Data> entries = new ArrayList<>(n);
                for (int i = 0; i < n; i++) entries.add(data(b));
                yield new LogRecord.Copy(entries);
            }
            case COPIED -> new LogRecord.Copied(b.getLong());
            case RID -> new LogRecord.Rid(str(b), b.getLong(), b.getShort() & 0xFFFF, b.getLong(), str(b), b.getLong());
            case HIGHVER -> new LogRecord.HighVersion(b.getLong());
            default -> throw new IllegalArgumentException("unknown record type " + type);
        };
        if (b.hasRemaining()) throw new IllegalArgumentException(b.remaining() + " stray bytes");
        return r;
    }

    /**
     * A COPY record's exact size when its keys are ASCII, so that its buffer is neither grown (a
     * page is up to 1 MiB: growing to it copied it about 14 times) nor copied to trim it; 64 for others.
     */
    private static int sizeHint(LogRecord r) {
        if (!(r instanceof LogRecord.Copy c)) return 64;
        long n = RECORD_HEADER_BYTES + 1 + 4;
        for (LogRecord.Data d : c.entries()) n += 4 + d.key().length() + 8 + 1 + (d.value() == null ? 0 : 4 + d.value().length);
        return (int) Math.min(n, MAX_RECORD_BYTES + 64L);
    }

    private static void data(Bytes out, LogRecord.Data d) {
        out.str(d.key()).putLong(d.version());
        opt(out, d.value());
    }

    private static LogRecord.Data data(ByteBuffer b) {
        String key = str(b);
        long version = b.getLong();
        return new LogRecord.Data(key, version, opt(b));
    }

    static void opt(Bytes out, byte[] v) {
        if (v == null) out.put(0);
        else out.put(1).bytes(v);
    }

    static byte[] opt(ByteBuffer b) {
        int present = b.get();
        if (present == 0) return null;
        if (present != 1) throw new IllegalArgumentException("bad flag " + present);
        return bytes(b);
    }

    private static TxId tx(ByteBuffer b) {
        return new TxId(b.getLong(), b.getLong());
    }

    static String str(ByteBuffer b) {
        return new String(bytes(b), StandardCharsets.UTF_8);
    }

    static byte[] bytes(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) throw new IllegalArgumentException("bad length " + n);
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    static int getInt(byte[] b, int off) {
        return ((b[off] & 0xFF) << 24) | ((b[off + 1] & 0xFF) << 16) | ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
    }
}
