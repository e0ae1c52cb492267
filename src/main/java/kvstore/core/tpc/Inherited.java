package kvstore.core.tpc;

import kvstore.core.Member;
import kvstore.core.TxId;
import kvstore.core.log.LogRecord;
import kvstore.core.view.Placement;
import kvstore.core.view.View;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Transactions this leader did not begin, or has forgotten, that a follower reports holding
 * prepared (PROTOCOL.md, "Recovery" and "Standby leader"). Each is resolved, and its keys stay
 * held (no write of them prepares, no read goes to a replica holding them) until it is:
 * <ul>
 *   <li>one leader, its log the whole truth: commit if our log holds its decision (phase 2
 *       restarts for those at once), otherwise abort — recorded durably before anyone is told,
 *       so it can never be decided commit later (presumed abort);</li>
 *   <li>cluster mode, where a standby's log is not the whole truth: ask every replica of its
 *       keys, every other member (waited for, down or not, until it is evicted) and the followers
 *       the view names as evicted or gone;
 *       commit (with the version a replica committed it at) if any committed it, abort once
 *       every replica answered and none did, nor any other that answered (no leader can have
 *       acknowledged it);</li>
 *   <li>one of this epoch that we no longer track (a prepare that arrived after its abort): we
 *       never decided to commit it, so it is aborted.</li>
 * </ul>
 */
final class Inherited {
    private final Coordinator c;
    /** The decisions our log held without an END when we started, with their versions. */
    private final Map<TxId, Long> commitsFromLog = new HashMap<>();
    private final Set<TxId> abortsRecorded = new HashSet<>();
    /** Cluster mode: the transactions being resolved by asking. */
    private final Map<TxId, Asking> asking = new HashMap<>();

    /**
     * What each member asked about a transaction said, and which were asked only as "any other
     * member" (not replicas of its keys). Such a member's silence once it is no longer a member
     * (evicted) is kept as UNREACHABLE: it counts as not knowing.
     */
    private static final class Asking {
        final Map<Long, Coordinator.OutcomeReply> said = new HashMap<>();
        final Set<Long> extra;

        Asking(Set<Long> extra) {
            this.extra = extra;
        }
    }

    Inherited(Coordinator c) {
        this.c = c;
    }

    /** A decision in our log without an END: phase 2 restarts at once. */
    void fromLog(LogRecord.Decision d, long now) {
        Transaction tx = new Transaction(d.tx(), null, d.keys(), d.view(), Transaction.State.COMMITTED);
        tx.version = d.version();
        for (long id : d.replicaIds()) {
            Member m = c.member(id);
            if (m != null) tx.slots.add(new Transaction.Slot(m, List.of(), SlotState.HELD));
        }
        commitsFromLog.put(tx.id, tx.version);
        c.trackInherited(tx);
        for (Transaction.Slot s : tx.slots) c.writes().due(tx, s, now);
    }

    void held(Member m, Coordinator.Held h, long now) {
        if (h.tx().epoch() > c.epoch()) return;
        if (h.tx().epoch() == c.epoch()) {
            // Ours. If we still track it, phase 2 will reach it. If not, it can only be an orphan
            // (a prepare that arrived after its abort): we never decided to commit it.
            if (c.transaction(h.tx()) == null && h.tx().seq() < c.nextSeq()) abortAt(m, h, now);
            return;
        }
        Transaction tx = c.transaction(h.tx());
        if (tx == null) {
            Long committedAt = commitsFromLog.get(h.tx());
            boolean recorded = abortsRecorded.contains(h.tx());
            if (committedAt != null) {
                // Our log's decision, settled and forgotten since: the report was made before the
                // replica applied the commit (simulation seed 7800000000346 recorded an ABORT for
                // it). A repeat of the commit answers it; a replica that has it answers 204.
                tx = new Transaction(h.tx(), null, h.keys(), 0, Transaction.State.COMMITTED);
                tx.version = committedAt;
                c.trackInherited(tx);
            } else {
                if (!recorded && c.settings().resolveHeldByQuery()) {
                    resolve(m, h, now);
                    return;
                }
                tx = new Transaction(h.tx(), null, h.keys(), 0, recorded ? Transaction.State.ABORTED : Transaction.State.ABORTING);
                tx.ridText = h.rid();
                c.trackInherited(tx);
                if (!recorded) recordAbort(tx, now);
            }
        }
        Transaction.Slot s = tx.slot(m.id());
        if (s == null) {
            s = new Transaction.Slot(m, List.of(), SlotState.HELD);
            tx.slots.add(s);
            if (tx.state == Transaction.State.RESOLVING) ask(tx, m, now); // its answer counts too
        }
        // Each follower reports only its own keys of a transaction: a later report may name keys
        // the first did not. Their replicas may be the ones that committed it: ask them too.
        if (tx.state == Transaction.State.RESOLVING) {
            for (String key : h.keys()) {
                if (tx.keys.contains(key)) continue;
                tx.keys.add(key);
                c.trackKey(tx, key);
                for (Placement.Replica r : c.placement().writeSet(key)) {
                    if (tx.slot(r.member().id()) != null) {
                        waitFor(tx, r.member(), now);
                        continue;
                    }
                    tx.slots.add(new Transaction.Slot(r.member(), List.of(), SlotState.HELD));
                    ask(tx, r.member(), now);
                }
            }
        }
        if (s.state == SlotState.HELD && (tx.state == Transaction.State.ABORTED || tx.committed())) c.writes().due(tx, s, now);
    }

