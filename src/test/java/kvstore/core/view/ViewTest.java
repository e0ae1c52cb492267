package kvstore.core.view;

import kvstore.core.log.ViewCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

@Timeout(10)
class ViewTest {
    /**
     * Every view carries the evicted addresses, in every VIEW record and every view sent; a
     * cluster that churns through addresses (new machines, new ports) grew the list without end.
     * Only the newest are kept.
     */
    @Test
    void aViewKeepsOnlyTheNewestEvictedAddresses() {
        List<Evicted> ev = new ArrayList<>();
        for (int i = 0; i < View.MAX_EVICTED + 30; i++) ev.add(new Evicted("10.0.0." + (i % 250), 20000 + i, 1_000L + i, i % 2 == 0));
        View v = View.empty(2, 1, 3).withEvicted(ev);
        assertEquals(View.MAX_EVICTED, v.evicted().size());
        assertEquals(ev.subList(30, ev.size()), v.evicted(), "the newest, oldest first");
        assertEquals(v.evicted(), ViewCodec.fromText(ViewCodec.toText(v)).evicted(), "in the log and on the wire too");
    }
}
