package kvstore.testing.netlab;

import io.vertx.core.json.JsonObject;
import kvstore.testing.JarNode;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code scripts/netlab.sh} from a test: a lab of its own (its own state directory and namespace
 * prefix, so it never meets a person's {@code kvlab-} lab), the faults, and commands inside the
 * lab's namespaces. The test JVM stays in the machine's own namespace and never sends a packet to
 * the lab's addresses: everything that talks to a node runs in the {@code client} namespace.
 */
public final class Netlab implements AutoCloseable {
    public static final Path SCRIPT = Path.of("scripts", "netlab.sh").toAbsolutePath();
    public static final String SECRET = "kvstore-lab-secret"; // conf/lab-*.json
    public static final String LEADER = "http://192.168.56.10:16200";

    public final Path dir;
    public final String prefix;
    private boolean up;

    public Netlab(Path dir, String prefix) {
        this.dir = dir.toAbsolutePath();
        this.prefix = prefix;
    }

    /** Why the tier cannot run here, or null when it can: root on Linux, with ip, nft and the script. */
    public static String unavailableReason() {
        if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) return "not Linux";
        if (!"root".equals(System.getProperty("user.name"))) return "not root (network namespaces need it)";
        if (which("ip") == null) return "no ip (iproute2)";
        if (which("nft") == null) return "no nft (Debian's nftables; ./test.sh installs it)";
        if (!Files.isExecutable(SCRIPT)) return "no " + SCRIPT;
        return null;
    }

    static String which(String tool) {
        List<String> path = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        path.addAll(List.of("/usr/sbin", "/sbin"));
        for (String d : path) if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) return Path.of(d, tool).toString();
        return null;
    }

    public record Result(int code, String output) {}

    /** Runs netlab.sh with this lab's environment; its output goes to dir/netlab.log too. */
    public Result script(Duration timeout, String... args) {
        List<String> cmd = new ArrayList<>(List.of("bash", SCRIPT.toString()));
        cmd.addAll(List.of(args));
        return run(cmd, timeout, true);
    }

    private Result run(List<String> cmd, Duration timeout, boolean logged) {
        try {
            Files.createDirectories(dir);
            Path out = Files.createTempFile(dir, "cmd-", ".out");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
            env(pb.environment());
            Process p = pb.start();
            boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!done) {
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            String text = Files.readString(out, StandardCharsets.UTF_8);
            Files.delete(out);
            if (logged) Files.writeString(dir.resolve("netlab.log"), "$ " + String.join(" ", cmd) + "\n" + text,
                    StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            return new Result(done ? p.exitValue() : -1, done ? text : text + "\n(timed out after " + timeout + ")");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Extra environment for the nodes of the next {@link #up} (say KVSTORE_HEAL_AFTER); nodes inherit netlab.sh's. */
    public final Map<String, String> nodeEnv = new java.util.LinkedHashMap<>();

    private void env(Map<String, String> env) {
        env.putAll(nodeEnv);
        env.put("NETLAB_DIR", dir.resolve("state").toString());
        env.put("NETLAB_PREFIX", prefix);
        env.put("NETLAB_JAR", JarNode.jar().toString());
    }

    private Result must(Duration timeout, String... args) {
        Result r = script(timeout, args);
        if (r.code() != 0) throw new AssertionError("netlab.sh " + String.join(" ", args) + " failed (" + r.code() + "):\n" + r.output());
        return r;
    }

    /** Takes down whatever an earlier, killed run of this lab left, then brings it up. */
    public void up(boolean cluster, int followers) {
        down();
        up = true;
        List<String> args = new ArrayList<>(List.of("up"));
        if (cluster) args.add("--cluster");
        args.add(String.valueOf(followers));
        long t0 = System.nanoTime();
        must(Duration.ofSeconds(300), args.toArray(new String[0]));
        System.out.printf("netlab up%s with %d followers in %.1f s (state in %s)%n", cluster ? " --cluster" : "", followers,
                (System.nanoTime() - t0) / 1e9, dir.resolve("state"));
    }

    public void cut(String a, String b) {
        must(Duration.ofSeconds(30), "cut", a, b);
    }

    public void isolate(String a, String... except) {
        if (except.length == 0) must(Duration.ofSeconds(30), "isolate", a);
        else must(Duration.ofSeconds(30), "isolate", a, "--except", String.join(",", except));
    }

    /** Cuts every node of {@code a} from every node of {@code b}. */
    public void partition(List<String> a, List<String> b) {
        must(Duration.ofSeconds(30), "partition", String.join(",", a), String.join(",", b));
    }

    public void heal() {
        must(Duration.ofSeconds(30), "heal");
    }

    public String status() {
        return script(Duration.ofSeconds(30), "status").output();
    }

    /** Stops every process and removes every namespace of this lab; safe to call at any time. */
    public void down() {
        Result r = script(Duration.ofSeconds(120), "down");
        if (r.code() != 0) System.out.println("netlab down failed (" + r.code() + "):\n" + r.output());
        up = false;
    }

    @Override
    public void close() {
        down();
    }

    public boolean isUp() {
        return up;
    }

    /** The namespace of a node ({@code leader}, {@code f1}, {@code client}, ...). */
    public String ns(String node) {
        return prefix + node;
    }

    /** A command inside a node's namespace, to completion. */
    public Result exec(String node, Duration timeout, String... cmd) {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns(node)));
        c.addAll(List.of(cmd));
        return run(c, timeout, false);
    }

    /** A long-running command inside a node's namespace (a client), its output in {@code out}. */
    public Process start(String node, Path out, String... cmd) throws IOException {
        List<String> c = new ArrayList<>(List.of("ip", "netns", "exec", ns(node)));
        c.addAll(List.of(cmd));
        return new ProcessBuilder(c).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    }

    /** The java command line that runs {@link LabClient} (test classes and the jar). */
    public static List<String> labClient(String... args) {
        String cp = Path.of("target", "test-classes").toAbsolutePath() + File.pathSeparator + JarNode.jar();
        List<String> c = new ArrayList<>(List.of("java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp,
                LabClient.class.getName()));
        c.addAll(List.of(args));
        return c;
    }

    /** GET from the client namespace: status and body ("" and status -1 when there was no answer). */
    public Result curl(String url, String... headers) {
        return request("GET", url, headers);
    }

    /** A request from the client namespace: status and body (status -1 when there was no answer in 3 s). */
    public Result request(String method, String url, String... headers) {
        List<String> c = new ArrayList<>(List.of("curl", "-s", "-X", method, "--max-time", "3", "-w", "\n%{http_code}"));
        for (String h : headers) c.addAll(List.of("-H", h));
        c.add(url);
        Result r = exec("client", Duration.ofSeconds(10), c.toArray(new String[0]));
        String out = r.output();
        int nl = out.lastIndexOf('\n');
        int status;
        try {
            status = Integer.parseInt(out.substring(nl + 1).trim());
        } catch (NumberFormatException e) {
            status = -1;
        }
        return new Result(status == 0 ? -1 : status, nl < 0 ? "" : out.substring(0, nl));
    }

    /** A node's /api/status JSON through the client namespace, or null. */
    public JsonObject statusJson(String url) {
        Result r = curl(url + "/api/status", "X-KV-Secret: " + SECRET);
        if (r.code() != 200) return null;
        try {
            return new JsonObject(r.output());
        } catch (RuntimeException e) {
            return null;
        }
    }
}
