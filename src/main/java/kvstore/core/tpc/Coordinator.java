package kvstore.core.tpc;

import kvstore.core.Errors;
import kvstore.core.Member;
import kvstore.core.Op;
import kvstore.core.Ring;
import kvstore.core.TxId;
import kvstore.core.log.LogRecord;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The leader's side of two-phase commit with presumed abort (PROTOCOL.md, "Write path" and
 * "Read path"), as a state machine with no I/O, no clock and no threads. Events come in as method
 * calls with the time as a parameter; what to do comes out as {@link Effect}s the shell drains
 * with {@link #drainEffects()} and runs in order.
 *
 * <h2>Lanes: one operation per key at a time</h2>
 * Each key with activity has a {@link Lane}: a FIFO of waiting operations. Reads of a key may run
 * together; a write runs alone, and only once every replica has acknowledged phase 2 of the
 * key's previous write (so a follower never sees a prepare for a key still held by our own
 * earlier transaction). Different keys never wait for each other.
 *
 * <h2>Writes</h2>
 * Prepare goes to every replica at once. The outcome is decided as soon as it is known: the
 * first replica in placement order that did not vote yes gives the abort reason; if all voted
 * yes the decision is appended, and once it is durable the client gets 201 and phase 2 runs off
 * the client's path, retried with capped exponential backoff until each replica acknowledges.
 * A replica that could not be reached may still have prepared, so it gets an abort too.
 *
 * <h2>Reads</h2>
 * A read goes to the first replica, in placement order, that is up and has acknowledged every
 * decided write of the key. If none has, it waits for an acknowledgement.
 *
 * <h2>Invariants</h2>
 * Never a 500 after a commit decision; never phase 2 before the decision is durable; at most one
 * unsettled write per key at a time, except for transactions inherited from an earlier epoch.
 */
public final class Coordinator {

    /**
     * @param replyAfterFirstAck  cluster mode: answer 201 only once a replica holds the commit, so a
     *                            standby that takes over finds every acknowledged decision
     * @param resolveHeldByQuery  cluster mode: an inherited prepared transaction is committed if any
     *                            replica committed it and aborted only once every replica answered
     *                            that none did; otherwise (one leader, its own log the whole truth)
     *                            it is aborted unless our log holds its decision (presumed abort)
     */
    public record Settings(long opTimeoutMillis, int maxPendingPhase2, long retryBaseMillis,
                           long retryCapMillis, boolean replyAfterFirstAck, boolean resolveHeldByQuery) {
        public static Settings defaults() {
            return new Settings(10_000, 100_000, 25, 1_000, false, false);
        }

        public static Settings cluster() {
            return new Settings(10_000, 100_000, 25, 1_000, true, true);
        }
    }

    /** How a replica answered phase 1. UNKNOWN: no answer (it may have prepared). */
    public enum VoteKind { YES, NO, UNKNOWN, STALE }

    /** How a replica answered phase 2. REFUSED: it says it never prepared the tx. */
    public enum Phase2Result { ACK, RETRY, REFUSED, STALE }

    /** How a replica answered a read. ELSEWHERE: pending, unreachable or refused; try another. */
    public enum ReadResult { VALUE, NO_KEY, ELSEWHERE }

    /** A prepared transaction a follower reports holding (from an earlier epoch). */
    public record Held(TxId tx, String key) {}

    /** A replica's answer to "what became of tx?". UNREACHABLE: no answer, ask again. */
    public enum Outcome { COMMITTED, ABORTED, PREPARED, UNKNOWN, UNREACHABLE }

    private enum TxState { PREPARING, DECIDING, COMMITTED, RESOLVING, ABORTING, ABORTED }

    /** One replica's part in one transaction. */
    private static final class Slot {
        final Member member;
        VoteKind vote;          // null while phase 1 is outstanding
        String reason;
        boolean phase2Pending;  // phase 2 not yet acknowledged
        boolean sending;        // a phase-2 message is in flight or scheduled
        int attempts;

        Slot(Member member) { this.member = member; }
    }

    private static final class Tx {
        final TxId id;
        final String key;
        final long reqId;       // -1 for transactions inherited from an earlier epoch
        final List<Slot> slots = new ArrayList<>(3);
        TxState state;
        boolean replied;
        Map<Long, Outcome> answers; // RESOLVING: what each replica said

        Tx(TxId id, String key, long reqId, TxState state) {
            this.id = id;
            this.key = key;
            this.reqId = reqId;
            this.state = state;
        }

