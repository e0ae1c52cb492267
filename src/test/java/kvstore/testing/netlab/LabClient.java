package kvstore.testing.netlab;

import java.io.BufferedWriter;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.locks.LockSupport;

/**
 * The clients of the partition tier, run inside the lab's {@code client} namespace (the test JVM
 * lives in the machine's own namespace and cannot reach the lab's addresses):
 *
 * <pre>
 * ip netns exec kvlab-client java -cp target/test-classes:target/kvstore.jar kvstore.testing.netlab.LabClient MODE ...
 * </pre>
 *
 * <ul>
 *   <li>{@code load}: concurrent clients doing GET, PUT and DELETE (4:4:2) on a few hot keys until a
 *   stop file appears (with at least as many clients as keys, client i keeps to key i mod K, so a
 *   key held up by a fault does not starve the others' clients); every call and return is written to the history file, one line each
 *   ({@link Call}), with wall-clock times. A call that gets no answer in time (timeout, closed
 *   connection) is written with status -1: its outcome is unknown. With several leaders (cluster
 *   mode) a client moves to the next one after a 503, an "unable" refusal or no answer.</li>
 *   <li>{@code monitor}: polls URLs (the leaders' {@code /api/status}) every interval until the
 *   stop file appears, writing each answer with its time.</li>
 *   <li>{@code read}: for each key, its value through the leader (retried until it answers), the
 *   leader's placement, and each follower's committed value (with the lab secret).</li>
 * </ul>
 *
 * Times are epoch microseconds from one wall-clock reading plus {@link System#nanoTime()}, so they
 * are monotonic within a run and comparable with the nemesis' {@link System#currentTimeMillis()}.
 */
public final class LabClient {
    private LabClient() {}

    private static final long BASE_US = System.currentTimeMillis() * 1000;
    private static final long BASE_NANOS = System.nanoTime();

    /** Wall-clock epoch microseconds, monotonic. */
    public static long nowUs() {
        return BASE_US + (System.nanoTime() - BASE_NANOS) / 1000;
    }

    public static void main(String[] argv) throws Exception {
        if (argv.length == 0) usage();
        Map<String, String> a = options(argv);
        switch (argv[0]) {
            case "load" -> load(a);
            case "monitor" -> monitor(a);
            case "read" -> read(a);
            default -> usage();
        }
    }

    private static void usage() {
        System.err.println("""
                usage: LabClient load --leaders URL[,URL] --keys K,K,... --out FILE --stop FILE
                                      [--clients 6] [--seed N] [--timeout-ms 10000] [--think-ms 0]
                                      [--max-seconds 600] [--secret S]
                                      [--monitor-urls URL,URL --monitor-out FILE]
                       LabClient monitor --urls URL,URL --out FILE --stop FILE [--interval-ms 250]
                       LabClient read --leaders URL[,URL] --keys K,K --followers URL,URL --out FILE [--secret S]""");
        System.exit(2);
    }

