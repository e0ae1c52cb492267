package kvstore.core.tpc;

import kvstore.core.Hash;

import java.util.List;

/**
 * What a client asked the leader, validated (SPEC.md sections 2 and 11): a read, a write of one
 * key (with an optional condition and rid), a transaction, or the question "what became of rid".
 */
public sealed interface ClientOp {
    /** The keys the operation touches; their lanes are taken in {@link kvstore.core.Keys#UTF8_ORDER}. */
    List<String> keys();

    record Get(String key) implements ClientOp {
        public List<String> keys() { return List.of(key); }
    }

    /** A PUT (value set) or DELETE (value null); {@code ifVersion} -1 for none; {@code rid} null for none. */
    record Put(String key, String value, long ifVersion, String rid) implements ClientOp {
        public List<String> keys() { return List.of(key); }
        public boolean delete() { return value == null; }
    }

    record Txn(TxnRequest request) implements ClientOp {
        public List<String> keys() { return request.keys(); }
    }

    /** {@code GET /api/writes?rid=}: settles a write whose answer was lost. */
    record RidQuery(String rid) implements ClientOp {
        public List<String> keys() { return List.of(); }
    }

    /** The rid of an operation that has one, else null. */
    static String ridOf(ClientOp op) {
        if (op instanceof Put p) return p.rid();
        if (op instanceof Txn t) return t.request().rid();
        return null;
    }

    /**
     * What makes two requests "the same" for a rid (SPEC.md section 11): the method, the decoded
     * key and value and the condition, or the transaction's canonical form. A 64-bit hash: two
     * different requests that collide are as likely as two random ids colliding.
     */
    static long fingerprint(ClientOp op) {
        if (op instanceof Put p) {
            String s = (p.delete() ? "DELETE\u0000" : "PUT\u0000") + p.key() + "\u0000" + (p.value() == null ? "" : p.value())
                    + "\u0000" + p.ifVersion();
            return Hash.strhash64(s);
        }
        if (op instanceof Txn t) return Hash.strhash64("TXN\u0000" + t.request().canonical());
        return 0;
    }
}
