package kvstore.core.log;

/**
 * The header that starts every log segment and snapshot (SPEC.md section 5): magic, format
 * version, what the file is, whose it is, and its sequence number.
 *
 * @param kind     {@link #SEGMENT} or {@link #SNAPSHOT}
 * @param role     {@link #LEADER} or {@link #FOLLOWER}: a follower never opens a leader's files
 * @param identity the node identity created at the data directory's first start
 * @param sequence a segment's number, or for a snapshot the last segment it covers
 */
public record FileHeader(int kind, int role, String identity, long sequence) {
    public static final int SEGMENT = 1;
    public static final int SNAPSHOT = 2;
    public static final int LEADER = 1;
    public static final int FOLLOWER = 2;

    public static String roleName(int role) {
        return role == LEADER ? "leader" : role == FOLLOWER ? "follower" : "role " + role;
    }
}