        Slot slot(long followerId) {
            for (Slot s : slots) if (s.member.id() == followerId) return s;
            return null;
        }

        boolean committed() { return state == TxState.COMMITTED; }

        /** The replica might hold the key prepared by this tx, or has not yet applied its commit. */
        boolean unsettledAt(long followerId) {
            Slot s = slot(followerId);
            return s != null && unsettled(s);
        }

        boolean unsettled(Slot s) {
            if (s.phase2Pending) return true;
            return s.vote == null && state != TxState.COMMITTED; // an abort waits for late votes
        }

        boolean settled() {
            if (state == TxState.PREPARING || state == TxState.DECIDING || state == TxState.RESOLVING) return false;
            for (Slot s : slots) if (unsettled(s)) return false;
            return true;
        }
    }

    private static final class PendingOp {
        final long reqId;
        final Op op;
        final String key;
        final String value;
        final long deadline;
        List<Member> replicas;   // reads: where to try, in order
        int next;                // reads: index of the next replica to try
        boolean inFlight;        // reads: a SendRead is outstanding
        boolean parked;          // reads: waiting for an acknowledgement or a follower to come up

        PendingOp(long reqId, Op op, String key, String value, long deadline) {
            this.reqId = reqId;
            this.op = op;
            this.key = key;
            this.value = value;
            this.deadline = deadline;
        }
    }

    private static final class Lane {
        final String key;
        final ArrayDeque<PendingOp> waiting = new ArrayDeque<>(2);
        final List<PendingOp> reads = new ArrayList<>(2);
        final List<Tx> unsettled = new ArrayList<>(1);
        Tx activeWrite;

        Lane(String key) { this.key = key; }

        boolean unsettledAt(long followerId) {
            for (Tx tx : unsettled) if (tx.unsettledAt(followerId)) return true;
            return false;
        }

        boolean idle() {
            return waiting.isEmpty() && reads.isEmpty() && unsettled.isEmpty() && activeWrite == null;
        }
    }

    private final Ring ring;
    private final long epoch;
    private final Settings settings;
    private long nextSeq = 1;
    private final Map<String, Lane> lanes = new HashMap<>();
    private final Map<TxId, Tx> txs = new HashMap<>();
    private final Map<Long, PendingOp> reads = new HashMap<>();
    private final Map<Long, Boolean> up = new HashMap<>();
    private final Set<TxId> inheritedCommits = new HashSet<>();
    private final Set<TxId> inheritedAborts = new HashSet<>();
    private final List<Effect> effects = new ArrayList<>();
    private int pendingPhase2;
    private long commits, aborts;

    /**
     * @param undecided the decisions in the leader's log without an END: phase 2 restarts for
     *                  them at once (PROTOCOL.md, "Leader restart").
     */
    public Coordinator(Ring ring, long epoch, Settings settings, List<LogRecord.Decision> undecided) {
        this.ring = ring;
        this.epoch = epoch;
        this.settings = settings;
        for (Member m : ring.members()) up.put(m.id(), true);
        for (LogRecord.Decision d : undecided) {
            Tx tx = new Tx(d.tx(), d.key(), -1, TxState.COMMITTED);
            tx.replied = true;
            for (long id : d.replicaIds()) {
                Member m = member(id);
                if (m != null) tx.slots.add(new Slot(m));
            }
            txs.put(tx.id, tx);
            inheritedCommits.add(tx.id);
            lane(tx.key).unsettled.add(tx);
            for (Slot s : tx.slots) startPhase2(tx, s, 0);
        }
    }

    /** The effects produced since the last call, in the order they must run. */
    public List<Effect> drainEffects() {
        if (effects.isEmpty()) return List.of();
        List<Effect> out = new ArrayList<>(effects);
        effects.clear();
        return out;
    }

    /* --- Client operations --- */

    public void submit(long reqId, Op op, String key, String value, long now) {
        Lane lane = lane(key);
        lane.waiting.add(new PendingOp(reqId, op, key, value, now + settings.opTimeoutMillis()));
        pump(lane);
    }

