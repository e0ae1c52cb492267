package kvstore.core.tpc;

import kvstore.core.Errors;
import kvstore.core.KeyRequest;
import kvstore.core.Limits;
import kvstore.core.Op;
import kvstore.core.Params;
import kvstore.core.TxId;
import kvstore.core.log.LogRecord;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The follower's state machine (PROTOCOL.md, "Write path" steps 2 and 6, "Manual slot"),
 * driven by hand with a fake clock. Every test also replays the records the live path produced
 * into a fresh participant and checks it rebuilt the same state (recovery by replay).
 */
class ParticipantTest {
    private final Participant p = new Participant();
    private final List<LogRecord> log = new ArrayList<>();

    private Participant.Step run(Participant.Step s) {
        log.addAll(s.records());
        return s;
    }

    private Participant.Step put(String key, String val, TxId tx, long epoch) {
        String q = "key=" + Params.encode(key) + "&val=" + Params.encode(val)
                + (tx == null ? "" : "&tx=" + tx + "&epoch=" + epoch);
        return run(p.prepare(KeyRequest.parse(Op.PUT, Params.parse(q), Limits.DEFAULTS, true).request(), 1000));
    }

    private Participant.Step del(String key, TxId tx, long epoch) {
        String q = "key=" + Params.encode(key) + (tx == null ? "" : "&tx=" + tx + "&epoch=" + epoch);
        return run(p.prepare(KeyRequest.parse(Op.DELETE, Params.parse(q), Limits.DEFAULTS, true).request(), 1000));
    }

