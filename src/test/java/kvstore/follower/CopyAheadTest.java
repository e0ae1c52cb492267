package kvstore.follower;

import kvstore.core.Member;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.CopySource;
import kvstore.core.tpc.CopyWire;
import kvstore.core.tpc.Participant;
import kvstore.core.view.Membership;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CopyAheadTest {
    static final Member F3 = CopySource.F3;

    /** F1 holds k0..k199 and F3 joins: F1 is a copy source for F3 in the view's copy round. */
    private static Participant source() {
        return CopySource.withKeys(200);
    }

    private static List<String> keys(CopyAhead.Page page) {
        List<String> out = new ArrayList<>();
        for (LogRecord.Data d : CopyWire.decode(page.body().getBytes()).entries()) out.add(d.key());
        return out;
    }

    @Test
    void pagesMadeAheadAreServedAndAddUpToTheSamePagesAsAskedOneByOne() {
        Participant src = source();
        long round = src.view().copyRound();
        List<String> plain = new ArrayList<>();
        String after = null;
        do {
            Participant.CopyPage p = src.copyPage(round, F3.id(), after, 7, 1 << 20, Set.of(), 0);
            for (LogRecord.Data d : p.entries()) plain.add(d.key());
            after = p.next();
        } while (after != null);
        assertTrue(plain.size() > 14, "several pages: " + plain.size());

        CopyAhead ahead = new CopyAhead(() -> src);
        List<String> got = new ArrayList<>();
        CopyAhead.Ask ask = new CopyAhead.Ask(round, F3.id(), null, 7, 1 << 20, Set.of(), 0);
        CopyAhead.Page page = ahead.page(ask);
        int served = 0;
        while (true) {
            got.addAll(keys(page));
            CopyAhead.Page made = ahead.makeNext(ask, page);
            if (page.next() == null) {
                assertNull(made);
                break;
            }
            ask = new CopyAhead.Ask(round, F3.id(), page.next(), 7, 1 << 20, Set.of(), 0);
            page = ahead.page(ask);
            assertSame(made, page, "the page made ahead is the one served");
            served++;
        }
        assertEquals(plain, got);
        assertTrue(served > 1);
    }

    @Test
    void aPageMadeAheadIsNotServedForAnotherAskOrUnderANewerView() {
        Participant src = source();
        long round = src.view().copyRound();
        CopyAhead ahead = new CopyAhead(() -> src);
        CopyAhead.Ask first = new CopyAhead.Ask(round, F3.id(), null, 7, 1 << 20, Set.of(), 0);
        CopyAhead.Page page = ahead.page(first);

        // a retry of the same page (its answer was lost) gets that page, not the one made ahead
        CopyAhead.Page made = ahead.makeNext(first, page);
        assertNotNull(made);
        CopyAhead.Page again = ahead.page(first);
        assertNotSame(made, again);
        assertEquals(keys(page), keys(again));

        // under a newer view (here: a capacity change) the page is made anew
        made = ahead.makeNext(first, page);
        src.learnView(Membership.capacity(src.view(), 4, 1).view());
        CopyAhead.Ask next = new CopyAhead.Ask(src.view().copyRound(), F3.id(), page.next(), 7, 1 << 20, Set.of(), 0);
        assertEquals(round, src.view().copyRound(), "the same copy round, in a newer view");
        CopyAhead.Page fresh = ahead.page(next);
        assertNotNull(fresh);
        assertNotSame(made, fresh);
        assertEquals(keys(made), keys(fresh));
    }

    @Test
    void atMostAFewGainersArePrepared() {
        Participant src = source();
        long round = src.view().copyRound();
        CopyAhead ahead = new CopyAhead(() -> src);
        CopyAhead.Ask ask = new CopyAhead.Ask(round, F3.id(), null, 7, 1 << 20, Set.of(), 0);
        CopyAhead.Page page = ahead.page(ask);
        CopyAhead.Page made = ahead.makeNext(ask, page);
        // other gainers' asks (unknown ids get empty pages that end at once, or pages that go on)
        for (long g = 1; g <= CopyAhead.GAINERS; g++) {
            CopyAhead.Ask other = new CopyAhead.Ask(round, g, null, 7, 1 << 20, Set.of(), 0);
            CopyAhead.Page p = ahead.page(other);
            if (p != null) ahead.makeNext(other, p.next() == null ? new CopyAhead.Page(p.body(), "k") : p);
        }
        CopyAhead.Page later = ahead.page(new CopyAhead.Ask(round, F3.id(), page.next(), 7, 1 << 20, Set.of(), 0));
        assertNotSame(made, later, "the oldest prepared page was dropped");
        assertEquals(keys(made), keys(later));
    }
}
