package kvstore.follower;

import io.reactivex.rxjava3.core.Completable;
import io.reactivex.rxjava3.core.Flowable;
import io.reactivex.rxjava3.core.Scheduler;
import io.reactivex.rxjava3.core.Single;
import io.reactivex.rxjava3.disposables.Disposable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.rxjava3.core.RxHelper;
import kvstore.core.Member;
import kvstore.core.Params;
import kvstore.core.tpc.CopyWire;
import kvstore.core.tpc.Participant;
import kvstore.core.view.View;
import kvstore.http.Guard;
import kvstore.node.NodeSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A gainer's side of moving keys (PROTOCOL.md, "Views and moving keys"): when its view says a
 * copy round is open and it gains keys it does not hold, it pages through every current source
 * ({@code GET /tpc/copy}) and applies each page in order, each key only if its version is newer
 * than the one held — so the copy and the writes that reach it meanwhile commute, and a deleted
 * key is never brought back. When every source is done it logs COPIED and the leader, at its
 * next check, marks it current.
 *
 * <p>The pipeline is RxJava 3 through Vert.x's bindings, on the follower's event loop: every
 * source's pages ({@code fetch page -> retry with backoff}, until the source says {@code end})
 * are asked for at once, one page in flight per source, and merged into one chain that applies
 * each page (log + fsync) and paces; a page is applied while the one before is fsynced. A
 * source with no key to send is not asked. The stages read as one expression, and cancelling a
 * round (a newer view) is one {@code dispose()}. A source that keeps failing is skipped when the
 * others hold every key it would send: the round starts over with it in the skip set, so each
 * key is copied from the next current replica instead. If it alone holds some of them, the
 * round waits for it and says so.
 */
final class Copier {
    private static final Logger LOG = LoggerFactory.getLogger(Copier.class);
    static final int PAGE_BYTES = 1 << 20;
    static final int PAGES_AHEAD = 2;
    /** A source's answer says how many leader messages it answered in about the last second. */
    static final String FOREGROUND_HEADER = "X-KV-Foreground";
    private static final int ATTEMPTS = 4;

    private final Vertx vertx;
    private final NodeSettings settings;
    private final Participant participant;
    private final ParticipantShell shell;
    private final FollowerMetrics metrics;
    private final HttpClient http;
    private final Scheduler scheduler;
    private final long bytesPerSecond;
    private final long self;
    private Disposable running;
    private final CompactionHold compactionHold;
    private long round;
    private final Set<Long> skip = new HashSet<>();
    private long keys, bytes, roundKeys, roundBytes, startedMillis;
    /** What the process had spent when the round began: the round's own share goes in its last log line. */
    private ProcessCost startCost;
    private String problem;
    private boolean stopped;

