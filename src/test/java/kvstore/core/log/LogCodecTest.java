package kvstore.core.log;

import kvstore.core.Member;
import kvstore.core.Write;
import kvstore.core.view.Evicted;
import kvstore.core.view.View;
import kvstore.core.view.ViewMember;
import kvstore.core.TxId;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The log format (LogCodec's class comment): round trips, truncation and bit flips. */
@Timeout(10)
class LogCodecTest {
    static List<LogRecord> samples() {
        byte[] v = "välue".getBytes(StandardCharsets.UTF_8);
        Member a = Member.of("127.0.0.1", 16201), b = Member.of("10.0.0.1", 1);
        View view = new View(9, 4, 2, 1, 3, List.of(a, b), List.of(new ViewMember(a, "id-1", false, 2), new ViewMember(b, null, true, 5)),
                Set.of(b.id()), Set.of(a.id()), 9, false, true, List.of(new Evicted("10.0.0.9", 7, 1764259200000L, true)));
        return List.of(
                new LogRecord.Prepare(new TxId(3, 17), 3, 1764259200000L, "rid-1",
                        List.of(Write.put("kéy", "välue"), Write.delete("k2").withCondition(7), Write.check("c", 0),
                                Write.put("b", "x").blindly())),
                new LogRecord.Prepare(new TxId(0, 5), 0, 1, null, List.of(Write.delete("k"))),
                new LogRecord.Commit(new TxId(3, 17), 12),
                new LogRecord.Abort(new TxId(3, 18)),
                new LogRecord.Epoch(42),
                new LogRecord.Decision(new TxId(4, 1), 77, List.of("k", "ü"), List.of(1L, -2L)),
                new LogRecord.End(new TxId(4, 1)),
                new LogRecord.ViewRecord(view),
                new LogRecord.ViewRecord(View.empty(1, 1, 1)),
                new LogRecord.Data("k", 5, v),
                new LogRecord.Data("gone", 6, null),
                new LogRecord.Copy(List.of(new LogRecord.Data("k", 5, v), new LogRecord.Data("d", 7, null))),
                new LogRecord.Copied(9),
                new LogRecord.Rid("r:1", -5L, 412, 3, "error: version mismatch", 1764259200000L),
                new LogRecord.HighVersion(123),
                new LogRecord.Decided(new TxId(1, 2), true),
                new LogRecord.Hand("k"),
                new LogRecord.Outcomes(7, new byte[] {5, 1}, new byte[] {2}),
                new LogRecord.SnapshotEnd(99));
    }

    private static String show(LogRecord r) {
        if (r instanceof LogRecord.Data d) return data(d);
        if (r instanceof LogRecord.Copy c) return "Copy" + c.entries().stream().map(LogCodecTest::data).toList();
        if (r instanceof LogRecord.Outcomes o) return "Outcomes" + o.epoch() + java.util.Arrays.toString(o.committed()) + java.util.Arrays.toString(o.aborted());
        return r.toString();
    }

    private static String data(LogRecord.Data d) {
        return "Data" + d.key() + d.version() + (d.value() == null ? "deleted" : new String(d.value(), StandardCharsets.UTF_8));
    }

    @Test
    void everyRecordTypeRoundTrips() {
        for (LogRecord r : samples()) {
            byte[] b = LogCodec.encode(r);
            Decoded d = LogCodec.decode(b, 0, b.length);
            Decoded.Ok ok = assertInstanceOf(Decoded.Ok.class, d);
            assertEquals(b.length, ok.length());
            assertEquals(show(r), show(ok.record()));
        }
    }

    /** A COPY record is sized exactly for ASCII keys and grows for others; both decode to what was written. */
    @Test
    void copyRecordsOfAsciiAndOtherKeysRoundTrip() {
        String[] keys = {"k1", "a", "kéy", "ü", "\uD83D\uDE00", "ab\u0080", "\u007f", "x".repeat(300)};
        for (int mix = 0; mix < keys.length; mix++) {
            List<LogRecord.Data> entries = new java.util.ArrayList<>();
            for (int i = 0; i <= mix; i++) {
                entries.add(new LogRecord.Data(keys[i] + i, i, i % 3 == 0 ? null : ("v" + i).repeat(i + 1).getBytes(StandardCharsets.UTF_8)));
            }
            LogRecord r = new LogRecord.Copy(entries);
            byte[] b = LogCodec.encode(r);
            Decoded.Ok ok = assertInstanceOf(Decoded.Ok.class, LogCodec.decode(b, 0, b.length));
            assertEquals(b.length, ok.length());
            assertEquals(show(r), show(ok.record()));
        }
    }

    @Test
    void everyTruncationIsIncompleteNeverWrong() {
        for (LogRecord r : samples()) {
            byte[] b = LogCodec.encode(r);
            for (int cut = 0; cut < b.length; cut++) {
                Decoded d = LogCodec.decode(b, 0, cut);
                assertTrue(d instanceof Decoded.Incomplete, r + " cut at " + cut + " gave " + d);
            }
        }
    }

    @Test
    void everySingleBitFlipIsDetected() {
        for (LogRecord r : samples()) {
            byte[] b = LogCodec.encode(r);
            for (int bit = 0; bit < b.length * 8; bit++) {
                byte[] c = b.clone();
                c[bit / 8] ^= (byte) (1 << (bit % 8));
                Decoded d = LogCodec.decode(c, 0, c.length);
                // CRC32C catches every single-bit error; a flip in the length may also look incomplete.
                assertTrue(!(d instanceof Decoded.Ok), r + " with bit " + bit + " flipped decoded as " + d);
            }
        }
    }

    @Test
    void headerRoundTripAndDamage() {
        FileHeader h = new FileHeader(FileHeader.SEGMENT, FileHeader.FOLLOWER, "3c1e-identity", 7);
        byte[] b = LogCodec.encodeHeader(h);
        assertEquals(h, LogCodec.decodeHeader(b, b.length));
        assertEquals(b.length, LogCodec.headerLength(b, b.length));
        for (int i = 0; i < b.length; i++) {
            byte[] c = b.clone();
            c[i] ^= 0x40;
            assertInstanceOf(String.class, LogCodec.decodeHeader(c, c.length), "byte " + i);
        }
        assertInstanceOf(String.class, LogCodec.decodeHeader(b, b.length - 1));
    }

    @Test
    void findValidRecordSkipsGarbage() {
        byte[] rec = LogCodec.encode(new LogRecord.Commit(new TxId(1, 1), 1));
        byte[] buf = new byte[100 + rec.length];
        for (int i = 0; i < 100; i++) buf[i] = (byte) (i * 37 + 11);
        System.arraycopy(rec, 0, buf, 100, rec.length);
        assertEquals(100, LogCodec.findValidRecord(buf, 0, buf.length));
        assertEquals(-1, LogCodec.findValidRecord(buf, 0, 100 + rec.length - 1));
    }

    /** The decoder answers Ok, Incomplete or Bad for any bytes; it never throws. */
    @Property(tries = 2000)
    void decodingRandomBytesNeverThrows(@ForAll byte[] bytes) {
        Decoded d = LogCodec.decode(bytes, 0, bytes.length);
        assertTrue(d instanceof Decoded.Ok || d instanceof Decoded.Incomplete || d instanceof Decoded.Bad);
        Object h = LogCodec.decodeHeader(bytes, bytes.length);
        assertTrue(h instanceof String || h instanceof FileHeader);
        LogCodec.findValidRecord(bytes, 0, bytes.length);
    }

    @Test
    void recordsConcatenateAndDecodeInOrder() {
        Bytes out = new Bytes(16);
        for (LogRecord r : samples()) LogCodec.encode(r, out);
        byte[] all = out.toArray();
        List<String> got = new ArrayList<>();
        int off = 0;
        while (off < all.length) {
            Decoded.Ok ok = (Decoded.Ok) LogCodec.decode(all, off, all.length);
            got.add(show(ok.record()));
            off += ok.length();
        }
        assertEquals(samples().stream().map(LogCodecTest::show).toList(), got);
    }
}
