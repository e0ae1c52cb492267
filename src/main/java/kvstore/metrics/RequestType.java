package kvstore.metrics;

/**
 * The request types counted in {@code kvstore_requests_total}: a leader's client operations and
 * a follower's participant operations (SPEC.md sections 2 and 3). The label is fixed text, never
 * anything from the request.
 */
public enum RequestType {
    GET("get", 200),
    PUT("put", 201),
    DELETE("delete", 201),
    PREPARE("prepare", 202),
    COMMIT("commit", 204),
    ABORT("abort", 204),
    READ("read", 200),
    TXN("txn", 200);

    final String label;
    /** The status of a success, whose counter exists from the start. */
    final int success;

    RequestType(String label, int success) {
        this.label = label;
        this.success = success;
    }

    public String label() {
        return label;
    }
}
