package kvstore.core.view;

/**
 * An address the leader evicted (SPEC.md section 10). {@code rejoin}: it was evicted for not
 * answering ({@code --heal-after}), so it may register again as soon as it reaches the leader;
 * otherwise (an admin's evict, or a drain) it stays out until it is restarted. The entry goes
 * when that address rejoins.
 */
public record Evicted(String host, int port, long sinceMillis, boolean rejoin) {
    public String address() {
        return host + ":" + port;
    }
}
