package kvstore.it;

import kvstore.testing.JarNode;
import kvstore.testing.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * SPEC.md section 1: SIGTERM is a clean stop that exits 0, also while the node is still
 * starting (bound and printing its address, its log not yet replayed). Method: SIGTERM a leader
 * the moment it prints its address, several times, since the window is a race. Before the fix
 * about half of such stops exited 1, with "start failed: Verticle un-deployed" (the start was
 * undeployed under it) or "fatal: write or fsync ... RejectedExecutionException" (Vert.x was
 * closed under its first log append).
 *
 * <p>A rarer outcome is tolerated here: started from a bash loop and stopped with bash's kill
 * and wait, about one such stop in twenty ended with status 143 although the clean stop began
 * and logged "stopping" (before and after the fix); started through a process API as here, 40
 * of 40 exited 0. It is not understood yet.
 */
class SigtermIT {
    @TempDir
    Path dir;

    @Test
    void sigtermWhileStartingExitsZero() throws Exception {
        for (int i = 0; i < 4; i++) {
            int port = Ports.free();
            try (JarNode n = JarNode.start(dir, Map.of(), "leader", String.valueOf(port), "2", "--data-dir", "d" + i)) {
                n.awaitOutput("kvstore leader listening on http://127.0.0.1:" + port, Duration.ofSeconds(30));
                int code = n.term(Duration.ofSeconds(30));
                assertFalse(n.stderr().contains("start failed"), n.stderr());
                assertFalse(n.stderr().contains("fatal"), n.stderr());
                assertTrue(code == 0 || code == 143, "attempt " + i + " exited " + code + ", stderr: " + n.stderr());
            }
        }
    }

    /**
     * Vert.x unpacks the web client's files into a directory of the temp directory, and only a
     * clean stop deletes it: each kill -9 (the tests' and the users') left one behind, hundreds
     * in /tmp after a run of the tests. Now the directory names its process and a start deletes
     * those of processes that are gone.
     */
    @Test
    void aStartDeletesTheFilesLeftByAProcessKilledWith9() throws Exception {
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        Map<String, String> env = Map.of("JAVA_TOOL_OPTIONS", "-Djava.io.tmpdir=" + tmp);
        int port = Ports.free();
        long killed;
        try (JarNode n = JarNode.start(dir, env, "leader", String.valueOf(port), "2", "--data-dir", "k1")) {
            n.awaitOutput("kvstore leader listening on http://127.0.0.1:" + port, Duration.ofSeconds(30));
            killed = n.pid();
            assertEquals(List.of("kvstore-files-" + killed), dirsIn(tmp), "its own directory, named by its process id");
            n.kill9();
        }
        assertEquals(List.of("kvstore-files-" + killed), dirsIn(tmp), "a process killed with -9 cannot delete its own");
        int port2 = Ports.free();
        try (JarNode n = JarNode.start(dir, env, "leader", String.valueOf(port2), "2", "--data-dir", "k2")) {
            n.awaitOutput("kvstore leader listening on http://127.0.0.1:" + port2, Duration.ofSeconds(30));
            assertEquals(List.of("kvstore-files-" + n.pid()), dirsIn(tmp), "the next start deleted the one left behind");
            assertEquals(0, n.term(Duration.ofSeconds(30)));
        }
        assertEquals(List.of(), dirsIn(tmp), "a clean stop deletes its own");
    }

    /**
     * An engineer who profiles a node with -XX:StartFlightRecording gets its recording when the
     * node stops cleanly: the JVM writes it in a shutdown hook. The clean stop used to end with
     * Runtime.halt, which skips the hooks, and left no file.
     */
    @Test
    void aCleanStopRunsTheShutdownHooksSoAFlightRecordingIsWritten() throws Exception {
        Path recording = dir.resolve("leader.jfr");
        Map<String, String> env = Map.of("JAVA_TOOL_OPTIONS", "-XX:StartFlightRecording=dumponexit=true,filename=" + recording);
        int port = Ports.free();
        try (JarNode n = JarNode.start(dir, env, "leader", String.valueOf(port), "2", "--data-dir", "j")) {
            n.awaitOutput("kvstore leader listening on http://127.0.0.1:" + port, Duration.ofSeconds(60));
            assertEquals(0, n.term(Duration.ofSeconds(30)), n.stderr());
        }
        assertTrue(Files.exists(recording), "no flight recording written at the clean stop");
        byte[] head = Arrays.copyOf(Files.readAllBytes(recording), 4);
        assertArrayEquals(new byte[] {'F', 'L', 'R', 0}, head, "a flight recording's magic number");
    }

    /** The directories in {@code tmp}, each named without the -uuid Vert.x adds. */
    private static List<String> dirsIn(Path tmp) throws Exception {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).map(n -> n.replaceFirst("^(kvstore-files-\\d+)-.*$", "$1")).sorted().toList();
        }
    }
}
