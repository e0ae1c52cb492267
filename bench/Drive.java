import io.vertx.core.AbstractVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The load generator of bench/txn.sh and bench/move.sh, on Vert.x 5's HTTP client (keep-alive, no
 * pipelining) with HdrHistogram, both from target/kvstore.jar. Every mode prints what it measured.
 * Run: java -cp target/kvstore.jar bench/Drive.java MODE ...
 *
 * <pre>
 *   load URL FROM TO VALBYTES                 puts k{FROM}..k{TO-1} (VALBYTES-byte values) through
 *                                             POST /txn, 64 puts per transaction, 16 in flight
 *   size URL PORT TARGET [NEWPORT]            prints N such that k0..k{N-1} put TARGET keys on the
 *                                             follower at PORT (with a follower at NEWPORT added to
 *                                             the ring, if given); the ring is computed here from
 *                                             /api/placement and SPEC.md section 4, checked against
 *                                             the leader for 200 keys
 *   keys URL PORT COUNT N [NEWPORT] [only]    prints COUNT keys of k0..k{N-1} that the follower at
 *                                             PORT holds (with NEWPORT added: that it gains; "only":
 *                                             whose replicas include PORT)
 *   groups URL N                              prints "key primaryPort" for k1..kN
 *   cas kvstore|etcd URL CLIENTS COUNTERS SECS
 *                                             CAS increments: each client loops read -> conditional
 *                                             write of value+1 (kvstore: ifVersion; etcd: txn with a
 *                                             mod_revision compare) -> retry on conflict; client i
 *                                             uses counter i % COUNTERS; checks at the end that the
 *                                             counters add up to the increments acknowledged
 *   run URL SECS CONNS RATE KEYS VALBYTES PUTPCT [watch]
 *                                             GET/PUT mix over k0..k{KEYS-1}; RATE 0 = closed loop
 *                                             (as fast as CONNS connections go), else open loop at
 *                                             RATE requests/s with latency from each request's
 *                                             intended start (no coordinated omission; the
 *                                             schedule starts afresh after WARMUP). With
 *                                             "watch", polls URL/api/status every 20 ms and splits
 *                                             the figures by phase: before a rebalance, while
 *                                             "rebalancing" is non-null, after it
 *   log URL SECS CONNS KEYFILE OUT            closed-loop PUTs over the keys in KEYFILE; one line per
 *                                             request in OUT: "startMs endMs status"; also polls
 *                                             /api/status and prints when "rebalancing" changes
 * </pre>
 * Results are printed as lines starting with RESULT (key=value pairs) for the scripts to read.
 */
public class Drive {
    static Vertx vertx;
    /** Seconds of load before measuring (the JVM and the connections warm up): env WARMUP, default 5. */
    static final int WARMUP = Integer.parseInt(System.getenv().getOrDefault("WARMUP", "5"));

