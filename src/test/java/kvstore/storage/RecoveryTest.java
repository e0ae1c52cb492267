package kvstore.storage;

import kvstore.core.LeaderLog;
import kvstore.core.Write;
import kvstore.core.TxId;
import kvstore.core.log.Bytes;
import kvstore.core.log.FileHeader;
import kvstore.core.log.LogCodec;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Participant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SPEC.md section 5 and PROTOCOL.md "Recovery" on real files: a torn tail is cut back to the
 * last whole record (and kept aside), damage anywhere else stops recovery naming the file and
 * offset with nothing changed, and snapshots plus later segments rebuild the state.
 */
@Timeout(60)
class RecoveryTest {
    static final String ID = "node-identity-1";

    @TempDir
    Path dir;

    static byte[] segment(long seq, int role, String identity, List<LogRecord> records) {
        Bytes b = new Bytes(256);
        b.put(LogCodec.encodeHeader(new FileHeader(FileHeader.SEGMENT, role, identity, seq)));
        for (LogRecord r : records) LogCodec.encode(r, b);
        return b.toArray();
    }

    static List<LogRecord> committedPuts(int from, int to) {
        List<LogRecord> out = new ArrayList<>();
        for (int i = from; i < to; i++) {
            TxId tx = new TxId(1, i);
            out.add(new LogRecord.Prepare(tx, 1, 0, null, List.of(Write.put("k" + i, "v" + i))));
            out.add(new LogRecord.Commit(tx, i + 1));
        }
        return out;
    }

