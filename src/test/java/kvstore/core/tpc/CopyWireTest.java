package kvstore.core.tpc;

import kvstore.core.log.LogRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class CopyWireTest {
    static final List<LogRecord.Data> ENTRIES = List.of(
            new LogRecord.Data("a key with spaces\nand a newline", 7, "v a l u e\n".getBytes(StandardCharsets.UTF_8)),
            new LogRecord.Data("gone", 9, null),
            new LogRecord.Data("\uD83D\uDE00 ключ", Long.MAX_VALUE, new byte[0]),
            new LogRecord.Data("bin", 1, new byte[] {0, (byte) 0xff, 'e', 'n'}));

    static void assertSame(Participant.CopyPage want, Participant.CopyPage got) {
        assertEquals(want.next(), got.next());
        assertEquals(want.entries().size(), got.entries().size());
        for (int i = 0; i < want.entries().size(); i++) {
            LogRecord.Data w = want.entries().get(i), g = got.entries().get(i);
            assertEquals(w.key(), g.key());
            assertEquals(w.version(), g.version());
            if (w.value() == null) assertNull(g.value());
            else assertArrayEquals(w.value(), g.value());
        }
    }

    @Test
    void pagesRoundTripWithTombstonesAndAnyBytes() {
        for (Participant.CopyPage p : List.of(new Participant.CopyPage(ENTRIES, null), new Participant.CopyPage(ENTRIES, "bin"),
                new Participant.CopyPage(List.of(), "after \u00e9"), new Participant.CopyPage(List.of(), null))) {
            assertSame(p, CopyWire.decode(CopyWire.encode(p)));
        }
    }

    @Test
    void anythingButAWholePageIsRefusedNeverThrown() {
        byte[] whole = CopyWire.encode(new Participant.CopyPage(ENTRIES, "next"));
        for (int n = 0; n < whole.length; n++) assertNull(CopyWire.decode(Arrays.copyOf(whole, n)), "cut at " + n);
        byte[] longer = Arrays.copyOf(whole, whole.length + 1);
        assertNull(CopyWire.decode(longer), "bytes after the end");
        byte[] bad = whole.clone();
        bad[0] = 'X';
        assertNull(CopyWire.decode(bad), "not the magic");
        long seed = System.nanoTime();
        Random rnd = new Random(seed);
        for (int i = 0; i < 2_000; i++) {
            byte[] b = whole.clone();
            b[4 + rnd.nextInt(b.length - 4)] = (byte) rnd.nextInt(256);
            try {
                CopyWire.decode(b); // a page or null, whatever the damage
            } catch (RuntimeException e) {
                throw new AssertionError("seed " + seed + ": " + e, e);
            }
        }
    }
}
