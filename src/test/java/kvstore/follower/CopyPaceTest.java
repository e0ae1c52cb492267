package kvstore.follower;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The copy's pace, and the foreground count a source reports it by. */
class CopyPaceTest {
    static final long MIB = 1L << 20;

    @Test
    void keepsToTheRateWithAtMostASecondOfCredit() {
        CopyPace p = new CopyPace(4 * MIB, 0);
        assertEquals(250, p.after(MIB, 0, 0), "1 MiB at 4 MiB/s: a quarter of a second");
        assertEquals(250, p.after(MIB, 0, 250));
        CopyPace q = new CopyPace(4 * MIB, 0);
        q.after(MIB, 0, 0);
        assertEquals(0, q.after(4 * MIB, 0, 10_000), "after a long pause a second of credit pays for 4 MiB");
        assertEquals(250, q.after(MIB, 0, 10_000), "and no more");
    }

    @Test
    void goesSlowWhileTheSourceServesClients() {
        CopyPace unlimited = new CopyPace(0, 0);
        assertEquals(0, unlimited.after(100 * MIB, 0, 0), "idle and no limit: no wait");
        assertEquals(0, unlimited.after(100 * MIB, CopyPace.BUSY_MESSAGES_PER_SECOND, 0), "a few checks are not clients");
        assertEquals(CopyPace.BUSY_BYTES_PER_SECOND, unlimited.rate(CopyPace.BUSY_MESSAGES_PER_SECOND + 1));
        assertEquals(500, unlimited.after(MIB / 4, 5_000, 0), "a quarter MiB at half a MiB/s while busy");
        CopyPace slow = new CopyPace(MIB / 8, 0);
        assertEquals(MIB / 8, slow.rate(5_000), "--copy-rate below the busy rate stays the limit");
    }

    @Test
    void pagesAreSmallWhileTheSourceServesClientsAndBeforeItHasSaid() {
        assertEquals(CopyPace.BUSY_PAGE_KEYS, CopyPace.pageKeys(-1), "the round's first page: not known yet");
        assertEquals(CopyPace.PAGE_KEYS, CopyPace.pageKeys(0), "an idle source");
        assertEquals(CopyPace.PAGE_KEYS, CopyPace.pageKeys(CopyPace.BUSY_MESSAGES_PER_SECOND));
        assertEquals(CopyPace.BUSY_PAGE_KEYS, CopyPace.pageKeys(CopyPace.BUSY_MESSAGES_PER_SECOND + 1));
    }

    @Test
    void theForegroundCountCoversAboutTheLastSecond() {
        long s = 1_000_000_000L;
        ForegroundRate r = new ForegroundRate(0);
        r.add(300, 0);
        r.add(200, s / 2);
        assertEquals(500, r.perSecond(s / 2));
        assertEquals(500, r.perSecond(s + 1), "the last whole second");
        r.add(10, s + 2);
        assertEquals(500, r.perSecond(s + 3));
        assertEquals(10, r.perSecond(2 * s + 5), "that second is gone");
        assertEquals(0, r.perSecond(10 * s), "quiet");
    }
}
