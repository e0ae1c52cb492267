package kvstore.core;

/**
 * One key's part in a transaction's prepare (PROTOCOL.md, "Write path" and "Versions"): a PUT,
 * a DELETE, or a CHECK that only holds the key and tests its condition. {@code ifVersion} is the
 * version the key must have (0: absent), or -1 for none. A {@code blind} write goes to a replica
 * that is still being filled (a move): it checks no condition and a DELETE of a key it does not
 * hold is no error; it only records the write with its version.
 */
public record Write(Kind kind, String key, String value, long ifVersion, boolean blind) {
    public enum Kind { PUT, DELETE, CHECK }

    public static final long NO_CONDITION = -1;

    public static Write put(String key, String value) {
        return new Write(Kind.PUT, key, value, NO_CONDITION, false);
    }

    public static Write delete(String key) {
        return new Write(Kind.DELETE, key, null, NO_CONDITION, false);
    }

    public static Write check(String key, long version) {
        return new Write(Kind.CHECK, key, null, version, false);
    }

    public Write withCondition(long v) {
        return new Write(kind, key, value, v, blind);
    }

    /** The same write for a replica still being filled: no condition, no "no key". */
    public Write blindly() {
        return new Write(kind, key, value, NO_CONDITION, true);
    }

    public boolean isWrite() {
        return kind != Kind.CHECK;
    }
}
