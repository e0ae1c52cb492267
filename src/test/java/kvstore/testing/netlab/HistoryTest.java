package kvstore.testing.netlab;

import kvstore.lincheck.LinearizabilityChecker;
import kvstore.lincheck.Operation;
import kvstore.testing.netlab.LabClient.Call;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the partition tier ({@code kvstore.it.PartitionIT}) concludes from a history, on
 * hand-made histories: the checks must be able to fail. Runs in the unit tier, without a lab.
 */
class HistoryTest {
    /**
     * The history checks of this tier reject what they must: a write acknowledged and then not
     * read back at the end (lost), a delete acknowledged and the value read again (resurrected), a
     * stale read; an unanswered write may or may not have happened. Histories in LabClient's format.
     */
    @Test
    void theChecksRejectALostWriteAResurrectedDeleteAndAStaleRead() {
        Call put1 = new Call(0, 0, "PUT", "k", "v1", 1000, 2000, 201, "v1");
        Call get1 = new Call(1, 0, "GET", "k", null, 3000, 4000, 200, "v1");
        Call del = new Call(0, 0, "DELETE", "k", null, 5000, 6000, 201, "k");
        Call put2 = new Call(2, 0, "PUT", "k", "v2", 7000, 8000, 201, "v2");
        Call lostPut = new Call(2, 0, "PUT", "k", "v3", 9000, 10_000, -1, "HttpTimeoutException");
        assertTrue(LinearizabilityChecker.check(new History(List.of(put1, get1, del, put2)).operations()).ok());
        // Lost: v2 was acknowledged, the final read finds v1.
        assertFalse(LinearizabilityChecker.check(withFinalRead(List.of(put1, put2), "v1")).ok());
        assertFalse(LinearizabilityChecker.check(withFinalRead(List.of(put1, put2), null)).ok());
        // Resurrected: deleted, then read again.
        assertFalse(LinearizabilityChecker.check(withFinalRead(List.of(put1, del), "v1")).ok());
        // Stale: v2 acknowledged before a read that saw v1.
        Call stale = new Call(1, 0, "GET", "k", null, 8500, 8600, 200, "v1");
        assertFalse(LinearizabilityChecker.check(new History(List.of(put1, put2, stale)).operations()).ok());
        // Unknown outcome: either is fine at the end; a refused write is no write at all.
        assertTrue(LinearizabilityChecker.check(withFinalRead(List.of(put1, put2, lostPut), "v3")).ok());
        assertTrue(LinearizabilityChecker.check(withFinalRead(List.of(put1, put2, lostPut), "v2")).ok());
        Call refused = new Call(2, 0, "PUT", "k", "v4", 9000, 10_000, 500, "error: unable to process request");
        assertFalse(LinearizabilityChecker.check(withFinalRead(List.of(put1, put2, refused), "v4")).ok());
        // A history line survives its own format.
        assertEquals(lostPut, Call.parse(lostPut.line()));
    }

    private static List<Operation> withFinalRead(List<Call> calls, String value) {
        List<Operation> ops = new ArrayList<>(new History(calls).operations());
        ops.add(Operation.get(99, "k", value, Long.MAX_VALUE - 2, Long.MAX_VALUE - 1));
        return ops;
    }

    @Test
    void figuresOfAFault() {
        // A fault from 10 s to 20 s on key a: writes refused from 11 s (answered after 3 s) until 21 s,
        // served again at 22 s; key b undisturbed.
        List<Call> calls = new ArrayList<>();
        for (long t = 0; t < 30_000; t += 500) {
            boolean bad = t >= 11_000 && t < 21_000;
            calls.add(new Call(0, 0, "PUT", "a", "v" + t, t * 1000, (t + (bad ? 3000 : 5)) * 1000, bad ? 500 : 201,
                    bad ? "error: unable to process request" : "v"));
            calls.add(new Call(1, 0, "GET", "b", null, t * 1000, (t + 5) * 1000, 500, "error: no key"));
        }
        History h = new History(calls);
        History.FaultFigures f = h.figures(new History.Fault("cut", 10_000, 20_000, Set.of("a")), 0, 30_000, Set.of("a", "b"));
        assertEquals(11_000, f.firstRefusalMs());
        assertEquals(23_500, f.lastRefusalMs());
        assertEquals(3000.0, f.slowestRefusalMs());
        assertEquals(0, f.otherRefused());
        assertEquals(3505, f.servedAgainAfterHealMs()); // answered at 23.505 s: the first write called after the last refusal
    }

    @Test
    void theChartIsWellFormedSvg(@TempDir Path dir) throws Exception {
        List<Call> calls = List.of(new Call(0, 0, "PUT", "a", "v", 1_000_000, 1_005_000, 201, "v"),
                new Call(0, 0, "PUT", "a", "w", 2_000_000, 5_000_000, 500, "error: unable to process request"),
                new Call(0, 0, "PUT", "a", "x & <y>", 6_000_000, 16_000_000, -1, "HttpTimeoutException"));
        Path svg = Chart.write(dir.resolve("c.svg"), "a <test> & more", new History(calls), 0, 20_000,
                List.of(new History.Fault("cut leader | f1", 2_000, 8_000, Set.of("a"))), List.of(new Chart.Marker("leader sees f1 down", 4_000)));
        var doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(svg.toFile());
        assertEquals("svg", doc.getDocumentElement().getTagName());
        String text = Files.readString(svg);
        assertTrue(text.contains("cut leader | f1") && text.contains("operations per 100 ms") && text.contains("leader sees f1 down"));
    }
}
