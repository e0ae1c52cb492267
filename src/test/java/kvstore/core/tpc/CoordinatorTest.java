package kvstore.core.tpc;

import kvstore.core.Errors;
import kvstore.core.Member;
import kvstore.core.TxId;
import kvstore.core.Write;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Coordinator.Phase2Result;
import kvstore.core.tpc.Coordinator.ReadResult;
import kvstore.core.tpc.Coordinator.VoteKind;
import kvstore.core.view.Membership;
import kvstore.core.view.View;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The leader's state machine (PROTOCOL.md, "Write path", "Read path", "Deadlines", "Versions"),
 * driven by events with a fake clock; assertions are on the effects it asks for, in order
 * (raft's raft_test.go style).
 *
 * <p>Placement: with followers 16201-16203 on 127.0.0.1 and redundancy 2, key "hello" lives on
 * 16201 then 16203 (see RingTest), so R1 = 16201 and R2 = 16203 below.
 */
class CoordinatorTest {
    static final Member F1 = Member.of("127.0.0.1", 16201);
    static final Member F2 = Member.of("127.0.0.1", 16202);
    static final Member F3 = Member.of("127.0.0.1", 16203);
    static final Member R1 = F1, R2 = F3;
    static final String K = "hello";

    long now = 1_000;
    Coordinator c = coordinator(Coordinator.Settings.defaults(), List.of());

    static View view() {
        View v = View.empty(2, 1, 3);
        for (Member m : List.of(F1, F2, F3)) v = Membership.register(v, m.host(), m.port(), "id-" + m.port(), 7, 0).view();
        return v;
    }

    Coordinator coordinator(Coordinator.Settings s, List<LogRecord.Decision> undecided) {
        Coordinator k = new Coordinator(s, 7, view(), undecided, 0, new RidMemory(), 0, now);
        for (Member m : List.of(F1, F2, F3)) k.followerHealth(m.id(), true, now);
        return k;
    }

    List<Effect> drain() {
        return c.drainEffects();
    }

    static <T extends Effect> List<T> only(List<Effect> es, Class<T> type) {
        List<T> out = new ArrayList<>();
        for (Effect e : es) if (type.isInstance(e)) out.add(type.cast(e));
        return out;
    }

    static Coordinator.Vote yes(long version) {
        return new Coordinator.Vote(VoteKind.YES, null, version);
    }

    /** Submits a PUT and returns its tx id (from the prepares it caused). */
    TxId put(long req, String key, String value) {
        return write(req, new ClientOp.Put(key, value, -1, null));
    }

    TxId write(long req, ClientOp op) {
        c.submit(req, op, now);
        List<Effect.SendPrepare> ps = only(drain(), Effect.SendPrepare.class);
        assertEquals(2, ps.size(), "a prepare to each replica, at once");
        return ps.get(0).tx();
    }

    /** Makes the pending Append durable (the decision), returning what it appended. */
    List<LogRecord> durable(List<Effect> es) {
        Effect.Append a = only(es, Effect.Append.class).get(0);
        c.durable(a.token(), now);
        return a.records();
    }

    /** Runs a PUT to its durable decision (both replicas voted yes), leaving the effects that follow undrained. */
    TxId decided(long req, String key) {
        TxId tx = put(req, key, "v");
        c.voted(tx, R1.id(), yes(0), now);
        c.voted(tx, R2.id(), yes(0), now);
        durable(drain());
        return tx;
    }

    /** Runs a PUT to the point where the client has its 201 and phase 2 is on its way. */
    TxId committed(long req, String key) {
        TxId tx = decided(req, key);
        List<Effect.Reply> rs = only(drain(), Effect.Reply.class);
        assertEquals(1, rs.size());
        assertEquals(201, rs.get(0).answer().status());
        return tx;
    }

    @Test
    void allYesDecidesWithAVersionAboveTheReplicasThenRepliesThenRunsPhaseTwo() {
        TxId tx = put(1, K, "world");
        assertEquals(new TxId(7, 1), tx);
        c.voted(tx, R2.id(), yes(41), now);
        assertEquals(List.of(), drain(), "nothing until every replica voted");
        c.voted(tx, R1.id(), yes(40), now);
        List<Effect> es = drain();
        assertEquals(1, es.size(), "the decision first, no reply yet");
        LogRecord.Decision d = (LogRecord.Decision) only(es, Effect.Append.class).get(0).records().get(0);
        assertEquals(42, d.version(), "above every version a replica holds of the key");
        assertEquals(List.of(K), d.keys());
        assertEquals(List.of(R1.id(), R2.id()), d.replicaIds());
        c.durable(only(es, Effect.Append.class).get(0).token(), now);
        es = drain();
        assertEquals(2, only(es, Effect.SendPhase2.class).size());
        assertTrue(only(es, Effect.SendPhase2.class).stream().allMatch(p -> p.commit() && p.version() == 42));
        Effect.Reply r = only(es, Effect.Reply.class).get(0);
        assertEquals(201, r.answer().status());
        assertEquals(42, r.answer().version());
        assertEquals(42, c.lastVersion());
    }

    @Test
    void aNoVoteAbortsWithTheFirstReasonInPlacementOrder() {
        TxId tx = put(1, K, "v");
        c.voted(tx, R2.id(), new Coordinator.Vote(VoteKind.NO, Errors.NO_KEY, 0), now);
        assertEquals(List.of(), drain(), "R1 comes first in placement order: wait for it");
        c.voted(tx, R1.id(), new Coordinator.Vote(VoteKind.NO, "error: value too long", 0), now);
        List<Effect> es = drain();
        assertEquals("error: value too long", only(es, Effect.Reply.class).get(0).answer().body());
        assertEquals(0, only(es, Effect.Append.class).size(), "presumed abort: nothing logged");
    }

    @Test
    void aFailedConditionIs412WithTheCurrentVersion() {
        TxId tx = write(1, new ClientOp.Put(K, "v", 5, null));
        c.voted(tx, R1.id(), new Coordinator.Vote(VoteKind.NO, Errors.VERSION_MISMATCH, 9), now);
        Answer a = only(drain(), Effect.Reply.class).get(0).answer();
        assertEquals(412, a.status());
        assertEquals(Errors.VERSION_MISMATCH, a.body());
        assertEquals(9, a.version());
    }

    @Test
    void conditionsTravelWithThePrepare() {
        c.submit(1, new ClientOp.Put(K, "v", 5, null), now);
        for (Effect.SendPrepare p : only(drain(), Effect.SendPrepare.class)) {
            assertEquals(List.of(Write.put(K, "v").withCondition(5)), p.writes(), "each replica checks it under the key's lock");
        }
    }

    @Test
    void noAnswerIsNotNoButAbortsAndTellsThatReplicaToo() {
        TxId tx = put(1, K, "v");
        c.voted(tx, R1.id(), yes(0), now);
        c.voted(tx, R2.id(), new Coordinator.Vote(VoteKind.UNKNOWN, null, 0), now);
        List<Effect> es = drain();
        assertEquals(Errors.UNABLE, only(es, Effect.Reply.class).get(0).answer().body());
        assertEquals(2, only(es, Effect.SendPhase2.class).size(), "both may hold it prepared");
        assertTrue(only(es, Effect.SendPhase2.class).stream().noneMatch(Effect.SendPhase2::commit));
    }

    @Test
    void aStaleAnswerAbortsWithUnableAndDeposesTheLeader() {
        TxId tx = put(1, K, "v");
        c.voted(tx, R1.id(), new Coordinator.Vote(VoteKind.STALE, null, 0), now);
        List<Effect> es = drain();
        assertEquals(1, only(es, Effect.Deposed.class).size());
        Answer a = only(es, Effect.Reply.class).get(0).answer();
        assertEquals(500, a.status());
        assertEquals(Errors.UNABLE, a.body(), "'stale leader' is for leaders, not clients");
    }

    @Test
    void writesToOneKeyQueueBehindUnsettledPhaseTwo() {
        TxId first = committed(1, K);
        c.submit(2, new ClientOp.Put(K, "w2", -1, null), now);
        assertEquals(List.of(), only(drain(), Effect.SendPrepare.class), "waits for phase 2 of the first");
        c.phase2Done(first, R1.id(), Phase2Result.ACK, now);
        assertEquals(List.of(), only(drain(), Effect.SendPrepare.class));
        c.phase2Done(first, R2.id(), Phase2Result.ACK, now);
        List<Effect> es = drain();
        assertEquals(1, only(es, Effect.Append.class).size(), "END of the first");
        assertEquals(2, only(es, Effect.SendPrepare.class).size(), "the second starts");
    }

    @Test
    void aWriteWaitingOnADownReplicaFailsFastAndPhaseTwoPausesUntilItIsBack() {
        TxId first = committed(1, K);
        c.phase2Done(first, R1.id(), Phase2Result.ACK, now);
        drain();
        c.followerHealth(R2.id(), false, now);
        c.phase2Done(first, R2.id(), Phase2Result.RETRY, now);
        now += 5_000;
        c.tick(now);
        assertEquals(List.of(), only(drain(), Effect.SendPhase2.class), "nothing is sent to a follower that is down");
        c.submit(2, new ClientOp.Put(K, "w2", -1, null), now);
        assertEquals(Errors.UNABLE, only(drain(), Effect.Reply.class).get(0).answer().body());
        c.followerHealth(R2.id(), true, now);
        assertEquals(1, only(drain(), Effect.SendPhase2.class).size(), "resumed as soon as it answers");
    }

    @Test
    void phaseTwoRetriesWithCappedJitteredBackoffFromTheTick() {
        TxId tx = committed(1, K);
        List<Long> gaps = new ArrayList<>();
        long sentAt = now;
        for (int i = 0; i < 8; i++) {
            c.phase2Done(tx, R1.id(), Phase2Result.RETRY, now);
            long start = now;
            while (only(drain(), Effect.SendPhase2.class).isEmpty()) {
                now += 5;
                c.tick(now);
            }
            gaps.add(now - start);
            sentAt = now;
        }
        for (long g : gaps) assertTrue(g <= 1_005, "capped at about a second: " + gaps);
        assertTrue(gaps.get(gaps.size() - 1) >= 400, "backs off: " + gaps);
        assertTrue(sentAt > 0);
    }

    @Test
    void readsGoToTheFirstCurrentReplicaThatIsUpAndSettled() {
        TxId w = committed(1, K);
        c.phase2Done(w, R2.id(), Phase2Result.ACK, now);
        drain();
        c.submit(2, new ClientOp.Get(K), now);
        Effect.SendRead r = only(drain(), Effect.SendRead.class).get(0);
        assertEquals(R2, r.to(), "R1 has not acknowledged the write yet");
        assertTrue(r.deadlineMillis() <= now + 750, "each attempt has its own short deadline");
        c.readDone(r.readId(), R2.id(), new Coordinator.ReadReply(ReadResult.VALUE, "v".getBytes(StandardCharsets.UTF_8), 3), now);
        Answer a = only(drain(), Effect.Reply.class).get(0).answer();
        assertEquals(200, a.status());
        assertEquals(3, a.version());
    }

    @Test
    void aReadThatGetsNoAnswerMovesOnToTheNextReplica() {
        c.submit(1, new ClientOp.Get(K), now);
        Effect.SendRead r1 = only(drain(), Effect.SendRead.class).get(0);
        assertEquals(R1, r1.to());
        c.readDone(r1.readId(), R1.id(), new Coordinator.ReadReply(ReadResult.ELSEWHERE, null, 0), now);
        Effect.SendRead r2 = only(drain(), Effect.SendRead.class).get(0);
        assertEquals(R2, r2.to());
        c.readDone(r2.readId(), R2.id(), new Coordinator.ReadReply(ReadResult.NO_KEY, null, 0), now);
        assertEquals(Errors.NO_KEY, only(drain(), Effect.Reply.class).get(0).answer().body());
    }

    @Test
    void anOperationWaitingPastItsDeadlineGetsUnable() {
        TxId w = committed(1, K);
        c.submit(2, new ClientOp.Put(K, "x", -1, null), now);
        drain();
        now += 5_001;
        c.tick(now);
        List<Effect.Reply> rs = only(drain(), Effect.Reply.class);
        assertEquals(1, rs.size());
        assertEquals(Errors.UNABLE, rs.get(0).answer().body());
        assertNotNull(w);
    }

    @Test
    void prepareMessagesCarryADeadlineShorterThanTheOperations() {
        c.submit(1, new ClientOp.Put(K, "v", -1, null), now);
        for (Effect.SendPrepare p : only(drain(), Effect.SendPrepare.class)) assertEquals(now + 1_500, p.deadlineMillis());
    }

    @Test
    void clusterModeAnswersAfterTheFirstAckOrClosesTheConnectionAtTheDeadline() {
        c = coordinator(Coordinator.Settings.cluster(), List.of());
        decided(1, K);
        assertEquals(List.of(), only(drain(), Effect.Reply.class), "not before a replica holds the commit");
        now += 5_001;
        c.tick(now);
        Answer a = only(drain(), Effect.Reply.class).get(0).answer();
        assertTrue(a.close(), "decided but not answerable in time: no answer, never an error");
    }

    @Test
    void clusterModeDoesNotAnswerFromAReplicaAViewOnItsWayDrops() {
        // Found by the simulation (seed 34049720869664): the leader proposed evicting R2 while a
        // commit was on its way there; R2's acknowledgement answered the client, a standby then
        // adopted the eviction, found the commit only prepared on R1, and aborted it.
        c = coordinator(Coordinator.Settings.cluster(), List.of());
        TxId tx = decided(1, K);
        drain();
        View evicted = Membership.evict(view(), R2.host(), R2.port(), true, Set.of(R2.id()), 7, now).view();
        assertNotNull(evicted);
        c.viewProposed(evicted);
        c.phase2Done(tx, R2.id(), Phase2Result.ACK, now);
        assertEquals(List.of(), only(drain(), Effect.Reply.class), "R2 is no replica in the view on its way");
        c.phase2Done(tx, R1.id(), Phase2Result.ACK, now);
        assertEquals(201, only(drain(), Effect.Reply.class).get(0).answer().status(), "R1 is one in both");
    }

    @Test
    void stepDownAnswers503ForUndecidedAndNothingForDecided() {
        c = coordinator(Coordinator.Settings.cluster(), List.of());
        decided(1, K);
        drain();
        c.submit(2, new ClientOp.Put("other", "v", -1, null), now); // preparing
        c.submit(3, new ClientOp.Get("third"), now);
        drain();
        c.stepDown(now);
        List<Effect.Reply> rs = only(drain(), Effect.Reply.class);
        assertEquals(3, rs.size());
        for (Effect.Reply r : rs) {
            if (r.reqId() == 1) assertTrue(r.answer().close(), "a decided commit is the new leader's to answer");
            else assertEquals(503, r.answer().status());
        }
        c.submit(4, new ClientOp.Get(K), now);
        assertEquals(503, only(drain(), Effect.Reply.class).get(0).answer().status());
    }

    @Test
    void aRetriedRidGetsTheFirstOutcomeAndAnotherRequestWithItIsInvalid() {
        ClientOp.Put first = new ClientOp.Put(K, "v", -1, "r-1");
        TxId tx = write(1, first);
        c.submit(2, first, now); // in flight: waits for the first answer
        assertEquals(List.of(), only(drain(), Effect.SendPrepare.class));
        c.voted(tx, R1.id(), yes(0), now);
        c.voted(tx, R2.id(), yes(0), now);
        List<LogRecord> appended = durable(drain());
        assertTrue(appended.get(1) instanceof LogRecord.Rid, "the rid's outcome is durable with the decision");
        List<Effect> es = drain();
        List<Effect.Reply> rs = only(es, Effect.Reply.class);
        assertEquals(2, rs.size());
        assertTrue(rs.stream().allMatch(r -> r.answer().status() == 201 && r.answer().version() == 1));
        assertTrue(only(es, Effect.SendPhase2.class).stream().allMatch(p -> p.rid() != null && p.rid().rid().equals("r-1")),
                "followers remember it too");
        c.submit(3, first, now);
        assertEquals(201, only(drain(), Effect.Reply.class).get(0).answer().status(), "applied once");
        c.submit(4, new ClientOp.Put(K, "other", -1, "r-1"), now);
        assertEquals(Errors.INVALID_REQUEST, only(drain(), Effect.Reply.class).get(0).answer().body());
        c.submit(5, new ClientOp.RidQuery("r-1"), now);
        assertEquals("{\"rid\":\"r-1\",\"state\":\"committed\",\"version\":1}", only(drain(), Effect.Reply.class).get(0).answer().body());
        c.submit(6, new ClientOp.RidQuery("never"), now);
        assertEquals("{\"rid\":\"never\",\"state\":\"unknown\",\"version\":null}", only(drain(), Effect.Reply.class).get(0).answer().body());
    }

    @Test
    void aRefusedWriteWithARidIsRecordedBeforeItIsAnswered() {
        TxId tx = write(1, new ClientOp.Put(K, "v", 3, "r-2"));
        c.voted(tx, R1.id(), new Coordinator.Vote(VoteKind.NO, Errors.VERSION_MISMATCH, 4), now);
        List<Effect> es = drain();
        assertEquals(List.of(), only(es, Effect.Reply.class), "not before the outcome is durable");
        assertTrue(only(es, Effect.Append.class).get(0).records().get(0) instanceof LogRecord.Rid);
        c.durable(only(es, Effect.Append.class).get(0).token(), now);
        Answer a = only(drain(), Effect.Reply.class).get(0).answer();
        assertEquals(412, a.status());
        c.submit(2, new ClientOp.Put(K, "v", 3, "r-2"), now);
        Answer again = only(drain(), Effect.Reply.class).get(0).answer();
        assertEquals(412, again.status());
        assertEquals(4, again.version());
    }

    @Test
    void aTransactionReadsThenPreparesEveryKeyWithOneVersion() {
        TxnRequest req = new TxnRequest(List.of(new TxnRequest.Condition("a", 0)),
                List.of(new TxnRequest.TxnOp(TxnRequest.Kind.PUT, "a", "1"), new TxnRequest.TxnOp(TxnRequest.Kind.PUT, "b", "2"),
                        new TxnRequest.TxnOp(TxnRequest.Kind.GET, "c", null)),
                List.of(), null);
        c.submit(1, new ClientOp.Txn(req), now);
        List<Effect.SendRead> reads = only(drain(), Effect.SendRead.class);
        assertEquals(3, reads.size(), "every key is read first, its lanes held");
        for (Effect.SendRead r : reads) {
            byte[] v = r.key().equals("c") ? "see".getBytes(StandardCharsets.UTF_8) : null;
            c.readDone(r.readId(), r.to().id(), new Coordinator.ReadReply(v == null ? ReadResult.NO_KEY : ReadResult.VALUE, v, 5), now);
        }
        List<Effect.SendPrepare> ps = only(drain(), Effect.SendPrepare.class);
        assertFalse(ps.isEmpty());
        TxId tx = ps.get(0).tx();
        assertTrue(ps.stream().allMatch(p -> p.tx().equals(tx)), "one transaction across every follower involved");
        for (Effect.SendPrepare p : ps) c.voted(tx, p.to().id(), yes(7), now);
        List<LogRecord> appended = durable(drain());
        LogRecord.Decision d = (LogRecord.Decision) appended.get(0);
        assertEquals(8, d.version());
        assertEquals(Set.of("a", "b"), Set.copyOf(d.keys()));
        Answer a = only(drain(), Effect.Reply.class).get(0).answer();
        assertEquals(200, a.status());
        assertEquals("{\"succeeded\":true,\"version\":8,\"results\":[{\"key\":\"a\",\"version\":8},{\"key\":\"b\",\"version\":8},"
                + "{\"key\":\"c\",\"val\":\"see\",\"version\":5}]}", a.body());
    }

    @Test
    void aTransactionWhoseConditionFailsRunsItsElseBranch() {
        TxnRequest req = new TxnRequest(List.of(new TxnRequest.Condition("a", 4)),
                List.of(new TxnRequest.TxnOp(TxnRequest.Kind.PUT, "a", "1")),
                List.of(new TxnRequest.TxnOp(TxnRequest.Kind.GET, "a", null)), null);
        c.submit(1, new ClientOp.Txn(req), now);
        Effect.SendRead r = only(drain(), Effect.SendRead.class).get(0);
        c.readDone(r.readId(), r.to().id(), new Coordinator.ReadReply(ReadResult.VALUE, "x".getBytes(StandardCharsets.UTF_8), 9), now);
        Answer a = only(drain(), Effect.Reply.class).get(0).answer();
        assertEquals("{\"succeeded\":false,\"version\":0,\"results\":[{\"key\":\"a\",\"val\":\"x\",\"version\":9}]}", a.body());
    }

    @Test
    void decisionsFromTheLogRestartPhaseTwoAndHoldTheirKeys() {
        TxId old = new TxId(6, 3);
        c = coordinator(Coordinator.Settings.defaults(), List.of(new LogRecord.Decision(old, 30, List.of(K), List.of(R1.id(), R2.id()))));
        List<Effect.SendPhase2> p2 = only(drain(), Effect.SendPhase2.class);
        assertEquals(2, p2.size());
        assertTrue(p2.stream().allMatch(p -> p.commit() && p.version() == 30));
        c.submit(1, new ClientOp.Put(K, "v", -1, null), now);
        assertEquals(List.of(), only(drain(), Effect.SendPrepare.class), "the inherited commit holds the key");
        assertEquals(30, c.lastVersion());
    }

    @Test
    void aReportOlderThanTheCommitOfADecisionFromTheLogGetsTheCommitAgainNeverAnAbort() {
        // Found by the simulation (seed 7800000000346): a restarted leader re-sent the commit of a
        // decision from its log; both replicas acknowledged it, then a check answer made before
        // one of them applied it arrived, and the leader recorded an ABORT for a committed transaction.
        TxId old = new TxId(6, 3);
        c = coordinator(Coordinator.Settings.defaults(), List.of(new LogRecord.Decision(old, 30, List.of(K), List.of(R1.id(), R2.id()))));
        drain();
        c.phase2Done(old, R1.id(), Phase2Result.ACK, now);
        c.phase2Done(old, R2.id(), Phase2Result.ACK, now);
        assertEquals(0, c.pendingTransactions());
        drain();
        c.heldReport(R2.id(), List.of(new Coordinator.Held(old, List.of(K), null)), now);
        List<Effect> es = drain();
        for (Effect.Append a : only(es, Effect.Append.class)) assertFalse(a.records().contains(new LogRecord.Abort(old)), "no abort of a commit");
        List<Effect.SendPhase2> p2 = only(es, Effect.SendPhase2.class);
        assertEquals(1, p2.size());
        assertTrue(p2.get(0).commit() && p2.get(0).version() == 30 && p2.get(0).to().equals(R2), "the commit again, at its version");
    }

    @Test
    void aHeldTransactionWithoutADecisionIsAbortedDurablyBeforeAnyoneIsTold() {
        TxId old = new TxId(5, 9);
        c.heldReport(R1.id(), List.of(new Coordinator.Held(old, List.of(K), null)), now);
        List<Effect> es = drain();
        assertEquals(List.of(new LogRecord.Abort(old)), only(es, Effect.Append.class).get(0).records());
        assertEquals(List.of(), only(es, Effect.SendPhase2.class));
        c.durable(only(es, Effect.Append.class).get(0).token(), now);
        Effect.SendPhase2 p = only(drain(), Effect.SendPhase2.class).get(0);
        assertFalse(p.commit());
        assertEquals(R1, p.to());
    }

    /** {@code m} answers what became of {@code tx}. */
    void answered(TxId tx, Member m, Coordinator.Outcome outcome, long version) {
        c.outcomeKnown(tx, m.id(), new Coordinator.OutcomeReply(outcome, version), now);
    }

    /** The members a drain of effects asked about {@code tx}. */
    static Set<Member> asked(List<Effect> es, TxId tx) {
        Set<Member> out = new java.util.HashSet<>();
        for (Effect.QueryOutcome q : only(es, Effect.QueryOutcome.class)) if (q.tx().equals(tx)) out.add(q.to());
        return out;
    }

    @Test
    void clusterModeResolvesAnInheritedTransactionByAskingEveryMemberThatIsUp() {
        // Found by the simulation (seed 7000000001267): a transfer's other key lived on a member
        // that committed it and held nothing prepared, so no report named it, and asking only the
        // replicas of the reported key aborted a transaction that member had committed.
        c = coordinator(Coordinator.Settings.cluster(), List.of());
        TxId old = new TxId(5, 9);
        c.heldReport(R1.id(), List.of(new Coordinator.Held(old, List.of(K), null)), now);
        assertEquals(Set.of(R1, R2, F2), asked(drain(), old), "the replicas of its key and the other member that is up");
        answered(old, R1, Coordinator.Outcome.PREPARED, 0);
        answered(old, R2, Coordinator.Outcome.PREPARED, 0);
        assertEquals(List.of(), only(drain(), Effect.Append.class), "not aborted while a member that is up has not answered");
        answered(old, F2, Coordinator.Outcome.COMMITTED, 9);
        List<Effect.SendPhase2> p2 = only(drain(), Effect.SendPhase2.class);
        assertEquals(2, p2.size());
        assertTrue(p2.stream().allMatch(p -> p.commit() && p.version() == 9), "committed where it was prepared, at its version");
    }

    @Test
    void clusterModeAsksAnEvictedFollowerTooWithoutWaitingForIt() {
        // Found by the simulation (seed 8000000001294): the one replica that committed a DELETE
        // was evicted while down; back, it had dropped its keys but remembered the outcome, and
        // a new leader that asked only members aborted what a client had been told was done.
        c = coordinator(Coordinator.Settings.cluster(), List.of());
        View evicted = Membership.evict(view(), R2.host(), R2.port(), true, Set.of(R2.id()), 7, now).view();
        c.useView(evicted, now);
        drain();
        TxId old = new TxId(5, 9);
        c.heldReport(R1.id(), List.of(new Coordinator.Held(old, List.of(K), null)), now);
        Set<Member> asked = asked(drain(), old);
        assertTrue(asked.contains(R2), "the evicted follower is asked: " + asked);
        for (Member m : asked) if (!m.equals(R2)) answered(old, m, Coordinator.Outcome.PREPARED, 0);
        assertEquals(List.of(), only(drain(), Effect.Append.class), "waiting for the evicted follower's answer");
        answered(old, R2, Coordinator.Outcome.COMMITTED, 9);
        List<Effect.SendPhase2> p2 = only(drain(), Effect.SendPhase2.class);
        assertTrue(!p2.isEmpty() && p2.stream().allMatch(p -> p.commit() && p.version() == 9 && !p.to().equals(R2)), "committed where it is prepared");

        TxId other = new TxId(5, 10);
        c.heldReport(R1.id(), List.of(new Coordinator.Held(other, List.of("k2"), null)), now);
        Set<Member> asked2 = asked(drain(), other);
        for (Member m : asked2) if (!m.equals(R2)) answered(other, m, Coordinator.Outcome.PREPARED, 0);
        answered(other, R2, Coordinator.Outcome.UNREACHABLE, 0);
        assertEquals(List.of(new LogRecord.Abort(other)), only(drain(), Effect.Append.class).get(0).records(),
                "no answer from it: not waited for");
    }

    @Test
    void aMemberAskedAsAnyMemberIsAskedAgainWhileItIsOneDownOrNotAndNotWaitedForOnceEvicted() {
        c = coordinator(Coordinator.Settings.cluster(), List.of());
        TxId old = new TxId(5, 9);
        c.heldReport(R1.id(), List.of(new Coordinator.Held(old, List.of(K), null)), now);
        drain();
        answered(old, R1, Coordinator.Outcome.PREPARED, 0);
        answered(old, R2, Coordinator.Outcome.UNKNOWN, 0);
        answered(old, F2, Coordinator.Outcome.UNREACHABLE, 0);
        c.tick(now += 100);
        List<Effect> es = drain();
        assertEquals(Set.of(F2), asked(es, old), "a lost answer from a member that is up is no answer: asked again");
        assertEquals(List.of(), only(es, Effect.Append.class));
        c.followerHealth(F2.id(), false, now);
        answered(old, F2, Coordinator.Outcome.UNREACHABLE, 0);
        c.tick(now += 100);
        es = drain();
        assertEquals(List.of(), only(es, Effect.Append.class), "down, it may be the one that committed it: not aborted");
        assertEquals(Set.of(F2), asked(es, old), "asked again while it is a member");
        c.tick(now += 6_000); // past the first 6 s in office, when no eviction is allowed
        drain();
        assertTrue(c.mayEvict(F2.id()), "waiting for it does not stop its eviction");
        c.useView(Membership.evict(view(), F2.host(), F2.port(), true, Set.of(F2.id()), 7, now).view(), now);
        drain();
        answered(old, F2, Coordinator.Outcome.UNREACHABLE, 0);
        assertEquals(List.of(new LogRecord.Abort(old)), only(drain(), Effect.Append.class).get(0).records(),
                "evicted: not waited for; every replica answered and none committed");
    }

    @Test
    void clusterModeWaitsForAMemberThatIsDownWhenItAloneMayHaveCommittedIt() {
        // Found by the simulation (seed 9100000000872): the one replica that committed a PUT was
        // down when a new leader resolved it, and no replica of the key any more (a move had
        // taken the key away); the leader asked only the members that were up, and aborted it.
        c = coordinator(Coordinator.Settings.cluster(), List.of());
        c.followerHealth(F2.id(), false, now);
        TxId old = new TxId(5, 9);
        c.heldReport(R1.id(), List.of(new Coordinator.Held(old, List.of(K), null)), now);
        assertTrue(asked(drain(), old).contains(F2), "the member that is down is asked too");
        answered(old, R1, Coordinator.Outcome.PREPARED, 0);
        answered(old, R2, Coordinator.Outcome.PREPARED, 0);
        answered(old, F2, Coordinator.Outcome.UNREACHABLE, 0);
        c.tick(now += 100);
        assertEquals(List.of(), only(drain(), Effect.Append.class), "not aborted while it is a member");
        c.followerHealth(F2.id(), true, now);
        answered(old, F2, Coordinator.Outcome.COMMITTED, 9);
        List<Effect.SendPhase2> p2 = only(drain(), Effect.SendPhase2.class);
        assertEquals(2, p2.size());
        assertTrue(p2.stream().allMatch(p -> p.commit() && p.version() == 9), "committed where it was prepared, at its version");
    }

    @Test
    void aMemberAskedAsAnyMemberIsWaitedForOnceALaterReportMakesItAReplica() {
        // Found by the simulation (seed 6567918120278): the member's silence had been taken as
        // "does not know" before a report named a key it is a replica of, and it had committed it.
        c = coordinator(Coordinator.Settings.cluster(), List.of());
        TxId old = new TxId(5, 9);
        String onF2 = null;
        for (int i = 0; onF2 == null; i++) if (c.placement().writeSet("k" + i).stream().anyMatch(r -> r.member().equals(F2))) onF2 = "k" + i;
        c.heldReport(R1.id(), List.of(new Coordinator.Held(old, List.of(K), null)), now);
        drain();
        c.followerHealth(F2.id(), false, now);
        answered(old, F2, Coordinator.Outcome.UNREACHABLE, 0);
        answered(old, R2, Coordinator.Outcome.PREPARED, 0);
        drain();
        c.followerHealth(F2.id(), true, now);
        Member other = c.placement().writeSet(onF2).stream().map(r -> r.member()).filter(m -> !m.equals(F2)).findFirst().orElseThrow();
        c.heldReport(other.id(), List.of(new Coordinator.Held(old, List.of(onF2), null)), now);
        c.tick(now += 100);
        assertTrue(asked(drain(), old).contains(F2), "a replica of a key it writes: asked again");
        answered(old, R1, Coordinator.Outcome.PREPARED, 0);
        assertEquals(List.of(), only(drain(), Effect.Append.class), "not aborted before that replica answers");
        answered(old, F2, Coordinator.Outcome.COMMITTED, 9);
        assertTrue(only(drain(), Effect.SendPhase2.class).stream().allMatch(p -> p.commit() && p.version() == 9));
    }

    @Test
    void aJoiningMemberGetsWritesBlindAndNoReads() {
        View v = view();
        Member f4 = Member.of("127.0.0.1", 16204);
        View joined = Membership.register(Membership.capacity(v, 4, 7).view(), f4.host(), f4.port(), "id-4", 7, 0).view();
        c.useView(joined, now);
        c.followerHealth(f4.id(), true, now);
        boolean sawBlind = false;
        for (int i = 0; i < 40 && !sawBlind; i++) {
            c.submit(100 + i, new ClientOp.Put("k" + i, "v", -1, null), now);
            for (Effect.SendPrepare p : only(drain(), Effect.SendPrepare.class)) {
                if (p.to().equals(f4)) {
                    sawBlind = true;
                    assertTrue(p.writes().get(0).blind(), "a member being filled takes the write blind");
                }
            }
        }
        assertTrue(sawBlind, "some key moves to the new member");
        for (int i = 0; i < 40; i++) {
            c.submit(200 + i, new ClientOp.Get("r" + i), now);
            for (Effect.SendRead r : only(drain(), Effect.SendRead.class)) assertFalse(r.to().equals(f4), "it serves no read before it is current");
        }
    }

    @Test
    void anEvictedMembersPartInTransactionsIsOver() {
        TxId tx = committed(1, K);
        c.phase2Done(tx, R1.id(), Phase2Result.ACK, now);
        c.followerHealth(R2.id(), false, now);
        drain();
        View evicted = Membership.evict(view(), R2.host(), R2.port(), true, Set.of(R2.id()), 7, 0).view();
        c.useView(evicted, now);
        List<Effect> es = drain();
        assertEquals(1, only(es, Effect.Append.class).size(), "END: nothing is owed to it any more");
        assertEquals(0, c.pendingTransactions());
        assertTrue(c.settledBefore(evicted.number()));
        c.submit(2, new ClientOp.Put(K, "after", -1, null), now);
        for (Effect.SendPrepare p : only(drain(), Effect.SendPrepare.class)) assertFalse(p.to().equals(R2));
    }
}
