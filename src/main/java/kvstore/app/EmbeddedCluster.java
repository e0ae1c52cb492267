package kvstore.app;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.node.NodeSettings;
import kvstore.follower.FollowerVerticle;
import kvstore.leader.LeaderVerticle;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The embedded default (SPEC.md section 1) and the seed's {@code tpcsystem} launcher, improved:
 * one JVM with a leader on PORT and followers on PORT+1.., each with its own data directory under
 * the data directory, and a console on stdin:
 * <pre>
 *   k PORT   kill a follower (its server and log stop at once)
 *   r PORT   restart it on the same data directory
 *   l        list the followers and what the leader thinks of them
 *   q        quit (as Ctrl-C)
 * </pre>
 */
final class EmbeddedCluster implements Main.Node {
    static final String CONSOLE_HELP = "console: k PORT = kill a follower, r PORT = restart it, l = list followers, q = quit";

    private final Vertx vertx;
    private final NodeSettings base;
    private String leaderDeployment;
    private final Map<Integer, String> followerDeployments = new LinkedHashMap<>();
    private final Map<Integer, NodeSettings> followerSettings = new LinkedHashMap<>();

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
            NodeSettings f = new NodeSettings("follower", base.host(), base.advertise(), port, dir.resolve("follower-" + port),
                    base.followers(), base.redundancy(), base.vnodes(), base.advertise(), leaderPort, true,
                    base.secret(), base.clientToken(), base.insecure(), base.limits(), base.segmentBytes(), base.compactMinBytes(),
                    base.groupCommit(), base.requestTimeoutMillis(), base.opTimeoutMillis(), base.checkIntervalMillis(),
                    base.queueCapacity(), base.cluster(), base.clusterPort(), base.clusterMembers(), base.healAfterMillis(), base.copyRateBytes());
            followerSettings.put(port, f);
        }
        Future<?> chain = vertx.deployVerticle(new LeaderVerticle(leader)).map(id -> leaderDeployment = id);
        for (int port : followerSettings.keySet()) {
            chain = chain.compose(v -> deployFollower(port));
        }
        return chain.onSuccess(v -> banner());
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
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    String answer = command(line.trim());
                    if (answer == null) {
                        quit.run();
                        return;
                    }
                    if (!answer.isEmpty()) {
                        out.println(answer);
                        out.flush();
                    }
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

    private String list() throws Exception {
        JsonObject status = leaderStatus();
        Map<Integer, JsonObject> seen = new LinkedHashMap<>();
        if (status != null) {
            JsonArray fs = status.getJsonArray("followers", new JsonArray());
            for (int i = 0; i < fs.size(); i++) seen.put(fs.getJsonObject(i).getInteger("port"), fs.getJsonObject(i));
        }
        StringBuilder sb = new StringBuilder();
        long now = System.currentTimeMillis();
        for (int port : followerSettings.keySet()) {
            JsonObject f = seen.get(port);
            sb.append(String.format("follower %s:%d  %-9s", base.advertise(), port, followerDeployments.containsKey(port) ? "running" : "killed"));
            if (f == null) sb.append("  not registered");
            else {
                sb.append(String.format("  leader sees it %-4s  id %s", f.getBoolean("up") ? "up" : "down", f.getString("id")));
                Long last = f.getLong("lastSeen");
                if (last != null) sb.append(String.format("  last seen %.1f s ago", (now - last) / 1000.0));
                sb.append("  pending phase 2: ").append(f.getInteger("pendingPhase2", 0));
            }
            sb.append('\n');
        }
        return sb.toString().stripTrailing();
    }

    private JsonObject leaderStatus() {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + hostForUrl(base.advertise()) + ":" + base.port() + "/api/status"))
                    .timeout(Duration.ofSeconds(3));
            HttpResponse<String> r = HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? new JsonObject(r.body()) : null;
        } catch (Exception e) {
            return null;
        }
    }

    private static String hostForUrl(String h) {
        return h.contains(":") ? "[" + h + "]" : h;
    }
}
