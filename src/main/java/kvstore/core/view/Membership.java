package kvstore.core.view;

import kvstore.core.Errors;
import kvstore.core.Member;
import kvstore.core.Ring;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The leader's rules for changing the membership (SPEC.md section 10): registration, eviction,
 * draining, capacity, and the steps of a move (copy round, a gainer current, completion,
 * settling). Each rule takes the latest view and answers either the next view (one number up,
 * for the caller to make durable before acting on it) or the error to answer. Pure: no clock
 * (times come in as parameters), no I/O.
 */
public final class Membership {
    /** Past this many earlier holder rings (each restart of a move may add one), those no key needs are dropped. */
    static final int MAX_EARLIER = 8;

    private Membership() {}

    /** The outcome of a rule: a new view (or null when nothing changes), or an error body and a reason for the log. */
    public record Change(View view, String error, String reason) {
        static Change to(View v) { return new Change(v, null, null); }
        static Change none() { return new Change(null, null, null); }
        static Change refused(String error, String reason) { return new Change(null, error, reason); }
        public boolean ok() { return error == null; }
    }

    /* --- Registration --- */

    /**
     * A follower registers (SPEC.md section 2 {@code POST /register}, and section 10 joining).
     * The same follower again is a success with no change. The same address with another
     * identity while that address is a member is refused (its data directory was lost or
     * swapped: PROTOCOL.md, "Node identity"). A new address joins while the members are fewer
     * than the capacity: straight into the base while the cluster forms (nothing to copy yet),
     * else as a joining member that is filled before it serves.
     */
    public static Change register(View v, String host, int port, String identity, long epoch, long nowMillis) {
        return register(v, host, port, identity, epoch, nowMillis, Set.of());
    }

    /** As above; {@code down}: members not answering now (keys only they hold must not be moved away from the others). */
    public static Change register(View v, String host, int port, String identity, long epoch, long nowMillis, Collection<Long> down) {
        ViewMember known = v.memberAt(host, port);
        if (known != null) {
            if (identity == null || identity.equals(known.identity())) return Change.none();
            if (known.identity() == null) return Change.to(replace(v.next(epoch), known, known.withIdentity(identity)));
            return Change.refused(Errors.UNABLE, "identity mismatch: " + host + ":" + port + " registered with data directory "
                    + known.identity() + " but now has " + identity + " (its data directory was lost or swapped)");
        }
        if (v.memberCount() >= v.capacity()) return Change.refused(Errors.CAPACITY_FULL, null);
        View n = v.next(epoch);
        Member m = Member.of(host, port);
        List<ViewMember> ms = new ArrayList<>(v.members());
        ms.add(new ViewMember(m, identity, false, n.number()));
        List<Evicted> ev = new ArrayList<>(v.evicted());
        ev.removeIf(e -> e.host().equals(host) && e.port() == port);
        n = n.withMembers(ms).withEvicted(ev);
        if (!v.formed()) {
            List<Member> base = new ArrayList<>(v.base());
            base.add(m);
            n = n.withBase(base, v.gone()).withFormed(ms.size() >= v.capacity());
            return Change.to(n.withSettled(!n.moving()));
        }
        return unlessStranding(restartMove(v, n), down, "registering " + host + ":" + port);
    }

    /**
     * A change during a move that would leave some keys with no current replica (their only
     * holders are gainers the new target takes them from) waits: refused now, it is asked again
     * (a follower's registrar retries) once the move under way completes.
     */
    private static Change unlessStranding(View n, Collection<Long> down, String what) {
        if (new Placement(n).everyKeyHasACurrentReplica() && new Placement(n).survives(Long.MIN_VALUE, down)) return Change.to(n);
        return Change.refused(Errors.UNABLE, what + " now would leave keys with no current replica: wait until the move under way completes");
    }

    /* --- Admin requests --- */

    /**
     * Evicts a member now. {@code rejoin}: it may register again at once (evicted for not
     * answering); otherwise it stays out until restarted. Refused when it would leave some key
     * with no current replica that is up: its keys would be lost (a drain moves them first).
     */
    public static Change evict(View v, String host, int port, boolean rejoin, Collection<Long> down, long epoch, long nowMillis) {
        return evict(v, host, port, rejoin, down, false, epoch, nowMillis);
    }

