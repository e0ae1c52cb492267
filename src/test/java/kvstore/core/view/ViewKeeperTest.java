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
}
