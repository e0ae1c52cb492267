package kvstore.core.tpc;

import kvstore.core.Keys;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * A multi-key transaction (SPEC.md section 11, {@code POST /txn}): conditions on versions, and a
 * {@code then} and an {@code else} branch of gets, puts and deletes. Built by the HTTP layer
 * from the JSON body, already validated (limits, each key at most once per branch).
 */
public record TxnRequest(List<Condition> conditions, List<TxnOp> then, List<TxnOp> otherwise, String rid) {
    public static final int MAX_CONDITIONS_AND_OPS = 64;

    public TxnRequest {
        conditions = List.copyOf(conditions);
        then = List.copyOf(then);
        otherwise = List.copyOf(otherwise);
    }

    /** The key must have this version (0: absent). */
    public record Condition(String key, long version) {}

    public enum Kind { GET, PUT, DELETE }

    public record TxnOp(Kind kind, String key, String value) {}

    /** Every key touched, once each, in UTF-8 byte order (the global order lanes are taken in). */
    public List<String> keys() {
        TreeSet<String> ks = new TreeSet<>(Keys.UTF8_ORDER);
        for (Condition c : conditions) ks.add(c.key());
        for (TxnOp o : then) ks.add(o.key());
        for (TxnOp o : otherwise) ks.add(o.key());
        return new ArrayList<>(ks);
    }

    /** One string that is equal for equal requests (the rid fingerprint). */
    public String canonical() {
        StringBuilder sb = new StringBuilder();
        for (Condition c : conditions) sb.append("if\u0000").append(c.key()).append('\u0000').append(c.version()).append('\u0001');
        for (TxnOp o : then) sb.append("then\u0000").append(o.kind()).append('\u0000').append(o.key()).append('\u0000')
                .append(o.value() == null ? "" : o.value()).append('\u0001');
        for (TxnOp o : otherwise) sb.append("else\u0000").append(o.kind()).append('\u0000').append(o.key()).append('\u0000')
                .append(o.value() == null ? "" : o.value()).append('\u0001');
        return sb.toString();
    }
}
