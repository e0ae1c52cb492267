package kvstore.core;

/**
 * The byte limits on keys and values (SPEC.md section 2: 1 to 1024 UTF-8 bytes each by default,
 * the seed's MAX_KEYLEN and MAX_VALLEN), and the HTTP request-line limit that follows from them.
 */
public record Limits(int maxKeyBytes, int maxValueBytes) {
    public static final int DEFAULT_MAX_KEY_BYTES = 1024;
    public static final int DEFAULT_MAX_VALUE_BYTES = 1024;
    public static final Limits DEFAULTS = new Limits(DEFAULT_MAX_KEY_BYTES, DEFAULT_MAX_VALUE_BYTES);

    public Limits {
        if (maxKeyBytes < 1 || maxValueBytes < 1) {
            throw new IllegalArgumentException("limits must be at least 1 byte");
        }
    }

    /**
     * The longest request line a node must accept: a key and a value at their limits with every
     * byte percent-encoded (3 characters per byte), plus room for the method, path, the other
     * parameters (tx, epoch) and the protocol version. About 7 KB at the defaults.
     */
    public int maxRequestLineBytes() {
        return 3 * (maxKeyBytes + maxValueBytes) + 1024;
    }
}