    /** As above; {@code quorum} (cluster mode): also refused when fewer than a majority of the members left would answer. */
    public static Change evict(View v, String host, int port, boolean rejoin, Collection<Long> down, boolean quorum, long epoch, long nowMillis) {
        ViewMember m = v.memberAt(host, port);
        if (m == null) return Change.refused(Errors.INVALID_REQUEST, "no member " + host + ":" + port);
        View n = v.next(epoch);
        List<ViewMember> ms = new ArrayList<>(v.members());
        ms.remove(m);
        Set<Long> gone = new HashSet<>(v.gone());
        if (v.inBase(m.member().id())) gone.add(m.member().id());
        List<Evicted> ev = new ArrayList<>(v.evicted());
        ev.removeIf(e -> e.host().equals(host) && e.port() == port);
        ev.add(new Evicted(host, port, nowMillis, rejoin));
        n = restartMove(v, n.withMembers(ms).withBase(v.base(), gone).withEvicted(ev));
        // Judged on the view after the change (a move under way may lose gainers' progress).
        Set<Long> others = new HashSet<>(down);
        others.remove(m.member().id());
        if (quorum && !others.isEmpty() && !majorityUp(n, others)) {
            return Change.refused(Errors.INVALID_REQUEST, "evicting " + m.member().address() + " would leave fewer than a majority"
                    + " of the members answering (a standby could not take office); bring one back or evict one that is down");
        }
        if (!new Placement(n).survives(m.member().id(), others)) {
            return Change.refused(Errors.INVALID_REQUEST, "evicting " + m.member().address()
                    + " would leave keys with no current replica that is up; bring a replica back or drain it instead");
        }
        return Change.to(n);
    }

    /** Moves a member's keys to the others first, then evicts it (at completion). */
    public static Change drain(View v, String host, int port, long epoch) {
        return drain(v, host, port, epoch, Set.of());
    }

    public static Change drain(View v, String host, int port, long epoch, Collection<Long> down) {
        return drain(v, host, port, epoch, down, false);
    }

    /** As above; {@code quorum} (cluster mode): refused when fewer than a majority of the members left would answer. */
    public static Change drain(View v, String host, int port, long epoch, Collection<Long> down, boolean quorum) {
        ViewMember m = v.memberAt(host, port);
        if (m == null) return Change.refused(Errors.INVALID_REQUEST, "no member " + host + ":" + port);
        if (m.draining()) return Change.none();
        if (v.memberCount() - 1 < v.redundancy()) {
            return Change.refused(Errors.INVALID_REQUEST, "draining " + m.member().address() + " would leave "
                    + (v.memberCount() - 1) + " members, fewer than the redundancy " + v.redundancy());
        }
        View n = v.next(epoch);
        Set<Long> staying = new HashSet<>(down);
        staying.remove(m.member().id());
        List<ViewMember> rest = new ArrayList<>(v.members());
        rest.remove(m);
        if (quorum && !staying.isEmpty() && !majorityUp(v.withMembers(rest), staying)) {
            return Change.refused(Errors.UNABLE, "draining " + m.member().address() + " would leave fewer than a majority of the"
                    + " members answering: bring the members that are down back, or evict them, first");
        }
        return unlessStranding(restartMove(v, replace(n, m, m.withDraining(true))), down, "draining " + m.member().address());
    }

    /**
     * More than half of the view's members answer. A new leader takes office only with a
     * majority of the members (PROTOCOL.md, "Epochs"): a change that leaves fewer, while others
     * are down or have lost their disks, could leave the cluster unable to elect one.
     */
    private static boolean majorityUp(View n, Collection<Long> down) {
        int up = 0;
        for (ViewMember x : n.members()) if (!down.contains(x.member().id())) up++;
        // Out of every member, a draining one too: each is a voter when a leader takes office
        // (memberCount() leaves draining members out; simulation seed 7500000000484).
        return up * 2 > n.members().size();
    }