    private String value(String key) {
        byte[] v = p.value(key);
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    private void assertReplayMatches() {
        Participant copy = new Participant();
        for (LogRecord r : log) copy.apply(r);
        assertEquals(p.snapshotRecords().toString().replaceAll("\\[B@[0-9a-f]+", "bytes"),
                copy.snapshotRecords().toString().replaceAll("\\[B@[0-9a-f]+", "bytes"));
        assertEquals(p.data().keySet(), copy.data().keySet());
        for (String k : p.data().keySet()) assertEquals(new String(p.data().get(k)), new String(copy.data().get(k)));
    }

    @Test
    void prepareLocksAndCommitApplies() {
        TxId t = new TxId(1, 1);
        Participant.Step s = put("a", "1", t, 1);
        assertEquals(202, s.status());
        assertEquals(Errors.VOTE_COMMIT, s.body());
        assertTrue(s.records().stream().anyMatch(r -> r instanceof LogRecord.Prepare));
        assertEquals(Participant.ReadResult.NO_KEY, p.read("a", false));   // a person sees committed state
        assertEquals(Participant.ReadResult.PENDING, p.read("a", true));   // the leader is told to wait
        assertEquals(204, run(p.commit(t, 1)).status());
        assertEquals("1", value("a"));
        assertEquals(Participant.ReadResult.VALUE, p.read("a", true));
        assertReplayMatches();
    }

    @Test
    void secondPrepareOfALockedKeyVotesNo() {
        put("a", "1", new TxId(1, 1), 1);
        Participant.Step s = put("a", "2", new TxId(1, 2), 1);
        assertEquals(500, s.status());
        assertEquals(Errors.UNABLE, s.body());
        assertTrue(s.records().isEmpty());
        assertEquals(202, put("a", "1", new TxId(1, 1), 1).status()); // the same prepare again is a yes
        assertReplayMatches();
    }

    @Test
    void deleteOfAbsentKeyVotesNoKey() {
        Participant.Step s = del("nope", new TxId(1, 1), 1);
        assertEquals(500, s.status());
        assertEquals(Errors.NO_KEY, s.body());
    }

    @Test
    void deleteRemovesOnCommit() {
        TxId t1 = new TxId(1, 1), t2 = new TxId(1, 2);
        put("a", "1", t1, 1);
        p.commit(t1, 1).records().forEach(log::add);
        assertEquals(202, del("a", t2, 1).status());
        assertEquals("1", value("a"));
        run(p.commit(t2, 1));
        assertNull(value("a"));
        assertReplayMatches();
    }

    @Test
    void commitOfUnknownTxIs500AndAbortOfUnknownIs204() {
        assertEquals(500, p.commit(new TxId(1, 9), 1).status());
        assertEquals(204, p.abort(new TxId(1, 9), 1).status());
    }

    @Test
    void phaseTwoIsIdempotentAndNeverContradicts() {
        TxId t = new TxId(1, 1);
        put("a", "1", t, 1);
        run(p.commit(t, 1));
        Participant.Step again = p.commit(t, 1);
        assertEquals(204, again.status());
        assertTrue(again.records().isEmpty());
        assertEquals(500, p.abort(t, 1).status()); // an abort of a committed tx is a protocol violation

        TxId u = new TxId(1, 2);
        put("b", "1", u, 1);
        run(p.abort(u, 1));
        assertEquals(204, p.abort(u, 1).status());
        assertEquals(500, p.commit(u, 1).status());
        assertNull(value("b"));
        assertReplayMatches();
    }

    @Test
    void staleEpochIsRefusedAndNewEpochIsRecordedFirst() {
        Participant.Step s = put("a", "1", new TxId(5, 1), 5);
        assertEquals(new LogRecord.Epoch(5), s.records().get(0));
        assertEquals(5, p.epoch());
        Participant.Step stale = put("b", "1", new TxId(4, 1), 4);
        assertEquals(409, stale.status());
        assertEquals(Errors.STALE_LEADER, stale.body());
        assertEquals(409, p.commit(new TxId(5, 1), 4).status());
        assertEquals(409, p.observeEpoch(3).status());
        assertReplayMatches();
    }

    @Test
    void aClaimedEpochMustBeAboveTheAcceptedOne() {
        assertEquals(200, run(p.observeEpoch(5)).status());
        assertEquals(409, run(p.claimEpoch(5)).status(), "the same epoch, claimed by a leader taking office");
        assertEquals(409, run(p.claimEpoch(4)).status());
        assertEquals(200, run(p.observeEpoch(5)).status(), "a routine check at the current epoch");
        Participant.Step claimed = run(p.claimEpoch(6));
        assertEquals(200, claimed.status());
        assertEquals(new LogRecord.Epoch(6), claimed.records().get(0), "recorded before the answer");
        assertEquals(6, p.epoch());
        assertEquals(409, p.observeEpoch(5).status(), "the old leader is fenced");
        assertReplayMatches();
    }

    @Test
    void manualSlotHoldsOneTransactionAndBlocksTheLeader() {
        assertEquals(202, put("a", "hand", null, -1).status());
        assertNotNull(p.manual());
        assertEquals(500, put("b", "x", null, -1).status());               // one manual tx at a time
        assertEquals(500, put("a", "x", new TxId(1, 1), 1).status());      // the leader's prepare votes no
        assertEquals(204, run(p.commit(null, -1)).status());
        assertEquals("hand", value("a"));
        assertTrue(p.changedByHand().contains("a"));
        assertEquals(204, p.commit(null, -1).status());                    // nothing pending: 204, as the seed answers
        assertEquals(204, p.abort(null, -1).status());                     // presumed abort
        assertReplayMatches();
    }

    @Test
    void manualPrepareExpiresAfterSixtySeconds() {
        put("a", "hand", null, -1);
        assertNull(p.expireManual(1000 + 59_999));
        LogRecord r = p.expireManual(1000 + 60_000);
        assertTrue(r instanceof LogRecord.Abort);
        log.add(r);
        assertNull(p.manual());
        assertNull(value("a"));
        assertReplayMatches();
    }

    @Test
    void preparedTransactionsSurviveReplayLocked() {
        put("a", "1", new TxId(2, 7), 2);
        Participant copy = new Participant();
        for (LogRecord r : log) copy.apply(r);
        assertEquals(1, copy.preparedByLeaders().size());
        assertEquals(Participant.ReadResult.PENDING, copy.read("a", true));
        assertEquals(204, copy.commit(new TxId(2, 7), 2).status());
        assertEquals("1", new String(copy.value("a"), StandardCharsets.UTF_8));
    }

    @Test
    void snapshotRebuildsTheSameState() {
        put("a", "1", new TxId(1, 1), 1);
        run(p.commit(new TxId(1, 1), 1));
        put("b", "2", new TxId(1, 2), 1);
        put("c", "hand", null, -1);
        Participant copy = new Participant();
        for (LogRecord r : p.snapshotRecords()) copy.apply(r);
        assertEquals("1", new String(copy.value("a"), StandardCharsets.UTF_8));
        assertEquals(2, copy.prepared().size());
        assertNotNull(copy.manual());
        assertEquals(Boolean.TRUE, copy.decidedOutcome(new TxId(1, 1)));
        assertEquals(204, copy.commit(new TxId(1, 1), 1).status()); // still remembered as decided
    }

    @Test
    void outcomesAreExactAndSurviveSnapshots() {
        for (int i = 1; i <= 150_000; i++) {
            TxId t = new TxId(3, i);
            p.apply(new LogRecord.Prepare(t, 3, "k", Op.PUT, "v".getBytes(), 0));
            p.apply(i % 3 == 0 ? new LogRecord.Abort(t) : new LogRecord.Commit(t));
        }
        TxId held = new TxId(3, 150_001);
        p.apply(new LogRecord.Prepare(held, 3, "k", Op.PUT, "v".getBytes(), 0));
        Participant copy = new Participant();
        for (LogRecord r : p.snapshotRecords()) copy.apply(r);
        for (Participant x : List.of(p, copy)) {
            assertEquals(Participant.Outcome.COMMITTED, x.outcome(new TxId(3, 1)), "the oldest is still known");
            assertEquals(Participant.Outcome.ABORTED, x.outcome(new TxId(3, 3)));
            assertEquals(Participant.Outcome.COMMITTED, x.outcome(new TxId(3, 149_999)));
            assertEquals(Participant.Outcome.PREPARED, x.outcome(held));
            assertEquals(Participant.Outcome.UNKNOWN, x.outcome(new TxId(3, 200_000)));
            assertEquals(Participant.Outcome.UNKNOWN, x.outcome(new TxId(4, 1)));
            assertEquals(204, x.commit(new TxId(3, 2), 3).status(), "a late duplicate commit is still answered truthfully");
            assertEquals(500, x.commit(new TxId(3, 6), 3).status());
        }
    }

    @Test
    void aPrepareOvertakenByItsAbortVotesNo() {
        TxId t = new TxId(4, 1);
        Participant.Step abort = run(p.abort(t, 4));
        assertEquals(204, abort.status());
        assertTrue(abort.records().stream().anyMatch(r -> r instanceof LogRecord.Decided), "the presumed abort is remembered durably");
        assertEquals(500, put("a", "1", t, 4).status(), "the late prepare must not lock the key");
        assertTrue(p.prepared().isEmpty());
        assertReplayMatches();
    }
}
