package kvstore.core.view;

import kvstore.core.Member;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The membership under a number that only grows (SPEC.md section 10; PROTOCOL.md, "Views and
 * moving keys"). It is the whole truth about who holds which keys, and the only thing both the
 * leader and every follower write down about the cluster's shape: the leader fsyncs each view
 * before it acts on it, and followers learn and log it from the leader's messages.
 *
 * <h2>Two rings</h2>
 * {@link #base} is the ring of the last complete view: on it, every replica of every key holds
 * the key's latest committed value, except the members in {@link #gone} (evicted while in the
 * base: their copies are lost, the others are not). {@link #members} is the target: the ring
 * the cluster is moving to ({@code draining} members are in the list but not on the target
 * ring). When base and target are the same set, nothing moves. Otherwise every target member
 * that gains keys copies them from a current replica, in the copy round {@link #copyRound}
 * (0 while no copy may start yet), and is listed in {@link #current} once it has them all.
 * When every gainer is current, the next view makes the target the base ({@code settled}
 * false), and once that view is durable on a majority, the view after it says {@code settled}:
 * only then may members delete the keys they no longer hold.
 *
 * @param number     grows by one with every change, never reused
 * @param epoch      the leader epoch that made this view: a newer leader's views win
 * @param redundancy the configured replicas per key (a ring cuts it to its member count)
 * @param vnodes     points per member on the ring
 * @param capacity   the most members (not draining) the leader accepts
 * @param base       the ring of the last complete view
 * @param members    the target members, with their state
 * @param gone       ids of base members that were evicted: never read, written or copied from
 * @param current    ids of target members, not in the base, that have copied every key they gain
 * @param copyRound  the view number in which the current copy round began, or 0
 * @param settled    base equals target and that is durable on a majority: drop what moved away
 * @param formed     the first {@code capacity} followers have registered: the cluster has served,
 *                   so a new member must be filled before it serves (before, it joins the base
 *                   directly: there is nothing to copy yet)
 * @param evicted    addresses evicted and not yet back
 * @param earlier    rings of moves changed midway, each with the members that had copied every
 *                   key it gave them: copy sources for those keys until the move completes
 *                   (not read from: they may miss writes since), so a change during a move
 *                   never strands keys whose only copies are on its gainers
 */
public record View(long number, long epoch, int redundancy, int vnodes, int capacity,
                   List<Member> base, List<ViewMember> members, Set<Long> gone, Set<Long> current,
                   long copyRound, boolean settled, boolean formed, List<Evicted> evicted, List<Holders> earlier) {

    public View {
        base = List.copyOf(base);
        members = List.copyOf(members);
        gone = Set.copyOf(gone);
        current = Set.copyOf(current);
        evicted = List.copyOf(evicted);
        earlier = List.copyOf(earlier);
    }

    /** The views before this record gained {@code earlier}: no earlier holders. */
    public View(long number, long epoch, int redundancy, int vnodes, int capacity, List<Member> base, List<ViewMember> members,
                Set<Long> gone, Set<Long> current, long copyRound, boolean settled, boolean formed, List<Evicted> evicted) {
        this(number, epoch, redundancy, vnodes, capacity, base, members, gone, current, copyRound, settled, formed, evicted, List.of());
    }

    /** A view before any follower registered. */
    public static View empty(int redundancy, int vnodes, int capacity) {
        return new View(0, 0, redundancy, vnodes, capacity, List.of(), List.of(), Set.of(), Set.of(), 0, true, false, List.of(), List.of());
    }

    /** A member of the target, with what the view says about it. */
    public ViewMember member(long id) {
        for (ViewMember m : members) if (m.member().id() == id) return m;
        return null;
    }

    public ViewMember memberAt(String host, int port) {
        for (ViewMember m : members) if (m.member().host().equals(host) && m.member().port() == port) return m;
        return null;
    }

    /** A member of the base that is not gone: it holds its base keys' latest values. */
    public boolean inBase(long id) {
        if (gone.contains(id)) return false;
        for (Member m : base) if (m.id() == id) return true;
        return false;
    }

    /** Members on the target ring: every member that is not draining. */
    public List<Member> targetMembers() {
        List<Member> out = new ArrayList<>(members.size());
        for (ViewMember m : members) if (!m.draining()) out.add(m.member());
        return out;
    }

    /** How many members count against the capacity (SPEC: members that are not draining). */
    public int memberCount() {
        int n = 0;
        for (ViewMember m : members) if (!m.draining()) n++;
        return n;
    }

    /**
     * Keys are moving: the target ring differs from the base ring, or a base member is gone (its
     * keys need new replicas even if it is back on the target ring: it came back empty).
     */
    public boolean moving() {
        if (!gone.isEmpty()) return true;
        Set<Long> b = new HashSet<>();
        for (Member m : base) b.add(m.id());
        Set<Long> t = new HashSet<>();
        for (Member m : targetMembers()) t.add(m.id());
        return !b.equals(t);
    }

    /** What SPEC.md section 10 calls a member's state: joining, up or draining. */
    public String state(long id) {
        ViewMember m = member(id);
        if (m == null) return "evicted";
        if (m.draining()) return "draining";
        if (!inBase(id) && !current.contains(id)) return "joining";
        return "up";
    }

    public Evicted evictedAt(String host, int port) {
        for (Evicted e : evicted) if (e.host().equals(host) && e.port() == port) return e;
        return null;
    }

    /* --- Building the next view (each returns a new view one number up) --- */

    public View next(long epoch) {
        return new View(number + 1, Math.max(this.epoch, epoch), redundancy, vnodes, capacity, base, members, gone, current,
                copyRound, settled, formed, evicted, earlier);
    }

    /** The same view under another number (a new leader goes above a number it finds). */
    public View withNumber(long n) {
        return new View(n, epoch, redundancy, vnodes, capacity, base, members, gone, current, copyRound, settled, formed, evicted, earlier);
    }

    public View withMembers(List<ViewMember> ms) {
        return new View(number, epoch, redundancy, vnodes, capacity, base, ms, gone, current, copyRound, settled, formed, evicted, earlier);
    }

    public View withBase(List<Member> b, Set<Long> g) {
        return new View(number, epoch, redundancy, vnodes, capacity, b, members, g, current, copyRound, settled, formed, evicted, earlier);
    }

    public View withCurrent(Set<Long> c) {
        return new View(number, epoch, redundancy, vnodes, capacity, base, members, gone, c, copyRound, settled, formed, evicted, earlier);
    }

    public View withCopyRound(long round) {
        return new View(number, epoch, redundancy, vnodes, capacity, base, members, gone, current, round, settled, formed, evicted, earlier);
    }

    public View withSettled(boolean s) {
        return new View(number, epoch, redundancy, vnodes, capacity, base, members, gone, current, copyRound, s, formed, evicted, earlier);
    }

    public View withCapacity(int c) {
        return new View(number, epoch, redundancy, vnodes, c, base, members, gone, current, copyRound, settled, formed, evicted, earlier);
    }

    public View withFormed(boolean f) {
        return new View(number, epoch, redundancy, vnodes, capacity, base, members, gone, current, copyRound, settled, f, evicted, earlier);
    }

    public View withEarlier(List<Holders> h) {
        return new View(number, epoch, redundancy, vnodes, capacity, base, members, gone, current, copyRound, settled, formed, evicted, h);
    }

    /**
     * The addresses evicted, oldest first; only the newest {@link #MAX_EVICTED} are kept (every
     * view carries the list, in the logs and on the wire, and a cluster that churns through
     * addresses would grow it for ever). A follower reads its own entry when it learns it is out.
     */
    public View withEvicted(List<Evicted> e) {
        if (e.size() > MAX_EVICTED) e = List.copyOf(e.subList(e.size() - MAX_EVICTED, e.size()));
        return new View(number, epoch, redundancy, vnodes, capacity, base, members, gone, current, copyRound, settled, formed, e, earlier);
    }

    public static final int MAX_EVICTED = 64;

    /** Orders views: a newer leader's view wins, then the higher number. */
    public boolean newerThan(View other) {
        if (other == null) return true;
        if (epoch != other.epoch) return epoch > other.epoch;
        return number > other.number;
    }
}