    /** The most members the leader accepts; never below the redundancy or the members it has. */
    public static Change capacity(View v, int n, long epoch) {
        if (n < v.redundancy() || n < v.memberCount() || n > 1000) {
            return Change.refused(Errors.INVALID_REQUEST, "capacity " + n + " is below the redundancy or the members (" + v.memberCount() + ")");
        }
        if (n == v.capacity()) return Change.none();
        return Change.to(v.next(epoch).withCapacity(n));
    }

    /* --- The steps of a move --- */

    /** Every write begun under an older view has settled: gainers may start copying. */
    public static Change startCopy(View v, long epoch) {
        if (!v.moving() || v.copyRound() != 0) return Change.none();
        View n = v.next(epoch);
        return Change.to(n.withCopyRound(n.number()));
    }

    /** A gainer (a new member, or one that gains keys from a leaving one) has copied everything of {@code round}. */
    public static Change copied(View v, long memberId, long round, long epoch) {
        if (round == 0 || round != v.copyRound() || v.current().contains(memberId)) return Change.none();
        if (!new Placement(v).gainers().contains(memberId)) return Change.none();
        Set<Long> cur = new HashSet<>(v.current());
        cur.add(memberId);
        return Change.to(v.next(epoch).withCurrent(cur));
    }

    /** True when every gainer holds everything: the move may complete. */
    public static boolean complete(View v) {
        if (!v.moving() || v.copyRound() == 0) return false;
        for (long g : new Placement(v).gainers()) if (!v.current().contains(g)) return false;
        return true;
    }

    /** The move is done: the target becomes the base; drained members are evicted. */
    public static Change finishMove(View v, long epoch, long nowMillis) {
        return finishMove(v, epoch, nowMillis, Set.of(), false);
    }

    /**
     * As above, but not while some key would be left with no replica that answers: the members
     * {@code down} now (a gainer that crashed right after its copy, say) would be its only ones
     * once the old replicas drop it. The move waits until they answer or are evicted.
     * With {@code quorum} (cluster mode), nor while fewer than a majority of the members left
     * would answer. A drain's completion takes a member out of the count: with two of five
     * members down, completing it would leave a view of four that two cannot log, and no later
     * change (an eviction of the two) could ever be acted on. Waiting keeps the view of five, in
     * which the three that answer can evict the two that do not.
     */
    public static Change finishMove(View v, long epoch, long nowMillis, Collection<Long> down, boolean quorum) {
        if (!complete(v)) return Change.none();
        View done = completed(v, epoch, nowMillis);
        if (!down.isEmpty() && !new Placement(done).survives(Long.MIN_VALUE, down)) return Change.none();
        if (quorum && !down.isEmpty() && !majorityUp(done, down)) return Change.none();
        return Change.to(done);
    }

    /** The view once the move under way completes (the target as the base). */
    public static View completed(View v, long epoch, long nowMillis) {
        View n = v.next(epoch);
        List<ViewMember> ms = new ArrayList<>();
        List<Evicted> ev = new ArrayList<>(v.evicted());
        for (ViewMember m : v.members()) {
            if (m.draining()) ev.add(new Evicted(m.member().host(), m.member().port(), nowMillis, false));
            else ms.add(m);
        }
        n = n.withMembers(ms).withEvicted(ev);
        List<Member> base = new ArrayList<>();
        for (ViewMember m : ms) base.add(m.member());
        return n.withBase(base, Set.of()).withCurrent(Set.of()).withCopyRound(0).withEarlier(List.of()).withSettled(false);
    }

    /** The completion is durable where a new leader would find it: members may drop what moved away. */
    public static Change settle(View v, long epoch) {
        if (v.moving() || v.settled()) return Change.none();
        return Change.to(v.next(epoch).withSettled(true));
    }

    /* --- Helpers --- */

