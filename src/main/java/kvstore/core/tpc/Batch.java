package kvstore.core.tpc;

import kvstore.core.KeyRequest;
import kvstore.core.Params;
import kvstore.core.TxId;
import kvstore.core.Write;
import kvstore.core.log.ViewCodec;
import kvstore.core.view.View;

import java.util.ArrayList;
import java.util.List;

/**
 * The leader's messages to one follower, many in one HTTP request
 * ({@code POST /tpc/batch?epoch=E&to=IDENTITY}), and their answers in one response, in order:
 * under load the leader and the follower pay one request, one write system call and one fsync
 * for many transactions. docs/protocol.md has the whole wire format; in short:
 *
 * <pre>
 * request line                                  answer line: STATUS VERSION [FIELDS...]
 *   V view                  learn the view      200 N              (N: the follower's view number)
 *   P tx rid n (k key val ifv)xn   prepare      202 V commit | 500 V reason | 409 0 reason
 *       k: W put, D delete, C check; lower case: blind
 *   C tx version [outcome]  commit              204 0 | 500 0 reason
 *   A tx [outcome]          abort               204 0 | 500 0 reason
 *   R key                   a leader's read     200 V value | 500 0 error: no key | 503 0 reason
 *   O tx                    what became of tx   200 V committed | aborted | prepared | unknown
 *   Q rid                   what of this rid    200 0 unknown | 200 0 pending | 200 V known fp status body at
 *   outcome = rid fp status version body at     (a rid's outcome, remembered with the decision)
 * </pre>
 * Every field is percent-encoded (so no space or newline is ever literal) and may be empty.
 * The epoch and the identity, in the query, apply to the whole batch: a follower with another
 * identity refuses it whole (421), as does one that has accepted a newer epoch (409).
 */
public final class Batch {
    private Batch() {}

    public static final int MAX_ITEMS = 512;

    public sealed interface Item {}

    public record ViewItem(View view) implements Item {}

    public record Prepare(TxId tx, String rid, List<Write> writes) implements Item {}

    public record Commit(TxId tx, long version, RidMemory.Outcome rid) implements Item {}

    public record Abort(TxId tx, RidMemory.Outcome rid) implements Item {}

    public record Read(String key) implements Item {}

    public record Outcome(TxId tx) implements Item {}

    public record RidQuery(String rid) implements Item {}

    /** An answer: status, a version (0 when none), and its fields (the body is the first). */
    public record Answer(int status, long version, List<String> fields) {
        public Answer(int status, long version, String body) {
            this(status, version, body == null || body.isEmpty() ? List.of() : List.of(body));
        }

        public String body() {
            return fields.isEmpty() ? "" : fields.get(0);
        }
    }

    /* --- Encoding --- */

    public static void encode(Item item, StringBuilder out) {
        if (item instanceof ViewItem v) {
            out.append("V ").append(ViewCodec.toText(v.view()));
        } else if (item instanceof Prepare p) {
            out.append("P ").append(p.tx()).append(' ');
            field(out, p.rid());
            out.append(' ').append(p.writes().size());
            for (Write w : p.writes()) {
                char k = switch (w.kind()) { case PUT -> 'W'; case DELETE -> 'D'; case CHECK -> 'C'; };
                out.append(' ').append(w.blind() ? Character.toLowerCase(k) : k).append(' ');
                field(out, w.key());
                out.append(' ');
                field(out, w.value());
                out.append(' ');
                if (w.ifVersion() >= 0) out.append(w.ifVersion());
            }
        } else if (item instanceof Commit c) {
            out.append("C ").append(c.tx()).append(' ').append(c.version());
            outcome(out, c.rid());
        } else if (item instanceof Abort a) {
            out.append("A ").append(a.tx());
            outcome(out, a.rid());
        } else if (item instanceof Read r) {
            out.append("R ");
            field(out, r.key());
        } else if (item instanceof Outcome o) {
            out.append("O ").append(o.tx());
        } else if (item instanceof RidQuery q) {
            out.append("Q ");
            field(out, q.rid());
        }
        out.append('\n');
    }

    private static void outcome(StringBuilder out, RidMemory.Outcome o) {
        if (o == null) return;
        out.append(' ');
        field(out, o.rid());
        out.append(' ').append(o.fingerprint()).append(' ').append(o.status()).append(' ').append(o.version()).append(' ');
        field(out, o.body());
        out.append(' ').append(o.atMillis());
    }

    private static void field(StringBuilder out, String s) {
        if (s != null) Params.encodeTo(out, s);
    }

    public static void encode(Answer a, StringBuilder out) {
        out.append(a.status()).append(' ').append(a.version());
        for (String f : a.fields()) {
            out.append(' ');
            field(out, f);
        }
        out.append('\n');
    }

    /* --- Decoding (never throws: a malformed line makes the whole batch null) --- */

    /** The messages of a request body, or null if any line is malformed (the batch is refused whole). */
    public static List<Item> decodeItems(String body) {
        List<Item> out = new ArrayList<>();
        for (String line : lines(body)) {
            Item item = item(line);
            if (item == null || out.size() >= MAX_ITEMS) return null;
            out.add(item);
        }
        return out;
    }

