package kvstore.core;

/**
 * A follower as the ring sees it: its ring id ({@code strhash64(PORT:HOST)}, SPEC.md section 4)
 * and the address it registered with.
 */
public record Member(long id, String host, int port) {
    public static Member of(String host, int port) {
        return new Member(Hash.followerId(host, port), host, port);
    }

    /** The ring id as SPEC.md prints it: an unsigned decimal string. */
    public String idString() {
        return Long.toUnsignedString(id);
    }

    public String address() {
        return host + ":" + port;
    }
}
