package kvstore.node;

import kvstore.core.Limits;

import java.nio.file.Path;

/**
 * Everything one node needs to run, resolved from the command line, the environment and the
 * config file by {@code kvstore.app.Config}. Plain data; no defaults are decided here.
 *
 * @param host              the bind address
 * @param advertise         the address others use to reach this node
 * @param followers         leader: the follower capacity
 * @param leaderHost        follower: where the leader is
 * @param leaderExplicit    follower: the leader's address was given (not the default); in
 *                          clustered mode a follower without it finds leaders in the cluster
 * @param secret            the cluster secret, or null
 * @param clientToken       the client token, or null
 * @param requestTimeoutMillis leader to follower: how long one request may take
 * @param opTimeoutMillis   how long a client operation may wait in its key's lane
 * @param checkIntervalMillis how often the leader checks each follower
 * @param queueCapacity     client operations admitted at once before 503
 * @param healAfterMillis   leader: evict a follower silent this long (0: never; SPEC.md section 10)
 * @param copyRateBytes     follower: how fast a joining member copies the keys it gains (0: no limit)
 */
public record NodeSettings(
        String role, String host, String advertise, int port, Path dataDir,
        int followers, int redundancy, int vnodes,
        String leaderHost, int leaderPort, boolean leaderExplicit,
        String secret, String clientToken, boolean insecure, Limits limits,
        long segmentBytes, long compactMinBytes, boolean groupCommit,
        long requestTimeoutMillis, long opTimeoutMillis, long checkIntervalMillis, int queueCapacity,
        boolean cluster, int clusterPort, String clusterMembers, long healAfterMillis, long copyRateBytes) {

    /** Like the record's, but the secret and the client token are never printed (SPEC.md section 6). */
    @Override
    public String toString() {
        return "NodeSettings[role=" + role + ", host=" + host + ", advertise=" + advertise + ", port=" + port
                + ", dataDir=" + dataDir + ", followers=" + followers + ", redundancy=" + redundancy + ", vnodes=" + vnodes
                + ", leader=" + leaderAddress() + ", secret=" + (secret == null ? "none" : "(set)")
                + ", clientToken=" + (clientToken == null ? "none" : "(set)") + ", insecure=" + insecure
                + ", limits=" + limits + ", cluster=" + cluster + "]";
    }

    /** What the cluster layer needs of these settings. */
    public kvstore.cluster.Cluster.Settings clusterSettings() {
        return new kvstore.cluster.Cluster.Settings(host, advertise, clusterPort, clusterMembers);
    }

    public String address() {
        return advertise + ":" + port;
    }

    public String leaderAddress() {
        return leaderHost + ":" + leaderPort;
    }

    public NodeSettings withRole(String r, int p, Path dir) {
        return new NodeSettings(r, host, advertise, p, dir, followers, redundancy, vnodes, leaderHost, leaderPort, leaderExplicit,
                secret, clientToken, insecure, limits, segmentBytes, compactMinBytes, groupCommit,
                requestTimeoutMillis, opTimeoutMillis, checkIntervalMillis, queueCapacity,
                cluster, clusterPort, clusterMembers, healAfterMillis, copyRateBytes);
    }
}