    private static Map<String, String> options(String[] argv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 1; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) usage();
            m.put(argv[i].substring(2), argv[i + 1]);
        }
        return m;
    }

    private static List<String> list(Map<String, String> a, String name) {
        String v = a.get(name);
        if (v == null) usage();
        return List.of(v.split(","));
    }

    private static String req(Map<String, String> a, String name) {
        String v = a.get(name);
        if (v == null) usage();
        return v;
    }

    /** One line of a history file: a call and how it returned. */
    public record Call(int client, int leader, String method, String key, String value, long callUs, long retUs,
                       int status, String body) {
        public static final int NO_ANSWER = -1;

        public String line() {
            return client + "\t" + leader + "\t" + method + "\t" + enc(key) + "\t" + enc(value == null ? "" : value) + "\t"
                    + callUs + "\t" + retUs + "\t" + status + "\t" + enc(body);
        }

        public static Call parse(String line) {
            String[] f = line.split("\t", -1);
            return new Call(Integer.parseInt(f[0]), Integer.parseInt(f[1]), f[2], dec(f[3]), f[4].isEmpty() ? null : dec(f[4]),
                    Long.parseLong(f[5]), Long.parseLong(f[6]), Integer.parseInt(f[7]), dec(f[8]));
        }

        public boolean answered() {
            return status != NO_ANSWER;
        }

        public boolean write() {
            return !method.equals("GET");
        }

        public boolean noKey() {
            return status == 500 && body.equals("error: no key");
        }

        /** Served: a 2xx, or "no key" for a GET or DELETE (an answer about the key, not a refusal). */
        public boolean served() {
            return (status >= 200 && status < 300) || (noKey() && !method.equals("PUT"));
        }

        /** Answered, but not served: it had no effect (500 other than "no key", 503, ...). */
        public boolean refused() {
            return answered() && !served();
        }
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String dec(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    /** A blocking request; status -1 when there was no answer in time. */
    record Answer(int status, String body) {}

    static Answer send(HttpClient http, String method, String url, Duration timeout, String secret) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(timeout)
                    .method(method, HttpRequest.BodyPublishers.noBody());
            if (secret != null) b.header("X-KV-Secret", secret);
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new Answer(r.statusCode(), r.body());
        } catch (IOException e) {
            return new Answer(Call.NO_ANSWER, e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(Call.NO_ANSWER, "interrupted");
        }
    }

    static HttpClient http(Duration connectTimeout) {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(connectTimeout).build();
    }

    /** Lines written by many threads, flushed often (so a test can follow the file) and at the end. */
    static final class Sink implements AutoCloseable {
        private final BufferedWriter w;
        private long lastFlush = System.nanoTime();

        Sink(Path file) throws IOException {
            w = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
        }

        synchronized void add(String line) {
            try {
                w.write(line);
                w.write('\n');
                if (System.nanoTime() - lastFlush > 100_000_000L) {
                    w.flush();
                    lastFlush = System.nanoTime();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public synchronized void close() throws IOException {
            w.close();
        }
    }

    private static void load(Map<String, String> a) throws Exception {
        List<String> leaders = list(a, "leaders");
        List<String> keys = list(a, "keys");
        Path out = Path.of(req(a, "out"));
        Path stop = Path.of(req(a, "stop"));
        int clients = Integer.parseInt(a.getOrDefault("clients", "6"));
        long seed = Long.parseLong(a.getOrDefault("seed", "1"));
        Duration timeout = Duration.ofMillis(Long.parseLong(a.getOrDefault("timeout-ms", "10000")));
        long think = Long.parseLong(a.getOrDefault("think-ms", "0"));
        long deadline = System.nanoTime() + Duration.ofSeconds(Long.parseLong(a.getOrDefault("max-seconds", "600"))).toNanos();
        String secret = a.get("secret");
        try (Sink sink = new Sink(out)) {
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                int id = c;
                Random rnd = new Random(seed * 1_000_003L + c);
                Thread t = new Thread(() -> {
                    HttpClient http = http(timeout);
                    int leader = 0, n = 0;
                    while (!Files.exists(stop) && System.nanoTime() < deadline) {
                        // With at least as many clients as keys, each client keeps to one key, so a key stuck
                        // behind a fault holds up only its own clients; otherwise any key.
                        String key = clients >= keys.size() ? keys.get(id % keys.size()) : keys.get(rnd.nextInt(keys.size()));
                        int dice = rnd.nextInt(10);
                        String method = dice < 4 ? "GET" : dice < 8 ? "PUT" : "DELETE";
                        String value = method.equals("PUT") ? "c" + id + "-" + n++ : null;
                        String url = leaders.get(leader) + "/?key=" + enc(key) + (value == null ? "" : "&val=" + enc(value));
                        long call = nowUs();
                        Answer r = send(http, method, url, timeout, secret);
                        long ret = nowUs();
                        sink.add(new Call(id, leader, method, key, value, call, ret, r.status(), r.body()).line());
                        boolean moveOn = r.status() == Call.NO_ANSWER || r.status() == 503
                                || (r.status() == 500 && r.body().equals("error: unable to process request"));
                        if (moveOn && leaders.size() > 1) leader = (leader + 1) % leaders.size();
                        if (think > 0) LockSupport.parkNanos(think * 1_000_000L);
                    }
                }, "lab-client-" + c);
                threads.add(t);
                t.start();
            }
            Sink monitorSink = a.containsKey("monitor-urls") ? new Sink(Path.of(req(a, "monitor-out"))) : null;
            if (monitorSink != null) threads.addAll(monitors(list(a, "monitor-urls"), monitorSink, stop, 250));
            System.out.println("started " + clients + " clients on " + keys.size() + " keys");
            System.out.flush();
            for (Thread t : threads) t.join();
            if (monitorSink != null) monitorSink.close();
        }
        System.out.println("done");
    }

    private static void monitor(Map<String, String> a) throws Exception {
        try (Sink sink = new Sink(Path.of(req(a, "out")))) {
            List<Thread> threads = monitors(list(a, "urls"), sink, Path.of(req(a, "stop")),
                    Long.parseLong(a.getOrDefault("interval-ms", "250")));
            System.out.println("monitoring " + threads.size() + " urls");
            System.out.flush();
            for (Thread t : threads) t.join();
        }
    }

    /** A thread per URL that GETs it every interval until the stop file appears: "index, ms, status, body" lines. */
    static List<Thread> monitors(List<String> urls, Sink sink, Path stop, long interval) {
        Duration timeout = Duration.ofMillis(1000);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < urls.size(); i++) {
            int idx = i;
            Thread t = new Thread(() -> {
                HttpClient http = http(timeout);
                while (!Files.exists(stop)) {
                    long t0 = nowUs();
                    Answer r = send(http, "GET", urls.get(idx), timeout, null);
                    sink.add(idx + "\t" + t0 / 1000 + "\t" + r.status() + "\t" + enc(r.body()));
                    long next = t0 + interval * 1000;
                    while (nowUs() < next && !Files.exists(stop)) LockSupport.parkNanos(Math.max(1, next - nowUs()) * 1000);
                }
            }, "monitor-" + i);
            threads.add(t);
            t.start();
        }
        return threads;
    }

    private static void read(Map<String, String> a) throws Exception {
        List<String> leaders = list(a, "leaders");
        List<String> keys = list(a, "keys");
        List<String> followers = list(a, "followers");
        String secret = a.get("secret");
        Duration timeout = Duration.ofMillis(Long.parseLong(a.getOrDefault("timeout-ms", "5000")));
        long retryUntil = System.nanoTime() + Duration.ofSeconds(Long.parseLong(a.getOrDefault("retry-seconds", "30"))).toNanos();
        HttpClient http = http(timeout);
        try (Sink sink = new Sink(Path.of(req(a, "out")))) {
            int l = 0;
            for (String key : keys) {
                Answer r;
                String leader;
                while (true) { // an answer about the key, its value or "no key", from whichever leader serves
                    leader = leaders.get(l);
                    r = send(http, "GET", leader + "/?key=" + enc(key), timeout, secret);
                    boolean settled = r.status() == 200 || (r.status() == 500 && r.body().equals("error: no key"));
                    if (settled || System.nanoTime() > retryUntil) break;
                    l = (l + 1) % leaders.size();
                    LockSupport.parkNanos(200_000_000L);
                }
                sink.add(enc(key) + "\tleader\t" + r.status() + "\t" + enc(r.body()));
                Answer p = send(http, "GET", leader + "/api/placement?key=" + enc(key), timeout, secret);
                sink.add(enc(key) + "\tplacement\t" + p.status() + "\t" + enc(p.body()));
                for (int f = 0; f < followers.size(); f++) {
                    Answer fr = send(http, "GET", followers.get(f) + "/?key=" + enc(key), timeout, secret);
                    sink.add(enc(key) + "\tf" + (f + 1) + "\t" + fr.status() + "\t" + enc(fr.body()));
                }
            }
        }
        System.out.println("read " + keys.size() + " keys");
    }
}
