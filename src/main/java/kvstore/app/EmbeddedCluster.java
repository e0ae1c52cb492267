package kvstore.app;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.node.NodeSettings;
import kvstore.follower.FollowerVerticle;
import kvstore.leader.LeaderVerticle;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The embedded default (SPEC.md section 1) and the seed's {@code tpcsystem} launcher, improved:
 * one JVM with a leader on PORT and followers on PORT+1.., each with its own data directory under
 * the data directory, and a console on stdin:
 * <pre>
 *   a        add a follower on the next free port after the others: the leader's capacity
 *            goes up by one first (POST /api/members/capacity), then it starts and joins
 *   d PORT   drain a follower (POST /api/members/drain): once the leader has moved its keys
 *            and evicted it, its server stops
 *   e PORT   evict a follower now (POST /api/members/evict): it keeps running, out of the
 *            ring, until it is restarted (k PORT, then r PORT)
 *   k PORT   kill a follower (its server and log stop at once)
 *   r PORT   restart it on the same data directory
 *   l        list the followers: running here or not, their state as the leader sees it, the
 *            view and any rebalance
 *   q        quit (as Ctrl-C)
 * </pre>
 * The membership commands go through the leader's admin API (SPEC.md section 10) like any
 * operator's request, with the cluster secret when one is set. The console runs on a thread of
 * its own; a drain's wait for the eviction on another, so the console answers meanwhile. Both
 * maps of followers are concurrent (the deployment callbacks run on event loops) and sorted by
 * port, the order {@code l} lists them in.
 */
final class EmbeddedCluster implements Main.Node {
    static final String CONSOLE_HELP = "console: a = add a follower, d PORT = drain and remove it, e PORT = evict it,"
            + " k PORT = kill a follower, r PORT = restart it, l = list followers, q = quit";

    /** How long a drain may take before the console stops waiting to stop the follower. */
    private static final Duration DRAIN_WAIT = Duration.ofMinutes(10);

    private final Vertx vertx;
    private final NodeSettings base;
    private String leaderDeployment;
    private final Map<Integer, String> followerDeployments = new ConcurrentSkipListMap<>();
    private final Map<Integer, NodeSettings> followerSettings = new ConcurrentSkipListMap<>();
    /** Followers being drained (the console waits for their eviction), and those a drain stopped. */
    private final Set<Integer> draining = ConcurrentHashMap.newKeySet();
    private final Set<Integer> drained = ConcurrentHashMap.newKeySet();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private volatile PrintStream out = System.out;

    EmbeddedCluster(Vertx vertx, NodeSettings base) {
        this.vertx = vertx;
        this.base = base;
    }

    @Override
    public Future<?> start() {
        Path dir = base.dataDir();
        int leaderPort = base.port();
        NodeSettings leader = base.withRole("leader", leaderPort, dir.resolve("leader-" + leaderPort));
        for (int i = 1; i <= base.followers(); i++) {
            int port = leaderPort + i;
            followerSettings.put(port, follower(port));
        }
        Future<?> chain = vertx.deployVerticle(new LeaderVerticle(leader)).map(id -> leaderDeployment = id);
        for (int port : followerSettings.keySet()) {
            chain = chain.compose(v -> deployFollower(port));
        }
        return chain.onSuccess(v -> banner());
    }

    /** A follower of this cluster on {@code port}, with its data directory beside the others. */
    private NodeSettings follower(int port) {
        return new NodeSettings("follower", base.host(), base.advertise(), port, base.dataDir().resolve("follower-" + port),
                base.followers(), base.redundancy(), base.vnodes(), base.advertise(), base.port(), true,
                base.secret(), base.clientToken(), base.insecure(), base.limits(), base.segmentBytes(), base.compactMinBytes(),
                base.groupCommit(), base.requestTimeoutMillis(), base.opTimeoutMillis(), base.checkIntervalMillis(),
                base.queueCapacity(), base.cluster(), base.clusterPort(), base.clusterMembers(), base.healAfterMillis(), base.copyRateBytes());
    }

