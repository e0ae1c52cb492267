package kvstore.core;

import java.nio.file.Path;

/**
 * Everything one node needs to run, resolved from the command line, the environment and the
 * config file by {@code kvstore.app.Config}. Plain data; no defaults are decided here.
 *
 * @param host              the bind address
 * @param advertise         the address others use to reach this node
 * @param followers         leader: the follower capacity
 * @param leaderHost        follower: where the leader is
 * @param secret            the cluster secret, or null
 * @param clientToken       the client token, or null
 * @param requestTimeoutMillis leader to follower: how long one request may take
 * @param opTimeoutMillis   how long a client operation may wait in its key's lane
 * @param checkIntervalMillis how often the leader checks each follower
 * @param queueCapacity     client operations admitted at once before 503
 */
public record NodeSettings(
        String role, String host, String advertise, int port, Path dataDir,
        int followers, int redundancy, int vnodes,
        String leaderHost, int leaderPort,
        String secret, String clientToken, boolean insecure, Limits limits,
        long segmentBytes, long compactMinBytes, boolean groupCommit,
        long requestTimeoutMillis, long opTimeoutMillis, long checkIntervalMillis, int queueCapacity,
        boolean cluster, int clusterPort, String clusterMembers) {

    public String address() {
        return advertise + ":" + port;
    }

    /** Every setting but the secret and the client token, which never reach a log or a message. */
    @Override
    public String toString() {
        return "NodeSettings[role=" + role + ", host=" + host + ", advertise=" + advertise + ", port=" + port
                + ", dataDir=" + dataDir + ", followers=" + followers + ", redundancy=" + redundancy + ", vnodes=" + vnodes
                + ", leader=" + leaderAddress() + ", secret=" + (secret == null ? "none" : "(set)")
                + ", clientToken=" + (clientToken == null ? "none" : "(set)") + ", insecure=" + insecure + "]";
    }

    public String leaderAddress() {
        return leaderHost + ":" + leaderPort;
    }

    public NodeSettings withRole(String r, int p, Path dir) {
        return new NodeSettings(r, host, advertise, p, dir, followers, redundancy, vnodes, leaderHost, leaderPort,
                secret, clientToken, insecure, limits, segmentBytes, compactMinBytes, groupCommit,
                requestTimeoutMillis, opTimeoutMillis, checkIntervalMillis, queueCapacity,
                cluster, clusterPort, clusterMembers);
    }
}
