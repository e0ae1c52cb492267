package kvstore.core.tpc;

/**
 * What the leader answers a client: a status, a body (an error body, or a JSON document for a
 * transaction or a rid query), the value bytes of a 200 GET, and the version for
 * {@code X-KV-Version} (-1: no header). {@link #CLOSE} is no answer at all: the connection is
 * closed because the outcome cannot be given in time (PROTOCOL.md, "Deadlines").
 */
public record Answer(int status, String body, byte[] value, long version) {
    /** Close the connection without an answer: the write's outcome is unknown, never wrong. */
    public static final Answer CLOSE = new Answer(0, null, null, -1);

    public static Answer error(int status, String body) {
        return new Answer(status, body, null, -1);
    }

    public static Answer error(int status, String body, long version) {
        return new Answer(status, body, null, version);
    }

    public boolean close() {
        return status == 0;
    }
}