    private static Item item(String line) {
        String[] f = line.split(" ", -1);
        try {
            switch (f[0]) {
                case "V" -> {
                    View v = f.length == 2 ? ViewCodec.fromText(f[1]) : null;
                    return v == null ? null : new ViewItem(v);
                }
                case "P" -> {
                    if (f.length < 4) return null;
                    TxId tx = TxId.parse(f[1]);
                    String rid = f[2].isEmpty() ? null : decode(f[2]);
                    int n = (int) KeyRequest.parseEpoch(f[3]);
                    if (tx == null || n < 1 || f.length != 4 + 4 * n || rid != null && !RidMemory.valid(rid)) return null;
                    List<Write> writes = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        Write w = write(f[4 + 4 * i], f[5 + 4 * i], f[6 + 4 * i], f[7 + 4 * i]);
                        if (w == null) return null;
                        writes.add(w);
                    }
                    return new Prepare(tx, rid, writes);
                }
                case "C" -> {
                    if (f.length != 3 && f.length != 9) return null;
                    TxId tx = TxId.parse(f[1]);
                    long version = KeyRequest.parseEpoch(f[2]);
                    RidMemory.Outcome o = f.length == 9 ? outcome(f, 3) : null;
                    if (tx == null || version < 0 || f.length == 9 && o == null) return null;
                    return new Commit(tx, version, o);
                }
                case "A" -> {
                    if (f.length != 2 && f.length != 8) return null;
                    TxId tx = TxId.parse(f[1]);
                    RidMemory.Outcome o = f.length == 8 ? outcome(f, 2) : null;
                    if (tx == null || f.length == 8 && o == null) return null;
                    return new Abort(tx, o);
                }
                case "R" -> {
                    String key = f.length == 2 ? decode(f[1]) : null;
                    return key == null || key.isEmpty() ? null : new Read(key);
                }
                case "O" -> {
                    TxId tx = f.length == 2 ? TxId.parse(f[1]) : null;
                    return tx == null ? null : new Outcome(tx);
                }
                case "Q" -> {
                    String rid = f.length == 2 ? decode(f[1]) : null;
                    return RidMemory.valid(rid) ? new RidQuery(rid) : null;
                }
                default -> {
                    return null;
                }
            }
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static Write write(String kind, String key, String value, String ifVersion) {
        if (kind.length() != 1) return null;
        char k = kind.charAt(0);
        boolean blind = Character.isLowerCase(k);
        Write.Kind wk = switch (Character.toUpperCase(k)) {
            case 'W' -> Write.Kind.PUT;
            case 'D' -> Write.Kind.DELETE;
            case 'C' -> Write.Kind.CHECK;
            default -> null;
        };
        String kd = decode(key);
        String v = value.isEmpty() ? null : decode(value);
        long ifv = ifVersion.isEmpty() ? Write.NO_CONDITION : KeyRequest.parseEpoch(ifVersion);
        if (wk == null || kd == null || kd.isEmpty() || !value.isEmpty() && v == null || !ifVersion.isEmpty() && ifv < 0) return null;
        if (wk == Write.Kind.PUT && v == null || wk != Write.Kind.PUT && v != null) return null;
        if (blind && (wk == Write.Kind.CHECK || ifv >= 0)) return null;
        return new Write(wk, kd, v, ifv, blind);
    }

    private static RidMemory.Outcome outcome(String[] f, int at) {
        String rid = decode(f[at]);
        long fp = Long.parseLong(f[at + 1]);
        int status = (int) KeyRequest.parseEpoch(f[at + 2]);
        long version = KeyRequest.parseEpoch(f[at + 3]);
        String body = decode(f[at + 4]);
        long atMillis = KeyRequest.parseEpoch(f[at + 5]);
        if (!RidMemory.valid(rid) || status < 100 || status > 599 || version < 0 || body == null || atMillis < 0) return null;
        return new RidMemory.Outcome(rid, fp, status, version, body, atMillis);
    }

    /** The answers of a response body, or null if it is malformed. */
    public static List<Answer> decodeAnswers(String body) {
        List<Answer> out = new ArrayList<>();
        for (String line : lines(body)) {
            String[] f = line.split(" ", -1);
            if (f.length < 2) return null;
            int status;
            try {
                status = Integer.parseInt(f[0]);
            } catch (NumberFormatException e) {
                return null;
            }
            long version = KeyRequest.parseEpoch(f[1]);
            if (version < 0) return null;
            List<String> fields = new ArrayList<>(f.length - 2);
            for (int i = 2; i < f.length; i++) {
                String d = decode(f[i]);
                if (d == null) return null;
                fields.add(d);
            }
            out.add(new Answer(status, version, fields));
        }
        return out;
    }

    private static List<String> lines(String body) {
        List<String> out = new ArrayList<>();
        int at = 0, n = body.length();
        while (at < n) {
            int nl = body.indexOf('\n', at);
            int end = nl < 0 ? n : nl;
            if (end > at) out.add(body.substring(at, end));
            at = end + 1;
        }
        return out;
    }

    private static String decode(String s) {
        return Params.decode(s, 0, s.length());
    }
}