    private Future<String> deployFollower(int port) {
        return vertx.deployVerticle(new FollowerVerticle(followerSettings.get(port))).map(id -> {
            followerDeployments.put(port, id);
            return id;
        });
    }

    private void banner() {
        StringBuilder sb = new StringBuilder();
        sb.append("\nkvstore embedded cluster: leader and ").append(followerSettings.size())
                .append(" followers, redundancy ").append(Math.min(base.redundancy(), base.followers())).append('\n');
        sb.append("  web client:  http://").append(base.advertise()).append(':').append(base.port()).append("/\n");
        for (int port : followerSettings.keySet()) sb.append("  follower:    http://").append(base.advertise()).append(':').append(port).append("/\n");
        sb.append("  try:         curl -X PUT 'http://").append(base.advertise()).append(':').append(base.port()).append("/?key=hello&val=world'\n");
        sb.append(CONSOLE_HELP).append('\n');
        System.out.print(sb);
        System.out.flush();
    }

    @Override
    public Future<?> stop() {
        List<Future<?>> all = new ArrayList<>();
        for (String id : followerDeployments.values()) all.add(vertx.undeploy(id));
        if (leaderDeployment != null) all.add(vertx.undeploy(leaderDeployment));
        return Future.join(new ArrayList<>(all));
    }

