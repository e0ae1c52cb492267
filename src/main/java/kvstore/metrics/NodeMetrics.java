package kvstore.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.micrometer.PrometheusRequestHandler;
import kvstore.storage.LogStore;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/**
 * One node's metrics (SPEC.md section 2, {@code GET /metrics}): its own Micrometer registry,
 * scraped in Prometheus text format by Vert.x's {@link PrometheusRequestHandler}. Each node has
 * its own registry, so in the embedded default (four nodes in one JVM and one Vertx) a node's
 * page never shows another node's numbers.
 *
 * <h2>Keeping the hot path cheap</h2>
 * Every meter a request can touch is created once and kept in an array indexed by request type
 * and status; a request costs two {@code System.nanoTime()} calls, one array lookup, a counter
 * increment and a timer record, and no tag map. Figures that the node already keeps (commits,
 * fsyncs, log bytes, queue depth) are read only when scraped, through function counters and
 * gauges. No label ever holds a key, a value or anything a client chose: labels come from the
 * fixed sets in {@link RequestType}, {@link #STATUSES} and the phase names.
 *
 * <p>Micrometer's standard process meters come with every node's page: {@code jvm_memory_*},
 * {@code jvm_gc_pause_seconds}, {@code jvm_threads_*}, {@code process_cpu_usage},
 * {@code process_files_open_files}, {@code process_uptime_seconds}. They describe the JVM, so in
 * the embedded default the four nodes show the same figures.
 *
 * <p>The scrape runs on the node's event loop (the node's HTTP server calls it), which is also
 * the only thread that changes the figures the gauges read.
 */
public class NodeMetrics {

    /* --- Metric names (Micrometer style; Prometheus gets them with _ and its suffixes) --- */

    public static final String REQUESTS = "kvstore.requests";
    public static final String REQUEST_LATENCY = "kvstore.request";
    public static final String LOG_FSYNCS = "kvstore.log.fsyncs";
    public static final String LOG_BYTES = "kvstore.log.bytes";
    public static final String LOG_RECORDS = "kvstore.log.records";
    public static final String LOG_WRITTEN = "kvstore.log.written";
    public static final String LOG_QUEUED = "kvstore.log.queued.records";
    public static final String LOG_COMPACTIONS = "kvstore.log.compactions";
    public static final String LOG_SLOW_SYNCS = "kvstore.log.slow.syncs";
    public static final String READY = "kvstore.ready";
    public static final String EPOCH = "kvstore.epoch";

    /** The status labels a request can carry; anything else is counted as "other". */
    static final int[] STATUSES = {200, 201, 202, 204, 401, 409, 500, 503};
    private static final String OTHER = "other";

    /** Latency buckets (seconds): from a cached fsync to a request timeout. */
    protected static final Duration[] BUCKETS = {
            Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
            Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
            Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5)};

    protected final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Handler<HttpServerRequest> scrape = PrometheusRequestHandler.create(registry, "/metrics");
    private final Counter[][] requests = new Counter[RequestType.values().length][STATUSES.length + 1];
    private final Timer[] latency = new Timer[RequestType.values().length];
    /** Micrometer holds a function counter's source weakly: these keep ours alive. */
    private final List<Object> sources = new ArrayList<>();
    private final JvmGcMetrics gc = new JvmGcMetrics();

    /**
     * @param types the request types this role serves: their meters are created now, so a
     *              scrape shows them at zero before the first request
     */
    protected NodeMetrics(RequestType... types) {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        gc.bindTo(registry);
        for (RequestType t : types) {
            latency[t.ordinal()] = timer(REQUEST_LATENCY, "Time from a request's arrival to its answer", "type", t.label);
            int ok = statusIndex(t.success);
            requests[t.ordinal()][ok] = requestCounter(t, ok);
        }
    }

    /** Serves {@code GET /metrics}: Prometheus text, {@code text/plain; version=0.0.4; charset=utf-8}. */
    public void scrape(HttpServerRequest req) {
        scrape.handle(req);
    }

    /** The registry, for tests and for roles that add their own meters. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /* --- Requests by type and status --- */

    /**
     * Counts this request when its answer is written: its type, its status and its latency. A
     * request whose connection closes before any answer is not counted.
     */
    public void watch(HttpServerRequest req, RequestType type) {
        long started = System.nanoTime();
        HttpServerResponse res = req.response();
        res.endHandler(v -> {
            if (res.ended()) answered(type, res.getStatusCode(), System.nanoTime() - started);
        });
    }

    /**
     * Counts one answered request. Also used for each message of a batch, which is counted as
     * its single-message form would be (a prepare in a batch is a prepare).
     */
    public void answered(RequestType type, int status, long nanos) {
        int s = statusIndex(status);
        Counter[] row = requests[type.ordinal()];
        Counter c = row[s];
        if (c == null) row[s] = c = requestCounter(type, s);
        c.increment();
        Timer t = latency[type.ordinal()];
        if (t != null) t.record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private Counter requestCounter(RequestType type, int statusIndex) {
        String status = statusIndex < STATUSES.length ? String.valueOf(STATUSES[statusIndex]) : OTHER;
        return Counter.builder(REQUESTS).description("Requests answered, by type and status")
                .tag("type", type.label).tag("status", status).register(registry);
    }

    static int statusIndex(int status) {
        for (int i = 0; i < STATUSES.length; i++) if (STATUSES[i] == status) return i;
        return STATUSES.length;
    }

    /* --- The log, and figures every node has --- */

    /** Meters of a node's log, read from the store the supplier gives (null before recovery). */
    protected void logMeters(Supplier<LogStore> log) {
        functionCounter(LOG_FSYNCS, "fsyncs of the log (one covers every record written before it began)", log, LogStore::fsyncs);
        functionCounter(LOG_RECORDS, "Records appended to the log", log, LogStore::recordsWritten);
        functionCounter(LOG_WRITTEN, "Bytes appended to the log", log, LogStore::bytesWritten, "bytes");
        functionCounter(LOG_COMPACTIONS, "Snapshots written by compaction", log, LogStore::compactions);
        functionCounter(LOG_SLOW_SYNCS, "Log writes whose write and fsync took over 100 ms (a slow or busy disk)", log, LogStore::slowSyncs);
        gauge(LOG_BYTES, "Bytes of every log file of this node: snapshot and segments", log, LogStore::logBytes, "bytes");
        gauge(LOG_QUEUED, "Records waiting for the current write and fsync to finish", log, LogStore::queued, null);
    }

    protected <T> void functionCounter(String name, String help, Supplier<T> source, ToDoubleFunction<T> f) {
        functionCounter(name, help, source, f, null);
    }

    protected <T> void functionCounter(String name, String help, Supplier<T> source, ToDoubleFunction<T> f, String unit) {
        sources.add(source);
        FunctionCounter.builder(name, source, s -> {
            T t = s.get();
            return t == null ? 0 : f.applyAsDouble(t);
        }).description(help).baseUnit(unit).register(registry);
    }

    protected <T> void gauge(String name, String help, Supplier<T> source, ToDoubleFunction<T> f, String unit) {
        Gauge.builder(name, source, s -> {
            T t = s.get();
            return t == null ? 0 : f.applyAsDouble(t);
        }).description(help).baseUnit(unit).strongReference(true).register(registry);
    }

    protected Timer timer(String name, String help, String tag, String value) {
        return Timer.builder(name).description(help).tag(tag, value).serviceLevelObjectives(BUCKETS).register(registry);
    }

    /** Frees the registry (the node stopped). */
    public void close() {
        gc.close();
        registry.close();
    }
}