    Copier(Vertx vertx, NodeSettings settings, long self, Participant participant, ParticipantShell shell, FollowerMetrics metrics) {
        this.vertx = vertx;
        this.settings = settings;
        this.participant = participant;
        this.shell = shell;
        this.metrics = metrics;
        io.vertx.rxjava3.core.Vertx rx = io.vertx.rxjava3.core.Vertx.newInstance(vertx);
        this.http = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setConnectTimeout(2_000));
        this.scheduler = RxHelper.scheduler(rx.getOrCreateContext());
        this.bytesPerSecond = settings.copyRateBytes();
        this.compactionHold = new CompactionHold(vertx, hold -> shell.holdCompaction("gainer", hold), COMPACT_AFTER_COPY_MILLIS);
        this.self = self;
    }

    /** Starts (or restarts, for a newer round) the copy the view asks for; stops one it no longer asks for. */
    void maybeStart() {
        if (stopped) return;
        long want = participant.roundToCopy();
        if (want == round && (running != null || want == 0)) return;
        if (running != null) running.dispose();
        running(null);
        round = want;
        skip.clear();
        if (want == 0) return;
        startRound();
    }

    private void startRound() {
        var placement = new kvstore.core.view.Placement(participant.view());
        List<Member> sources = new ArrayList<>(placement.copySources(self));
        sources.removeIf(m -> !placement.sendsAny(m.id(), self, skip)); // a skipped source sends nothing either
        cursor.clear();
        long r = round;
        roundKeys = 0;
        roundBytes = 0;
        startedMillis = System.currentTimeMillis();
        startCost = ProcessCost.now();
        pace = new CopyPace(bytesPerSecond, startedMillis);
        foreground.clear(); // not known until a source's first page: that one is small, in case the source is busy
        problem = null;
        LOG.info("follower {}: copying the keys it gains in round {} from {} source(s){}", settings.address(), r, sources.size(),
                skip.isEmpty() ? "" : " (skipping " + skip.size() + " that did not answer)");
        AtomicReference<Member> failed = new AtomicReference<>();
        running(Flowable.fromIterable(sources)
                .flatMap(src -> pages(r, src).doOnError(e -> failed.set(src)), false, Math.max(1, sources.size()), 1)
                .concatMapCompletable(p -> sweepDone().andThen(apply(p.page())).andThen(pace(p)), PAGES_AHEAD)
                .andThen(Completable.defer(() -> finish(r)))
                .subscribe(() -> { }, e -> sourceFailed(r, failed.get(), e)));
    }

    /** A page and the source it came from (its pace depends on how busy that source is). */
    private record Fetched(Member source, Participant.CopyPage page) {}

    /**
     * Every page of one source, in order, one asked for at a time (the next starts at the cursor
     * the last one gave); done after the page that says {@code end}. The sources are asked at
     * once, so that each one's scans (a source looks at every key it holds to find the ones to
     * send) and round trips overlap the others' and the gainer's applying.
     */
    private Flowable<Fetched> pages(long r, Member src) {
        cursor.remove(src.id());
        return fetch(r, src)
                .retryWhen(backoff())
                .repeatUntil(() -> cursor.containsKey(src.id()) && cursor.get(src.id()) == null)
                .map(page -> new Fetched(src, page));
    }

    /**
     * Waits, going on with it a slice at a time, while a pass over the store is still dropping
     * what a view took away or leftovers in the keys this move gives (Participant#sweep): a page
     * applied before it ends would have to finish it at once, on the event loop (about 1.2 s per
     * million keys).
     */
    private Completable sweepDone() {
        return Completable.defer(() -> {
            if (!participant.sweeping()) return Completable.complete();
            participant.sweep(Participant.SWEEP_SLICE);
            return Completable.timer(SWEEP_WAIT_MILLIS, TimeUnit.MILLISECONDS, scheduler).andThen(sweepDone());
        });
    }

    /** How often a page waiting for a pass over the store looks again (one slice each time). */
    private static final long SWEEP_WAIT_MILLIS = 5;

    /** One page from a source, after the cursor; each subscription (a retry, the next page) reads the cursor anew. */
    private Single<Participant.CopyPage> fetch(long r, Member src) {
        return Single.defer(() -> {
            StringBuilder uri = new StringBuilder("/tpc/copy?round=").append(r)
                    .append("&for=").append(Long.toUnsignedString(self))
                    .append("&limit=").append(CopyPace.pageKeys(foreground.getOrDefault(src.id(), -1L))).append("&bytes=").append(PAGE_BYTES);
            // The view it asks under: the source answers only under the same one (it decides which keys are its to send).
            if (participant.view() != null) uri.append("&view=").append(participant.view().number());
            String from = cursor.get(src.id());
            if (from != null) {
                uri.append("&after=");
                Params.encodeTo(uri, from);
            }
            if (!skip.isEmpty()) {
                uri.append("&skip=");
                boolean first = true;
                for (long id : skip) {
                    if (!first) uri.append(',');
                    uri.append(Long.toUnsignedString(id));
                    first = false;
                }
            }
            RequestOptions ask = new RequestOptions().setMethod(HttpMethod.GET).setHost(src.host()).setPort(src.port())
                    .setURI(uri.toString()).setIdleTimeout(10_000);
            if (settings.secret() != null) ask.putHeader(Guard.SECRET_HEADER, settings.secret());
            Future<Participant.CopyPage> page = http.request(ask).compose(HttpClientRequest::send).compose(resp -> read(src, resp))
                    .onSuccess(p -> cursor.put(src.id(), p.next()));
            // try: a round cancelled (a newer view, a stop) has disposed of the emitter, and an
            // error sent to it then would go to RxJava's global handler and be thrown on the loop
            return Single.create(em -> page.onComplete(ar -> {
                if (ar.succeeded()) em.onSuccess(ar.result());
                else em.tryOnError(ar.cause());
            }));
        });
    }

    /** A page is at most 4 MiB and one entry past it. */
    static final int MAX_PAGE_WIRE_BYTES = 16 << 20;

    /**
     * Reads a page's body into one array of its Content-Length and decodes it. Aggregating it into
     * a growing buffer copied each page about four times over, and on a million keys that garbage
     * was most of the gainer's collections.
     */
    private Future<Participant.CopyPage> read(Member src, HttpClientResponse resp) {
        if (resp.statusCode() != 200) {
            return resp.body().transform(ar -> Future.failedFuture("copy from " + src.address() + " answered " + resp.statusCode()));
        }
        foreground.put(src.id(), foreground(resp.getHeader(FOREGROUND_HEADER)));
        long length;
        try {
            length = Long.parseLong(String.valueOf(resp.getHeader(HttpHeaders.CONTENT_LENGTH)));
        } catch (NumberFormatException e) {
            length = -1;
        }
        if (length < 0 || length > MAX_PAGE_WIRE_BYTES) {
            resp.request().connection().close();
            return Future.failedFuture("copy page from " + src.address() + " without a usable Content-Length");
        }
        byte[] body = new byte[(int) length];
        int[] at = {0};
        Promise<Participant.CopyPage> done = Promise.promise();
        resp.exceptionHandler(done::tryFail);
        resp.handler(chunk -> {
            int n = chunk.length();
            if (at[0] + n > body.length) {
                at[0] = -1; // more than it said: malformed (checked at the end)
                return;
            }
            if (at[0] >= 0) {
                chunk.getBytes(0, n, body, at[0]);
                at[0] += n;
            }
        });
        resp.endHandler(v -> {
            // on the event loop: decoding on a worker thread made every page wait for two more
            // thread switches before the next was asked for, and the copy was 15% slower
            Participant.CopyPage page = at[0] == body.length ? CopyWire.decode(body) : null;
            if (page == null) done.tryFail("malformed copy page from " + src.address());
            else done.tryComplete(page);
        });
        return done.future();
    }

    /**
     * The round's pipeline (null: none runs). The log is not compacted while one does, and the
     * compaction that follows waits {@link #COMPACT_AFTER_COPY_MILLIS}: the leader switches the
     * range to this follower about a second after the copy, and a compaction at once (seconds of
     * replay and garbage on the other core) stalled the switch's writes by 200 ms.
     */
    private void running(Disposable d) {
        running = d;
        if (d != null) compactionHold.hold();
        else if (stopped) compactionHold.releaseNow();
        else compactionHold.releaseLater();
    }

    static final long COMPACT_AFTER_COPY_MILLIS = 5_000;

    /** Where each source's next page starts (a null value: that source is done). */
    private final java.util.Map<Long, String> cursor = new java.util.HashMap<>();

    /** Capped exponential backoff: 4 tries, then the error goes up (the source is skipped). */
    private io.reactivex.rxjava3.functions.Function<Flowable<Throwable>, Flowable<Long>> backoff() {
        return errors -> errors.zipWith(Flowable.range(1, ATTEMPTS), (e, n) -> {
            if (n >= ATTEMPTS) throw e instanceof Exception ex ? ex : new RuntimeException(e);
            return n;
        }).flatMap(n -> Flowable.timer(Math.min(2_000, 100L << n), TimeUnit.MILLISECONDS, scheduler));
    }

    /**
     * Applies a page (only what is newer) once the page before the last is durable, and returns
     * while its own fsync runs. So the next page is applied while this one is written and fsynced,
     * and the log's group commit takes up to two pages in one fsync; waiting for the last page
     * instead made every page pay its apply and its fsync in turn. One log, in order: COPIED,
     * fsynced last, is never durable without every page before it. At most two pages wait on
     * the disk.
     */
    private Completable apply(Participant.CopyPage page) {
        if (page.entries().isEmpty()) return Completable.complete();
        return Completable.create(em -> olderPersist.onComplete(before -> {
            if (em.isDisposed()) return; // the round was cancelled (a newer view): nothing more of it
            if (before.failed()) {
                em.onError(before.cause());
                return;
            }
            long pageBytes = bytesOf(page);
            olderPersist = lastPersist;
            lastPersist = shell.persist(participant.applyCopy(page.entries())).onSuccess(v -> {
                keys += page.entries().size();
                roundKeys += page.entries().size();
                bytes += pageBytes;
                roundBytes += pageBytes;
                metrics.copied(page.entries().size(), pageBytes);
            });
            em.onComplete();
        }));
    }

    private static long foreground(String header) {
        try {
            return header == null ? 0 : Long.parseLong(header);
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The fsyncs of the page applied last and of the one before it. */
    private Future<Void> lastPersist = Future.succeededFuture(), olderPersist = Future.succeededFuture();

    /** Waits as long as the pace says: {@code --copy-rate}, and slower while the source serves clients. */
    private Completable pace(Fetched fetched) {
        long wait = pace.after(bytesOf(fetched.page()), foreground.getOrDefault(fetched.source().id(), -1L), System.currentTimeMillis());
        return wait > 0 ? Completable.timer(wait, TimeUnit.MILLISECONDS, scheduler) : Completable.complete();
    }

    private CopyPace pace;
    /** What each source reported with its last page: the leader's messages it answered in about the last second (none: not asked yet). */
    private final java.util.Map<Long, Long> foreground = new java.util.HashMap<>();

    private static long bytesOf(Participant.CopyPage page) {
        long b = 0;
        for (var d : page.entries()) b += d.key().length() + (d.value() == null ? 0 : d.value().length);
        return b;
    }

    private Completable finish(long r) {
        return Completable.create(em -> {
            if (r != round || participant.roundToCopy() != r) {
                em.onComplete();
                return;
            }
            Future.all(olderPersist, lastPersist).compose(v -> shell.persist(participant.copied(r))).onComplete(ar -> {
                if (ar.succeeded()) {
                    long ms = Math.max(1, System.currentTimeMillis() - startedMillis);
                    String cost = ProcessCost.now().since(startCost);
                    LOG.info("follower {}: copy round {} done: {} keys, {} bytes in {} ms ({} MiB/s){}", settings.address(), r, roundKeys,
                            roundBytes, ms, String.format("%.1f", roundBytes / 1048576.0 / (ms / 1000.0)),
                            cost.isEmpty() ? "" : "; this process meanwhile: " + cost);
                    running(null);
                    em.onComplete();
                } else em.onError(ar.cause());
            });
        });
    }

    private void sourceFailed(long r, Member src, Throwable e) {
        running(null);
        if (stopped || r != round) return;
        cursor.clear();
        problem = "copy source " + (src == null ? "?" : src.address()) + " failed: " + e.getMessage();
        // Skip the source only if the others hold every key it would have sent; otherwise the
        // round waits for it (finishing without its keys would lose them).
        boolean covered = false;
        if (src != null) {
            Set<Long> without = new HashSet<>(skip);
            without.add(src.id());
            covered = new kvstore.core.view.Placement(participant.view()).sourcesCover(self, without);
            if (covered) skip.add(src.id());
        }
        if (covered) LOG.warn("follower {}: {}; starting round {} over without it", settings.address(), problem, r);
        else LOG.warn("follower {}: {}; it alone holds some keys this follower gains: waiting for it", settings.address(), problem);
        vertx.setTimer(covered ? 200 : 2_000, t -> {
            if (!stopped && r == round && running == null) startRound();
        });
    }

    ParticipantShell.CopyProgress progress() {
        return new ParticipantShell.CopyProgress(keys, bytes, round, roundKeys, roundBytes);
    }

    JsonObject statusJson() {
        return new JsonObject().put("round", round).put("running", running != null).put("keys", roundKeys).put("bytes", roundBytes)
                .put("problem", problem);
    }

    void stop() {
        stopped = true;
        if (running != null) running.dispose();
        running(null);
        http.close();
    }
}
