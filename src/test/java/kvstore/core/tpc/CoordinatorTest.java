package kvstore.core.tpc;

import kvstore.core.Errors;
import kvstore.core.Member;
import kvstore.core.Op;
import kvstore.core.Ring;
import kvstore.core.TxId;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Coordinator.Phase2Result;
import kvstore.core.tpc.Coordinator.ReadResult;
import kvstore.core.tpc.Coordinator.VoteKind;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The leader's state machine (PROTOCOL.md, "Write path" and "Read path"), driven by events with
 * a fake clock; assertions are on the effects it asks for, in order (raft's raft_test.go style).
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

    Coordinator c = new Coordinator(new Ring(List.of(F1, F2, F3), 2, 1), 7, Coordinator.Settings.defaults(), List.of());
    long now = 1_000;

    List<Effect> drain() {
        return c.drainEffects();
    }

    static <T extends Effect> List<T> only(List<Effect> es, Class<T> type) {
        List<T> out = new ArrayList<>();
        for (Effect e : es) if (type.isInstance(e)) out.add(type.cast(e));
        return out;
    }

    /** Submits a PUT and returns its tx id (from the prepares it caused). */
    TxId put(long req, String key, String value) {
        c.submit(req, Op.PUT, key, value, now);
        List<Effect.SendPrepare> ps = only(drain(), Effect.SendPrepare.class);
        assertEquals(2, ps.size(), "a prepare to each replica, at once");
        return ps.get(0).tx();
    }

    /** Runs a PUT to the point where the client has its 201 and phase 2 is on its way. */
    TxId committed(long req, String key) {
        TxId tx = put(req, key, "v");
        c.voted(tx, R1.id(), VoteKind.YES, null, now);
        c.voted(tx, R2.id(), VoteKind.YES, null, now);
        assertEquals(1, only(drain(), Effect.AppendDecision.class).size());
        c.decisionDurable(tx, now);
        List<Effect> es = drain();
        assertEquals(List.of(new Effect.Reply(req, 201, "", null)), only(es, Effect.Reply.class));
        return tx;
    }

    @Test
    void allYesDecidesThenRepliesThenRunsPhaseTwo() {
        TxId tx = put(1, K, "world");
        assertEquals(new TxId(7, 1), tx);
        c.voted(tx, R2.id(), VoteKind.YES, null, now);
        assertEquals(List.of(), drain(), "nothing until every replica voted");
        c.voted(tx, R1.id(), VoteKind.YES, null, now);
        List<Effect> es = drain();
        assertEquals(List.of(new Effect.AppendDecision(tx, K, List.of(R1.id(), R2.id()))), es, "decision first, no reply yet");
        c.decisionDurable(tx, now);
        es = drain();
        assertEquals(2, only(es, Effect.SendPhase2.class).size());
        assertTrue(only(es, Effect.SendPhase2.class).stream().allMatch(Effect.SendPhase2::commit));
        assertEquals(List.of(new Effect.Reply(1, 201, "", null)), only(es, Effect.Reply.class));
        c.phase2Done(tx, R1.id(), Phase2Result.ACK, now);
        assertEquals(List.of(), drain());
        c.phase2Done(tx, R2.id(), Phase2Result.ACK, now);
        assertEquals(List.of(new Effect.AppendEnd(tx)), drain());
        assertEquals(0, c.pendingTransactions());
        assertEquals(1, c.commits());
    }

    @Test
    void abortReasonIsTheFirstNoInPlacementOrder() {
        TxId tx = put(1, K, "v");
        c.voted(tx, R2.id(), VoteKind.NO, Errors.NO_KEY, now);
        assertEquals(List.of(), only(drain(), Effect.Reply.class), "R1 has not answered: its reason would come first");
        c.voted(tx, R1.id(), VoteKind.NO, Errors.UNABLE, now);
        List<Effect> es = drain();
        assertEquals(List.of(new Effect.Reply(1, 500, Errors.UNABLE, null)), only(es, Effect.Reply.class));
        assertEquals(List.of(), only(es, Effect.SendPhase2.class), "a replica that voted no holds nothing");
        assertEquals(1, c.aborts());
    }

    @Test
    void aNoAfterAYesAbortsTheYes() {
        TxId tx = put(1, K, "v");
        c.voted(tx, R1.id(), VoteKind.YES, null, now);
        c.voted(tx, R2.id(), VoteKind.NO, Errors.NO_KEY, now);
        List<Effect> es = drain();
        assertEquals(List.of(new Effect.Reply(1, 500, Errors.NO_KEY, null)), only(es, Effect.Reply.class));
        assertEquals(List.of(new Effect.SendPhase2(tx, R1, false, 0)), only(es, Effect.SendPhase2.class));
        assertEquals(List.of(), only(es, Effect.AppendDecision.class), "presumed abort: nothing logged");
    }

    @Test
    void anUnreachableReplicaAbortsTheWriteAndIsSentAnAbortToo() {
        TxId tx = put(1, K, "v");
        c.voted(tx, R1.id(), VoteKind.UNKNOWN, Errors.UNABLE, now);
        List<Effect> es = drain();
        assertEquals(List.of(new Effect.Reply(1, 500, Errors.UNABLE, null)), only(es, Effect.Reply.class));
        assertEquals(List.of(new Effect.SendPhase2(tx, R1, false, 0)), only(es, Effect.SendPhase2.class));
        c.voted(tx, R2.id(), VoteKind.YES, null, now); // a late yes gets an abort as well
        assertEquals(List.of(new Effect.SendPhase2(tx, R2, false, 0)), only(drain(), Effect.SendPhase2.class));
    }

    @Test
    void neverA500AfterTheCommitDecision() {
        TxId tx = committed(1, K);
        c.phase2Done(tx, R1.id(), Phase2Result.RETRY, now);
        c.phase2Done(tx, R2.id(), Phase2Result.RETRY, now);
        for (Effect e : drain()) assertTrue(!(e instanceof Effect.Reply), "no second answer: " + e);
    }

    @Test
    void phaseTwoRetriesWithCappedExponentialBackoff() {
        TxId tx = committed(1, K);
        List<Long> delays = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            c.phase2Done(tx, R1.id(), Phase2Result.RETRY, now);
            delays.add(only(drain(), Effect.SendPhase2.class).get(0).delayMillis());
        }
        assertEquals(List.of(50L, 100L, 200L, 400L, 800L, 1000L, 1000L, 1000L), delays);
    }

    @Test
    void aReadWaitsForAReplicaThatAcknowledgedTheLastWrite() {
        TxId tx = committed(1, K);
        c.submit(2, Op.GET, K, null, now);
        assertEquals(List.of(), drain(), "no replica has applied the commit yet");
        c.phase2Done(tx, R2.id(), Phase2Result.ACK, now);
        assertEquals(List.of(new Effect.SendRead(2, R2, K)), drain(), "the second replica acknowledged first");
        c.readDone(2, R2.id(), ReadResult.VALUE, "v".getBytes(), now);
        Effect.Reply r = assertInstanceOf(Effect.Reply.class, drain().get(0));
        assertEquals(200, r.status());
        assertEquals("v", new String(r.value()));
    }

    @Test
    void aReadTriesTheNextReplicaWhenTheFirstIsPendingOrGone() {
        c.submit(1, Op.GET, K, null, now);
        assertEquals(List.of(new Effect.SendRead(1, R1, K)), drain());
        c.readDone(1, R1.id(), ReadResult.ELSEWHERE, null, now);
        assertEquals(List.of(new Effect.SendRead(1, R2, K)), drain());
        c.readDone(1, R2.id(), ReadResult.NO_KEY, null, now);
        assertEquals(List.of(new Effect.Reply(1, 500, Errors.NO_KEY, null)), drain());
    }

    @Test
    void writesToOneKeyWaitForThePreviousWritesPhaseTwo() {
        TxId first = committed(1, K);
        c.submit(2, Op.PUT, K, "second", now);
        assertEquals(List.of(), drain(), "the second write waits for phase 2 of the first");
        c.submit(3, Op.PUT, "other", "x", now);
        assertEquals(2, only(drain(), Effect.SendPrepare.class).size(), "another key is not held up");
        c.phase2Done(first, R1.id(), Phase2Result.ACK, now);
        assertEquals(List.of(), drain());
        c.phase2Done(first, R2.id(), Phase2Result.ACK, now);
        List<Effect> es = drain();
        assertEquals(2, only(es, Effect.SendPrepare.class).size());
        assertEquals("second", only(es, Effect.SendPrepare.class).get(0).value());
    }

    @Test
    void aReadQueuedBehindAWriteSeesItsOutcome() {
        TxId tx = put(1, K, "v");
        c.submit(2, Op.GET, K, null, now);
        assertEquals(List.of(), drain(), "the read waits for the write to be answered");
        c.voted(tx, R1.id(), VoteKind.YES, null, now);
        c.voted(tx, R2.id(), VoteKind.NO, Errors.UNABLE, now);
        List<Effect> es = drain();
        // The write is answered 500; the read may not go to R1 (it holds the key prepared).
        assertEquals(new Effect.Reply(1, 500, Errors.UNABLE, null), only(es, Effect.Reply.class).get(0));
        assertEquals(List.of(new Effect.SendRead(2, R2, K)), only(es, Effect.SendRead.class));
    }

    @Test
    void aWriteToAKeyOnADownFollowerFailsAtOnce() {
        c.followerHealth(R2.id(), false, now);
        c.submit(1, Op.PUT, K, "v", now);
        assertEquals(List.of(new Effect.Reply(1, 500, Errors.UNABLE, null)), drain());
        c.followerHealth(R2.id(), true, now);
        c.submit(2, Op.PUT, K, "v", now);
        assertEquals(2, only(drain(), Effect.SendPrepare.class).size());
    }

    @Test
    void waitingOperationsExpireOnTick() {
        committed(1, K);
        c.submit(2, Op.PUT, K, "v2", now);
        drain();
        c.tick(now + Coordinator.Settings.defaults().opTimeoutMillis());
        assertEquals(List.of(new Effect.Reply(2, 500, Errors.UNABLE, null)), only(drain(), Effect.Reply.class));
    }

    @Test
    void inheritedDecisionsAreFinishedAndHoldTheirKeys() {
        TxId old = new TxId(6, 40);
        Coordinator c2 = new Coordinator(new Ring(List.of(F1, F2, F3), 2, 1), 7, Coordinator.Settings.defaults(),
                List.of(new LogRecord.Decision(old, K, List.of(R1.id(), R2.id()))));
        List<Effect> es = c2.drainEffects();
        assertEquals(List.of(new Effect.SendPhase2(old, R1, true, 0), new Effect.SendPhase2(old, R2, true, 0)), es);
        c2.submit(1, Op.GET, K, null, now);
        assertEquals(List.of(), c2.drainEffects(), "no replica has the inherited commit yet");
        c2.phase2Done(old, R1.id(), Phase2Result.ACK, now);
        assertEquals(List.of(new Effect.SendRead(1, R1, K)), c2.drainEffects());
        // A follower that restarted and reports the tx as still prepared is told to commit it.
        c2.heldReport(R2.id(), List.of(new Coordinator.Held(old, K)), now);
        assertEquals(List.of(), only(c2.drainEffects(), Effect.AppendAbort.class));
    }

    @Test
    void aHeldTransactionOfAnEarlierEpochIsAbortedOnlyAfterTheAbortIsRecorded() {
        TxId old = new TxId(3, 2);
        c.heldReport(R1.id(), List.of(new Coordinator.Held(old, K)), now);
        assertEquals(List.of(new Effect.AppendAbort(old)), drain(), "record first, announce after");
        c.heldReport(R2.id(), List.of(new Coordinator.Held(old, K)), now);
        assertEquals(List.of(), drain(), "one record is enough");
        c.submit(1, Op.GET, K, null, now);
        assertEquals(List.of(), drain(), "both replicas hold the key prepared");
        c.abortDurable(old, now);
        List<Effect> es = drain();
        assertEquals(List.of(new Effect.SendPhase2(old, R1, false, 0), new Effect.SendPhase2(old, R2, false, 0)),
                only(es, Effect.SendPhase2.class));
        c.phase2Done(old, R1.id(), Phase2Result.ACK, now);
        assertEquals(List.of(new Effect.SendRead(1, R1, K)), drain());
    }

    @Test
    void heldTransactionsOfThisEpochAreLeftToPhaseTwoOrAbortedIfOrphans() {
        TxId live = put(1, K, "v");
        c.heldReport(R1.id(), List.of(new Coordinator.Held(live, K)), now);
        assertEquals(List.of(), drain(), "in flight: phase 2 will reach it");
        c.voted(live, R1.id(), VoteKind.UNKNOWN, null, now);
        c.voted(live, R2.id(), VoteKind.NO, Errors.UNABLE, now);
        drain();
        c.phase2Done(live, R1.id(), Phase2Result.ACK, now);
        drain();
        // Its prepare arrived at R1 after the abort (overtaken): an orphan, aborted.
        c.heldReport(R1.id(), List.of(new Coordinator.Held(live, K)), now);
        assertEquals(List.of(new Effect.SendPhase2(live, R1, false, 0)), drain());
        c.heldReport(R1.id(), List.of(new Coordinator.Held(new TxId(7, 99), K)), now);
        assertEquals(List.of(), drain(), "a tx id we never issued is not ours to abort");
    }

    @Test
    void readsOfOneKeyRunTogetherButNotWithAWrite() {
        c.submit(1, Op.GET, K, null, now);
        c.submit(2, Op.GET, K, null, now);
        assertEquals(2, only(drain(), Effect.SendRead.class).size());
        c.submit(3, Op.PUT, K, "v", now);
        assertEquals(List.of(), drain(), "the write waits for both reads");
        c.readDone(1, R1.id(), ReadResult.NO_KEY, null, now);
        drain();
        c.readDone(2, R1.id(), ReadResult.NO_KEY, null, now);
        assertEquals(2, only(drain(), Effect.SendPrepare.class).size());
    }

    /* --- Cluster mode: inherited transactions are resolved by asking the replicas --- */

    Coordinator clustered() {
        return new Coordinator(new Ring(List.of(F1, F2, F3), 2, 1), 9, Coordinator.Settings.cluster(), List.of());
    }

    @Test
    void inClusterModeAHeldTransactionCommittedOnAnyReplicaIsCommitted() {
        Coordinator k = clustered();
        TxId old = new TxId(8, 5);
        k.heldReport(R2.id(), List.of(new Coordinator.Held(old, K)), now);
        assertEquals(List.of(new Effect.QueryOutcome(old, R1, 0), new Effect.QueryOutcome(old, R2, 0)), k.drainEffects(),
                "ask every replica; nothing is decided or sent yet");
        k.submit(1, Op.GET, K, null, now);
        assertEquals(List.of(), k.drainEffects(), "the key is held while it is resolved");
        k.outcomeKnown(old, R2.id(), Coordinator.Outcome.PREPARED, now);
        assertEquals(List.of(), k.drainEffects());
        k.outcomeKnown(old, R1.id(), Coordinator.Outcome.COMMITTED, now);
        List<Effect> es = k.drainEffects();
        assertEquals(List.of(new Effect.SendPhase2(old, R2, true, 0)), only(es, Effect.SendPhase2.class),
                "commit it where it is still prepared; R1 already has it");
        assertEquals(List.of(new Effect.SendRead(1, R1, K)), only(es, Effect.SendRead.class), "R1 has the commit: read there");
    }

    @Test
    void inClusterModeAHeldTransactionIsAbortedOnlyWhenEveryReplicaSaysNoneCommitted() {
        Coordinator k = clustered();
        TxId old = new TxId(8, 6);
        k.heldReport(R1.id(), List.of(new Coordinator.Held(old, K)), now);
        k.drainEffects();
        k.outcomeKnown(old, R1.id(), Coordinator.Outcome.PREPARED, now);
        k.outcomeKnown(old, R2.id(), Coordinator.Outcome.UNREACHABLE, now);
        assertEquals(List.of(new Effect.QueryOutcome(old, R2, 1000)), k.drainEffects(), "no answer: ask again later, decide nothing");
        k.outcomeKnown(old, R2.id(), Coordinator.Outcome.PREPARED, now);
        assertEquals(List.of(new Effect.AppendAbort(old)), k.drainEffects(), "the abort is recorded before it is sent");
        k.abortDurable(old, now);
        assertEquals(List.of(new Effect.SendPhase2(old, R1, false, 0), new Effect.SendPhase2(old, R2, false, 0)),
                only(k.drainEffects(), Effect.SendPhase2.class));
    }

    @Test
    void aStaleAnswerAbortsWithThatReasonAndDeposesTheLeader() {
        TxId tx = put(1, K, "v");
        c.voted(tx, R1.id(), VoteKind.STALE, null, now);
        List<Effect> es = drain();
        assertEquals(List.of(new Effect.Reply(1, 500, Errors.UNABLE, null)), only(es, Effect.Reply.class));
        assertEquals(1, only(es, Effect.Deposed.class).size());
    }
}
