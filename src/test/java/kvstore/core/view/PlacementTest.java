package kvstore.core.view;

import kvstore.core.Member;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlacementTest {

    /** A view of {@code n} members in the middle of a move: a join, an eviction or a drain. */
    static View moving(Random rnd, int n, int redundancy, int vnodes) {
        View v = View.empty(redundancy, vnodes, n);
        for (int i = 0; i < n; i++) v = Membership.register(v, "127.0.0.1", 17000 + i, "id-" + i, 1, 0).view();
        Membership.Change c = switch (rnd.nextInt(3)) {
            case 0 -> {
                View bigger = Membership.capacity(v, n + 1, 1).view();
                yield Membership.register(bigger == null ? v : bigger, "127.0.0.1", 17000 + n, "id-" + n, 1, 0);
            }
            case 1 -> {
                Member gone = v.members().get(rnd.nextInt(n)).member();
                yield Membership.evict(v, gone.host(), gone.port(), true, Set.of(gone.id()), 1, 0);
            }
            default -> {
                Member out = v.members().get(rnd.nextInt(n)).member();
                yield Membership.drain(v, out.host(), out.port(), 1);
            }
        };
        View m = c.view() == null ? v : c.view();
        View started = m.moving() ? Membership.startCopy(m, 1).view() : null;
        return started == null ? m : started;
    }

    @Property(tries = 300)
    void theCopyFilterAgreesWithCopySourceForOnEveryHash(@ForAll long seed, @ForAll @IntRange(min = 3, max = 5) int n,
                                                         @ForAll @IntRange(min = 1, max = 3) int redundancy,
                                                         @ForAll @IntRange(min = 1, max = 8) int vnodes) {
        Random rnd = new Random(seed);
        View v = moving(rnd, n, Math.min(redundancy, n - 1), vnodes);
        Placement p = new Placement(v);
        List<Long> hashes = new ArrayList<>(Placement.representatives(p));
        for (long h : Placement.representatives(p)) {
            hashes.add(h - 1);
            hashes.add(h + 1);
        }
        for (int i = 0; i < 200; i++) hashes.add(rnd.nextLong());
        hashes.add(0L);
        hashes.add(-1L);
        List<Member> all = new ArrayList<>(v.base());
        for (ViewMember m : v.members()) if (!all.contains(m.member())) all.add(m.member());
        int sent = 0;
        for (Member source : all) {
            for (Member gainer : all) {
                List<Set<Long>> skips = List.of(Set.of(), Set.of(all.get(rnd.nextInt(all.size())).id()));
                for (Set<Long> skip : skips) {
                    Placement.HashFilter f = p.copyFilter(source.id(), gainer.id(), skip);
                    boolean anyWanted = false;
                    for (long h : hashes) {
                        boolean want = p.copySourceFor(source.id(), gainer.id(), h, skip);
                        assertEquals(want, f.test(h), "seed " + seed + ": hash " + Long.toUnsignedString(h) + " from "
                                + source.port() + " to " + gainer.port() + " skipping " + skip);
                        if (want) sent++;
                        anyWanted |= want;
                    }
                    // a source the gainer does not ask (sendsAny false) must have nothing to send it
                    if (anyWanted) assertTrue(p.sendsAny(source.id(), gainer.id(), skip), "seed " + seed + ": " + source.port()
                            + " sends keys to " + gainer.port() + " skipping " + skip + ", but sendsAny says none");
                }
            }
        }
        assertTrue(sent > 0 || !v.moving(), "a move sends something somewhere (seed " + seed + ")");
    }
}
