package kvstore.core;

/**
 * Every body a client can see, word for word (SPEC.md sections 2, 3 and 6), in one place.
 *
 * <p>The first seven are the seed's. Tests compare against these constants, never against
 * copies of the strings, so a typo here fails loudly everywhere at once.
 */
public final class Errors {
    private Errors() {}

    public static final String NO_KEY = "error: no key";
    public static final String IMPROPER_KEY_LENGTH = "error: improper key length";
    public static final String VALUE_TOO_LONG = "error: value too long";
    public static final String INVALID_REQUEST = "error: invalid request";
    public static final String CAPACITY_NOT_FULL = "error: follower_capacity not yet full";
    public static final String CAPACITY_FULL = "error: follower capacity already full";
    public static final String UNABLE = "error: unable to process request";
    public static final String UNAUTHORIZED = "error: unauthorized";
    public static final String STALE_LEADER = "error: stale leader";
    public static final String PENDING = "error: pending";

    /** The seed's yes vote: the body of a 202 answer to a phase-1 request. */
    public static final String VOTE_COMMIT = "commit";
}
