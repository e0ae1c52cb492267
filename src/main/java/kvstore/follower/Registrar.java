package kvstore.follower;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import kvstore.cluster.Cluster;
import kvstore.node.NodeSettings;
import kvstore.core.Params;
import kvstore.http.Guard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Keeps this follower registered with its leader ({@code POST /register?key=HOST&val=PORT}, the
 * seed's call, plus our identity, epoch and cluster node id in headers). It retries until the
 * leader accepts, and registers again when the leader seems to have forgotten us: a newer epoch
 * (the leader restarted) or no word from the leader for a while. Registering again is always a
 * success.
 *
 * <p>In clustered mode it also reads the cluster's directory every 2 seconds and registers with
 * every leader published there, active or standby, so that a standby knows every follower when
 * it takes over; {@code --leader} is then optional.
 */
final class Registrar {
    private static final Logger LOG = LoggerFactory.getLogger(Registrar.class);
    private static final long RETRY_MILLIS = 1_000;
    private static final long REFUSED_RETRY_MILLIS = 5_000;

    /** One leader we register with. */
    private final class Target {
        final String host;
        final int port;
        final boolean configured;
        boolean registered, attempting;
        String lastProblem;
        /** Clustered mode: the leader processes seen behind this address (a restart is another), newest last. */
        final java.util.LinkedHashSet<String> nodeIds = new java.util.LinkedHashSet<>();
        long timer = -1;

        Target(String host, int port, boolean configured) {
            this.host = host;
            this.port = port;
            this.configured = configured;
        }

        String address() {
            return host + ":" + port;
        }
    }

    private final Vertx vertx;
    private final NodeSettings settings;
    private final String identity;
    private final LongSupplier epoch;
    private final java.util.function.Supplier<String> state;
    private final java.util.function.Supplier<kvstore.core.view.View> view;
    private final Cluster cluster;
    private final WebClient client;
    private final long silenceMillis;
    private final Map<String, Target> targets = new LinkedHashMap<>();
    private String activeLeader;
    private boolean stopped;
    private long lastLeaderContact = System.nanoTime();

    private String lastState;
    private boolean outForGood;

    Registrar(Vertx vertx, NodeSettings settings, String identity, LongSupplier epoch, java.util.function.Supplier<String> state,
              java.util.function.Supplier<kvstore.core.view.View> view, Cluster cluster) {
        this.vertx = vertx;
        this.settings = settings;
        this.identity = identity;
        this.epoch = epoch;
        this.state = state;
        this.view = view;
        this.cluster = cluster;
        this.client = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false).setConnectTimeout(2_000).setUserAgentEnabled(false));
        this.silenceMillis = Math.max(6_000, 4 * settings.checkIntervalMillis());
    }

    /** Registered with at least one leader. */
    boolean registered() {
        for (Target t : targets.values()) if (t.registered) return true;
        return false;
    }

    /** The leader to show in /api/status: the active one in clustered mode, else the configured one. */
    String leaderAddress() {
        if (activeLeader != null) return activeLeader;
        return cluster == null || settings.leaderExplicit() ? settings.leaderAddress() : null;
    }

    void start() {
        lastState = state.get(); // a state found in the log at start is not news: a restart registers again
        if (cluster == null || settings.leaderExplicit()) add(settings.leaderHost(), settings.leaderPort(), true);
        discover();
        vertx.setPeriodic(2_000, t -> {
            if (stopped) return;
            discover();
            long silentFor = (System.nanoTime() - lastLeaderContact) / 1_000_000L;
            if (registered() && silentFor > silenceMillis) attemptAll();
        });
    }

    /** A leader message arrived; a newer epoch than the one we registered under means a new leader. */
    void leaderContact(boolean newEpoch) {
        lastLeaderContact = System.nanoTime();
        if (newEpoch) attemptAll();
    }

    /**
     * This follower's state in its view may have changed (SPEC.md section 10). Evicted for not
     * answering: it registers again at once, as a new member. Evicted by an admin or a drain: it
     * stays out until it is restarted.
     */
    void stateChanged() {
        String now = state.get();
        if (now.equals(lastState)) {
            if (now.equals("evicted") && !outForGood) attemptAll(); // keep asking while there is no room yet
            return;
        }
        lastState = now;
        if (!now.equals("evicted")) {
            outForGood = false;
            return;
        }
        kvstore.core.view.Evicted e = view.get() == null ? null : view.get().evictedAt(settings.advertise(), settings.port());
        outForGood = e != null && !e.rejoin();
        LOG.info("follower {} was evicted{}", settings.address(), outForGood
                ? " by an admin or a drain: it holds no keys now, and stays out until it is restarted"
                : " for not answering: it holds no keys now, and registers again as a new member");
        if (!outForGood) attemptAll();
    }

    private void add(String host, int port, boolean configured) {
        String address = host + ":" + port;
        if (targets.containsKey(address)) return;
        Target t = new Target(host, port, configured);
        targets.put(address, t);
        attempt(t);
    }

    /** Clustered mode: every leader in the directory is a target; gone ones are dropped. */
    private void discover() {
        if (cluster == null) return;
        cluster.directory().compose(AsyncMap::entries).onSuccess(entries -> {
            java.util.Set<String> seen = new java.util.HashSet<>();
            String active = null;
            long activeEpoch = -1;
            for (Map.Entry<String, String> e : entries.entrySet()) {
                if (!e.getKey().startsWith("leader.")) continue;
                try {
                    JsonObject o = new JsonObject(e.getValue());
                    String host = o.getString("host");
                    int port = o.getInteger("port");
                    seen.add(host + ":" + port);
                    if ("active".equals(o.getString("state")) && o.getLong("epoch", 0L) > activeEpoch) {
                        active = host + ":" + port;
                        activeEpoch = o.getLong("epoch", 0L);
                    }
                    add(host, port, false);
                    // The same address under another cluster node: that leader restarted and
                    // knows nothing of us unless we register with it again.
                    Target t = targets.get(host + ":" + port);
                    String nodeId = o.getString("nodeId");
                    if (t != null && nodeId != null && !t.nodeIds.contains(nodeId)) {
                        boolean restarted = !t.nodeIds.isEmpty();
                        t.nodeIds.add(nodeId);
                        if (t.nodeIds.size() > 4) t.nodeIds.remove(t.nodeIds.iterator().next());
                        if (restarted) attempt(t);
                    }
                } catch (RuntimeException ignored) {
                    // not a leader entry we understand
                }
            }
            activeLeader = active;
            targets.values().removeIf(t -> !t.configured && !seen.contains(t.address()));
        });
    }

    private void attemptAll() {
        for (Target t : targets.values()) attempt(t);
    }

    private void attempt(Target t) {
        if (t.attempting || stopped || outForGood) return;
        t.attempting = true;
        String uri = "/register?key=" + Params.encode(settings.advertise()) + "&val=" + settings.port();
        HttpRequest<Buffer> r = client.request(HttpMethod.POST, t.port, t.host, uri)
                .timeout(5_000)
                .putHeader("X-KV-Identity", identity)
                .putHeader("X-KV-Epoch", String.valueOf(epoch.getAsLong()));
        if (cluster != null) r.putHeader("X-KV-Node", cluster.nodeId());
        if (settings.secret() != null) r.putHeader(Guard.SECRET_HEADER, settings.secret());
        r.send().onComplete(ar -> {
            t.attempting = false;
            if (ar.succeeded() && ar.result().statusCode() == 201) {
                if (!t.registered) LOG.info("registered with leader {} as {}", t.address(), settings.address());
                t.registered = true;
                t.lastProblem = null;
                lastLeaderContact = System.nanoTime();
                return;
            }
            boolean refused = ar.succeeded() && ar.result().statusCode() == 500;
            if (refused) t.registered = false;
            String problem = ar.succeeded()
                    ? ar.result().statusCode() + " " + ar.result().bodyAsString()
                    : "leader unreachable (" + ar.cause().getMessage() + ")";
            if (!problem.equals(t.lastProblem)) LOG.warn("registration with leader {} failed: {}; retrying", t.address(), problem);
            t.lastProblem = problem;
            schedule(t, refused ? REFUSED_RETRY_MILLIS : RETRY_MILLIS);
        });
    }

    private void schedule(Target t, long delay) {
        if (stopped) return;
        if (t.timer >= 0) vertx.cancelTimer(t.timer);
        t.timer = vertx.setTimer(delay, x -> {
            t.timer = -1;
            if (!t.registered && targets.get(t.address()) == t) attempt(t);
        });
    }

    void stop() {
        stopped = true;
        client.close();
    }
}
