package kvstore.leader;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import kvstore.core.KeyRequest;
import kvstore.core.Member;
import kvstore.core.Params;
import kvstore.core.tpc.Batch;
import kvstore.core.view.View;
import kvstore.http.Guard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The leader's messages to one follower, coalesced into batches ({@link Batch}): a message goes
 * out at once when fewer than {@link #MAX_IN_FLIGHT} batches are on the wire, and otherwise
 * waits for the next batch, which leaves as soon as one returns. So at low load nothing waits
 * and latency is that of a single request; under load one request, one write system call and
 * one fsync on the follower serve many transactions. Writes and reads travel in separate
 * batches, so a read never waits for a follower's fsync.
 *
 * <h2>Deadlines (PROTOCOL.md, "Deadlines")</h2>
 * Every message has a deadline from the moment it is queued. Past it, it fails ("no answer"),
 * whether it is still queued or on the wire, and a late answer is ignored. When the follower is
 * marked down, everything queued or in flight fails at once: a paused follower costs only the
 * requests that were addressed to it, and only until it is found out.
 *
 * <h2>Identity and view</h2>
 * Every batch names the identity the leader knows the follower by ({@code to=}): a follower with
 * another data directory refuses it whole, so not even one read reaches a wiped disk. When the
 * follower has not logged the leader's latest view, the view leads the next batch.
 *
 * <p>Every answer completes exactly one promise; runs on the leader's event loop only.
 */
final class FollowerChannel {
    static final int MAX_IN_FLIGHT = 2;
    static final int MAX_BATCH_BYTES = 512 * 1024;
    static final int MAX_QUEUED = 100_000;

    /** Where the channel learns the view to send and tells what the follower has logged. */
    interface Views {
        View durable();

        long logged(long memberId);

        void logged(long memberId, long number);
    }

    private static final class Pending {
        final Batch.Item item;
        final Promise<Batch.Answer> answer = Promise.promise();
        final long deadlineMillis;
        long sentMillis = Long.MAX_VALUE;   // when its batch went on the wire

        Pending(Batch.Item item, long deadlineMillis) {
            this.item = item;
            this.deadlineMillis = deadlineMillis;
        }
    }

    private final class Lane {
        final ArrayDeque<Pending> queue = new ArrayDeque<>();
        final List<List<Pending>> inFlight = new ArrayList<>();
    }

    private final Member member;
    private final WebClient client;
    private final String secret;
    private final LongSupplier epoch;
    private final Views views;
    private final Lane writes = new Lane();
    private final Lane reads = new Lane();
    private String identity;
    private long batches, messages;
    /** When a batch last got any answer (leader clock): a follower that answers nothing is silent, not slow. */
    private long lastAnswerMillis = LeaderClock.now();
    /** Told when a message on the wire passes its deadline while the follower answers nothing at all. */
    private Runnable onSilent = () -> {};

    FollowerChannel(Member member, WebClient client, String secret, LongSupplier epoch, Views views) {
        this.member = member;
        this.client = client;
        this.secret = secret;
        this.epoch = epoch;
        this.views = views;
    }

    /** The follower answered something else (a check): it is not silent. */
    void heard() {
        lastAnswerMillis = LeaderClock.now();
    }

    void onSilent(Runnable r) {
        this.onSilent = r;
    }

    /** The identity every batch is addressed to (null: not known, registered by hand). */
    void identity(String identity) {
        this.identity = identity;
    }

    Future<Batch.Answer> send(Batch.Item item, long deadlineMillis) {
        Lane lane = item instanceof Batch.Read || item instanceof Batch.Outcome || item instanceof Batch.RidQuery ? reads : writes;
        if (lane.queue.size() >= MAX_QUEUED) return Future.failedFuture("queue to " + member.address() + " is full");
        Pending p = new Pending(item, deadlineMillis);
        lane.queue.add(p);
        pump(lane);
        return p.answer.future();
    }

    /**
     * Sends the leader's view to a follower that has not logged it: ahead of the next batch, or
     * alone, now or once a batch on the wire returns. (It used to count on "the next batch" when
     * one was on the wire; a member the view evicts or drains gets no next batch, so it never
     * learned it was out and, silent for 6 s, registered again as a new member.)
     */
    void pushView() {
        View v = views.durable();
        if (v == null || v.number() == 0 || views.logged(member.id()) >= v.number()) return;
        pushing = true;
        pump(writes);
    }

    private boolean pushing;

    private void pump(Lane lane) {
        while (lane.inFlight.size() < MAX_IN_FLIGHT && (!lane.queue.isEmpty() || lane == writes && pushing)) {
            List<Pending> batch = new ArrayList<>(Math.min(lane.queue.size(), Batch.MAX_ITEMS));
            StringBuilder body = new StringBuilder(256);
            View v = views.durable();
            boolean withView = lane == writes && v != null && v.number() > 0 && views.logged(member.id()) < v.number();
            if (lane == writes) pushing = false;
            if (withView) Batch.encode(new Batch.ViewItem(v), body);
            long latest = LeaderClock.now() + 1_000;
            while (!lane.queue.isEmpty() && batch.size() < Batch.MAX_ITEMS - 1 && body.length() < MAX_BATCH_BYTES) {
                Pending p = lane.queue.poll();
                if (p.answer.future().isComplete()) continue; // failed at its deadline while queued
                Batch.encode(p.item, body);
                batch.add(p);
                latest = Math.max(latest, p.deadlineMillis);
            }
            if (batch.isEmpty() && !withView) continue;
            long sent = LeaderClock.now();
            for (Pending p : batch) p.sentMillis = sent;
            lane.inFlight.add(batch);
            if (!batch.isEmpty()) batches++; // a view pushed alone carries no message
            messages += batch.size();
            long timeoutMillis = Math.max(1_000, latest - LeaderClock.now() + 500);
            post(body, timeoutMillis, withView).onComplete(ar -> {
                if (ar.succeeded() || ar.cause() instanceof Stale || ar.cause() instanceof WrongIdentity) lastAnswerMillis = LeaderClock.now();
                lane.inFlight.remove(batch);
                List<Batch.Answer> answers = ar.succeeded() ? ar.result() : null;
                int at = withView && answers != null ? 1 : 0;
                for (Pending p : batch) {
                    if (answers == null || at >= answers.size()) p.answer.tryFail(ar.failed() ? ar.cause() : new IllegalStateException("short answer"));
                    else p.answer.tryComplete(answers.get(at++));
                }
                pump(lane);
            });
        }
    }

    private Future<List<Batch.Answer>> post(StringBuilder body, long timeoutMillis, boolean withView) {
        StringBuilder uri = new StringBuilder("/tpc/batch?epoch=").append(epoch.getAsLong());
        if (identity != null) {
            uri.append("&to=");
            Params.encodeTo(uri, identity);
        }
        HttpRequest<Buffer> r = client.request(HttpMethod.POST, member.port(), member.host(), uri.toString()).timeout(timeoutMillis);
        if (secret != null) r.putHeader(Guard.SECRET_HEADER, secret);
        return r.sendBuffer(Buffer.buffer(body.toString())).compose(resp -> {
            String logged = resp.getHeader("X-KV-View");
            if (logged != null && KeyRequest.parseEpoch(logged) >= 0) views.logged(member.id(), KeyRequest.parseEpoch(logged));
            if (resp.statusCode() == 409) return Future.failedFuture(new Stale(KeyRequest.parseEpoch(resp.getHeader("X-KV-Epoch"))));
            if (resp.statusCode() == 421) return Future.failedFuture(new WrongIdentity());
            if (resp.statusCode() != 200) return Future.failedFuture("batch answered " + resp.statusCode());
            List<Batch.Answer> answers = Batch.decodeAnswers(resp.bodyAsString());
            if (answers == null) return Future.failedFuture("malformed batch answer");
            return Future.succeededFuture(answers);
        });
    }

    /** The follower has accepted a newer leader's epoch: every message of the batch is refused. */
    static final class Stale extends RuntimeException {
        final long theirs;

        Stale(long theirs) {
            super("stale leader", null, false, false);
            this.theirs = theirs;
        }
    }

    /** The follower has another identity (its data directory was wiped or swapped). */
    static final class WrongIdentity extends RuntimeException {
        WrongIdentity() {
            super("not this follower", null, false, false);
        }
    }

    /** Fails what is past its deadline, queued or on the wire. */
    void expire(long nowMillis) {
        boolean waiting = expire(writes, nowMillis) | expire(reads, nowMillis);
        // A message on the wire this long, and no answer to anything for as long: the follower is
        // paused or cut off. Say so now rather than after the checks miss (seconds), so its keys'
        // writes are refused, their reads go elsewhere, and phase 2 waits for it in the background.
        if (waiting && nowMillis - lastAnswerMillis > SILENT_AFTER_MILLIS) onSilent.run();
    }

    /** No answer to any batch for this long, with one on the wire as long: silent. */
    static final long SILENT_AFTER_MILLIS = 1_000;

    /*
     * Failing a message runs its caller's handler at once, and the handler may send again on this
     * channel (a lost vote is answered with an abort to the same follower), which adds to the
     * queue or to the batches on the wire. So the messages to fail are gathered first and failed
     * after the walk: failing them during it threw ConcurrentModificationException, and a
     * follower marked down was then never reported down to the coordinator.
     */
    private boolean expire(Lane lane, long nowMillis) {
        List<Pending> late = new ArrayList<>();
        for (Iterator<Pending> it = lane.queue.iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (p.deadlineMillis <= nowMillis) {
                it.remove();
                late.add(p);
            }
        }
        boolean waiting = false;
        for (List<Pending> batch : lane.inFlight) {
            for (Pending p : batch) {
                if (nowMillis - p.sentMillis > SILENT_AFTER_MILLIS) waiting = true;
                if (p.deadlineMillis <= nowMillis) late.add(p);
            }
        }
        for (Pending p : late) p.answer.tryFail("deadline");
        return waiting;
    }

    /** The follower is down: everything queued or in flight fails now (its late answers are ignored). */
    void down() {
        List<Pending> failing = new ArrayList<>();
        for (Lane lane : List.of(writes, reads)) {
            failing.addAll(lane.queue);
            lane.queue.clear();
            for (List<Pending> batch : lane.inFlight) failing.addAll(batch);
        }
        for (Pending p : failing) p.answer.tryFail("follower down");
    }

    long batches() { return batches; }

    long messages() { return messages; }
}