    /** Starts every waiting operation of the lane that may start now, in FIFO order. */
    private void pump(Lane lane) {
        while (!lane.waiting.isEmpty()) {
            PendingOp op = lane.waiting.peek();
            if (op.op == Op.GET) {
                if (lane.activeWrite != null) break;
                lane.waiting.poll();
                startRead(lane, op);
            } else {
                if (lane.activeWrite != null || !lane.reads.isEmpty()) break;
                if (!lane.unsettled.isEmpty()) {
                    if (!unsettledReplicaDown(lane)) break;
                    lane.waiting.poll(); // it would wait for a follower that is down: fail fast
                    reply(op.reqId, 500, Errors.UNABLE);
                    continue;
                }
                lane.waiting.poll();
                startWrite(lane, op);
            }
        }
        dropIfIdle(lane);
    }

    private boolean unsettledReplicaDown(Lane lane) {
        for (Tx tx : lane.unsettled) {
            for (Slot s : tx.slots) if (tx.unsettled(s) && !isUp(s.member.id())) return true;
        }
        return false;
    }

    /* --- Writes --- */

    private void startWrite(Lane lane, PendingOp op) {
        List<Member> replicas = ring.replicas(op.key);
        for (Member m : replicas) {
            if (!isUp(m.id())) {
                reply(op.reqId, 500, Errors.UNABLE);
                return;
            }
        }
        if (replicas.isEmpty() || pendingPhase2 + replicas.size() > settings.maxPendingPhase2()) {
            reply(op.reqId, replicas.isEmpty() ? 500 : 503, Errors.UNABLE);
            return;
        }
        Tx tx = new Tx(new TxId(epoch, nextSeq++), op.key, op.reqId, TxState.PREPARING);
        for (Member m : replicas) tx.slots.add(new Slot(m));
        txs.put(tx.id, tx);
        lane.activeWrite = tx;
        for (Member m : replicas) effects.add(new Effect.SendPrepare(tx.id, m, op.key, op.op, op.value));
    }

    /** A replica's phase-1 answer. {@code reason} is its error body for a NO. */
    public void voted(TxId txId, long followerId, VoteKind kind, String reason, long now) {
        Tx tx = txs.get(txId);
        if (tx == null) return;
        Slot slot = tx.slot(followerId);
        if (slot == null || slot.vote != null) return;
        slot.vote = kind;
        slot.reason = kind == VoteKind.NO && reason != null ? reason : Errors.UNABLE; // "stale leader" is for leaders, not clients
        if (kind == VoteKind.STALE) deposed(slot.member);
        if (tx.state == TxState.PREPARING) {
            decideIfKnown(tx);
        } else if (tx.state == TxState.ABORTED) {
            if (kind == VoteKind.YES || kind == VoteKind.UNKNOWN) startPhase2(tx, slot, 0);
            settleIfDone(tx);
        }
    }

    private void decideIfKnown(Tx tx) {
        for (Slot s : tx.slots) {
            if (s.vote == null) return;
            if (s.vote != VoteKind.YES) {
                abortTx(tx, s.reason);
                return;
            }
        }
        tx.state = TxState.DECIDING;
        List<Long> ids = new ArrayList<>(tx.slots.size());
        for (Slot s : tx.slots) ids.add(s.member.id());
        effects.add(new Effect.AppendDecision(tx.id, tx.key, ids));
    }

    private void abortTx(Tx tx, String reason) {
        tx.state = TxState.ABORTED;
        aborts++;
        tx.replied = true;
        reply(tx.reqId, 500, reason);
        for (Slot s : tx.slots) {
            if (s.vote == VoteKind.YES || s.vote == VoteKind.UNKNOWN) startPhase2(tx, s, 0);
        }
        finishWrite(tx);
    }

    /** The commit decision is durable: answer the client and start phase 2. */
    public void decisionDurable(TxId txId, long now) {
        Tx tx = txs.get(txId);
        if (tx == null || tx.state != TxState.DECIDING) return;
        tx.state = TxState.COMMITTED;
        commits++;
        for (Slot s : tx.slots) startPhase2(tx, s, 0);
        if (!settings.replyAfterFirstAck()) {
            tx.replied = true;
            reply(tx.reqId, 201, "");
            finishWrite(tx);
        }
    }

    /** The write no longer holds its lane; its phase 2 may still be running. */
    private void finishWrite(Tx tx) {
        Lane lane = lane(tx.key);
        if (lane.activeWrite == tx) lane.activeWrite = null;
        if (!tx.settled()) {
            if (!lane.unsettled.contains(tx)) lane.unsettled.add(tx);
        } else {
            forget(tx);
        }
        pump(lane);
    }

    /* --- Phase 2 --- */