    /** Reads console commands until stdin ends (then the cluster keeps running) or q. */
    void console(InputStream in, PrintStream out, Runnable quit) {
        this.out = out;
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    String answer = command(line.trim());
                    if (answer == null) {
                        quit.run();
                        return;
                    }
                    if (!answer.isEmpty()) say(answer);
                }
            } catch (Exception e) {
                // stdin closed: keep serving
            }
        }, "kvstore-console");
        t.setDaemon(true);
        t.start();
    }

    /** Runs one console command; returns what to print, or null to quit. */
    String command(String line) {
        if (line.isEmpty()) return "";
        String[] w = line.split("\\s+");
        try {
            switch (w[0].toLowerCase()) {
                case "q", "quit", "exit" -> {
                    return null;
                }
                case "l", "list" -> {
                    return list();
                }
                case "a", "add" -> {
                    if (w.length != 1) throw new IllegalArgumentException("usage: " + w[0] + " (no port: the next free one is taken)");
                    return add();
                }
                case "d", "drain" -> {
                    return drain(portArg(w));
                }
                case "e", "evict" -> {
                    return evict(portArg(w));
                }
                case "k", "kill" -> {
                    int port = portArg(w);
                    String id = followerDeployments.remove(port);
                    if (id == null) return followerSettings.containsKey(port) ? "follower " + port + " is not running" : "no follower on port " + port;
                    vertx.undeploy(id).await(20, TimeUnit.SECONDS);
                    return "killed follower " + port;
                }
                case "r", "restart" -> {
                    int port = portArg(w);
                    if (!followerSettings.containsKey(port)) return "no follower on port " + port;
                    if (followerDeployments.containsKey(port)) return "follower " + port + " is already running";
                    deployFollower(port).await(60, TimeUnit.SECONDS);
                    drained.remove(port);
                    return "restarted follower " + port;
                }
                case "h", "help", "?" -> {
                    return CONSOLE_HELP;
                }
                default -> {
                    return "unknown command '" + w[0] + "'; " + CONSOLE_HELP;
                }
            }
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        } catch (Exception e) {
            return "failed: " + e.getMessage();
        }
    }

    private static int portArg(String[] w) {
        if (w.length != 2) throw new IllegalArgumentException("usage: " + w[0] + " PORT");
        try {
            return Integer.parseInt(w[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a port: " + w[1]);
        }
    }

    /* --- Membership through the leader's admin API (SPEC.md section 10) --- */

    /** {@code a}: capacity + 1 on the leader, then a new follower on the next free port. */
    private String add() throws Exception {
        JsonObject members = admin("GET", "/api/members", 200);
        int capacity = members.getInteger("capacity");
        int port = nextFreePort();
        admin("POST", "/api/members/capacity?n=" + (capacity + 1), 200);
        followerSettings.put(port, follower(port));
        try {
            deployFollower(port).await(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            followerSettings.remove(port);
            throw new IllegalStateException("capacity raised to " + (capacity + 1) + ", but follower " + port + " did not start: " + e.getMessage(), e);
        }
        return "added follower " + port + " (capacity " + (capacity + 1) + "): it joins, copies the keys it gains, then serves; l shows its state";
    }

    /** The first port after the leader's and every follower's that nothing listens on. */
    private int nextFreePort() {
        int port = base.port();
        for (int p : followerSettings.keySet()) port = Math.max(port, p);
        for (port++; port <= 65535; port++) {
            if (free(port)) return port;
        }
        throw new IllegalStateException("no free port after " + base.port());
    }

    private boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(base.host(), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code d PORT}: the leader moves its keys, then evicts it; a watcher then stops it here. */
    private String drain(int port) throws Exception {
        if (!followerSettings.containsKey(port)) return "no follower on port " + port;
        if (draining.contains(port)) return "follower " + port + " is already draining";
        JsonObject answer = admin("POST", "/api/members/drain?follower=" + member(port), 202);
        draining.add(port);
        Thread t = new Thread(() -> awaitDrained(port), "kvstore-drain-" + port);
        t.setDaemon(true);
        t.start();
        return "draining follower " + port + " (view " + answer.getValue("view") + "): it stops once its keys have moved and it is evicted";
    }

    private void awaitDrained(int port) {
        long deadline = System.nanoTime() + DRAIN_WAIT.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                JsonObject members = admin("GET", "/api/members", 200);
                if (evictedEntry(members, port) != null && memberEntry(members, port) == null) {
                    String id = followerDeployments.remove(port);
                    if (id != null) vertx.undeploy(id).await(20, TimeUnit.SECONDS);
                    drained.add(port);
                    say("drained follower " + port + ": its keys moved, it was evicted (view " + members.getValue("view") + ") and stopped");
                    return;
                }
                LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
            }
            say("follower " + port + " is still draining after " + DRAIN_WAIT.toMinutes() + " min; it keeps running (l shows its state)");
        } catch (Exception e) {
            say("drain of follower " + port + ": " + e.getMessage());
        } finally {
            draining.remove(port);
        }
    }

    /** {@code e PORT}: evicted now; it keeps running here, out of the ring, until restarted. */
    private String evict(int port) throws Exception {
        if (!followerSettings.containsKey(port)) return "no follower on port " + port;
        JsonObject answer = admin("POST", "/api/members/evict?follower=" + member(port), 202);
        return "evicted follower " + port + " (view " + answer.getValue("view") + "): it stays out until it is restarted (k " + port + ", then r " + port + ")";
    }

    /** HOST:PORT of a follower as it registered (its advertised address). */
    private String member(int port) {
        return hostForUrl(base.advertise()) + ":" + port;
    }

    /**
     * One admin request to the leader, with the secret when there is one. Anything but the
     * expected status is an {@link IllegalArgumentException} whose message the console prints.
     */
    private JsonObject admin(String method, String pathAndQuery, int expected) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(leaderUrl() + pathAndQuery))
                .timeout(Duration.ofSeconds(30))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (base.secret() != null) b.header("X-KV-Secret", base.secret());
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalArgumentException("the leader did not answer " + method + " " + pathAndQuery + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalArgumentException("interrupted");
        }
        if (r.statusCode() != expected) {
            throw new IllegalArgumentException("the leader answered " + method + " " + pathAndQuery + " with " + r.statusCode() + " " + r.body());
        }
        return new JsonObject(r.body());
    }

    private String leaderUrl() {
        return "http://" + hostForUrl(base.advertise()) + ":" + base.port();
    }

    private JsonObject memberEntry(JsonObject membersOrStatus, int port) {
        String key = membersOrStatus.containsKey("members") ? "members" : "followers";
        return entry(membersOrStatus.getJsonArray(key, new JsonArray()), port);
    }

    private JsonObject evictedEntry(JsonObject membersOrStatus, int port) {
        return entry(membersOrStatus.getJsonArray("evicted", new JsonArray()), port);
    }

    private JsonObject entry(JsonArray list, int port) {
        for (int i = 0; i < list.size(); i++) {
            JsonObject f = list.getJsonObject(i);
            if (f.getInteger("port", -1) == port && base.advertise().equals(f.getString("host"))) return f;
        }
        return null;
    }

    private void say(String text) {
        PrintStream o = out;
        synchronized (o) {
            o.println(text);
            o.flush();
        }
    }

    /* --- l --- */

    /**
     * One line per follower started here: running, killed or stopped (by a drain) in this JVM;
     * its state as the leader sees it (up, down, joining, draining, evicted) with its id, last
     * contact and phase-2 work; then the view and any rebalance.
     */
    private String list() throws Exception {
        JsonObject status = leaderStatus();
        StringBuilder sb = new StringBuilder();
        long now = System.currentTimeMillis();
        for (int port : followerSettings.keySet()) {
            String local = followerDeployments.containsKey(port) ? "running" : drained.contains(port) ? "stopped" : "killed";
            sb.append(String.format("follower %s:%d  %-9s", base.advertise(), port, local));
            JsonObject f = status == null ? null : memberEntry(status, port);
            JsonObject gone = status == null ? null : evictedEntry(status, port);
            if (f != null) {
                String state = f.getString("state", Boolean.TRUE.equals(f.getBoolean("up")) ? "up" : "down");
                if (!"down".equals(state) && Boolean.FALSE.equals(f.getBoolean("up"))) state += ",down";
                sb.append(String.format("  leader sees it %-8s  id %s", state, f.getString("id")));
                Long last = f.getLong("lastSeen");
                if (last != null) sb.append(String.format("  last seen %.1f s ago", (now - last) / 1000.0));
                sb.append("  pending phase 2: ").append(f.getInteger("pendingPhase2", 0));
            } else if (gone != null) {
                sb.append(String.format("  leader sees it %-8s", "evicted"));
                Long since = gone.getLong("since");
                if (since != null) sb.append(String.format("  since %.1f s ago", (now - since) / 1000.0));
            } else {
                sb.append("  not registered");
            }
            sb.append('\n');
        }
        if (status != null) {
            sb.append("view ").append(status.getValue("view")).append(", capacity ").append(status.getValue("capacity"));
            Object reb = status.getValue("rebalancing");
            if (reb instanceof JsonObject r) {
                sb.append(", rebalancing: ").append(r.getValue("copied")).append(" of about ").append(r.getValue("keys")).append(" keys copied");
                Long since = r.getLong("since");
                if (since != null) sb.append(String.format(", for %.1f s", (now - since) / 1000.0));
            } else {
                sb.append(", no key is moving");
            }
        } else {
            sb.append("the leader does not answer GET /api/status");
        }
        return sb.toString();
    }

    private JsonObject leaderStatus() {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(leaderUrl() + "/api/status"))
                    .timeout(Duration.ofSeconds(3));
            if (base.secret() != null) b.header("X-KV-Secret", base.secret());
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            return r.statusCode() == 200 ? new JsonObject(r.body()) : null;
        } catch (Exception e) {
            return null;
        }
    }

    private static String hostForUrl(String h) {
        return h.contains(":") ? "[" + h + "]" : h;
    }
}