    /**
     * A change while keys move: the copy starts over under the new target, but a gainer that was
     * current stays current if every key the new view has it gain is one it already holds the
     * latest value of (as a base replica or a current gainer of the old view) — else a move
     * changed midway could leave keys whose only holders are gainers no longer counted.
     */
    private static View restartMove(View old, View n) {
        Placement before = new Placement(old);
        Placement after = new Placement(n.withCurrent(Set.of()));
        Set<Long> keep = new HashSet<>();
        for (long g : old.current()) {
            if (n.member(g) == null || n.gone().contains(g)) continue;
            boolean holdsAll = true;
            for (long h : Placement.representatives(before, after)) {
                if (after.gains(g, h) && !before.isCurrent(g, h)) {
                    holdsAll = false;
                    break;
                }
            }
            if (holdsAll) keep.add(g);
        }
        // Every old current gainer stays a holder of what the old target gave it (a kept one too:
        // the new target may give some of those keys to others), as do earlier holders — each only
        // while it stays in the write sets of all those keys, so that it still has their latest
        // values (an evicted one, or one whose keys partly moved away, is dropped).
        List<Holders> earlier = new ArrayList<>(old.earlier());
        if (!old.current().isEmpty()) earlier.add(new Holders(old.targetMembers(), old.current()));
        Placement next = new Placement(n.withCurrent(Set.of()).withEarlier(List.of()));
        List<Holders> pruned = new ArrayList<>();
        for (Holders h : earlier) {
            Ring ring = new Ring(h.ring(), n.redundancy(), n.vnodes());
            Set<Long> still = new HashSet<>();
            for (long id : h.holders()) if (n.member(id) != null && staysInWriteSets(id, ring, next)) still.add(id);
            if (!still.isEmpty()) pruned.add(new Holders(h.ring(), still));
        }
        View r = n.withCurrent(keep).withCopyRound(0);
        r = r.withEarlier(trimEarlier(r, pruned));
        return r.withSettled(!r.moving() && n.settled());
    }

    /**
     * Past {@link #MAX_EARLIER} rings, drops the oldest ones no key needs: rings without which
     * every member still counts as current for the same keys. A ring that alone makes some member
     * current for some keys stays however many there are (so the list is bounded by the ring's
     * ranges, not by a count): dropping it would leave those keys with fewer current replicas than
     * they have, and then refuse every eviction that needs them (simulation seed 8200000000768).
     */
    static List<Holders> trimEarlier(View v, List<Holders> earlier) {
        List<Holders> out = new ArrayList<>(earlier);
        for (int i = 0; out.size() > MAX_EARLIER && i < out.size(); ) {
            List<Holders> without = new ArrayList<>(out);
            without.remove(i);
            if (sameCurrentReplicas(v.withEarlier(out), v.withEarlier(without))) out = without;
            else i++;
        }
        return out;
    }

    /** Every replica current in {@code a} for some keys is current for them in {@code b} too. */
    private static boolean sameCurrentReplicas(View a, View b) {
        Placement pa = new Placement(a);
        Placement pb = new Placement(b);
        for (long h : Placement.representatives(pa)) {
            for (Placement.Replica r : pa.writeSetOfHash(h)) if (r.current() && !pb.isCurrent(r.member().id(), h)) return false;
        }
        return true;
    }

    /** True when every key {@code ring} gives the member is one whose write set in {@code next} includes it. */
    private static boolean staysInWriteSets(long id, Ring ring, Placement next) {
        TreeSet<Long> pts = new TreeSet<>(Long::compareUnsigned);
        for (long[] x : ring.pointsWithOwners()) pts.add(x[0]);
        pts.addAll(Placement.representatives(next));
        for (long h : pts) {
            boolean inRing = false;
            for (Member m : ring.replicasOfHash(h)) inRing |= m.id() == id;
            if (!inRing) continue;
            boolean inWriteSet = false;
            for (Placement.Replica r : next.writeSetOfHash(h)) inWriteSet |= r.member().id() == id;
            if (!inWriteSet) return false;
        }
        return true;
    }

    private static View replace(View v, ViewMember old, ViewMember with) {
        List<ViewMember> ms = new ArrayList<>(v.members());
        ms.set(ms.indexOf(old), with);
        return v.withMembers(ms);
    }
}