    private void startPhase2(Tx tx, Slot s, long delayMillis) {
        if (!s.phase2Pending) {
            s.phase2Pending = true;
            pendingPhase2++;
        }
        if (s.sending) return;
        if (tx.state == TxState.ABORTING || tx.state == TxState.RESOLVING) return; // sent once decided and durable
        s.sending = true;
        effects.add(new Effect.SendPhase2(tx.id, s.member, tx.committed(), delayMillis));
    }

    public void phase2Done(TxId txId, long followerId, Phase2Result result, long now) {
        Tx tx = txs.get(txId);
        if (tx == null) return;
        Slot s = tx.slot(followerId);
        if (s == null || !s.phase2Pending) return;
        s.sending = false;
        switch (result) {
            case ACK -> {
                s.phase2Pending = false;
                pendingPhase2--;
                if (tx.committed() && !tx.replied) {
                    tx.replied = true;
                    reply(tx.reqId, 201, "");
                    finishWrite(tx);
                    return;
                }
            }
            case RETRY, STALE -> {
                if (result == Phase2Result.STALE) deposed(s.member);
                s.attempts++;
                long delay = Math.min(settings.retryCapMillis(),
                        settings.retryBaseMillis() << Math.min(s.attempts, 20));
                startPhase2(tx, s, delay);
                return;
            }
            case REFUSED -> {
                // The follower says it never prepared tx: it lost a durable yes vote. Nothing can
                // repair that here; stop retrying and say so.
                effects.add(new Effect.Alarm("follower " + s.member.address() + " refused "
                        + (tx.committed() ? "COMMIT" : "ABORT") + " of " + tx.id + ": it has no record of the prepare"));
                s.phase2Pending = false;
                pendingPhase2--;
            }
        }
        settleIfDone(tx);
    }

    private void deposed(Member by) {
        effects.add(new Effect.Alarm("follower " + by.address() + " has accepted a newer leader epoch than ours (" + epoch + ")"));
        effects.add(new Effect.Deposed());
    }

    private void settleIfDone(Tx tx) {
        if (!tx.settled()) {
            kick(lane(tx.key));
            return;
        }
        Lane lane = lane(tx.key);
        if (lane.activeWrite == tx) return; // finishWrite will forget it
        lane.unsettled.remove(tx);
        forget(tx);
        kick(lane);
        pump(lane);
    }

    private void forget(Tx tx) {
        txs.remove(tx.id);
        if (tx.committed()) effects.add(new Effect.AppendEnd(tx.id));
    }

    /* --- Reads --- */

    private void startRead(Lane lane, PendingOp op) {
        op.replicas = ring.replicas(op.key);
        op.next = 0;
        lane.reads.add(op);
        reads.put(op.reqId, op);
        tryRead(lane, op);
    }

    private void tryRead(Lane lane, PendingOp op) {
        for (int i = op.next; i < op.replicas.size(); i++) {
            Member m = op.replicas.get(i);
            if (isUp(m.id()) && !lane.unsettledAt(m.id())) {
                op.next = i + 1;
                op.inFlight = true;
                op.parked = false;
                effects.add(new Effect.SendRead(op.reqId, m, op.key));
                return;
            }
        }
        boolean anyUp = false;
        for (Member m : op.replicas) anyUp |= isUp(m.id());
        if (!anyUp) {
            finishRead(lane, op, 500, Errors.UNABLE, null);
            return;
        }
        op.parked = true; // retried on an acknowledgement, a follower coming up, or a tick
    }

    public void readDone(long reqId, long followerId, ReadResult result, byte[] value, long now) {
        PendingOp op = reads.get(reqId);
        if (op == null || !op.inFlight) return;
        op.inFlight = false;
        Lane lane = lane(op.key);
        switch (result) {
            case VALUE -> finishRead(lane, op, 200, null, value);
            case NO_KEY -> finishRead(lane, op, 500, Errors.NO_KEY, null);
            case ELSEWHERE -> tryRead(lane, op);
        }
    }

    private void finishRead(Lane lane, PendingOp op, int status, String body, byte[] value) {
        reads.remove(op.reqId);
        lane.reads.remove(op);
        effects.add(new Effect.Reply(op.reqId, status, body, value));
        pump(lane);
    }

    /** Retries the lane's parked reads from their first replica: something changed. */
    private void kick(Lane lane) {
        for (PendingOp op : new ArrayList<>(lane.reads)) {
            if (op.parked) {
                op.next = 0;
                tryRead(lane, op);
            }
        }
    }

