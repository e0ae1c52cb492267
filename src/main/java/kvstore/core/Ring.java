package kvstore.core;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * Placement, exactly as SPEC.md section 4 says: an immutable consistent-hash ring.
 *
 * <p>With one point per follower ({@code vnodes == 1}, the seed's scheme) a key's primary is the
 * first follower, in ascending unsigned id order, whose id is greater than strhash64(key),
 * wrapping to the lowest; the replicas are the primary and its next {@code redundancy - 1}
 * successors. With V points per follower the replicas are the first {@code redundancy} distinct
 * followers met walking up the ring from the key's hash. The first rule is the second with V = 1,
 * so one walk serves both.
 */
public final class Ring {
    private final List<Member> members;
    private final int redundancy;
    private final int vnodes;
    private final long[] points;      // sorted as unsigned
    private final Member[] owners;    // owners[i] owns points[i]

    public Ring(List<Member> members, int redundancy, int vnodes) {
        if (vnodes < 1) throw new IllegalArgumentException("vnodes must be at least 1");
        if (redundancy < 1) throw new IllegalArgumentException("redundancy must be at least 1");
        this.members = List.copyOf(members);
        this.redundancy = Math.min(redundancy, Math.max(1, members.size()));
        this.vnodes = vnodes;
        int n = members.size() * vnodes;
        long[][] pairs = new long[n][];
        Member[] byIndex = this.members.toArray(new Member[0]);
        int k = 0;
        for (int m = 0; m < byIndex.length; m++) {
            Member member = byIndex[m];
            for (int i = 0; i < vnodes; i++) {
                long id = vnodes == 1 ? member.id() : Hash.vnodeId(member.host(), member.port(), i);
                pairs[k++] = new long[] {id, m};
            }
        }
        Arrays.sort(pairs, (a, b) -> Long.compareUnsigned(a[0], b[0]));
        points = new long[n];
        owners = new Member[n];
        for (int i = 0; i < n; i++) {
            points[i] = pairs[i][0];
            owners[i] = byIndex[(int) pairs[i][1]];
        }
    }

    public List<Member> members() {
        return members;
    }

    /** The redundancy in effect: the configured one, cut to the number of followers. */
    public int redundancy() {
        return redundancy;
    }

    public int vnodes() {
        return vnodes;
    }

    public List<Member> replicas(String key) {
        return replicasOfHash(Hash.strhash64(key));
    }

    /** The replicas of a key whose strhash64 is {@code hash}, primary first. */
    public List<Member> replicasOfHash(long hash) {
        if (points.length == 0) return List.of();
        return Collections.unmodifiableList(replicasFrom(firstGreater(hash)));
    }

    /** The first {@code redundancy} distinct followers met walking up the ring from point {@code start}. */
    private List<Member> replicasFrom(int start) {
        List<Member> out = new ArrayList<>(redundancy);
        for (int step = 0; step < points.length && out.size() < redundancy; step++) {
            Member m = owners[(start + step) % points.length];
            if (!out.contains(m)) out.add(m);
        }
        return out;
    }

    /**
     * True when the member is among the replicas of keys with this hash: {@link #replicasOfHash}
     * without building a list. A follower asks it of every key it holds when a move ends (which
     * keys went away), so the answer per arc of the ring is computed once per member and kept.
     */
    public boolean isReplica(long memberId, long hash) {
        if (points.length == 0) return false;
        Arcs a = arcs;
        if (a == null || a.memberId != memberId) arcs = a = new Arcs(memberId, arcsOf(memberId));
        return a.replica[firstGreater(hash)];
    }

    /** For each arc (keys whose first greater point is points[i]), whether the member is one of its replicas. */
    private record Arcs(long memberId, boolean[] replica) {}

    /** The arcs of the last member asked about (nearly always the follower itself); immutable, so safe to share. */
    private volatile Arcs arcs;

    private boolean[] arcsOf(long memberId) {
        boolean[] out = new boolean[points.length];
        for (int start = 0; start < points.length; start++) {
            for (Member m : replicasFrom(start)) if (m.id() == memberId) out[start] = true;
        }
        return out;
    }

    /** Index of the first point strictly greater than h (unsigned), or 0 when we wrap. */
    private int firstGreater(long h) {
        int lo = 0, hi = points.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(points[mid], h) > 0) hi = mid; else lo = mid + 1;
        }
        return lo == points.length ? 0 : lo;
    }

    /** Every point on the ring in ascending order, for the web client's drawing. */
    public List<long[]> pointsWithOwners() {
        List<long[]> out = new ArrayList<>(points.length);
        for (int i = 0; i < points.length; i++) out.add(new long[] {points[i], owners[i].id()});
        return out;
    }
}
