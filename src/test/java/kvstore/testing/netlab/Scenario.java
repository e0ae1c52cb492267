package kvstore.testing.netlab;

import io.vertx.core.json.JsonObject;
import kvstore.core.Hash;
import kvstore.lincheck.LinearizabilityChecker;
import kvstore.lincheck.Operation;
import kvstore.testing.Await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * One run of the partition tier: {@link LabClient} under load in the lab's client namespace, a
 * nemesis that applies faults at planned times and records their windows, and what is needed to
 * check the history afterwards. Its files (history, monitor, client output, SVG) are under
 * {@code target/partitions/NAME*}.
 */
public final class Scenario implements AutoCloseable {
    public final Netlab lab;
    public final String name;
    public final long seed;
    public final List<String> keys;
    public final List<String> leaders;
    public final Path history, monitor, stop, clientOut;
    public final List<History.Fault> faults = new ArrayList<>();
    private Process client;
    private long startedMs;

    public Scenario(Netlab lab, String name, long seed, List<String> keys, List<String> leaders) throws IOException {
        this.lab = lab;
        this.name = name;
        this.seed = seed;
        this.keys = keys;
        this.leaders = leaders;
        Path dir = Path.of("target", "partitions").toAbsolutePath();
        Files.createDirectories(dir);
        history = dir.resolve(name + ".history.tsv");
        monitor = dir.resolve(name + ".monitor.tsv");
        stop = dir.resolve(name + ".stop");
        clientOut = dir.resolve(name + ".client.out");
        for (Path p : List.of(history, monitor, stop, clientOut)) Files.deleteIfExists(p);
    }

    /** Starts the clients (and a monitor of {@code monitorUrls}) and waits until they run. */
    public void start(int clients, List<String> monitorUrls) throws IOException {
        client = lab.start("client", clientOut, Netlab.labClient("load", "--leaders", String.join(",", leaders),
                "--keys", String.join(",", keys), "--clients", String.valueOf(clients), "--seed", String.valueOf(seed),
                "--timeout-ms", "10000", "--think-ms", "10", "--max-seconds", "400", "--out", history.toString(),
                "--stop", stop.toString(), "--monitor-urls", String.join(",", monitorUrls), "--monitor-out", monitor.toString())
                .toArray(new String[0]));
        Await.until("the clients started (" + clientOut + ")", Duration.ofSeconds(60), () -> {
            if (!client.isAlive()) throw new AssertionError("the client exited: " + read(clientOut));
            return read(clientOut).contains("started");
        });
        startedMs = System.currentTimeMillis();
    }

    public long startedMs() {
        return startedMs;
    }