    /* --- Followers and time --- */

    public void followerHealth(long followerId, boolean isUp, long now) {
        Boolean was = up.put(followerId, isUp);
        if (was == null || was == isUp) return;
        for (Lane lane : new ArrayList<>(lanes.values())) {
            kick(lane);
            pump(lane);
        }
    }

    /**
     * A follower's prepared transactions. Those from an earlier epoch are resolved: commit if
     * our log holds their decision, otherwise abort, recorded before it is sent (presumed abort).
     * Those of this epoch are already tracked in memory.
     */
    public void heldReport(long followerId, List<Held> held, long now) {
        Member m = member(followerId);
        if (m == null) return;
        for (Held h : held) {
            if (h.tx().epoch() > epoch) continue;
            if (h.tx().epoch() == epoch) {
                // Ours. If we still track it, phase 2 will reach it. If not, it can only be an
                // orphan (a prepare that arrived after its abort): we never decided to commit it.
                if (!txs.containsKey(h.tx()) && h.tx().seq() < nextSeq) orphan(m, h);
                continue;
            }
            Tx tx = txs.get(h.tx());
            if (tx == null) {
                boolean commit = inheritedCommits.contains(h.tx());
                boolean abortRecorded = inheritedAborts.contains(h.tx());
                if (!commit && !abortRecorded && settings.resolveHeldByQuery()) {
                    startResolving(h);
                    tx = txs.get(h.tx());
                } else {
                    tx = new Tx(h.tx(), h.key(), -1, commit ? TxState.COMMITTED : abortRecorded ? TxState.ABORTED : TxState.ABORTING);
                    tx.replied = true;
                    txs.put(tx.id, tx);
                    lane(h.key()).unsettled.add(tx);
                    if (!commit && !abortRecorded) {
                        inheritedAborts.add(tx.id);
                        effects.add(new Effect.AppendAbort(tx.id));
                    }
                }
            }
            Slot s = tx.slot(followerId);
            if (s == null) {
                s = new Slot(m);
                s.vote = VoteKind.YES;
                tx.slots.add(s);
            }
            if (tx.state == TxState.RESOLVING) {
                if (!s.phase2Pending) {
                    s.phase2Pending = true;
                    pendingPhase2++;
                }
            } else if (tx.state != TxState.COMMITTED || !Outcome.COMMITTED.equals(tx.answers == null ? null : tx.answers.get(followerId))) {
                startPhase2(tx, s, 0);
            }
        }
    }

    /** Aborts a transaction of ours that a follower holds but we have forgotten (never committed). */
    private void orphan(Member m, Held h) {
        Tx tx = new Tx(h.tx(), h.key(), -1, TxState.ABORTED);
        tx.replied = true;
        Slot s = new Slot(m);
        s.vote = VoteKind.YES;
        tx.slots.add(s);
        txs.put(tx.id, tx);
        lane(h.key()).unsettled.add(tx);
        startPhase2(tx, s, 0);
    }

    /**
     * Cluster mode: an inherited transaction may have been committed by the leader before us
     * without our log knowing. Ask every replica of its key what became of it; until they answer,
     * the key stays held on all of them.
     */
    private void startResolving(Held h) {
        Tx tx = new Tx(h.tx(), h.key(), -1, TxState.RESOLVING);
        tx.replied = true;
        tx.answers = new HashMap<>();
        for (Member r : ring.replicas(h.key())) {
            Slot s = new Slot(r);
            s.vote = VoteKind.YES;
            s.phase2Pending = true;
            pendingPhase2++;
            tx.slots.add(s);
        }
        txs.put(tx.id, tx);
        lane(h.key()).unsettled.add(tx);
        for (Slot s : tx.slots) effects.add(new Effect.QueryOutcome(tx.id, s.member, 0));
    }

