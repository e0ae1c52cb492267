package kvstore.core.view;

import kvstore.core.Member;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MembershipTest {

    /**
     * A move restarted many times keeps more earlier holder rings than the bound only when each
     * is the one record that some member holds some keys' latest values: trimming never takes a
     * current replica away from a key (simulation seed 8200000000768, where dropping the oldest
     * ring left a range with one current replica fewer and refused every eviction after).
     */
    @Property(tries = 300)
    void trimmingEarlierRingsNeverTakesACurrentReplicaAway(@ForAll long seed, @ForAll @IntRange(min = 3, max = 6) int n,
                                                           @ForAll @IntRange(min = 9, max = 14) int rings) {
        Random rnd = new Random(seed);
        View v = PlacementTest.moving(rnd, n, 2, 4);
        List<Member> all = new ArrayList<>(v.base());
        for (ViewMember m : v.members()) if (!all.contains(m.member())) all.add(m.member());
        List<Holders> earlier = new ArrayList<>();
        for (int i = 0; i < rings; i++) {
            List<Member> ring = new ArrayList<>();
            for (Member m : all) if (rnd.nextInt(3) > 0) ring.add(m);
            if (ring.isEmpty()) ring.add(all.get(rnd.nextInt(all.size())));
            Set<Long> holders = new HashSet<>();
            for (Member m : ring) if (v.member(m.id()) != null && rnd.nextBoolean()) holders.add(m.id());
            if (holders.isEmpty()) continue;
            earlier.add(new Holders(ring, holders));
        }
        View untrimmed = v.withEarlier(earlier);
        List<Holders> kept = Membership.trimEarlier(v, earlier);
        View trimmed = v.withEarlier(kept);

        Placement before = new Placement(untrimmed);
        Placement after = new Placement(trimmed);
        int current = 0;
        for (long h : Placement.representatives(before)) {
            for (Placement.Replica r : before.writeSetOfHash(h)) {
                assertEquals(r.current(), after.isCurrent(r.member().id(), h), "seed " + seed + ": " + r.member() + " at " + h);
                if (r.current()) current++;
            }
        }
        assertTrue(current > 0, "seed " + seed + ": the case has current replicas to keep");
        assertTrue(earlier.containsAll(kept) && kept.size() <= earlier.size(), "seed " + seed + ": only drops rings");
        if (kept.size() > Membership.MAX_EARLIER) {
            for (int i = 0; i < kept.size(); i++) {
                List<Holders> without = new ArrayList<>(kept);
                without.remove(i);
                Placement less = new Placement(v.withEarlier(without));
                boolean needed = false;
                for (long h : Placement.representatives(after)) {
                    for (Placement.Replica r : after.writeSetOfHash(h)) needed |= r.current() && !less.isCurrent(r.member().id(), h);
                }
                assertTrue(needed, "seed " + seed + ": ring " + i + " of " + kept.size() + " is kept past the bound though no key needs it");
            }
        }
    }
}
