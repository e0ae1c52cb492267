package kvstore.sim;

import kvstore.lincheck.LinearizabilityChecker;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded simulations of the real coordinator and participants (STYLE.md section 6): many short
 * runs with lost, late, doubled and reordered messages, lost unflushed log tails, and crashes of
 * followers and the leader; after each, the replicas agree, nothing is left prepared, and the
 * clients' history is linearizable. A failure prints its seed; replay it with
 * {@code -Dkvstore.seed=N} (and {@code -Dkvstore.sim.runs=1}).
 */
class SimulationTest {
    @Test
    void calmRunsAreLinearizable() {
        runMany(Simulation.Faults.NONE, Integer.getInteger("kvstore.sim.runs", 50));
    }

    @Test
    void roughRunsWithCrashesLoseNothingAcknowledged() {
        runMany(Simulation.Faults.ROUGH, Integer.getInteger("kvstore.sim.runs", 200));
    }

    @Test
    void nastyRunsStaySafe() {
        runMany(Simulation.Faults.NASTY, Integer.getInteger("kvstore.sim.runs", 100));
    }

    @Test
    void clusterRulesStaySafe() {
        runMany(Simulation.Faults.ROUGH, Integer.getInteger("kvstore.sim.runs", 200), true);
    }

    private static void runMany(Simulation.Faults faults, int runs) {
        runMany(faults, runs, false);
    }

    private static void runMany(Simulation.Faults faults, int runs, boolean clusterRules) {
        long base = Long.getLong("kvstore.seed", System.nanoTime());
        long acked = 0, crashes = 0, unknown = 0;
        for (int i = 0; i < runs; i++) {
            long seed = base + i;
            Simulation sim = new Simulation(seed, faults, 3, 2, clusterRules);
            try {
                sim.run(2_000);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("simulation failed, seed " + seed + ": " + e, e);
            }
            String problem = sim.checkReplicas();
            assertNull(problem, "seed " + seed);
            LinearizabilityChecker.Result r = LinearizabilityChecker.check(sim.history);
            assertTrue(r.ok(), "seed " + seed + ": not linearizable: " + r.failures());
            acked += sim.acked;
            crashes += sim.crashes;
            unknown += sim.unknown;
        }
        System.out.println("simulated " + runs + " runs from seed " + base + ": " + acked + " acknowledged writes, "
                + crashes + " crashes, " + unknown + " unanswered operations");
        assertTrue(acked > runs, "the runs made progress");
        if (faults.crashPerStep() > 0) assertTrue(crashes > 0, "the rough runs crashed something");
        assertEquals(0, 0);
    }
}