    /** A replica's answer about an inherited transaction being resolved. */
    public void outcomeKnown(TxId txId, long followerId, Outcome outcome, long now) {
        Tx tx = txs.get(txId);
        if (tx == null || tx.state != TxState.RESOLVING) return;
        Slot slot = tx.slot(followerId);
        if (slot == null) return;
        if (outcome == Outcome.UNREACHABLE) {
            effects.add(new Effect.QueryOutcome(tx.id, slot.member, settings.retryCapMillis()));
            return;
        }
        tx.answers.put(followerId, outcome);
        if (outcome == Outcome.COMMITTED) {
            tx.state = TxState.COMMITTED;
            commits++;
            inheritedCommits.add(tx.id);
            for (Slot s : tx.slots) {
                Outcome a = tx.answers.get(s.member.id());
                if (a == Outcome.PREPARED || a == null) startPhase2(tx, s, 0);
                else settleSlot(s);
                if (a == Outcome.ABORTED) effects.add(new Effect.Alarm(tx.id + " is committed on one replica and aborted on " + s.member.address()));
            }
            settleIfDone(tx);
            return;
        }
        for (Slot s : tx.slots) if (!tx.answers.containsKey(s.member.id())) return; // wait for the rest
        // Every replica answered and none committed: no leader can have acknowledged it. Abort.
        tx.state = TxState.ABORTING;
        inheritedAborts.add(tx.id);
        for (Slot s : tx.slots) if (tx.answers.get(s.member.id()) != Outcome.PREPARED) settleSlot(s);
        effects.add(new Effect.AppendAbort(tx.id));
    }

    private void settleSlot(Slot s) {
        if (s.phase2Pending) {
            s.phase2Pending = false;
            pendingPhase2--;
        }
    }

    /** The abort of an inherited transaction is durable: phase 2 may now announce it. */
    public void abortDurable(TxId txId, long now) {
        Tx tx = txs.get(txId);
        if (tx == null || tx.state != TxState.ABORTING) return;
        tx.state = TxState.ABORTED;
        for (Slot s : tx.slots) if (s.phase2Pending) {
            s.phase2Pending = false; // startPhase2 counts it again
            pendingPhase2--;
            startPhase2(tx, s, 0);
        }
    }

    /** Expires operations past their deadline and retries parked reads. Call every ~100 ms. */
    public void tick(long now) {
        for (Lane lane : new ArrayList<>(lanes.values())) {
            boolean changed = false;
            for (Iterator<PendingOp> it = lane.waiting.iterator(); it.hasNext(); ) {
                PendingOp op = it.next();
                if (op.deadline <= now) {
                    it.remove();
                    reply(op.reqId, 500, Errors.UNABLE);
                    changed = true;
                }
            }
            for (PendingOp op : new ArrayList<>(lane.reads)) {
                if (!op.parked) continue;
                if (op.deadline <= now) finishRead(lane, op, 500, Errors.UNABLE, null);
                else { op.next = 0; tryRead(lane, op); }
            }
            if (changed) pump(lane);
            else dropIfIdle(lane);
        }
    }

    /* --- Helpers and views --- */

    private Lane lane(String key) {
        return lanes.computeIfAbsent(key, Lane::new);
    }

    private void dropIfIdle(Lane lane) {
        if (lane.idle()) lanes.remove(lane.key);
    }

    private void reply(long reqId, int status, String body) {
        if (reqId >= 0) effects.add(new Effect.Reply(reqId, status, body, null));
    }

    private boolean isUp(long followerId) {
        return up.getOrDefault(followerId, false);
    }

    private Member member(long id) {
        for (Member m : ring.members()) if (m.id() == id) return m;
        return null;
    }

    public long epoch() { return epoch; }

    public Ring ring() { return ring; }

    public long commits() { return commits; }

    public long aborts() { return aborts; }

    /** Transactions not yet settled (in phase 1, deciding, or with phase 2 outstanding). */
    public int pendingTransactions() { return txs.size(); }

    public int pendingPhase2() { return pendingPhase2; }

    /** Phase-2 messages not yet acknowledged by one follower. */
    public int pendingPhase2At(long followerId) {
        int n = 0;
        for (Tx tx : txs.values()) {
            Slot s = tx.slot(followerId);
            if (s != null && s.phase2Pending) n++;
        }
        return n;
    }

    /** Decisions not yet acknowledged by every replica: what a new log segment must carry. */
    public List<LogRecord.Decision> undecidedCommits() {
        List<LogRecord.Decision> out = new ArrayList<>();
        for (Tx tx : txs.values()) {
            if (tx.state != TxState.COMMITTED) continue;
            List<Long> ids = new ArrayList<>(tx.slots.size());
            for (Slot s : tx.slots) ids.add(s.member.id());
            out.add(new LogRecord.Decision(tx.id, tx.key, ids));
        }
        return out;
    }

    /** Open lanes (keys with waiting, running or unsettled work), for tests and metrics. */
    public int openLanes() { return lanes.size(); }
}
