package kvstore.core.view;

import kvstore.core.Member;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The keeper's decisions on a tick, with the leader's knowledge given as facts. */
class ViewKeeperTest {

    /** Three members, a move just completed (not moving, not yet settled). */
    static View completedMove() {
        View v = View.empty(2, 1, 3);
        for (int port : List.of(16201, 16202, 16203)) {
            Member m = Member.of("127.0.0.1", port);
            v = Membership.register(v, m.host(), m.port(), "id-" + port, 1, 0).view();
        }
        return v.withSettled(false);
    }

    static ViewKeeper.Facts facts(boolean settledBefore) {
        return new ViewKeeper.Facts() {
            @Override public boolean isUp(long memberId) { return true; }
            @Override public long silentForMillis(long memberId, long now) { return 0; }
            @Override public boolean settledBefore(long viewNumber) { return settledBefore; }
        };
    }

    static List<ViewKeeper.AppendView> appends(ViewKeeper k) {
        return k.drain().stream().filter(e -> e instanceof ViewKeeper.AppendView).map(e -> (ViewKeeper.AppendView) e).toList();
    }

    @Test
    void aCompletedMoveSettlesOnlyOnceEveryWriteBegunUnderAnOlderViewHasSettled() {
        // Found by the simulation (seed 33838522065150): settling lets members drop what they
        // lost, and a DELETE planned under the older view then reached one that had dropped the
        // key, which answered "no key" for a key that exists.
        View start = completedMove();
        assertFalse(start.moving());
        assertFalse(start.settled());
        ViewKeeper k = new ViewKeeper(1, start, false, 0, false);
        k.drain();
        k.tick(0, 0, facts(false));
        assertEquals(List.of(), appends(k), "a write of an older view is still settling");
        k.tick(1_000, 1_000, facts(true));
        List<ViewKeeper.AppendView> a = appends(k);
        assertEquals(1, a.size());
        assertTrue(a.get(0).view().settled());
    }

    @Test
    void inClusterModeADrainCompletesOnlyIfAMajorityOfTheMembersLeftAnswer() {
        // Found by the simulation (seed 4864637552221, standby takeovers): two of five members lost
        // their disks while a drain was under way; completing it left a view of four that only
        // two could log, so neither that view nor any eviction after it was ever acted on.
        View v = View.empty(2, 1, 5);
        for (int port = 16201; port <= 16205; port++) v = Membership.register(v, "127.0.0.1", port, "id-" + port, 1, 0).view();
        v = Membership.drain(v, "127.0.0.1", 16205, 1).view();
        v = Membership.startCopy(v, 1).view();
        for (long g : new Placement(v).gainers()) v = Membership.copied(v, g, v.copyRound(), 1).view();
        assertTrue(Membership.complete(v));
        List<Long> staying = v.members().stream().filter(m -> !m.draining()).map(m -> m.member().id()).toList();
        assertEquals(4, staying.size());
        int checked = 0;
        for (int i = 0; i < staying.size(); i++) {
            for (int j = i + 1; j < staying.size(); j++) {
                List<Long> down = List.of(staying.get(i), staying.get(j));
                // Two down that hold no key alone together: only the majority rule can hold the move back.
                if (Membership.finishMove(v, 1, 0, down, false).view() == null) continue;
                checked++;
                assertEquals(null, Membership.finishMove(v, 1, 0, down, true).view(), "two of the four left are down");
                assertTrue(Membership.finishMove(v, 1, 0, List.of(staying.get(i)), true).view() != null, "three of four answer");
            }
        }
        assertTrue(checked > 0, "some pair of members holds no key alone");
    }

    @Test
    void inClusterModeAnEvictionCountsADrainingMemberAmongTheVoters() {
        // Found by the simulation (seed 7500000000484, standby takeovers): five members, one
        // draining, two that lost their disks and one down. Evicting the one down left four
        // members, two answering; the majority rule counted three (memberCount leaves the
        // draining one out), a leader taking office needs three of four, and none ever could.
        View v = View.empty(3, 1, 5); // redundancy 3: a key keeps a replica with three of five down
        for (int port = 16201; port <= 16205; port++) v = Membership.register(v, "127.0.0.1", port, "id-" + port, 1, 0).view();
        v = Membership.drain(v, "127.0.0.1", 16204, 1).view();
        long draining = Member.of("127.0.0.1", 16204).id();
        List<Integer> others = List.of(16201, 16202, 16203, 16205);
        int checked = 0;
        for (int evicted : others) {
            for (int lost : others) {
                if (lost == evicted) continue;
                List<Long> down = List.of(Member.of("127.0.0.1", evicted).id(), Member.of("127.0.0.1", lost).id(), draining);
                // Only where the keys would still have a current replica: then only the majority rule refuses.
                if (Membership.evict(v, "127.0.0.1", evicted, true, down, false, 1, 0).view() == null) continue;
                checked++;
                assertEquals(null, Membership.evict(v, "127.0.0.1", evicted, true, down, true, 1, 0).view(),
                        "two of the four members left answer: no majority");
            }
        }
        assertTrue(checked > 0, "some eviction keeps every key a current replica");
    }
    @Test
    void aSilentMemberThatCannotBeEvictedIsSaidOnceNotAtEveryTick() {
        // Two of three members down, redundancy 2: the keys they share have no replica that is
        // up, so --heal-after evicts neither. The leader used to wait in silence (issue 14: a
        // move that cannot finish waits, and says so); a line at every tick would flood the log.
        View v = completedMove().withSettled(true);
        long a = Member.of("127.0.0.1", 16201).id(), b = Member.of("127.0.0.1", 16202).id();
        java.util.Set<Long> down = new java.util.HashSet<>(List.of(a, b));
        ViewKeeper.Facts facts = new ViewKeeper.Facts() {
            @Override public boolean isUp(long memberId) { return !down.contains(memberId); }
            @Override public long silentForMillis(long memberId, long now) { return down.contains(memberId) ? 60_000 : 0; }
            @Override public boolean settledBefore(long viewNumber) { return true; }
        };
        ViewKeeper k = new ViewKeeper(1, v, false, 3_000, false);
        k.drain();
        List<String> notes = new java.util.ArrayList<>();
        for (int t = 0; t < 10; t++) {
            k.tick(t * 1_000L, t * 1_000L, facts);
            for (ViewKeeper.Effect e : k.drain()) {
                assertFalse(e instanceof ViewKeeper.AppendView, "no eviction: " + e);
                if (e instanceof ViewKeeper.Note n) notes.add(n.message());
            }
        }
        assertEquals(1, notes.size(), "said once: " + notes);
        assertTrue(notes.get(0).matches("follower 127\\.0\\.0\\.1:1620[12] has not answered for 3 s \\(--heal-after\\) but stays a member"
                + " for now: evicting .* would leave keys with no current replica that is up.*"), notes.get(0));

        down.clear(); // they answer again, then both go silent once more: said again
        k.tick(20_000, 20_000, facts);
        down.addAll(List.of(a, b));
        k.tick(21_000, 21_000, facts);
        assertEquals(1, k.drain().stream().filter(e -> e instanceof ViewKeeper.Note).count());
    }
}
