package kvstore.core;

import java.nio.charset.StandardCharsets;

/**
 * A GET, PUT or DELETE of one key, validated (SPEC.md section 2), and the rule that turns a
 * query into one: either a {@link KeyRequest} or the error body to answer, in SPEC.md's order of
 * precedence (invalid request, key length, value length; unauthorized and capacity are checked
 * by the callers, before and after).
 *
 * <p>{@code tx} and {@code epoch} are the participant API's (SPEC.md section 3): a leader's
 * request carries both, a person's neither. {@code epoch} is -1 when absent.
 */
public record KeyRequest(Op op, String key, String value, TxId tx, long epoch) {

    /** Either a request or an error body. */
    public record Parsed(KeyRequest request, String error) {
        static Parsed ok(KeyRequest r) { return new Parsed(r, null); }
        static Parsed error(String e) { return new Parsed(null, e); }
        public boolean ok() { return request != null; }
    }

    /**
     * @param participant true on a follower, where {@code tx} and {@code epoch} mean something;
     *                    on the leader they are ignored.
     */
    public static Parsed parse(Op op, Params p, Limits limits, boolean participant) {
        if (p.malformed() || p.count("key") > 1 || p.count("val") > 1) return Parsed.error(Errors.INVALID_REQUEST);
        String key = p.get("key");
        String val = op == Op.PUT ? p.get("val") : null;
        if (key == null) return Parsed.error(Errors.INVALID_REQUEST);
        if (op == Op.PUT && (val == null || val.isEmpty())) return Parsed.error(Errors.INVALID_REQUEST);
        TxId tx = null;
        long epoch = -1;
        if (participant) {
            if (p.count("tx") > 1 || p.count("epoch") > 1) return Parsed.error(Errors.INVALID_REQUEST);
            String txText = p.get("tx");
            String epochText = p.get("epoch");
            if (epochText != null) {
                epoch = parseEpoch(epochText);
                if (epoch < 0) return Parsed.error(Errors.INVALID_REQUEST);
            }
            if (txText != null) {
                tx = TxId.parse(txText);
                if (tx == null || epochText == null || op == Op.GET) return Parsed.error(Errors.INVALID_REQUEST);
            } else if (epochText != null && op != Op.GET) {
                return Parsed.error(Errors.INVALID_REQUEST);
            }
        }
        int keyBytes = utf8Length(key);
        if (keyBytes == 0 || keyBytes > limits.maxKeyBytes()) return Parsed.error(Errors.IMPROPER_KEY_LENGTH);
        if (val != null && utf8Length(val) > limits.maxValueBytes()) return Parsed.error(Errors.VALUE_TOO_LONG);
        return Parsed.ok(new KeyRequest(op, key, val, tx, epoch));
    }

    /** Length checks for a key and value that arrived already decoded (a batch): an error body or null. */
    public static String validate(Op op, String key, String value, Limits limits) {
        if (key == null || (op == Op.PUT && (value == null || value.isEmpty()))) return Errors.INVALID_REQUEST;
        int keyBytes = utf8Length(key);
        if (keyBytes == 0 || keyBytes > limits.maxKeyBytes()) return Errors.IMPROPER_KEY_LENGTH;
        if (value != null && utf8Length(value) > limits.maxValueBytes()) return Errors.VALUE_TOO_LONG;
        return null;
    }

    /** A non-negative decimal epoch of at most 18 digits, or -1. */
    public static long parseEpoch(String s) {
        if (s == null || s.isEmpty() || s.length() > 18) return -1;
        long v = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return -1;
            v = v * 10 + (c - '0');
        }
        return v;
    }

    public static int utf8Length(String s) {
        int n = s.length();
        int bytes = n;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                if (c < 0x800) bytes += 1;
                else if (Character.isHighSurrogate(c)) { bytes += 2; i++; }
                else bytes += 2;
            }
        }
        return bytes;
    }

    public byte[] valueBytes() {
        return value == null ? null : value.getBytes(StandardCharsets.UTF_8);
    }
}