    /**
     * A member asked as "any other member" turns out to be a replica of the
     * transaction's keys (a later report named a key it holds): its answer is waited for like any
     * replica's, and a silence taken as "does not know" is asked again (simulation seed
     * 6567918120278: that replica had committed it).
     */
    private void waitFor(Transaction tx, Member m, long now) {
        Asking a = asking.get(tx.id);
        if (a == null || !a.extra.remove(m.id())) return;
        Coordinator.OutcomeReply guess = a.said.get(m.id());
        if (guess != null && guess.outcome() == Coordinator.Outcome.UNREACHABLE) {
            a.said.remove(m.id());
            ask(tx, m, now);
        }
    }

    private void abortAt(Member m, Coordinator.Held h, long now) {
        Transaction tx = new Transaction(h.tx(), null, h.keys(), 0, Transaction.State.ABORTED);
        tx.refusalExpected = true;
        Transaction.Slot s = new Transaction.Slot(m, List.of(), SlotState.HELD);
        tx.slots.add(s);
        c.trackInherited(tx);
        c.writes().due(tx, s, now);
    }

    private void recordAbort(Transaction tx, long now) {
        abortsRecorded.add(tx.id);
        c.appendThen(List.of(new LogRecord.Abort(tx.id)), () -> {
            if (tx.state != Transaction.State.ABORTING) return;
            tx.state = Transaction.State.ABORTED;
            for (Transaction.Slot s : tx.slots) if (s.state == SlotState.HELD) c.writes().due(tx, s, now);
        });
    }

    /**
     * Cluster mode: ask the reporter and every replica of the transaction's keys now what became
     * of it (the reporter may no longer be one: it held the keys under an older view).
     */
    private void resolve(Member reporter, Coordinator.Held h, long now) {
        Transaction tx = new Transaction(h.tx(), null, new ArrayList<>(h.keys()), 0, Transaction.State.RESOLVING);
        tx.ridText = h.rid();
        tx.refusalExpected = true;
        Map<Long, Member> replicas = new LinkedHashMap<>();
        replicas.put(reporter.id(), reporter);
        Placement p = c.placement();
        for (String key : h.keys()) for (Placement.Replica r : p.writeSet(key)) replicas.putIfAbsent(r.member().id(), r.member());
        // The replicas that committed it may no longer be replicas of its keys: a move since can
        // have taken the keys to members that got them by a copy, and know nothing of it
        // (simulation seed 5139530172518). Every other member is asked too, and waited for while
        // it is one, down or not: the one that committed may be down right now (simulation seed
        // 9100000000872). One down for good does not hold the keys for ever: it does not stop its
        // own eviction (--heal-after), and once evicted its silence counts as not knowing.
        Set<Long> others = new HashSet<>();
        for (var vm : p.view().members()) {
            Member m = vm.member();
            if (replicas.containsKey(m.id())) continue;
            replicas.put(m.id(), m);
            others.add(m.id());
        }
        // So are the followers the view no longer counts (evicted, or gone from the ring): one
        // dropped its keys, but remembers the outcomes it applied, and may be the replica that
        // committed it (simulation seed 8000000001294). Whether one is up is not watched: one
        // that does not answer is taken as not knowing.
        for (Member m : former(p.view())) {
            if (replicas.containsKey(m.id())) continue;
            replicas.put(m.id(), m);
            others.add(m.id());
        }
        for (Member r : replicas.values()) tx.slots.add(new Transaction.Slot(r, List.of(), SlotState.HELD));
        asking.put(tx.id, new Asking(others));
        c.trackInherited(tx);
        for (Transaction.Slot s : tx.slots) ask(tx, s.member, now);
    }

