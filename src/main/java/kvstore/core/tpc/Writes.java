package kvstore.core.tpc;

import kvstore.core.Errors;
import kvstore.core.Member;
import kvstore.core.TxId;
import kvstore.core.Write;
import kvstore.core.log.LogRecord;
import kvstore.core.view.Placement;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Two-phase commit with presumed abort (PROTOCOL.md, "Write path"), for one key or many.
 *
 * <h2>Phase 1</h2>
 * A prepare goes at once to every replica of every key the transaction writes (a replica still
 * being filled gets its writes blind). The outcome is decided as soon as it is known: the first
 * replica in placement order that did not vote yes gives the abort's reason; if all voted yes,
 * the decision, with a version above every version the replicas hold, is appended, and once it
 * is durable the client gets its answer.
 *
 * <h2>Phase 2</h2>
 * Runs off the client's path, to every replica that may hold the transaction prepared: at once
 * when the replica is up, retried with capped, jittered backoff when it does not answer, and
 * paused while the replica is down (resumed when it answers again) — no timer per message: the
 * coordinator's tick sends what is due. Never a phase-2 message before the decision is durable.
 */
final class Writes {
    private final Coordinator c;
    /** Per follower, the transactions with phase 2 due or in flight there, oldest first. */
    private final Map<Long, LinkedHashMap<TxId, Transaction>> phase2 = new LinkedHashMap<>();
    private int pendingPhase2;

    Writes(Coordinator c) {
        this.c = c;
    }

    /* --- Phase 1 --- */

    /**
     * Starts a transaction writing {@code byKey} (each key's writes, as current replicas take
     * them). Returns false (and answers the job) when it cannot start: a replica is down, a key
     * has no current replica, or too much phase 2 is pending.
     */
    boolean start(Job job, Map<String, List<Write>> byKey, long now) {
        Placement p = c.placement();
        Map<Long, Transaction.Slot> slots = new LinkedHashMap<>();
        for (Map.Entry<String, List<Write>> e : byKey.entrySet()) {
            List<Placement.Replica> replicas = p.writeSet(e.getKey());
            boolean anyCurrent = false;
            for (Placement.Replica r : replicas) {
                anyCurrent |= r.current();
                if (!c.isUp(r.member().id())) {
                    c.answer(job, Answer.error(500, Errors.UNABLE), now);
                    return false;
                }
                Transaction.Slot s = slots.computeIfAbsent(r.member().id(),
                        id -> new Transaction.Slot(r.member(), new ArrayList<>(), SlotState.AWAITING_VOTE));
                for (Write w : e.getValue()) {
                    if (r.current()) s.writes.add(w);
                    else if (w.isWrite()) s.writes.add(w.blindly());
                }
            }
            if (!anyCurrent) {
                c.answer(job, Answer.error(500, Errors.UNABLE), now);
                return false;
            }
        }
        slots.values().removeIf(s -> s.writes.isEmpty());
        if (slots.isEmpty() || pendingPhase2 + slots.size() > c.settings().maxPendingPhase2()) {
            c.answer(job, Answer.error(slots.isEmpty() ? 500 : 503, Errors.UNABLE), now);
            return false;
        }
        Transaction tx = new Transaction(c.newTxId(), job, new ArrayList<>(byKey.keySet()), p.view().number(),
                Transaction.State.PREPARING);
        tx.slots.addAll(slots.values());
        tx.ridText = job.rid;
        job.tx = tx;
        job.phase = Job.Phase.PREPARING;
        c.track(tx);
        long deadline = Math.min(job.deadline, now + c.settings().prepareTimeoutMillis());
        for (Transaction.Slot s : tx.slots) c.effect(new Effect.SendPrepare(tx.id, s.member, List.copyOf(s.writes), job.rid, deadline));
        return true;
    }

    void voted(Transaction tx, Transaction.Slot slot, Coordinator.Vote vote, long now) {
        if (slot.state != SlotState.AWAITING_VOTE) return;
        slot.heldVersion = vote.version();
        switch (vote.kind()) {
            case YES -> slot.state = SlotState.HELD;
            case NO -> {
                slot.state = SlotState.VOTED_NO;
                slot.reason = vote.reason() == null ? Errors.UNABLE : vote.reason();
            }
            case UNKNOWN, STALE -> {
                slot.state = SlotState.HELD; // it may have prepared: an abort must reach it
                slot.reason = Errors.UNABLE; // "stale leader" is for leaders, not clients
                if (vote.kind() == Coordinator.VoteKind.STALE) c.deposedBy(slot.member);
            }
        }
        if (tx.state == Transaction.State.PREPARING) decideIfKnown(tx, now);
        else if (tx.state == Transaction.State.ABORTED && slot.state == SlotState.HELD) due(tx, slot, now);
        else if (slot.state == SlotState.VOTED_NO) c.settleIfDone(tx, now);
    }

