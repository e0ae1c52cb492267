package kvstore.lincheck;

/**
 * One client operation on one key as a client saw it: when it was called, when it returned, and
 * what it returned. An operation whose outcome is unknown (a timeout, a dropped connection) has
 * {@code returnNanos == Long.MAX_VALUE}: it may have taken effect at any moment after its call,
 * or not at all. Operations that definitely had no effect (a write answered 500, any answer 503)
 * are not part of a history.
 *
 * @param kind   GET, PUT or DELETE
 * @param value  PUT: the value written; GET: the value read, or null for "no key"
 * @param found  DELETE: true if it answered 201, false if it answered "no key"
 */
public record Operation(int client, String key, Kind kind, String value, boolean found, long callNanos, long returnNanos) {

    public enum Kind { GET, PUT, DELETE }

    public boolean unknownOutcome() {
        return returnNanos == Long.MAX_VALUE;
    }

    public static Operation get(int client, String key, String valueOrNull, long call, long ret) {
        return new Operation(client, key, Kind.GET, valueOrNull, valueOrNull != null, call, ret);
    }

    public static Operation put(int client, String key, String value, long call, long ret) {
        return new Operation(client, key, Kind.PUT, value, true, call, ret);
    }

    public static Operation delete(int client, String key, boolean found, long call, long ret) {
        return new Operation(client, key, Kind.DELETE, null, found, call, ret);
    }

    @Override
    public String toString() {
        String r = unknownOutcome() ? "?" : String.valueOf(returnNanos);
        return "c" + client + " " + kind + " " + key + (kind == Kind.PUT ? "=" + value : kind == Kind.GET ? " -> " + value
                : found ? " -> deleted" : " -> no key") + " [" + callNanos + ", " + r + "]";
    }
}