    /** Waits for a condition, checking it every 250 ms (each check may run a process). */
    public static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            LockSupport.parkNanos(250_000_000L);
        }
    }

    /** Waits for a planned moment of the nemesis' schedule (wall-clock ms). */
    public static void awaitTime(long atMs) {
        long left;
        while ((left = atMs - System.currentTimeMillis()) > 0) LockSupport.parkNanos(Math.min(left, 100) * 1_000_000L);
    }

    /** Undisturbed load first: at least {@code ms} of it and {@code ops} recorded operations. */
    public void baseline(long ms, int ops) {
        await(ops + " operations recorded", Duration.ofSeconds(60), () -> History.lines(history) >= ops);
        awaitTime(startedMs + ms);
    }

    /** Applies a fault, keeps it for {@code ms}, heals it; records the window (after apply, after heal). */
    public History.Fault fault(String label, Set<String> affected, Runnable apply, long ms, Runnable heal) {
        long start = begin(label, apply);
        try {
            awaitTime(start + ms);
        } finally {
            heal.run();
        }
        return end(label, affected, start);
    }

    /** Applies a fault; returns when it is in place (wall-clock ms). Heal it, then call {@link #end}. */
    public long begin(String label, Runnable apply) {
        apply.run();
        long start = System.currentTimeMillis();
        System.out.printf("nemesis: %s at +%.1f s%n", label, (start - startedMs) / 1000.0);
        return start;
    }

    /** Records a fault window that began at {@code start} and has just been healed. */
    public History.Fault end(String label, Set<String> affected, long start) {
        long end = System.currentTimeMillis();
        System.out.printf("nemesis: healed at +%.1f s%n", (end - startedMs) / 1000.0);
        History.Fault f = new History.Fault(label, start, end, Set.copyOf(affected));
        faults.add(f);
        return f;
    }

    /** Waits until each key has an acknowledged write called after {@code afterMs} (or the timeout passes). */
    public boolean awaitWritesAcked(Set<String> which, long afterMs, Duration timeout) {
        try {
            await("an acknowledged write on each of " + which + " after the heal", timeout, () -> {
                try {
                    History h = History.read(history);
                    Set<String> seen = new java.util.HashSet<>();
                    for (LabClient.Call c : h.calls) if (c.callUs() >= afterMs * 1000 && c.write() && c.served()) seen.add(c.key());
                    return seen.containsAll(which);
                } catch (IOException e) {
                    return false;
                }
            });
            return true;
        } catch (AssertionError e) {
            System.out.println(e.getMessage());
            return false;
        }
    }

    /** Stops the clients (a stop file; in-flight calls finish or time out) and reads the history. */
    public History stop() throws Exception {
        Files.writeString(stop, "stop");
        if (client != null && !client.waitFor(60, TimeUnit.SECONDS)) {
            client.destroyForcibly();
            throw new AssertionError("the client did not stop: " + read(clientOut));
        }
        return History.read(history);
    }

    @Override
    public void close() throws IOException {
        if (!Files.exists(stop)) Files.writeString(stop, "stop");
        if (client != null && client.isAlive()) {
            try {
                if (!client.waitFor(30, TimeUnit.SECONDS)) client.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                client.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /* --- After the run --- */

    /** One leader status sample: which leader (index in the monitor's URLs), when, and the JSON (null: no answer). */
    public record Sample(int leader, long atMs, JsonObject status) {
        public boolean inOffice() {
            return status != null && !status.getBoolean("standby", false) && status.getBoolean("ready", false);
        }

        public long epoch() {
            return status == null ? -1 : status.getLong("epoch", -1L);
        }
    }

    public List<Sample> samples() throws IOException {
        List<Sample> out = new ArrayList<>();
        if (!Files.exists(monitor)) return out;
        for (String line : Files.readAllLines(monitor, StandardCharsets.UTF_8)) {
            String[] f = line.split("\t", -1);
            if (f.length < 4) continue;
            JsonObject j = null;
            if (f[2].equals("200")) {
                try {
                    j = new JsonObject(LabClient.dec(f[3]));
                } catch (RuntimeException e) {
                    // a cut-short line
                }
            }
            out.add(new Sample(Integer.parseInt(f[0]), Long.parseLong(f[1]), j));
        }
        out.sort(java.util.Comparator.comparingLong(Sample::atMs));
        return out;
    }

    /** The final state: each key read through a leader, its placement, and each follower's committed value. */
    public record Final(int status, String body) {
        public String value() {
            return status == 200 ? body : null;
        }
    }

    public Map<String, Map<String, Final>> finalRead(int followers) throws IOException {
        Path out = history.resolveSibling(name + ".final.tsv");
        List<String> fs = new ArrayList<>();
        for (int i = 1; i <= followers; i++) fs.add("http://" + followerAddress(i) + ":16201");
        Netlab.Result r = lab.exec("client", Duration.ofSeconds(120), Netlab.labClient("read", "--leaders", String.join(",", leaders),
                "--keys", String.join(",", keys), "--followers", String.join(",", fs), "--secret", Netlab.SECRET,
                "--out", out.toString()).toArray(new String[0]));
        if (r.code() != 0) throw new AssertionError("the final read failed: " + r.output());
        Map<String, Map<String, Final>> m = new LinkedHashMap<>();
        for (String line : Files.readAllLines(out, StandardCharsets.UTF_8)) {
            String[] f = line.split("\t", -1);
            m.computeIfAbsent(LabClient.dec(f[0]), k -> new HashMap<>()).put(f[1], new Final(Integer.parseInt(f[2]), LabClient.dec(f[3])));
        }
        return m;
    }

    /** Checks the history (and, with {@code finals}, the final reads as the last operations) per key, within a time limit. */
    public static LinearizabilityChecker.Result linearizable(List<Operation> ops, Duration limit) throws Exception {
        ExecutorService ex = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "lincheck");
            t.setDaemon(true);
            return t;
        });
        try {
            Future<LinearizabilityChecker.Result> f = ex.submit(() -> LinearizabilityChecker.check(ops));
            return f.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return new LinearizabilityChecker.Result(false, Map.of("*", "the checker did not finish within " + limit));
        } finally {
            ex.shutdownNow();
        }
    }

    /* --- Placement, computed as the leader does (SPEC.md section 4) --- */

    public static String followerAddress(int i) {
        return "192.168.56." + (10 + i); // conf/lab-follower-*.json, and netlab.sh's next addresses
    }

    /** The followers (1-based) holding a key: vnodes 1, redundancy 2, follower port 16201. */
    public static List<Integer> replicas(String key, int followers, int redundancy) {
        long h = Hash.strhash64(key);
        List<long[]> ring = new ArrayList<>();
        for (int i = 1; i <= followers; i++) ring.add(new long[]{Hash.followerId(followerAddress(i), 16201), i});
        ring.sort((a, b) -> Long.compareUnsigned(a[0], b[0]));
        int p = 0;
        while (p < ring.size() && Long.compareUnsigned(ring.get(p)[0], h) <= 0) p++;
        List<Integer> out = new ArrayList<>();
        for (int j = 0; j < Math.min(redundancy, followers); j++) out.add((int) ring.get((p + j) % ring.size())[1]);
        return out;
    }

    /** {@code perPair} keys for each pair of followers (3 followers: 6 keys), named after the scenario. */
    public static List<String> keysOnEveryPair(String prefix, int perPair) {
        Map<Set<Integer>, Integer> count = new HashMap<>();
        List<String> out = new ArrayList<>();
        for (int i = 0; out.size() < 3 * perPair; i++) {
            String k = prefix + "-" + i;
            Set<Integer> pair = Set.copyOf(replicas(k, 3, 2));
            if (count.merge(pair, 1, Integer::sum) <= perPair) out.add(k);
        }
        return out;
    }

    /** The keys with a replica on any of the given followers (1-based). */
    public static Set<String> keysOn(List<String> keys, Set<Integer> followers) {
        Set<String> out = new java.util.TreeSet<>();
        for (String k : keys) for (int f : replicas(k, 3, 2)) if (followers.contains(f)) out.add(k);
        return out;
    }
}