    public static void main(String[] a) throws Exception {
        vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setBlockedThreadCheckInterval(60_000));
        try {
            switch (a[0]) {
                case "load" -> load(a[1], Integer.parseInt(a[2]), Integer.parseInt(a[3]), Integer.parseInt(a[4]));
                case "size" -> size(a[1], Integer.parseInt(a[2]), Long.parseLong(a[3]), a.length > 4 ? Integer.parseInt(a[4]) : 0);
                case "keys" -> keys(a[1], Integer.parseInt(a[2]), Integer.parseInt(a[3]), Integer.parseInt(a[4]),
                        a.length > 5 ? Integer.parseInt(a[5]) : 0, a.length > 6 && a[6].equals("only"));
                case "groups" -> groups(a[1], Integer.parseInt(a[2]));
                case "cas" -> cas(a[1], a[2], Integer.parseInt(a[3]), Integer.parseInt(a[4]), Integer.parseInt(a[5]));
                case "run" -> run(a[1], Integer.parseInt(a[2]), Integer.parseInt(a[3]), Integer.parseInt(a[4]), Integer.parseInt(a[5]),
                        Integer.parseInt(a[6]), Integer.parseInt(a[7]), a.length > 8 && a[8].equals("watch"));
                case "log" -> log(a[1], Integer.parseInt(a[2]), Integer.parseInt(a[3]), Path.of(a[4]), Path.of(a[5]));
                default -> throw new IllegalArgumentException("unknown mode " + a[0]);
            }
        } finally {
            vertx.close().await();
        }
    }

    // ---------------------------------------------------------------- HTTP

    record Target(String host, int port) {
        static Target of(String url) {
            URI u = URI.create(url);
            return new Target(u.getHost(), u.getPort());
        }
    }

    record Resp(int status, String version, Buffer body) {}

    static HttpClient client(int conns) {
        return vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true).setPipelining(false)
                .setConnectTimeout(5_000).setIdleTimeout(0), new PoolOptions().setHttp1MaxSize(conns).setMaxWaitQueueSize(-1));
    }

    static Future<Resp> call(HttpClient c, Target t, HttpMethod m, String uri, String body) {
        RequestOptions o = new RequestOptions().setMethod(m).setHost(t.host).setPort(t.port).setURI(uri).setTimeout(30_000);
        return c.request(o).compose(req -> {
            if (body != null) req.putHeader("content-type", "application/json");
            return body == null ? req.send() : req.send(body);
        }).compose(resp -> resp.body().map(b -> new Resp(resp.statusCode(), resp.getHeader("X-KV-Version"), b)));
    }

    static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    static String b64d(String s) {
        return new String(Base64.getDecoder().decode(s), StandardCharsets.UTF_8);
    }

    static JsonObject getJson(String url) throws Exception {
        HttpClient c = client(1);
        Target t = Target.of(url);
        Resp r = call(c, t, HttpMethod.GET, URI.create(url).getRawPath() + (URI.create(url).getRawQuery() == null ? "" : "?" + URI.create(url).getRawQuery()), null)
                .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        c.close();
        return new JsonObject(r.body);
    }

    static String value(int bytes, long n) {
        StringBuilder sb = new StringBuilder(bytes).append('v').append(n).append('-');
        while (sb.length() < bytes) sb.append('x');
        sb.setLength(bytes);
        return sb.toString();
    }

    // ---------------------------------------------------------------- the ring (SPEC.md section 4)

    static long strhash64(String s) {
        try {
            byte[] d = MessageDigest.getInstance("MD5").digest(s.getBytes(StandardCharsets.UTF_8));
            long h = 0;
            for (int i = 7; i >= 0; i--) h = (h << 8) | (d[i] & 0xff);
            return h;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Points (unsigned order) to follower ports, and the redundancy. */
    record Ring(long[] points, int[] ports, int redundancy) {
        int[] replicas(String key) {
            long h = strhash64(key);
            int n = points.length, i = 0;
            while (i < n && Long.compareUnsigned(points[i], h) <= 0) i++;
            List<Integer> out = new ArrayList<>();
            for (int k = 0; k < n && out.size() < Math.min(redundancy, n); k++) {
                int p = ports[(i + k) % n];
                if (!out.contains(p)) out.add(p);
            }
            return out.stream().mapToInt(Integer::intValue).toArray();
        }

        boolean holds(String key, int port) {
            for (int p : replicas(key)) if (p == port) return true;
            return false;
        }
    }

    static Ring ring(String url, int newPort) throws Exception {
        JsonObject status = getJson(url + "/api/status");
        Map<String, Integer> portOf = new TreeMap<>();
        for (Object o : status.getJsonArray("followers")) {
            JsonObject f = (JsonObject) o;
            if (!"draining".equals(f.getString("state"))) portOf.put(f.getString("id"), f.getInteger("port"));
        }
        if (status.getInteger("vnodes", 1) != 1) throw new IllegalStateException("only vnodes 1 is computed here");
        List<long[]> pts = new ArrayList<>();
        for (var e : portOf.entrySet()) pts.add(new long[]{Long.parseUnsignedLong(e.getKey()), e.getValue()});
        if (newPort > 0) pts.add(new long[]{strhash64(newPort + ":127.0.0.1"), newPort});
        pts.sort((x, y) -> Long.compareUnsigned(x[0], y[0]));
        Ring r = new Ring(pts.stream().mapToLong(x -> x[0]).toArray(), pts.stream().mapToInt(x -> (int) x[1]).toArray(),
                status.getInteger("redundancy"));
        if (newPort == 0) { // check the computation against the leader
            for (int i = 0; i < 200; i++) {
                JsonObject p = getJson(url + "/api/placement?key=k" + i);
                JsonArray reps = p.getJsonArray("replicas");
                int[] mine = r.replicas("k" + i);
                for (int j = 0; j < reps.size(); j++) {
                    if (reps.getJsonObject(j).getInteger("port") != mine[j])
                        throw new IllegalStateException("ring mismatch for k" + i + ": " + p + " vs " + Arrays.toString(mine));
                }
            }
        }
        return r;
    }

    static void size(String url, int port, long target, int newPort) throws Exception {
        Ring r = ring(url, newPort);
        long held = 0, n = 0;
        while (held < target) if (r.holds("k" + n++, port)) held++;
        System.out.println(n);
    }

    static void keys(String url, int port, int count, int n, int newPort, boolean only) throws Exception {
        Ring before = ring(url, 0);
        Ring after = newPort > 0 ? ring(url, newPort) : before;
        int found = 0;
        for (int i = 0; i < n && found < count; i++) {
            String k = "k" + i;
            boolean pick = newPort > 0 ? after.holds(k, port) && !before.holds(k, port) : before.holds(k, port);
            if (pick) {
                System.out.println(k);
                found++;
            }
        }
        if (found < count) throw new IllegalStateException("only " + found + " keys found");
    }

    static void groups(String url, int n) throws Exception {
        Ring r = ring(url, 0);
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= n; i++) sb.append("k").append(i).append(' ').append(r.replicas("k" + i)[0]).append('\n');
        System.out.print(sb);
    }

    // ---------------------------------------------------------------- load

    static void load(String url, int from, int to, int valBytes) throws Exception {
        HttpClient c = client(16);
        Target t = Target.of(url);
        AtomicLong next = new AtomicLong(from), failed = new AtomicLong(), done = new AtomicLong();
        CountDownLatch end = new CountDownLatch(16);
        long t0 = System.nanoTime();
        for (int w = 0; w < 16; w++) loadLoop(c, t, next, to, valBytes, failed, done, end, 0);
        end.await();
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("RESULT loaded=%d failed=%d secs=%.1f keys_per_s=%.0f%n", done.get(), failed.get(), s, done.get() / s);
        c.close();
        if (failed.get() > 0) System.exit(1);
    }

    static void loadLoop(HttpClient c, Target t, AtomicLong next, int to, int valBytes, AtomicLong failed, AtomicLong done,
                         CountDownLatch end, int tries) {
        long first = next.getAndAdd(64);
        if (first >= to) {
            end.countDown();
            return;
        }
        long last = Math.min(to, first + 64);
        JsonArray ops = new JsonArray();
        for (long i = first; i < last; i++) ops.add(new JsonObject().put("op", "put").put("key", "k" + i).put("val", value(valBytes, i)));
        String body = new JsonObject().put("then", ops).encode(); // no rid: see docs/benchmarks.md (a /txn with a rid wedges phase 2)
        attempt(c, t, body, 0, ok -> {
            if (ok) done.addAndGet(last - first);
            else failed.addAndGet(last - first);
            loadLoop(c, t, next, to, valBytes, failed, done, end, 0);
        });
    }

    static void attempt(HttpClient c, Target t, String body, int tries, java.util.function.Consumer<Boolean> then) {
        call(c, t, HttpMethod.POST, "/txn", body).onComplete(ar -> {
            boolean ok = ar.succeeded() && ar.result().status == 200;
            if (ok || tries >= 5) then.accept(ok);
            else vertx.setTimer(200L << tries, x -> attempt(c, t, body, tries + 1, then)); // puts of the same values: a repeat is harmless
        });
    }

    // ---------------------------------------------------------------- CAS increments

    static void cas(String kind, String url, int clients, int counters, int secs) throws Exception {
        boolean etcd = kind.equals("etcd");
        HttpClient c = client(clients);
        Target t = Target.of(url);
        for (int i = 0; i < counters; i++) { // every counter starts at 0
            String uri = etcd ? "/v3/kv/put" : "/?key=ctr" + i + "&val=0";
            String body = etcd ? new JsonObject().put("key", b64("ctr" + i)).put("value", b64("0")).encode() : null;
            Resp r = call(c, t, etcd ? HttpMethod.POST : HttpMethod.PUT, uri, body).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
            if (r.status >= 300) throw new IllegalStateException("reset of ctr" + i + ": " + r.status + " " + r.body);
        }
        AtomicLong warmIncs = new AtomicLong(), warmConflicts = new AtomicLong(), warmErrors = new AtomicLong();
        CountDownLatch warmDone = new CountDownLatch(clients);
        long warmEnd = System.nanoTime() + WARMUP * 1_000_000_000L;
        for (int i = 0; i < clients; i++) casLoop(etcd, c, t, "ctr" + (i % counters), warmEnd, System.nanoTime(), new Recorder(3), warmIncs, warmConflicts, warmErrors, warmDone);
        warmDone.await();
        Recorder lat = new Recorder(3);
        AtomicLong incs = new AtomicLong(), conflicts = new AtomicLong(), errors = new AtomicLong();
        long end = System.nanoTime() + secs * 1_000_000_000L;
        CountDownLatch done = new CountDownLatch(clients);
        long t0 = System.nanoTime();
        for (int i = 0; i < clients; i++) casLoop(etcd, c, t, "ctr" + (i % counters), end, System.nanoTime(), lat, incs, conflicts, errors, done);
        done.await();
        double s = (System.nanoTime() - t0) / 1e9;
        long sum = 0;
        for (int i = 0; i < counters; i++) sum += read(etcd, c, t, "ctr" + i).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS)[0];
        Histogram h = lat.getIntervalHistogram();
        System.out.printf("RESULT system=%s clients=%d counters=%d secs=%.1f increments=%d incs_per_s=%.0f conflicts=%d conflicts_per_s=%.0f errors=%d "
                        + "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f counters_sum=%d check=%s%n", kind, clients, counters, s, incs.get(), incs.get() / s,
                conflicts.get(), conflicts.get() / s, errors.get(), h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
                h.getMaxValue() / 1000.0, sum, sum == incs.get() + warmIncs.get() ? "ok" : "MISMATCH(" + (incs.get() + warmIncs.get()) + " acknowledged)");
        c.close();
    }

    /** [value, version] of a counter. */
    static Future<long[]> read(boolean etcd, HttpClient c, Target t, String key) {
        if (etcd) {
            return call(c, t, HttpMethod.POST, "/v3/kv/range", new JsonObject().put("key", b64(key)).encode()).map(r -> {
                if (r.status != 200) throw new IllegalStateException("range " + r.status);
                JsonObject kv = new JsonObject(r.body).getJsonArray("kvs").getJsonObject(0);
                return new long[]{Long.parseLong(b64d(kv.getString("value"))), Long.parseLong(kv.getString("mod_revision"))};
            });
        }
        return call(c, t, HttpMethod.GET, "/?key=" + key, null).map(r -> {
            if (r.status != 200) throw new IllegalStateException("get " + r.status);
            return new long[]{Long.parseLong(r.body.toString()), Long.parseLong(r.version)};
        });
    }

    /** true: written; false: the version had moved on. */
    static Future<Boolean> casWrite(boolean etcd, HttpClient c, Target t, String key, long value, long version) {
        if (etcd) {
            JsonObject cmp = new JsonObject().put("key", b64(key)).put("result", "EQUAL").put("target", "MOD").put("mod_revision", Long.toString(version));
            JsonObject put = new JsonObject().put("request_put", new JsonObject().put("key", b64(key)).put("value", b64(Long.toString(value))));
            String body = new JsonObject().put("compare", new JsonArray().add(cmp)).put("success", new JsonArray().add(put)).encode();
            return call(c, t, HttpMethod.POST, "/v3/kv/txn", body).map(r -> {
                if (r.status != 200) throw new IllegalStateException("txn " + r.status + " " + r.body);
                return new JsonObject(r.body).getBoolean("succeeded", false);
            });
        }
        return call(c, t, HttpMethod.PUT, "/?key=" + key + "&val=" + value + "&ifVersion=" + version, null).map(r -> {
            if (r.status == 201) return true;
            if (r.status == 412) return false;
            throw new IllegalStateException("put " + r.status + " " + r.body);
        });
    }

    static void casLoop(boolean etcd, HttpClient c, Target t, String key, long end, long began, Recorder lat, AtomicLong incs,
                        AtomicLong conflicts, AtomicLong errors, CountDownLatch done) {
        if (System.nanoTime() >= end) {
            done.countDown();
            return;
        }
        read(etcd, c, t, key).compose(vv -> casWrite(etcd, c, t, key, vv[0] + 1, vv[1])).onComplete(ar -> {
            long now = System.nanoTime();
            if (ar.succeeded() && ar.result()) {
                incs.incrementAndGet();
                lat.recordValue(Math.max(1, (now - began) / 1000));
                casLoop(etcd, c, t, key, end, now, lat, incs, conflicts, errors, done);
            } else {
                if (ar.succeeded()) conflicts.incrementAndGet();
                else errors.incrementAndGet();
                casLoop(etcd, c, t, key, end, began, lat, incs, conflicts, errors, done); // retry: the increment's clock keeps running
            }
        });
    }

    // ---------------------------------------------------------------- a GET/PUT mix, closed or open loop

    /** Phases of a run split by the leader's "rebalancing": 0 before, 1 while, 2 after. */
    static final class Phases {
        volatile int phase;
        final long[] startedNs = new long[3];
        final long[] endedNs = new long[3];
        final Histogram[] lat = {new Histogram(3), new Histogram(3), new Histogram(3)};
        final long[] ok = new long[3], err = new long[3];

        synchronized void record(int ph, long micros, boolean good) {
            if (good) {
                ok[ph]++;
                lat[ph].recordValue(Math.max(1, micros));
            } else err[ph]++;
        }
    }

    static long watch(String url, java.util.function.Consumer<Boolean> onChange) {
        HttpClient c = client(1);
        Target t = Target.of(url);
        boolean[] last = {false};
        boolean[] busy = {false};
        return vertx.setPeriodic(20, id -> {
            if (busy[0]) return;
            busy[0] = true;
            call(c, t, HttpMethod.GET, "/api/status", null).onComplete(ar -> {
                busy[0] = false;
                if (ar.failed() || ar.result().status != 200) return;
                boolean moving = new JsonObject(ar.result().body).getValue("rebalancing") != null;
                if (moving != last[0]) {
                    last[0] = moving;
                    onChange.accept(moving);
                }
            });
        });
    }

    static void run(String url, int secs, int conns, int rate, int keys, int valBytes, int putPct, boolean watch) throws Exception {
        HttpClient c = client(conns);
        Target t = Target.of(url);
        Phases ph = new Phases();
        long t0 = System.nanoTime(), warm = t0 + WARMUP * 1_000_000_000L;
        ph.startedNs[0] = warm;
        long watcher = !watch ? -1 : watch(url, moving -> {
                long now = System.nanoTime();
                int p = ph.phase;
                if (moving && p == 0) {
                    ph.endedNs[0] = now;
                    ph.startedNs[1] = now;
                    ph.phase = 1;
                    System.out.printf("rebalancing seen at %.2f s (epoch ms %d)%n", (now - t0) / 1e9, System.currentTimeMillis());
                } else if (!moving && p == 1) {
                    ph.endedNs[1] = now;
                    ph.startedNs[2] = now;
                    ph.phase = 2;
                    System.out.printf("rebalancing over at %.2f s (epoch ms %d)%n", (now - t0) / 1e9, System.currentTimeMillis());
                }
            });
        long end = warm + secs * 1_000_000_000L;
        CountDownLatch done = new CountDownLatch(1);
        AtomicLong seq = new AtomicLong();
        // per-second lines, so a reader sees the shape of the run
        Recorder sec = new Recorder(3);
        AtomicLong secOk = new AtomicLong(), secErr = new AtomicLong();
        long tick = vertx.setPeriodic(1000, id -> {
            Histogram h = sec.getIntervalHistogram();
            System.out.printf("  t=%5.1fs phase=%d ok/s=%d err=%d p50=%.2fms p99=%.2fms max=%.2fms%n", (System.nanoTime() - t0) / 1e9, ph.phase,
                    secOk.getAndSet(0), secErr.getAndSet(0), h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0,
                    h.getMaxValue() / 1000.0);
        });
        AtomicLong inflight = new AtomicLong();
        Runnable[] finish = {null};
        java.util.function.LongConsumer one = intended -> {
            long n = seq.incrementAndGet();
            String k = "k" + ThreadLocalRandom.current().nextInt(keys);
            boolean put = ThreadLocalRandom.current().nextInt(100) < putPct;
            int p = ph.phase;
            inflight.incrementAndGet();
            Future<Resp> f = put ? call(c, t, HttpMethod.PUT, "/?key=" + k + "&val=" + value(valBytes, n), null)
                    : call(c, t, HttpMethod.GET, "/?key=" + k, null);
            f.onComplete(ar -> {
                long now = System.nanoTime();
                boolean good = ar.succeeded() && ar.result().status < 300;
                long us = (now - intended) / 1000;
                if (intended >= warm) ph.record(p, us, good);
                if (good) {
                    secOk.incrementAndGet();
                    sec.recordValue(Math.max(1, us));
                } else secErr.incrementAndGet();
                inflight.decrementAndGet();
                finish[0].run();
            });
        };
        if (rate == 0) {
            finish[0] = () -> {
                long now = System.nanoTime();
                if (now < end) one.accept(now);
                else if (inflight.get() == 0) done.countDown();
            };
            vertx.runOnContext(v -> {
                for (int i = 0; i < conns; i++) one.accept(System.nanoTime());
            });
        } else {
            long[] sent = {0};
            double perNs = rate / 1e9;
            finish[0] = () -> {
                if (System.nanoTime() >= end && inflight.get() == 0) done.countDown();
            };
            boolean[] anchored = {false};
            vertx.runOnContext(v -> vertx.setPeriodic(1, id -> {
                long now = System.nanoTime();
                if (!anchored[0] && now >= warm) {
                    // what the warm-up left due is dropped: the measured schedule starts now (a
                    // client JVM's first seconds fall behind, and that backlog is not the server's)
                    anchored[0] = true;
                    sent[0] = Math.max(sent[0], (long) ((now - t0) * perNs));
                }
                long due = (long) ((Math.min(now, end) - t0) * perNs);
                while (sent[0] < due) {
                    long intended = t0 + (long) (sent[0] / perNs);
                    sent[0]++;
                    one.accept(intended);
                }
                if (now >= end) {
                    vertx.cancelTimer(id);
                    if (inflight.get() == 0) done.countDown();
                }
            }));
        }
        done.await();
        vertx.cancelTimer(tick);
        if (watcher >= 0) vertx.cancelTimer(watcher);
        long stop = System.nanoTime();
        if (ph.phase == 0) ph.endedNs[0] = stop;
        else if (ph.phase == 1) ph.endedNs[1] = stop;
        else ph.endedNs[2] = stop;
        String[] names = {watch ? "before" : "all", "moving", "after"};
        for (int i = 0; i < 3; i++) {
            if (ph.startedNs[i] == 0) continue;
            double s = (ph.endedNs[i] - ph.startedNs[i]) / 1e9;
            Histogram h = ph.lat[i];
            System.out.printf("RESULT phase=%s secs=%.2f ok=%d rps=%.0f errors=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f%n", names[i], s, ph.ok[i],
                    ph.ok[i] / Math.max(s, 1e-9), ph.err[i], h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(90) / 1000.0,
                    h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0);
        }
        c.close();
    }

    // ---------------------------------------------------------------- per-request log of PUTs over a key set

    static void log(String url, int secs, int conns, Path keyFile, Path out) throws Exception {
        List<String> keys = Files.readAllLines(keyFile).stream().filter(s -> !s.isBlank()).toList();
        HttpClient c = client(conns);
        Target t = Target.of(url);
        ConcurrentLinkedQueue<long[]> lines = new ConcurrentLinkedQueue<>();
        long watcher = watch(url, moving -> System.out.println("REBALANCING " + (moving ? "started" : "over") + " at " + System.currentTimeMillis()));
        long end = System.currentTimeMillis() + secs * 1000L;
        CountDownLatch done = new CountDownLatch(conns);
        AtomicLong seq = new AtomicLong();
        for (int i = 0; i < conns; i++) {
            int w = i;
            vertx.runOnContext(v -> logLoop(c, t, keys, w, conns, end, lines, seq, done));
        }
        done.await();
        vertx.cancelTimer(watcher);
        try (PrintWriter pw = new PrintWriter(Files.newBufferedWriter(out))) {
            List<long[]> all = new ArrayList<>(lines);
            all.sort((x, y) -> Long.compare(x[0], y[0]));
            for (long[] l : all) pw.println(l[0] + " " + l[1] + " " + l[2]);
        }
        System.out.println("RESULT requests=" + lines.size());
        c.close();
    }

    static void logLoop(HttpClient c, Target t, List<String> keys, int w, int conns, long end, ConcurrentLinkedQueue<long[]> lines,
                        AtomicLong seq, CountDownLatch done) {
        long start = System.currentTimeMillis();
        if (start >= end) {
            done.countDown();
            return;
        }
        long n = seq.incrementAndGet();
        String k = keys.get((int) (n % keys.size()));
        call(c, t, HttpMethod.PUT, "/?key=" + k + "&val=w" + n, null).onComplete(ar -> {
            long now = System.currentTimeMillis();
            lines.add(new long[]{start, now, ar.succeeded() ? ar.result().status : 0});
            logLoop(c, t, keys, w, conns, end, lines, seq, done);
        });
    }
}
