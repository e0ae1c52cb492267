package kvstore.core.tpc;

import kvstore.core.Keys;
import kvstore.core.Write;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A transaction's decision, once its keys' lanes are held and each key was read from a current
 * replica (SPEC.md section 11): which branch runs, what each get answers, and what each replica
 * must prepare. The writes carry the versions that were read as conditions, and the condition
 * keys are prepared as CHECKs, so every replica checks them again under the key's lock
 * (PROTOCOL.md, "Versions"): what the leader read is never trusted alone.
 */
final class TxnPlan {
    final boolean succeeded;
    final List<TxnRequest.TxnOp> branch;
    /** Writes by key (UTF-8 order), CHECKs included; empty when the branch writes nothing. */
    final Map<String, List<Write>> writes = new TreeMap<>(Keys.UTF8_ORDER);
    private final Map<String, Reads.Result> read;

    private TxnPlan(boolean succeeded, List<TxnRequest.TxnOp> branch, Map<String, Reads.Result> read) {
        this.succeeded = succeeded;
        this.branch = branch;
        this.read = read;
    }

    static TxnPlan of(TxnRequest req, Map<String, Reads.Result> read) {
        boolean ok = true;
        for (TxnRequest.Condition cond : req.conditions()) ok &= versionOf(read.get(cond.key())) == cond.version();
        TxnPlan plan = new TxnPlan(ok, ok ? req.then() : req.otherwise(), read);
        boolean writes = false;
        for (TxnRequest.TxnOp op : plan.branch) {
            long seen = versionOf(read.get(op.key()));
            switch (op.kind()) {
                case PUT -> {
                    plan.add(new Write(Write.Kind.PUT, op.key(), op.value(), seen, false));
                    writes = true;
                }
                case DELETE -> {
                    if (seen != 0) { // a delete of an absent key is a no-op (version 0)
                        plan.add(new Write(Write.Kind.DELETE, op.key(), null, seen, false));
                        writes = true;
                    }
                }
                case GET -> { }
            }
        }
        if (!writes) {
            plan.writes.clear();
            return plan;
        }
        for (TxnRequest.Condition cond : req.conditions()) {
            if (!plan.writes.containsKey(cond.key())) plan.add(Write.check(cond.key(), versionOf(read.get(cond.key()))));
        }
        return plan;
    }

    private void add(Write w) {
        writes.computeIfAbsent(w.key(), k -> new ArrayList<>(1)).add(w);
    }

    private static long versionOf(Reads.Result r) {
        return r == null || r.value() == null ? 0 : r.version();
    }

    boolean writes() {
        return !writes.isEmpty();
    }

    /** The answer's JSON: {@code {"succeeded", "version", "results"}}, writes at {@code version}. */
    String answer(long version) {
        StringBuilder sb = new StringBuilder(64 + 48 * branch.size());
        sb.append("{\"succeeded\":").append(succeeded).append(",\"version\":").append(version).append(",\"results\":[");
        boolean first = true;
        for (TxnRequest.TxnOp op : branch) {
            if (!first) sb.append(',');
            first = false;
            sb.append("{\"key\":");
            Json.quote(sb, op.key());
            Reads.Result r = read.get(op.key());
            switch (op.kind()) {
                case GET -> {
                    if (r == null || r.value() == null) sb.append(",\"error\":\"error: no key\"");
                    else {
                        sb.append(",\"val\":");
                        Json.quote(sb, new String(r.value(), StandardCharsets.UTF_8));
                        sb.append(",\"version\":").append(r.version());
                    }
                }
                case PUT -> sb.append(",\"version\":").append(version);
                case DELETE -> sb.append(",\"version\":").append(versionOf(r) == 0 ? 0 : version);
            }
            sb.append('}');
        }
        return sb.append("]}").toString();
    }
}
