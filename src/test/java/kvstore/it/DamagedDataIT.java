package kvstore.it;

import kvstore.core.log.LogCodec;
import kvstore.testing.Await;
import kvstore.testing.Http;
import kvstore.testing.JarNode;
import kvstore.testing.Ports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SPEC.md section 5: "a bad record that is followed by a good one is corruption: the process
 * exits with code 1 and a message naming the file and offset, and changes nothing in the data
 * directory". On the real jar, with the bad bytes written by hand (redis aof.tcl style).
 *
 * <p>Method: run a leader and a follower, write keys, stop them cleanly; then for each kind of
 * damage, copy the healthy data directory, damage the copy, start the real jar on it and check:
 * exit code 1 (no restart loop, no serving), exactly one line on stderr that names the file and
 * the offset, and the directory byte for byte as it was. Last, a torn tail for contrast: the
 * node cuts it (keeping a {@code .broken} copy) and serves.
 */
class DamagedDataIT {
    @TempDir
    Path dir;

    @Test
    void garbageInALogOrASnapshotStopsTheNodeWithOneLineAndChangesNothing() throws Exception {
        int lp = Ports.free(), fp = Ports.free();
        Path leaderDir = dir.resolve("leader"), followerDir = dir.resolve("follower");
        try (JarNode l = JarNode.start(dir, Map.of(), "leader", String.valueOf(lp), "1", "--data-dir", leaderDir.toString());
             JarNode f = JarNode.start(dir, Map.of(), "follower", String.valueOf(fp), String.valueOf(lp), "--data-dir", followerDir.toString())) {
            Await.until("leader ready", Duration.ofSeconds(60), () -> Http.get("http://127.0.0.1:" + lp + "/api/health").status() == 200);
            for (int i = 0; i < 10; i++) assertEquals(201, Http.put("http://127.0.0.1:" + lp + "/?key=k" + i + "&val=v" + i).status());
            assertEquals(0, f.term(Duration.ofSeconds(30)));
            assertEquals(0, l.term(Duration.ofSeconds(30)));
        }
        Path segment = followerDir.resolve("wal-0000000001.log");
        Path leaderSegment = leaderDir.resolve("wal-0000000001.log");
        assertTrue(Files.exists(segment) && Files.exists(leaderSegment), "one segment each");
        Random rnd = new Random(42);

        // 1. A record in the middle of the follower's log: its checksum fails, good records follow.
        Path c1 = copy(followerDir, "case1");
        long first = firstRecordOffset(segment);
        flipByte(c1.resolve(segment.getFileName()), first + 8);
        assertRefused("follower", fp, lp, c1, "wal-0000000001.log", first);

        // 2. A snapshot that is garbage (random bytes under a snapshot's name).
        Path c2 = copy(followerDir, "case2");
        byte[] junk = new byte[4096];
        rnd.nextBytes(junk);
        Files.write(c2.resolve("snap-0000000001.snap"), junk);
        assertRefused("follower", fp, lp, c2, "snap-0000000001.snap", 0);

        // 3. The whole log replaced by garbage.
        Path c3 = copy(followerDir, "case3");
        rnd.nextBytes(junk);
        Files.write(c3.resolve("wal-0000000001.log"), junk);
        assertRefused("follower", fp, lp, c3, "wal-0000000001.log", 0);

        // 4. The leader's log, damaged in the middle.
        Path c4 = copy(leaderDir, "case4");
        long leaderFirst = firstRecordOffset(leaderSegment);
        flipByte(c4.resolve("wal-0000000001.log"), leaderFirst + 9);
        assertRefused("leader", lp, lp, c4, "wal-0000000001.log", leaderFirst);

        // 5. For contrast: a torn tail (the last record cut short) is repaired, and the node serves.
        Path c5 = copy(followerDir, "case5");
        Path torn = c5.resolve("wal-0000000001.log");
        long size = Files.size(torn);
        try (var ch = java.nio.channels.FileChannel.open(torn, java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(size - 3);
        }
        try (JarNode n = JarNode.start(dir, Map.of(), "follower", String.valueOf(fp), String.valueOf(lp), "--data-dir", c5.toString())) {
            n.awaitOutput("torn tail", Duration.ofSeconds(60));
            assertTrue(n.alive(), "a torn tail is not fatal");
            assertTrue(Files.exists(c5.resolve("wal-0000000001.log.broken")), "the cut bytes are kept");
            assertEquals(0, n.term(Duration.ofSeconds(30)));
        }
    }

    /** Starts the jar on a damaged directory and checks SPEC.md section 5's answer. */
    private void assertRefused(String role, int port, int leaderPort, Path data, String file, long offset) throws Exception {
        TreeMap<String, byte[]> before = contents(data);
        JarNode.Result r = role.equals("leader")
                ? JarNode.run(dir, Map.of(), "leader", String.valueOf(port), "1", "--data-dir", data.toString())
                : JarNode.run(dir, Map.of(), "follower", String.valueOf(port), String.valueOf(leaderPort), "--data-dir", data.toString());
        assertEquals(1, r.exitCode(), data + ": " + r.stdout() + r.stderr());
        List<String> lines = r.stderr().lines().filter(s -> !s.isBlank()).toList();
        assertEquals(1, lines.size(), "one line on stderr: " + r.stderr());
        String line = lines.get(0);
        assertTrue(line.contains(data.resolve(file).toString()) || line.contains(file), "names the file: " + line);
        assertTrue(line.contains("offset " + offset), "names the offset " + offset + ": " + line);
        TreeMap<String, byte[]> after = contents(data);
        assertEquals(before.keySet(), after.keySet(), "no file added or removed in " + data);
        for (String name : before.keySet()) assertTrue(Arrays.equals(before.get(name), after.get(name)), name + " is unchanged");
    }

    /** The offset of the first record: right after the file header. */
    private static long firstRecordOffset(Path segment) throws IOException {
        byte[] b = Files.readAllBytes(segment);
        int hl = LogCodec.headerLength(b, b.length);
        assertTrue(hl > 0 && b.length > hl + 2 * LogCodec.RECORD_HEADER_BYTES, "records follow the header");
        return hl;
    }

    private static void flipByte(Path file, long at) throws IOException {
        byte[] b = Files.readAllBytes(file);
        b[(int) at] ^= 0x5A;
        Files.write(file, b);
    }

    private Path copy(Path from, String name) throws IOException {
        Path to = dir.resolve(name);
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : (Iterable<Path>) s::iterator) Files.copy(p, to.resolve(p.getFileName()));
        }
        return to;
    }

    private static TreeMap<String, byte[]> contents(Path d) throws IOException {
        TreeMap<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(d)) {
            for (Path p : (Iterable<Path>) s::iterator) m.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
        return m;
    }
}
