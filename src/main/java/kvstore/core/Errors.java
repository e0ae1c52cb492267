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
    /** SPEC.md section 11: a condition on a key's version failed (412 to a client, with the current version). */
    public static final String VERSION_MISMATCH = "error: version mismatch";

    /* Internal answers between leader and followers (docs/protocol.md), never shown to a client. */
    /** A leader's read of a key this follower does not hold the latest value of. */
    public static final String NOT_CURRENT = "error: not current";
    /** A leader's message meant for another identity (a wiped or swapped data directory). */
    public static final String NOT_THIS_FOLLOWER = "error: not this follower";

    /** The seed's yes vote: the body of a 202 answer to a phase-1 request. */
    public static final String VOTE_COMMIT = "commit";
}
