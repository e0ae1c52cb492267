package kvstore.storage;

import kvstore.core.LeaderLog;
import kvstore.core.Write;
import kvstore.core.TxId;
import kvstore.core.log.Bytes;
import kvstore.core.log.FileHeader;
import kvstore.core.log.LogCodec;
import kvstore.core.log.LogRecord;
import kvstore.core.log.LogState;
import kvstore.core.tpc.Participant;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * SPEC.md section 5, "a torn or corrupt log": whole-directory recovery on damaged files.
 * Goal: whatever a data directory holds, {@link Recovery#recover} either succeeds or throws
 * {@link CorruptLogException} naming a file of the directory and an offset, and in that case it
 * has changed nothing, byte for byte. Never another exception, never a hang.
 *
 * <p>Method: build a directory of real segments and snapshots (the real codec, records a
 * follower or a leader writes), then damage it the ways disks and people do: flip a byte,
 * truncate, append garbage, overwrite a range, replace a file with random bytes, drop a file,
 * add a stray file with a log's name. The seed of each try is jqwik's, so a failure replays.
 */
class RecoveryGarbageTest {

    @Property(tries = 300)
    void anyDamagedDirectoryRecoversOrIsReportedWithNothingChanged(@ForAll long seed, @ForAll boolean leader,
                                                                   @ForAll @IntRange(min = 0, max = 3) int damages) throws IOException {
        Random rnd = new Random(seed);
        int role = leader ? FileHeader.LEADER : FileHeader.FOLLOWER;
        Path dir = Files.createTempDirectory("kvstore-garbage");
        try {
            build(dir, role, rnd);
            for (int i = 0; i < damages; i++) damage(dir, rnd);
            TreeMap<String, byte[]> before = contents(dir);
            LogState state = leader ? new LeaderLog() : new Participant();
            try {
                Recovery.Result r = Recovery.recover(dir, role, state);
                net.jqwik.api.statistics.Statistics.collect(r.tornBytes() > 0 ? "torn tail cut" : "recovered");
            } catch (CorruptLogException e) {
                net.jqwik.api.statistics.Statistics.collect("corrupt");
                assertTrue(e.getMessage().contains("offset " + e.offset()), e.getMessage());
                assertTrue(e.file().getParent().equals(dir), "names a file of the directory: " + e.file());
                assertTrue(e.getMessage().contains(e.file().getFileName().toString()), e.getMessage());
                assertTrue(e.getMessage().indexOf('\n') < 0, "one line: " + e.getMessage());
                assertSame(before, contents(dir));
            } catch (RuntimeException | IOException e) {
                fail("seed " + seed + ": recovery threw " + e, e);
            }
        } finally {
            delete(dir);
        }
    }

    /** Pure garbage under every name the directory may hold: the same two outcomes, nothing else. */
    @Property(tries = 200)
    void randomFilesUnderLogNames(@ForAll long seed, @ForAll boolean leader) throws IOException {
        Random rnd = new Random(seed);
        Path dir = Files.createTempDirectory("kvstore-garbage");
        try {
            int files = 1 + rnd.nextInt(3);
            for (int i = 0; i < files; i++) {
                byte[] junk = new byte[rnd.nextInt(3) == 0 ? rnd.nextInt(16) : rnd.nextInt(4096)];
                rnd.nextBytes(junk);
                if (rnd.nextBoolean() && junk.length >= LogCodec.MAGIC.length) {
                    System.arraycopy(LogCodec.MAGIC, 0, junk, 0, LogCodec.MAGIC.length); // get past the magic
                }
                Path p = switch (rnd.nextInt(3)) {
                    case 0 -> LogFiles.segment(dir, 1 + rnd.nextInt(3));
                    case 1 -> LogFiles.snapshot(dir, 1 + rnd.nextInt(3));
                    default -> dir.resolve("x" + i + ".tmp");
                };
                Files.write(p, junk);
            }
            TreeMap<String, byte[]> before = contents(dir);
            try {
                Recovery.recover(dir, leader ? FileHeader.LEADER : FileHeader.FOLLOWER, leader ? new LeaderLog() : new Participant());
            } catch (CorruptLogException e) {
                assertTrue(e.getMessage().contains("offset " + e.offset()), e.getMessage());
                assertSame(before, contents(dir));
            } catch (RuntimeException | IOException e) {
                fail("seed " + seed + ": recovery threw " + e, e);
            }
        } finally {
            delete(dir);
        }
    }

    /* --- Building a real directory --- */

    private static void build(Path dir, int role, Random rnd) throws IOException {
        String identity = "id-" + Long.toHexString(rnd.nextLong());
        long first = 1;
        if (rnd.nextInt(3) == 0) { // a snapshot covering segments 1..s
            long s = 1 + rnd.nextInt(2);
            List<LogRecord> recs = records(role, rnd, true);
            Bytes out = new Bytes(256);
            out.put(LogCodec.encodeHeader(new FileHeader(FileHeader.SNAPSHOT, role, identity, s)));
            for (LogRecord r : recs) LogCodec.encode(r, out);
            LogCodec.encode(new LogRecord.SnapshotEnd(recs.size()), out);
            Files.write(LogFiles.snapshot(dir, s), out.toArray());
            first = s + 1;
        }
        int segments = rnd.nextInt(4);
        for (long seq = first; seq < first + segments; seq++) {
            Bytes out = new Bytes(256);
            out.put(LogCodec.encodeHeader(new FileHeader(FileHeader.SEGMENT, role, identity, seq)));
            for (LogRecord r : records(role, rnd, false)) LogCodec.encode(r, out);
            Files.write(LogFiles.segment(dir, seq), out.toArray());
        }
    }

    /**
     * Records of the kinds this role writes, mostly in an order the state accepts (a follower
     * prepares a key that is free and decides what it prepared); one in ten is out of order.
     */
    private static List<LogRecord> records(int role, Random rnd, boolean snapshot) {
        List<LogRecord> out = new ArrayList<>();
        int n = rnd.nextInt(12);
        long epoch = 1 + rnd.nextInt(3);
        java.util.Map<TxId, String> open = new java.util.LinkedHashMap<>();
        long seq = 1;
        for (int i = 0; i < n; i++) {
            TxId fresh = new TxId(epoch, seq++);
            String key = "k" + rnd.nextInt(5);
            boolean wild = rnd.nextInt(10) == 0;
            if (role == FileHeader.LEADER) {
                out.add(switch (rnd.nextInt(5)) {
                    case 0 -> new LogRecord.Epoch(epoch);
                    case 1 -> new LogRecord.HighVersion(rnd.nextInt(1000));
                    case 2 -> new LogRecord.Decision(fresh, seq, List.of(key), List.of(rnd.nextLong(), rnd.nextLong()));
                    case 3 -> new LogRecord.End(wild ? fresh : new TxId(epoch, 1 + rnd.nextInt((int) seq)));
                    default -> new LogRecord.Abort(fresh);
                });
                continue;
            }
            byte[] v = ("v" + rnd.nextInt(100)).getBytes(StandardCharsets.UTF_8);
            int pick = rnd.nextInt(snapshot ? 6 : 4);
            if (wild) {
                out.add(rnd.nextBoolean() ? new LogRecord.Commit(fresh, seq) : new LogRecord.Prepare(fresh, epoch, 1L, null, List.of(Write.put("k0", new String(v, StandardCharsets.UTF_8)))));
            } else if (pick == 0) {
                out.add(new LogRecord.Epoch(epoch));
            } else if (pick == 1 || open.isEmpty()) {
                if (open.containsValue(key)) continue;
                out.add(new LogRecord.Prepare(fresh, epoch, 1_700_000_000_000L, null,
                        List.of(rnd.nextBoolean() ? Write.put(key, new String(v, StandardCharsets.UTF_8)) : Write.delete(key))));
                open.put(fresh, key);
            } else if (pick == 2 || pick == 3) {
                TxId tx = open.keySet().iterator().next();
                open.remove(tx);
                out.add(pick == 2 ? new LogRecord.Commit(tx, seq) : new LogRecord.Abort(tx));
            } else if (pick == 4) {
                if (!open.containsValue(key)) out.add(new LogRecord.Data(key, seq, v));
            } else {
                out.add(new LogRecord.Decided(new TxId(epoch, 100 + i), rnd.nextBoolean()));
            }
        }
        return out;
    }

    /* --- Damage --- */

    private static void damage(Path dir, Random rnd) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.sorted().toList();
        }
        if (files.isEmpty() || rnd.nextInt(6) == 0) {
            byte[] junk = new byte[rnd.nextInt(600)];
            rnd.nextBytes(junk);
            Path stray = rnd.nextBoolean() ? LogFiles.segment(dir, 1 + rnd.nextInt(5)) : LogFiles.snapshot(dir, 1 + rnd.nextInt(5));
            Files.write(stray, junk);
            return;
        }
        Path f = files.get(rnd.nextInt(files.size()));
        byte[] b = Files.readAllBytes(f);
        switch (rnd.nextInt(6)) {
            case 0 -> { // flip one byte
                if (b.length > 0) b[rnd.nextInt(b.length)] ^= (byte) (1 + rnd.nextInt(255));
            }
            case 1 -> b = Arrays.copyOf(b, rnd.nextInt(b.length + 1)); // truncate
            case 2 -> { // append garbage
                byte[] junk = new byte[1 + rnd.nextInt(300)];
                rnd.nextBytes(junk);
                byte[] c = Arrays.copyOf(b, b.length + junk.length);
                System.arraycopy(junk, 0, c, b.length, junk.length);
                b = c;
            }
            case 3 -> { // overwrite a range
                if (b.length > 0) {
                    int at = rnd.nextInt(b.length);
                    int len = Math.min(b.length - at, 1 + rnd.nextInt(64));
                    for (int i = at; i < at + len; i++) b[i] = (byte) rnd.nextInt(256);
                }
            }
            case 4 -> { // replace with random bytes
                b = new byte[rnd.nextInt(2000)];
                rnd.nextBytes(b);
            }
            default -> { // drop the file
                Files.delete(f);
                return;
            }
        }
        Files.write(f, b);
    }

    /* --- Directory contents --- */

    private static TreeMap<String, byte[]> contents(Path dir) throws IOException {
        TreeMap<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) m.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
        return m;
    }

    private static void assertSame(TreeMap<String, byte[]> before, TreeMap<String, byte[]> after) {
        assertEquals(before.keySet(), after.keySet(), "no file added or removed");
        for (String name : before.keySet()) assertTrue(Arrays.equals(before.get(name), after.get(name)), name + " unchanged");
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> w = Files.walk(dir)) {
            w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
