package kvstore.core.log;

import kvstore.core.Member;
import kvstore.core.view.Evicted;
import kvstore.core.view.Holders;
import kvstore.core.view.View;
import kvstore.core.view.ViewMember;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The bytes of a {@link View} (the VIEW record's payload, laid out in {@link LogCodec}). The same
 * bytes, in base64, carry a view from the leader to a follower in a batch, so the view a
 * follower logs is exactly the one the leader logged.
 */
public final class ViewCodec {
    private ViewCodec() {}

    static void encode(View v, Bytes out) {
        out.putLong(v.number()).putLong(v.epoch()).putShort(v.redundancy()).putShort(v.vnodes()).putShort(v.capacity())
                .putLong(v.copyRound()).put((v.settled() ? 1 : 0) | (v.formed() ? 2 : 0));
        out.putShort(v.base().size());
        for (Member m : v.base()) out.str(m.host()).putInt(m.port());
        out.putShort(v.members().size());
        for (ViewMember m : v.members()) {
            out.str(m.member().host()).putInt(m.member().port()).str(m.identity() == null ? "" : m.identity())
                    .put(m.draining() ? 1 : 0).putLong(m.since());
        }
        ids(out, v.gone());
        ids(out, v.current());
        out.putShort(v.evicted().size());
        for (Evicted e : v.evicted()) out.str(e.host()).putInt(e.port()).putLong(e.sinceMillis()).put(e.rejoin() ? 1 : 0);
        out.putShort(v.earlier().size());
        for (Holders h : v.earlier()) {
            out.putShort(h.ring().size());
            for (Member m : h.ring()) out.str(m.host()).putInt(m.port());
            ids(out, h.holders());
        }
    }

    static View decode(ByteBuffer b) {
        long number = b.getLong(), epoch = b.getLong();
        int redundancy = b.getShort() & 0xFFFF, vnodes = b.getShort() & 0xFFFF, capacity = b.getShort() & 0xFFFF;
        long copyRound = b.getLong();
        int flags = b.get() & 0xFF;
        if (flags > 3) throw new IllegalArgumentException("bad view flags " + flags);
        if (redundancy < 1 || vnodes < 1) throw new IllegalArgumentException("bad ring settings");
        int n = count(b);
        List<Member> base = new ArrayList<>(n);
        for (int i = 0; i < n; i++) base.add(Member.of(LogCodec.str(b), b.getInt()));
        n = count(b);
        List<ViewMember> members = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String host = LogCodec.str(b);
            int port = b.getInt();
            String identity = LogCodec.str(b);
            int draining = b.get();
            if (draining != 0 && draining != 1) throw new IllegalArgumentException("bad flag " + draining);
            members.add(new ViewMember(Member.of(host, port), identity.isEmpty() ? null : identity, draining == 1, b.getLong()));
        }
        Set<Long> gone = ids(b), current = ids(b);
        n = count(b);
        List<Evicted> evicted = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String host = LogCodec.str(b);
            int port = b.getInt();
            long since = b.getLong();
            int rejoin = b.get();
            if (rejoin != 0 && rejoin != 1) throw new IllegalArgumentException("bad flag " + rejoin);
            evicted.add(new Evicted(host, port, since, rejoin == 1));
        }
        n = count(b);
        List<Holders> earlier = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int rn = count(b);
            List<Member> ring = new ArrayList<>(rn);
            for (int j = 0; j < rn; j++) ring.add(Member.of(LogCodec.str(b), b.getInt()));
            earlier.add(new Holders(ring, ids(b)));
        }
        return new View(number, epoch, redundancy, vnodes, capacity, base, members, gone, current, copyRound,
                (flags & 1) != 0, (flags & 2) != 0, evicted, earlier);
    }

    /** The view for a batch line: base64 of its bytes. */
    public static String toText(View v) {
        Bytes out = new Bytes(256);
        encode(v, out);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(out.toArray());
    }

    /** The view of a batch line, or null when the text is not one. */
    public static View fromText(String s) {
        try {
            ByteBuffer b = ByteBuffer.wrap(Base64.getUrlDecoder().decode(s));
            View v = decode(b);
            return b.hasRemaining() ? null : v;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static void ids(Bytes out, Set<Long> ids) {
        out.putShort(ids.size());
        for (long id : ids) out.putLong(id);
    }

    private static Set<Long> ids(ByteBuffer b) {
        int n = count(b);
        Set<Long> out = new HashSet<>();
        for (int i = 0; i < n; i++) out.add(b.getLong());
        return out;
    }

    private static int count(ByteBuffer b) {
        int n = b.getShort() & 0xFFFF;
        if (n > b.remaining()) throw new IllegalArgumentException("bad count " + n);
        return n;
    }
}
