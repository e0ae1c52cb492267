package kvstore.follower;

import io.vertx.core.buffer.Buffer;
import kvstore.core.tpc.CopyWire;
import kvstore.core.tpc.Participant;
import kvstore.core.view.View;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * A copy source's next page for each gainer, scanned and encoded as soon as the page before it
 * is sent, so that the source's work (about 7 ms a page on this machine) overlaps the gainer's
 * apply instead of waiting for its next request (a page's answer came back in 4-10 ms, not
 * 9-14 ms; the gainer's own event loop is what bounds the copy now, docs/benchmarks.md).
 *
 * <p>A page made early is as good as one made when asked: under one view the gainer is in the
 * write set of every key it gains (PROTOCOL.md, rule 4), so any write after the scan reaches it
 * directly and is newer than the copied entry; and the scan itself refused any key a transaction
 * from before the round still held (rule 8). A page is kept only for the view it was made under
 * (the same {@link View} object: a new view, an eviction or a settled move is a new object) and
 * only for the exact request that would ask for it. At most {@link #GAINERS} pages are kept.
 */
final class CopyAhead {
    static final int GAINERS = 4;

    /** The request a page answers. */
    record Ask(long round, long gainer, String after, int limit, int maxBytes, Set<Long> skip, long view) {}

    /** A page on the wire, and where the one after it starts (null: it is the last). */
    record Page(Buffer body, String next) {}

    private record Made(Ask ask, View view, Page page) {}

    private final Map<Long, Made> byGainer = new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Made> eldest) {
            return size() > GAINERS;
        }
    };
    private final Supplier<Participant> participant;

    CopyAhead(Supplier<Participant> participant) {
        this.participant = participant;
    }

    /** The page this request asks for; null when the source holds it back or does not know the round (409). */
    Page page(Ask ask) {
        Made made = byGainer.remove(ask.gainer());
        if (made != null && made.ask().equals(ask) && made.view() == participant.get().view()) return made.page();
        return make(ask);
    }

    /** Makes the page after {@code sent} ahead of its request; returns it (null: {@code sent} was the last, or it is held back). */
    Page makeNext(Ask sent, Page page) {
        if (page.next() == null) return null;
        Ask ask = new Ask(sent.round(), sent.gainer(), page.next(), sent.limit(), sent.maxBytes(), sent.skip(), sent.view());
        View view = participant.get().view();
        Page next = make(ask);
        if (next != null) byGainer.put(ask.gainer(), new Made(ask, view, next));
        return next;
    }

    private Page make(Ask ask) {
        Participant.CopyPage page = participant.get().copyPage(ask.round(), ask.gainer(), ask.after(), ask.limit(), ask.maxBytes(), ask.skip(), ask.view());
        return page == null ? null : new Page(kvstore.http.Wrap.bytes(CopyWire.encode(page)), page.next());
    }
}