    private void decideIfKnown(Transaction tx, long now) {
        long held = 0;
        for (Transaction.Slot s : tx.slots) {
            if (s.state == SlotState.AWAITING_VOTE) return;
            if (s.state != SlotState.HELD || s.reason != null) {
                abort(tx, s, now);
                return;
            }
            held = Math.max(held, s.heldVersion);
        }
        tx.state = Transaction.State.DECIDING;
        tx.version = c.nextVersion(held);
        List<Long> ids = new ArrayList<>(tx.slots.size());
        for (Transaction.Slot s : tx.slots) ids.add(s.member.id());
        List<LogRecord> records = new ArrayList<>(2);
        records.add(new LogRecord.Decision(tx.id, tx.version, tx.keys, ids, tx.view));
        RidMemory.Outcome rid = c.txnAnswered(tx, now);
        if (rid != null) {
            tx.rid = rid;
            records.add(rid.record());
        }
        c.appendThen(records, () -> decisionDurable(tx, now));
    }

    private void abort(Transaction tx, Transaction.Slot cause, long now) {
        tx.state = Transaction.State.ABORTED;
        c.countAbort();
        Answer a = Errors.VERSION_MISMATCH.equals(cause.reason)
                ? Answer.error(412, Errors.VERSION_MISMATCH, cause.heldVersion)
                : Answer.error(500, cause.reason);
        c.refused(tx.job, a, now);
        for (Transaction.Slot s : tx.slots) {
            if (s.state == SlotState.HELD || s.state == SlotState.AWAITING_VOTE) due(tx, s, now);
            else if (s.state == SlotState.VOTED_NO && tx.rid != null) due(tx, s, now); // so it remembers the rid
        }
        c.settleIfDone(tx, now);
    }

    /** The commit decision is durable: phase 2 starts, and the client is answered when the rules allow. */
    private void decisionDurable(Transaction tx, long now) {
        if (tx.state != Transaction.State.DECIDING) return;
        tx.state = Transaction.State.COMMITTED;
        c.countCommit();
        if (tx.rid != null) c.remember(tx.rid);
        for (Transaction.Slot s : tx.slots) if (s.state != SlotState.SETTLED) due(tx, s, now); // settled: evicted meanwhile
        if (tx.job != null) {
            tx.job.phase = Job.Phase.DECIDED;
            if (!c.settings().replyAfterFirstAck()) c.committed(tx.job, now);
        }
    }

    /* --- Phase 2 --- */

    /** Phase 2 is due at this replica: sent now if it is up, else when it answers again. */
    void due(Transaction tx, Transaction.Slot s, long now) {
        if (!s.state.phase2Pending()) pendingPhase2++;
        s.state = SlotState.PHASE2_DUE;
        s.notBefore = now;
        phase2.computeIfAbsent(s.member.id(), id -> new LinkedHashMap<>()).put(tx.id, tx);
        if (c.isUp(s.member.id())) send(tx, s, now);
    }

    private void send(Transaction tx, Transaction.Slot s, long now) {
        s.state = SlotState.PHASE2_SENT;
        c.effect(new Effect.SendPhase2(tx.id, s.member, tx.committed(), tx.version, tx.rid,
                now + c.settings().phase2TimeoutMillis()));
    }

