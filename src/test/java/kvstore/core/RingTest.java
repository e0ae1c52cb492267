package kvstore.core;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SPEC.md section 4: placement exactly as the seed's consistent hashing, and vnodes. */
@Timeout(10)
class RingTest {
    static final Member F1 = Member.of("127.0.0.1", 16201); // id 10749748402666635718
    static final Member F2 = Member.of("127.0.0.1", 16202); // id   696120283255143182
    static final Member F3 = Member.of("127.0.0.1", 16203); // id 13979902471517181329

    @Test
    void primaryIsFirstFollowerWithGreaterIdAndReplicasAreSuccessors() {
        Ring ring = new Ring(List.of(F1, F2, F3), 2, 1);
        // "hello" hashes to 8514701317032132957: between F2 and F1, so F1 then F3.
        assertEquals(List.of(F1, F3), ring.replicas("hello"));
        // "a" hashes to 12157170054180749580: between F1 and F3, so F3 then wrap to F2.
        assertEquals(List.of(F3, F2), ring.replicas("a"));
        // "key1" hashes to 14352291138056400322: above every id, wraps to the lowest (F2).
        assertEquals(List.of(F2, F1), ring.replicas("key1"));
        // "" hashes to 338333539836370388: below every id, so the lowest (F2) first.
        assertEquals(List.of(F2, F1), ring.replicas(""));
    }

    @Test
    void aHashEqualToAnIdGoesToTheNextFollower() {
        Ring ring = new Ring(List.of(F1, F2, F3), 1, 1);
        assertEquals(List.of(F3), ring.replicasOfHash(F1.id()));
        assertEquals(List.of(F2), ring.replicasOfHash(F3.id()));
    }

    @Test
    void redundancyAboveFollowersIsCut() {
        Ring ring = new Ring(List.of(F1, F2), 5, 1);
        assertEquals(2, ring.redundancy());
        assertEquals(2, ring.replicas("x").size());
    }

    @Test
    void vnodesUseHashSuffixedPoints() {
        Ring ring = new Ring(List.of(F1, F2, F3), 2, 4);
        assertEquals(12, ring.pointsWithOwners().size());
        long h = Hash.strhash64("hello");
        // Walk the sorted points by hand and compare.
        List<long[]> pts = ring.pointsWithOwners();
        int i = 0;
        while (i < pts.size() && Long.compareUnsigned(pts.get(i)[0], h) <= 0) i++;
        List<Long> expected = new ArrayList<>();
        for (int step = 0; expected.size() < 2; step++) {
            long owner = pts.get((i + step) % pts.size())[1];
            if (!expected.contains(owner)) expected.add(owner);
        }
        List<Long> actual = new ArrayList<>();
        for (Member m : ring.replicas("hello")) actual.add(m.id());
        assertEquals(expected, actual);
    }

    @Property(tries = 300)
    void replicasAreDistinctAndAsManyAsRedundancy(@ForAll @IntRange(min = 1, max = 8) int followers,
                                                  @ForAll @IntRange(min = 1, max = 5) int redundancy,
                                                  @ForAll @IntRange(min = 1, max = 8) int vnodes,
                                                  @ForAll @StringLength(max = 40) String key) {
        List<Member> ms = new ArrayList<>();
        for (int i = 0; i < followers; i++) ms.add(Member.of("10.0.0." + (i + 1), 16201 + i));
        List<Member> replicas = new Ring(ms, redundancy, vnodes).replicas(key);
        assertEquals(Math.min(redundancy, followers), replicas.size());
        assertEquals(replicas.size(), new HashSet<>(replicas).size());
    }

    @Property(tries = 300)
    void aNewFollowerOnlyTakesKeysItNowHolds(@ForAll @IntRange(min = 2, max = 6) int followers,
                                             @ForAll @IntRange(min = 1, max = 3) int redundancy,
                                             @ForAll @StringLength(max = 20) String key) {
        List<Member> ms = new ArrayList<>();
        for (int i = 0; i < followers; i++) ms.add(Member.of("127.0.0.1", 20000 + i));
        Member added = Member.of("127.0.0.1", 30000);
        List<Member> before = new Ring(ms, redundancy, 1).replicas(key);
        List<Member> more = new ArrayList<>(ms);
        more.add(added);
        List<Member> after = new Ring(more, redundancy, 1).replicas(key);
        if (!after.contains(added)) assertEquals(before, after);
        else assertTrue(before.containsAll(after.stream().filter(m -> !m.equals(added)).toList()));
    }

    /** isReplica is replicasOfHash(...).contains without the list: the same answer for any ring, member and hash. */
    @Property(tries = 200)
    void isReplicaAgreesWithReplicas(@ForAll @IntRange(min = 1, max = 6) int followers, @ForAll @IntRange(min = 1, max = 4) int redundancy,
                                     @ForAll @IntRange(min = 1, max = 8) int vnodes, @ForAll long hash) {
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < followers; i++) members.add(Member.of("127.0.0.1", 16201 + i));
        Ring ring = new Ring(members, redundancy, vnodes);
        for (Member m : members) assertEquals(ring.replicasOfHash(hash).contains(m), ring.isReplica(m.id(), hash), m + " hash " + hash);
        for (Member m : members) assertEquals(ring.replicasOfHash(m.id()).contains(m), ring.isReplica(m.id(), m.id()), "at its own point");
        assertEquals(false, ring.isReplica(Member.of("127.0.0.2", 1).id(), hash));
    }
}
