package kvstore.follower;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(30)
class ProcessCostTest {

    @Test
    void saysWhatWasSpentBetweenTwoMoments() {
        ProcessCost before = new ProcessCost(1_000_000_000L, 500, 100);
        ProcessCost after = new ProcessCost(3_900_000_000L, 1_600, 600);
        assertEquals("2.9 s of CPU, 1.1 s compiling, 0.5 s in collections", after.since(before));
    }

    @Test
    void leavesOutWhatTheJvmDoesNotTell() {
        assertEquals("0.2 s of CPU, 0.1 s in collections", new ProcessCost(200_000_000L, -1, 100).since(new ProcessCost(0, -1, 0)));
        assertEquals("", new ProcessCost(-1, -1, -1).since(new ProcessCost(-1, -1, -1)));
    }

    @Test
    void thisJvmTellsItsCpuAndItGrowsWithWork() {
        ProcessCost before = ProcessCost.now();
        assertTrue(before.cpuNanos() >= 0, "HotSpot tells its process CPU time");
        // Spin until the process has spent 50 ms more CPU (on a busy machine that takes longer than 50 ms); at most 20 s.
        long x = 0, deadline = System.nanoTime() + 20_000_000_000L;
        ProcessCost after = before;
        while (after.cpuNanos() - before.cpuNanos() < 50_000_000L && System.nanoTime() < deadline) {
            for (int i = 0; i < 100_000; i++) x += Long.numberOfTrailingZeros(x + i);
            after = ProcessCost.now();
        }
        assertTrue(after.cpuNanos() - before.cpuNanos() >= 50_000_000L, "the CPU time grew as this thread spun (" + x + ")");
        assertTrue(after.since(before).matches("\\d+\\.\\d s of CPU, .*"), after.since(before));
    }
}