    /** Every file's bytes, by name: to prove nothing changed. */
    Map<String, byte[]> snapshotOfDir() throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) out.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
        return out;
    }

    void assertUnchanged(Map<String, byte[]> before) throws IOException {
        Map<String, byte[]> after = snapshotOfDir();
        assertEquals(before.keySet(), after.keySet());
        for (String k : before.keySet()) assertArrayEquals(before.get(k), after.get(k), k);
    }

    @Test
    void aFreshDirectoryGetsAnIdentityAndAFirstSegment() throws Exception {
        Recovery.Result r = Recovery.recover(dir.resolve("new"), FileHeader.FOLLOWER, new Participant());
        assertTrue(r.fresh());
        assertEquals(1, r.activeSegment());
        assertTrue(Files.exists(LogFiles.segment(dir.resolve("new"), 1)));
        Recovery.Result again = Recovery.recover(dir.resolve("new"), FileHeader.FOLLOWER, new Participant());
        assertFalse(again.fresh());
        assertEquals(r.identity(), again.identity());
    }

    @Test
    void replayRebuildsCommittedDataAndPreparedTransactions() throws Exception {
        List<LogRecord> recs = new ArrayList<>(committedPuts(0, 10));
        recs.add(new LogRecord.Prepare(new TxId(1, 99), 1, 0, null, List.of(Write.put("held", "x"))));
        Files.write(LogFiles.segment(dir, 1), segment(1, FileHeader.FOLLOWER, ID, recs));
        Participant p = new Participant();
        Recovery.Result r = Recovery.recover(dir, FileHeader.FOLLOWER, p);
        assertEquals(ID, r.identity());
        assertEquals(recs.size(), r.records());
        assertEquals(10, p.keyCount());
        assertEquals(1, p.preparedByLeaders().size());
        assertEquals(Participant.ReadResult.PENDING, p.read("held", true).result());
    }

    /** A crash can stop a write anywhere in the last record: every such tail is cut, the rest kept. */
    @Test
    void aTornTailIsCutAtEveryPossibleByte() throws Exception {
        byte[] good = segment(1, FileHeader.FOLLOWER, ID, committedPuts(0, 5));
        byte[] last = LogCodec.encode(new LogRecord.Prepare(new TxId(1, 50), 1, 0, null, List.of(Write.put("torn", "zz"))));
        for (int cut = 1; cut < last.length; cut++) {
            Path d = dir.resolve("cut" + cut);
            Files.createDirectories(d);
            byte[] file = new byte[good.length + cut];
            System.arraycopy(good, 0, file, 0, good.length);
            System.arraycopy(last, 0, file, good.length, cut);
            Files.write(LogFiles.segment(d, 1), file);
            Participant p = new Participant();
            Recovery.Result r = Recovery.recover(d, FileHeader.FOLLOWER, p);
            assertEquals(cut, r.tornBytes(), "cut " + cut);
            assertEquals(5, p.keyCount());
            assertTrue(p.prepared().isEmpty(), "the torn prepare is gone");
            assertEquals(good.length, Files.size(LogFiles.segment(d, 1)), "file cut back to the last whole record");
            assertArrayEquals(java.util.Arrays.copyOf(last, cut), Files.readAllBytes(d.resolve("wal-0000000001.log.broken")));
        }
    }

    @Test
    void aBadLastRecordWithNothingAfterItIsATornTail() throws Exception {
        byte[] good = segment(1, FileHeader.FOLLOWER, ID, committedPuts(0, 3));
        byte[] last = LogCodec.encode(new LogRecord.Commit(new TxId(1, 77), 77));
        last[last.length - 1] ^= 1;
        byte[] file = new byte[good.length + last.length + 100]; // plus zeros, as a torn page leaves
        System.arraycopy(good, 0, file, 0, good.length);
        System.arraycopy(last, 0, file, good.length, last.length);
        Files.write(LogFiles.segment(dir, 1), file);
        Recovery.Result r = Recovery.recover(dir, FileHeader.FOLLOWER, new Participant());
        assertEquals(last.length + 100, r.tornBytes());
    }

    @Test
    void aBadRecordFollowedByAGoodOneIsCorruptionAndNothingChanges() throws Exception {
        byte[] file = segment(1, FileHeader.FOLLOWER, ID, committedPuts(0, 10));
        int headerLen = LogCodec.headerLength(file, file.length);
        int at = headerLen + 40; // inside an early record
        file[at] ^= 0x10;
        Files.write(LogFiles.segment(dir, 1), file);
        Map<String, byte[]> before = snapshotOfDir();
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> Recovery.recover(dir, FileHeader.FOLLOWER, new Participant()));
        assertTrue(e.getMessage().contains("wal-0000000001.log"), e.getMessage());
        assertTrue(e.offset() >= headerLen && e.offset() <= at, "offset " + e.offset());
        assertUnchanged(before);
    }

    @Test
    void aBadHeaderIsCorruption() throws Exception {
        byte[] file = segment(1, FileHeader.FOLLOWER, ID, committedPuts(0, 2));
        file[3] = 'X';
        Files.write(LogFiles.segment(dir, 1), file);
        Map<String, byte[]> before = snapshotOfDir();
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> Recovery.recover(dir, FileHeader.FOLLOWER, new Participant()));
        assertEquals(0, e.offset());
        assertTrue(e.getMessage().contains("header"));
        assertUnchanged(before);
    }

    @Test
    void aLeadersLogIsNotAFollowersAndIdentitiesMustAgree() throws Exception {
        Files.write(LogFiles.segment(dir, 1), segment(1, FileHeader.LEADER, ID, List.of(new LogRecord.Epoch(1))));
        assertThrows(CorruptLogException.class, () -> Recovery.recover(dir, FileHeader.FOLLOWER, new Participant()));
        Files.write(LogFiles.segment(dir, 2), segment(2, FileHeader.LEADER, "someone-else", List.of(new LogRecord.Epoch(2))));
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> Recovery.recover(dir, FileHeader.LEADER, new LeaderLog()));
        assertTrue(e.getMessage().contains("identity"), e.getMessage());
    }

    @Test
    void damageInASegmentThatIsNotTheNewestIsCorruptionEvenAtItsEnd() throws Exception {
        byte[] first = segment(1, FileHeader.FOLLOWER, ID, committedPuts(0, 3));
        Files.write(LogFiles.segment(dir, 1), java.util.Arrays.copyOf(first, first.length - 3));
        Files.write(LogFiles.segment(dir, 2), segment(2, FileHeader.FOLLOWER, ID, committedPuts(3, 4)));
        assertThrows(CorruptLogException.class, () -> Recovery.recover(dir, FileHeader.FOLLOWER, new Participant()));
    }

    @Test
    void aMissingSegmentIsCorruption() throws Exception {
        Files.write(LogFiles.segment(dir, 1), segment(1, FileHeader.FOLLOWER, ID, committedPuts(0, 1)));
        Files.write(LogFiles.segment(dir, 3), segment(3, FileHeader.FOLLOWER, ID, committedPuts(1, 2)));
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> Recovery.recover(dir, FileHeader.FOLLOWER, new Participant()));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void aSnapshotAndTheSegmentsAfterItRebuildTheStateAndLeftoversGo() throws Exception {
        Participant live = new Participant();
        for (LogRecord r : committedPuts(0, 20)) live.apply(r);
        long size = Recovery.writeSnapshot(dir, FileHeader.FOLLOWER, ID, 2, live.snapshotRecords());
        assertTrue(size > 0);
        Files.write(LogFiles.segment(dir, 2), segment(2, FileHeader.FOLLOWER, ID, committedPuts(0, 20))); // covered: a leftover
        Files.write(LogFiles.segment(dir, 3), segment(3, FileHeader.FOLLOWER, ID, committedPuts(20, 25)));
        Files.write(dir.resolve("wal-0000000004.log.tmp"), new byte[] {1, 2, 3});
        Participant p = new Participant();
        Recovery.Result r = Recovery.recover(dir, FileHeader.FOLLOWER, p);
        assertEquals(25, p.keyCount());
        assertEquals(2, r.snapshotSeq());
        assertEquals(3, r.activeSegment());
        assertFalse(Files.exists(LogFiles.segment(dir, 2)), "a covered segment is removed");
        assertFalse(Files.exists(dir.resolve("wal-0000000004.log.tmp")), "an unfinished file is removed");
    }

    @Test
    void aDamagedSnapshotIsCorruption() throws Exception {
        Participant live = new Participant();
        for (LogRecord r : committedPuts(0, 20)) live.apply(r);
        Recovery.writeSnapshot(dir, FileHeader.FOLLOWER, ID, 1, live.snapshotRecords());
        Path snap = LogFiles.snapshot(dir, 1);
        byte[] b = Files.readAllBytes(snap);
        Files.write(snap, java.util.Arrays.copyOf(b, b.length - 5)); // its end record is gone
        Map<String, byte[]> before = snapshotOfDir();
        assertThrows(CorruptLogException.class, () -> Recovery.recover(dir, FileHeader.FOLLOWER, new Participant()));
        assertUnchanged(before);
    }

    @Test
    void aCommitWithoutItsPrepareIsCorruption() throws Exception {
        Files.write(LogFiles.segment(dir, 1), segment(1, FileHeader.FOLLOWER, ID, List.of(new LogRecord.Commit(new TxId(1, 1), 1),
                new LogRecord.Epoch(1))));
        CorruptLogException e = assertThrows(CorruptLogException.class, () -> Recovery.recover(dir, FileHeader.FOLLOWER, new Participant()));
        assertTrue(e.getMessage().contains("never prepared"), e.getMessage());
    }
}