    void phase2Done(Transaction tx, Transaction.Slot s, Coordinator.Phase2Result result, long now) {
        if (s.state != SlotState.PHASE2_SENT) return;
        switch (result) {
            case ACK -> {
                settle(tx, s);
                // The first acknowledgement answers the client (cluster mode) only from a current
                // replica of the keys, now and in a view on its way: a standby that takes over asks
                // those, and a member that no longer holds the keys drops the value it applied.
                if (tx.committed() && tx.job != null && tx.job.phase == Job.Phase.DECIDED && holdsNow(s)) c.committed(tx.job, now);
            }
            case RETRY, STALE -> {
                if (result == Coordinator.Phase2Result.STALE) c.deposedBy(s.member);
                s.attempts++;
                s.state = SlotState.PHASE2_DUE;
                s.notBefore = now + backoff(tx.id, s);
                return;
            }
            case GONE -> settle(tx, s);
            case REFUSED -> {
                // The replica says it never prepared tx: it lost a durable yes vote (or was wiped
                // since). Nothing can repair that here; stop retrying, and say so if it is a member.
                // (Some refusals are expected: see Transaction.refusalExpected.)
                if (c.isMember(s.member.id()) && !tx.refusalExpected && !c.joinedAfter(s.member.id(), tx.view)) {
                    c.effect(new Effect.Alarm("follower " + s.member.address() + " refused " + (tx.committed() ? "COMMIT" : "ABORT")
                            + " of " + tx.id + ": it has no record of the prepare"));
                }
                settle(tx, s);
            }
        }
        // Every replica is done (some evicted or gone meanwhile): nothing is left to wait for.
        if (tx.committed() && tx.job != null && tx.job.phase == Job.Phase.DECIDED && tx.settled()) c.committed(tx.job, now);
        c.settleIfDone(tx, now);
    }

    private boolean holdsNow(Transaction.Slot s) {
        Placement next = c.proposed();
        return holdsIn(c.placement(), s) && (next == null || holdsIn(next, s));
    }

    private static boolean holdsIn(Placement p, Transaction.Slot s) {
        for (Write w : s.writes) {
            for (Placement.Replica r : p.writeSet(w.key())) if (r.current() && r.member().id() == s.member.id()) return true;
        }
        return false;
    }

    /** Capped exponential backoff with jitter that is deterministic (no randomness in the core). */
    private long backoff(TxId tx, Transaction.Slot s) {
        long base = Math.min(c.settings().retryCapMillis(), c.settings().retryBaseMillis() << Math.min(s.attempts, 20));
        long h = tx.hashCode() * 31L + s.member.id() * 17L + s.attempts;
        long jitter = Math.floorMod(h * 0x9E3779B97F4A7C15L >>> 33, base / 2 + 1);
        return base / 2 + jitter;
    }

    void settle(Transaction tx, Transaction.Slot s) {
        if (s.state.phase2Pending()) pendingPhase2--;
        s.state = SlotState.SETTLED;
        LinkedHashMap<TxId, Transaction> q = phase2.get(s.member.id());
        if (q != null) {
            q.remove(tx.id);
            if (q.isEmpty()) phase2.remove(s.member.id());
        }
    }

    /** Sends the phase 2 that is due at followers that are up, at most {@code perFollower} each. */
    void tick(long now, int perFollower) {
        for (Map.Entry<Long, LinkedHashMap<TxId, Transaction>> e : new ArrayList<>(phase2.entrySet())) {
            if (!c.isUp(e.getKey())) continue;
            int sent = 0;
            for (Transaction tx : new ArrayList<>(e.getValue().values())) {
                Transaction.Slot s = tx.slot(e.getKey());
                if (s == null || s.state != SlotState.PHASE2_DUE || s.notBefore > now) continue;
                send(tx, s, now);
                if (++sent >= perFollower) break;
            }
        }
    }

    /** A follower is down: what was in flight there will be sent again when it answers. */
    void followerDown(long followerId) {
        LinkedHashMap<TxId, Transaction> q = phase2.get(followerId);
        if (q == null) return;
        for (Transaction tx : q.values()) {
            Transaction.Slot s = tx.slot(followerId);
            if (s != null && s.state == SlotState.PHASE2_SENT) s.state = SlotState.PHASE2_DUE;
        }
    }

    /** An evicted member holds nothing it keeps: its part in every transaction is over. */
    void forget(Member m, long now) {
        for (Transaction tx : c.transactions()) {
            Transaction.Slot s = tx.slot(m.id());
            if (s == null || !s.state.unsettled()) continue;
            if (tx.state == Transaction.State.PREPARING && s.state == SlotState.AWAITING_VOTE) {
                voted(tx, s, new Coordinator.Vote(Coordinator.VoteKind.UNKNOWN, null, 0), now);
            }
            settle(tx, s);
            c.settleIfDone(tx, now);
        }
    }

    int pendingPhase2() {
        return pendingPhase2;
    }

    int pendingPhase2At(long followerId) {
        LinkedHashMap<TxId, Transaction> q = phase2.get(followerId);
        return q == null ? 0 : q.size();
    }
}
