package kvstore.core.tpc;

import kvstore.core.Params;
import kvstore.core.TxId;

import java.util.ArrayList;
import java.util.List;

/**
 * Many leader messages to one follower in one HTTP request ({@code POST /tpc/batch?epoch=E}),
 * and their answers in one response: the same messages as SPEC.md section 3, carried together
 * so that under load the leader and the follower pay one request, one write system call and
 * one fsync for many transactions (PROTOCOL.md allows batching phase-2 messages and fsyncs).
 * A lone message still goes out at once: batches only form while an earlier one is in flight.
 *
 * <pre>
 * request body, one message per line:        answer body, one line per message, same order:
 *   P tx key val   prepare a PUT              STATUS body      e.g. "202 commit", "204",
 *   D tx key       prepare a DELETE                             "500 error%3A%20no%20key",
 *   C tx           commit                                       "200 the%20value", "503 error%3A%20pending"
 *   A tx           abort
 *   R key          a leader's read
 *   O tx           what became of tx: "200 committed", "200 aborted", "200 prepared" or "200 unknown"
 * </pre>
 * Keys, values and bodies are percent-encoded (so no space or newline is ever literal); the
 * epoch, in the query, applies to the whole batch.
 */
public final class Batch {
    private Batch() {}

    public static final int MAX_ITEMS = 512;

    public enum Kind { PREPARE_PUT, PREPARE_DELETE, COMMIT, ABORT, READ, OUTCOME }

    public record Item(Kind kind, TxId tx, String key, String value) {}

    public record Answer(int status, String body) {}

    public static void encode(Item item, StringBuilder out) {
        switch (item.kind()) {
            case PREPARE_PUT -> {
                out.append("P ").append(item.tx()).append(' ');
                Params.encodeTo(out, item.key());
                out.append(' ');
                Params.encodeTo(out, item.value());
            }
            case PREPARE_DELETE -> {
                out.append("D ").append(item.tx()).append(' ');
                Params.encodeTo(out, item.key());
            }
            case COMMIT -> out.append("C ").append(item.tx());
            case OUTCOME -> out.append("O ").append(item.tx());
            case ABORT -> out.append("A ").append(item.tx());
            case READ -> {
                out.append("R ");
                Params.encodeTo(out, item.key());
            }
        }
        out.append('\n');
    }

    /** The messages of a request body, or null if any line is malformed (the batch is refused whole). */
    public static List<Item> decodeItems(String body) {
        List<Item> out = new ArrayList<>();
        int at = 0, n = body.length();
        while (at < n) {
            int nl = body.indexOf('\n', at);
            int end = nl < 0 ? n : nl;
            if (end > at) {
                Item item = item(body.substring(at, end));
                if (item == null || out.size() >= MAX_ITEMS) return null;
                out.add(item);
            }
            at = end + 1;
        }
        return out;
    }

    private static Item item(String line) {
        String[] f = line.split(" ", -1);
        switch (f[0]) {
            case "P" -> {
                if (f.length != 4) return null;
                TxId tx = TxId.parse(f[1]);
                String key = decode(f[2]), val = decode(f[3]);
                return tx == null || key == null || val == null ? null : new Item(Kind.PREPARE_PUT, tx, key, val);
            }
            case "D" -> {
                if (f.length != 3) return null;
                TxId tx = TxId.parse(f[1]);
                String key = decode(f[2]);
                return tx == null || key == null ? null : new Item(Kind.PREPARE_DELETE, tx, key, null);
            }
            case "C", "A", "O" -> {
                if (f.length != 2) return null;
                TxId tx = TxId.parse(f[1]);
                Kind kind = f[0].equals("C") ? Kind.COMMIT : f[0].equals("A") ? Kind.ABORT : Kind.OUTCOME;
                return tx == null ? null : new Item(kind, tx, null, null);
            }
            case "R" -> {
                if (f.length != 2) return null;
                String key = decode(f[1]);
                return key == null ? null : new Item(Kind.READ, null, key, null);
            }
            default -> {
                return null;
            }
        }
    }

    private static String decode(String s) {
        return Params.decode(s, 0, s.length());
    }

    public static void encode(Answer a, StringBuilder out) {
        out.append(a.status());
        if (a.body() != null && !a.body().isEmpty()) {
            out.append(' ');
            Params.encodeTo(out, a.body());
        }
        out.append('\n');
    }

    /** The answers of a response body, or null if it is malformed. */
    public static List<Answer> decodeAnswers(String body) {
        List<Answer> out = new ArrayList<>();
        int at = 0, n = body.length();
        while (at < n) {
            int nl = body.indexOf('\n', at);
            int end = nl < 0 ? n : nl;
            if (end > at) {
                int sp = body.indexOf(' ', at);
                int statusEnd = sp < 0 || sp > end ? end : sp;
                int status;
                try {
                    status = Integer.parseInt(body.substring(at, statusEnd));
                } catch (NumberFormatException e) {
                    return null;
                }
                String text = "";
                if (statusEnd < end) {
                    text = Params.decode(body, statusEnd + 1, end);
                    if (text == null) return null;
                }
                out.add(new Answer(status, text));
            }
            at = end + 1;
        }
        return out;
    }
}
