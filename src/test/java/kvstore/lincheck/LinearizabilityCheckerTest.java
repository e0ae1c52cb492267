package kvstore.lincheck;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The checker must reject the classic anomalies and accept what concurrency allows. Times are
 * small integers: [call, return].
 */
@Timeout(30)
class LinearizabilityCheckerTest {
    static final long INF = Long.MAX_VALUE;

    static boolean ok(Operation... ops) {
        return LinearizabilityChecker.check(List.of(ops)).ok();
    }

    @Test
    void sequentialHistoryIsLinearizable() {
        assertTrue(ok(
                Operation.put(1, "k", "a", 0, 1),
                Operation.get(1, "k", "a", 2, 3),
                Operation.delete(1, "k", true, 4, 5),
                Operation.get(1, "k", null, 6, 7),
                Operation.delete(1, "k", false, 8, 9)));
    }

    @Test
    void staleReadIsRejected() {
        assertFalse(ok(
                Operation.put(1, "k", "1", 0, 1),
                Operation.put(1, "k", "2", 2, 3),
                Operation.get(2, "k", "1", 4, 5)));
    }

    @Test
    void lostUpdateIsRejected() {
        assertFalse(ok(
                Operation.put(1, "k", "1", 0, 1),
                Operation.get(2, "k", null, 2, 3)));
        assertFalse(ok(
                Operation.put(1, "k", "1", 0, 1),
                Operation.put(2, "k", "2", 2, 3),
                Operation.get(3, "k", "2", 4, 5),
                Operation.get(3, "k", "1", 6, 7)));
    }

    @Test
    void resurrectedDeleteIsRejected() {
        assertFalse(ok(
                Operation.put(1, "k", "1", 0, 1),
                Operation.delete(1, "k", true, 2, 3),
                Operation.get(2, "k", "1", 4, 5)));
    }

    @Test
    void nonMonotonicReadsAreRejected() {
        // A write of 2 overlaps two reads; once a read has seen 2, a later read cannot see 1.
        assertFalse(ok(
                Operation.put(1, "k", "1", 0, 1),
                Operation.put(2, "k", "2", 2, 20),
                Operation.get(3, "k", "2", 3, 4),
                Operation.get(3, "k", "1", 5, 6)));
        // Either order alone is fine.
        assertTrue(ok(
                Operation.put(1, "k", "1", 0, 1),
                Operation.put(2, "k", "2", 2, 20),
                Operation.get(3, "k", "1", 3, 4),
                Operation.get(3, "k", "2", 5, 6)));
    }

    @Test
    void deleteOfAbsentKeyMustSeeItAbsent() {
        assertFalse(ok(
                Operation.put(1, "k", "1", 0, 1),
                Operation.delete(2, "k", false, 2, 3)));
    }

    @Test
    void concurrentWritesMayLandInEitherOrder() {
        assertTrue(ok(
                Operation.put(1, "k", "1", 0, 10),
                Operation.put(2, "k", "2", 1, 11),
                Operation.get(3, "k", "1", 12, 13)));
        assertTrue(ok(
                Operation.put(1, "k", "1", 0, 10),
                Operation.put(2, "k", "2", 1, 11),
                Operation.get(3, "k", "2", 12, 13)));
    }

    @Test
    void anUnknownOutcomeMayOrMayNotHaveHappened() {
        assertTrue(ok(
                Operation.put(1, "k", "1", 0, 1),
                Operation.put(2, "k", "2", 2, INF),
                Operation.get(3, "k", "1", 5, 6)));
        assertTrue(ok(
                Operation.put(1, "k", "1", 0, 1),
                Operation.put(2, "k", "2", 2, INF),
                Operation.get(3, "k", "2", 5, 6)));
        // But it cannot happen before it was called, nor be seen and then unseen.
        assertFalse(ok(
                Operation.put(1, "k", "1", 0, 1),
                Operation.get(3, "k", "2", 2, 3),
                Operation.put(2, "k", "2", 5, INF)));
        assertFalse(ok(
                Operation.put(1, "k", "1", 0, 1),
                Operation.put(2, "k", "2", 2, INF),
                Operation.get(3, "k", "2", 5, 6),
                Operation.get(3, "k", "1", 7, 8)));
    }

    @Test
    void anUnansweredDeleteOfAnAbsentKeyIsFine() {
        assertTrue(ok(
                Operation.put(1, "k", "1", 0, 1),
                Operation.delete(1, "k", true, 2, 3),
                Operation.delete(2, "k", true, 4, INF),
                Operation.get(3, "k", null, 5, 6)));
        // But once seen deleted, the value cannot come back.
        assertFalse(ok(
                Operation.put(1, "k", "1", 0, 1),
                Operation.delete(2, "k", true, 2, INF),
                Operation.get(3, "k", null, 5, 6),
                Operation.get(3, "k", "1", 7, 8)));
    }

    @Test
    void keysAreCheckedIndependently() {
        LinearizabilityChecker.Result r = LinearizabilityChecker.check(List.of(
                Operation.put(1, "a", "1", 0, 1),
                Operation.get(1, "a", "1", 2, 3),
                Operation.put(1, "b", "1", 0, 1),
                Operation.get(1, "b", "2", 2, 3)));
        assertFalse(r.ok());
        assertTrue(r.failures().containsKey("b"));
        assertFalse(r.failures().containsKey("a"));
    }

    /** A long random history produced by a real sequential register is linearizable, quickly. */
    @Test
    void largeHistoriesOfAnAtomicRegisterPass() {
        long seed = 42;
        Random rnd = new Random(seed);
        List<Operation> ops = new ArrayList<>();
        String value = null;
        long t = 0;
        for (int i = 0; i < 3000; i++) {
            // Operations overlap their neighbours but take effect in this order, at time t.
            long call = t - rnd.nextInt(5), ret = t + 1 + rnd.nextInt(5);
            int c = rnd.nextInt(8);
            switch (rnd.nextInt(3)) {
                case 0 -> ops.add(Operation.get(c, "k", value, call, ret));
                case 1 -> {
                    value = "v" + i;
                    ops.add(Operation.put(c, "k", value, call, ret));
                }
                default -> {
                    ops.add(Operation.delete(c, "k", value != null, call, ret));
                    value = null;
                }
            }
            t += 10;
        }
        assertTrue(LinearizabilityChecker.check(ops).ok(), "seed " + seed);
    }
}
