package kvstore.core.view;

import kvstore.core.Hash;
import kvstore.core.Member;
import kvstore.core.Ring;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A {@link View} with its two rings built, answering the questions both roles ask of it
 * (PROTOCOL.md, "Views and moving keys"):
 * <ul>
 *   <li>{@link #writeSet}: every replica a write of the key must prepare on — the base replicas
 *       that are not gone and the target replicas — and, for each, whether it is current
 *       (checks conditions) or still filling (takes the write blind);</li>
 *   <li>{@link #readSet}: the replicas that hold the key's latest committed value, in the order
 *       to try them;</li>
 *   <li>{@link #gainers}: target members that gain keys they do not hold yet;</li>
 *   <li>{@link #copySourceFor}: which member a gainer copies a key from.</li>
 * </ul>
 * Immutable; building one costs two rings, so holders keep it while the view lasts.
 */
public final class Placement {
    private static final double TWO_TO_64 = 18446744073709551616.0;
    private final View view;
    private final Ring base;
    private final Ring target;
    private final List<Ring> earlier = new ArrayList<>();
    /** The view's gone members as an array: {@link #holds} asks it of every key a member holds (a set's lookup boxed each id). */
    private final long[] gone;

    public Placement(View view) {
        this.view = view;
        this.gone = view.gone().stream().mapToLong(Long::longValue).toArray();
        this.base = new Ring(view.base(), view.redundancy(), view.vnodes());
        this.target = new Ring(view.targetMembers(), view.redundancy(), view.vnodes());
        for (Holders h : view.earlier()) earlier.add(new Ring(h.ring(), view.redundancy(), view.vnodes()));
    }

    public View view() { return view; }

    public Ring baseRing() { return base; }

    public Ring targetRing() { return target; }

    /** One replica in a write: who, and whether it holds the key's latest value (it checks conditions). */
    public record Replica(Member member, boolean current) {}

    public List<Replica> writeSet(String key) {
        return writeSetOfHash(Hash.strhash64(key));
    }

    public List<Replica> writeSetOfHash(long hash) {
        List<Member> b = base.replicasOfHash(hash);
        List<Member> t = target.replicasOfHash(hash);
        List<Replica> out = new ArrayList<>(b.size() + 1);
        for (Member m : b) if (!view.gone().contains(m.id())) out.add(new Replica(m, true));
        for (Member m : t) {
            if (b.contains(m) && !view.gone().contains(m.id())) continue;
            out.add(new Replica(m, view.current().contains(m.id()) || earlierHolds(m.id(), hash)));
        }
        return out;
    }

    /**
     * True when an earlier ring of a restarted move (see {@link View#earlier}) says the member
     * holds keys with this hash: it had them all then and has been in their write sets since.
     */
    public boolean earlierHolds(long memberId, long hash) {
        for (int i = 0; i < earlier.size(); i++) {
            if (!view.earlier().get(i).holders().contains(memberId)) continue;
            for (Member m : earlier.get(i).replicasOfHash(hash)) if (m.id() == memberId) return true;
        }
        return false;
    }

    /** The replicas holding the key's latest committed value: base (not gone) first, then current gainers. */
    public List<Member> readSet(String key) {
        return readSetOfHash(Hash.strhash64(key));
    }

    public List<Member> readSetOfHash(long hash) {
        List<Member> out = new ArrayList<>(3);
        for (Replica r : writeSetOfHash(hash)) if (r.current()) out.add(r.member());
        return out;
    }

    /** True when {@code memberId} holds the latest committed value of keys with this hash. */
    public boolean isCurrent(long memberId, long hash) {
        for (Replica r : writeSetOfHash(hash)) if (r.member().id() == memberId) return r.current();
        return false;
    }

    /** True when the member is in the key's base or target replicas: it may hold the key. */
    public boolean holds(long memberId, long hash) {
        return base.isReplica(memberId, hash) && !isGone(memberId) || target.isReplica(memberId, hash);
    }

    private boolean isGone(long memberId) {
        for (long g : gone) if (g == memberId) return true;
        return false;
    }

    /** True when the target ring gives the member keys with this hash that the base ring does not. */
    public boolean gains(long memberId, long hash) {
        boolean inTarget = false;
        for (Member m : target.replicasOfHash(hash)) if (m.id() == memberId) inTarget = true;
        if (!inTarget) return false;
        if (earlierHolds(memberId, hash)) return false;
        if (view.gone().contains(memberId)) return true; // back after an eviction: it holds nothing
        for (Member m : base.replicasOfHash(hash)) if (m.id() == memberId) return false;
        return true;
    }

    /**
     * Target members that gain some keys. The replica sets of both rings change only at ring
     * points, so one hash per point of either ring covers every key.
     */
    public Set<Long> gainers() {
        Set<Long> out = new HashSet<>();
        for (long h : representatives()) {
            for (Member m : target.replicasOfHash(h)) if (gains(m.id(), h)) out.add(m.id());
        }
        return out;
    }

    /**
     * Ranges with no current replica a gainer could copy from, given the members that cannot
     * serve ({@code unavailable}: gone or down): true when every key still has one.
     */
    public boolean everyRangeHasASource(Collection<Long> unavailable) {
        for (long h : representatives()) {
            boolean gained = false;
            for (Member m : target.replicasOfHash(h)) gained |= gains(m.id(), h);
            if (!gained) continue;
            if (sourceOf(h, unavailable) == null) return false;
        }
        return true;
    }

    /**
     * True when every key {@code gainer} gains still has a source outside {@code skip}: a gainer
     * may give up on a source that does not answer only then. Otherwise it must wait for that
     * source, or it would declare the copy done without keys only that source holds.
     */
    public boolean sourcesCover(long gainer, Collection<Long> skip) {
        for (long h : representatives()) if (gains(gainer, h) && sourceOf(h, skip) == null) return false;
        return true;
    }

    /** True when every key has a current replica (a change that would strand keys is refused). */
    public boolean everyKeyHasACurrentReplica() {
        for (long h : representatives()) {
            List<Replica> ws = writeSetOfHash(h);
            boolean any = ws.isEmpty();
            for (Replica r : ws) any |= r.current();
            if (!any) return false;
        }
        return true;
    }

    /** True when no key would be left without a current replica if {@code leaving} were gone too. */
    public boolean survives(long leaving, Collection<Long> alsoUnavailable) {
        Set<Long> out = new HashSet<>(alsoUnavailable);
        out.add(leaving);
        for (long h : representatives()) {
            boolean any = false;
            for (Replica r : writeSetOfHash(h)) if (r.current() && !out.contains(r.member().id())) any = true;
            // No replica at all is fine only for a ring that never had one (nothing was written).
            boolean everHeld = !writeSetOfHash(h).isEmpty() || !view.base().isEmpty();
            if (everHeld && !any) return false;
        }
        return true;
    }

    /**
     * The member a gainer copies keys with this hash from: the first base replica that is neither
     * gone nor in {@code skip}, else the first current replica of it (a move changed midway can
     * leave keys whose base replicas are all gone); null when there is none.
     */
    public Member sourceOf(long hash, Collection<Long> skip) {
        for (Member m : base.replicasOfHash(hash)) {
            if (!view.gone().contains(m.id()) && !skip.contains(m.id())) return m;
        }
        for (Replica r : writeSetOfHash(hash)) if (r.current() && !skip.contains(r.member().id())) return r.member();
        return null;
    }

    /** The members a gainer may copy from: base members not gone, and current gainers. */
    public List<Member> copySources(long gainer) {
        List<Member> out = new ArrayList<>();
        for (Member m : view.base()) if (!view.gone().contains(m.id()) && m.id() != gainer) out.add(m);
        for (ViewMember m : view.members()) {
            Member x = m.member();
            boolean earlierHolder = false;
            for (Holders h : view.earlier()) earlierHolder |= h.holders().contains(x.id());
            if ((view.current().contains(x.id()) || earlierHolder) && x.id() != gainer && !out.contains(x)) out.add(x);
        }
        return out;
    }

    /** The source's filter: true when {@code source} must send the key with this hash to {@code gainer}. */
    public boolean copySourceFor(long source, long gainer, long hash, Collection<Long> skip) {
        if (!gains(gainer, hash)) return false;
        Member s = sourceOf(hash, skip);
        return s != null && s.id() == source;
    }

    /**
     * True when {@code source} has keys to send {@code gainer} ({@link #copySourceFor} holds for
     * some hash). A gainer does not ask a source that has none: it would page through its whole
     * store to say so (20,000 keys a page, about 0.6 s a million keys on this machine).
     */
    public boolean sendsAny(long source, long gainer, Collection<Long> skip) {
        for (long h : representatives()) if (copySourceFor(source, gainer, h, skip)) return true;
        return false;
    }

    /**
     * {@link #copySourceFor} for every hash at once, as a table of arcs: a source tests each key
     * it scans with a binary search over the rings' points instead of walking the rings each time.
     */
    public HashFilter copyFilter(long source, long gainer, Collection<Long> skip) {
        List<Long> pts = representatives();
        long[] starts = new long[pts.size()];
        boolean[] in = new boolean[pts.size()];
        for (int i = 0; i < starts.length; i++) {
            starts[i] = pts.get(i);
            in[i] = copySourceFor(source, gainer, starts[i], skip);
        }
        return new HashFilter(starts, in);
    }

    /**
     * A yes or no for each arc of the hash ring: arc i holds the hashes from {@code starts[i]} up
     * to the next start (unsigned; the last wraps round to the first). Every ring's replica sets
     * are alike within an arc when the starts are all of their points (see {@link #representatives}).
     */
    public static final class HashFilter {
        private final long[] starts;
        private final boolean[] in;

        HashFilter(long[] starts, boolean[] in) {
            this.starts = starts;
            this.in = in;
        }

        public boolean test(long hash) {
            if (starts.length == 0) return false;
            int lo = 0, hi = starts.length; // the first start above hash
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (Long.compareUnsigned(starts[mid], hash) > 0) hi = mid; else lo = mid + 1;
            }
            return in[lo == 0 ? starts.length - 1 : lo - 1];
        }
    }

    /**
     * The share of the hash space (0 to 1) whose keys the member gains: with keys hashed
     * uniformly, about that share of all keys moves to it (the progress estimate of a move).
     */
    public double gainedShare(long memberId) {
        List<Long> pts = representatives();
        if (pts.isEmpty()) return 0;
        double share = 0;
        for (int i = 0; i < pts.size(); i++) {
            long from = pts.get(i);
            long to = i + 1 < pts.size() ? pts.get(i + 1) : pts.get(0);
            long d = to - from; // the unsigned distance up the ring, wrapping at 2^64
            double width = pts.size() == 1 ? 1.0 : (d >= 0 ? (double) d : d + TWO_TO_64) / TWO_TO_64;
            if (gains(memberId, from)) share += width;
        }
        return share;
    }

    /** One hash per point of either ring: every distinct pair of replica sets is seen once. */
    private List<Long> representatives() {
        return representatives(this);
    }

    /** One hash per point of any ring of these placements: each range where all of them are alike is seen once. */
    public static List<Long> representatives(Placement... ps) {
        TreeSet<Long> pts = new TreeSet<>(Long::compareUnsigned);
        for (Placement p : ps) {
            for (long[] x : p.base.pointsWithOwners()) pts.add(x[0]);
            for (long[] x : p.target.pointsWithOwners()) pts.add(x[0]);
            for (Ring r : p.earlier) for (long[] x : r.pointsWithOwners()) pts.add(x[0]);
        }
        return new ArrayList<>(pts);
    }
}
