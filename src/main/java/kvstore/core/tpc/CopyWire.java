package kvstore.core.tpc;

import kvstore.core.KeyRequest;
import kvstore.core.Params;
import kvstore.core.log.LogRecord;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A page of a copy on the wire ({@code GET /tpc/copy}, from a source follower to a gainer):
 * one line per key, {@code KEY VERSION v VALUE} or {@code KEY VERSION d} for a deleted key, then
 * {@code next KEY} (ask again after KEY) or {@code end}. Fields are percent-encoded.
 */
public final class CopyWire {
    private CopyWire() {}

    public static String encode(Participant.CopyPage page) {
        StringBuilder sb = new StringBuilder(64 * page.entries().size() + 16);
        for (LogRecord.Data d : page.entries()) {
            Params.encodeTo(sb, d.key());
            sb.append(' ').append(d.version()).append(' ');
            if (d.value() == null) sb.append('d');
            else {
                sb.append("v ");
                Params.encodeTo(sb, new String(d.value(), StandardCharsets.UTF_8));
            }
            sb.append('\n');
        }
        if (page.next() == null) sb.append("end\n");
        else {
            sb.append("next ");
            Params.encodeTo(sb, page.next());
            sb.append('\n');
        }
        return sb.toString();
    }

    /** The page, or null if the text is not one. */
    public static Participant.CopyPage decode(String text) {
        List<LogRecord.Data> out = new ArrayList<>();
        int at = 0, n = text.length();
        while (at < n) {
            int nl = text.indexOf('\n', at);
            if (nl < 0) return null;
            String[] f = text.substring(at, nl).split(" ", -1);
            at = nl + 1;
            if (f.length == 1 && f[0].equals("end")) return at == n ? new Participant.CopyPage(out, null) : null;
            if (f.length == 2 && f[0].equals("next")) {
                String next = Params.decode(f[1], 0, f[1].length());
                return next == null || at != n ? null : new Participant.CopyPage(out, next);
            }
            if (f.length < 3) return null;
            String key = Params.decode(f[0], 0, f[0].length());
            long version = KeyRequest.parseEpoch(f[1]);
            if (key == null || key.isEmpty() || version < 0) return null;
            if (f.length == 3 && f[2].equals("d")) out.add(new LogRecord.Data(key, version, null));
            else if (f.length == 4 && f[2].equals("v")) {
                String v = Params.decode(f[3], 0, f[3].length());
                if (v == null) return null;
                out.add(new LogRecord.Data(key, version, v.getBytes(StandardCharsets.UTF_8)));
            } else return null;
        }
        return null;
    }
}