    /** The followers a view names but does not count as members: base members gone, and those evicted. */
    private static List<Member> former(View v) {
        List<Member> out = new ArrayList<>();
        for (Member m : v.base()) if (v.gone().contains(m.id()) && v.member(m.id()) == null) out.add(m);
        for (var e : v.evicted()) {
            Member m = Member.of(e.host(), e.port());
            if (v.member(m.id()) == null && !out.contains(m)) out.add(m);
        }
        return out;
    }

    private void ask(Transaction tx, Member m, long now) {
        c.effect(new Effect.QueryOutcome(tx.id, m, now + c.settings().phase2TimeoutMillis()));
    }

    /**
     * True while the transaction is being resolved and the member has not answered yet, unless it
     * was asked only as "any other member" and is down: its eviction is what ends the wait for it.
     */
    boolean awaits(TxId id, long memberId) {
        Asking a = asking.get(id);
        Transaction tx = c.transaction(id);
        if (a == null || tx == null || tx.slot(memberId) == null || a.said.containsKey(memberId)) return false;
        return !a.extra.contains(memberId) || c.isUp(memberId);
    }

    /** A replica's answer about a transaction being resolved. */
    void outcome(TxId id, long memberId, Coordinator.OutcomeReply reply, long now) {
        Transaction tx = c.transaction(id);
        Asking q = asking.get(id);
        if (tx == null || q == null || tx.state != Transaction.State.RESOLVING || tx.slot(memberId) == null) return;
        Member m = tx.slot(memberId).member; // (a former member is asked too, and known only here)
        if (reply.outcome() == Coordinator.Outcome.UNREACHABLE) {
            // No answer: asked again while it is a member. A former member (evicted, or one
            // asked as such) is not waited for: its silence is kept, and counts as not knowing.
            if (!q.extra.contains(m.id()) || c.isMember(m.id())) {
                c.askAgainLater(() -> { if (tx.state == Transaction.State.RESOLVING) ask(tx, m, c.now()); });
                return;
            }
        }
        Map<Long, Coordinator.OutcomeReply> said = q.said;
        said.put(m.id(), reply);
        if (reply.outcome() == Coordinator.Outcome.COMMITTED) {
            Set<Long> extra = q.extra;
            asking.remove(id);
            tx.state = Transaction.State.COMMITTED;
            // The version it committed at there (0: too long ago to know; a new one above all
            // then, the same for every replica still to commit it).
            tx.version = reply.version() > 0 ? reply.version() : c.nextVersion(0);
            c.observeVersion(tx.version);
            c.countCommit();
            for (Transaction.Slot s : tx.slots) {
                Coordinator.OutcomeReply a = said.get(s.member.id());
                // One asked only as "any other member" that has not answered holds none of its keys.
                if (a == null ? !extra.contains(s.member.id()) : a.outcome() == Coordinator.Outcome.PREPARED) c.writes().due(tx, s, now);
                else c.writes().settle(tx, s);
                if (a != null && a.outcome() == Coordinator.Outcome.ABORTED) {
                    c.effect(new Effect.Alarm(tx.id + " is committed on one replica and aborted on " + s.member.address()));
                }
            }
            c.settleIfDone(tx, now);
            return;
        }
        for (Transaction.Slot s : tx.slots) if (!said.containsKey(s.member.id())) return; // wait for the rest
        // Every replica and every other member that was up answered, and none committed: no leader
        // can have acknowledged it. Abort.
        asking.remove(id);
        tx.state = Transaction.State.ABORTING;
        for (Transaction.Slot s : tx.slots) if (said.get(s.member.id()).outcome() != Coordinator.Outcome.PREPARED) c.writes().settle(tx, s);
        recordAbort(tx, now);
    }
}
