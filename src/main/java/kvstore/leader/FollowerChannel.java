package kvstore.leader;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import kvstore.core.Errors;
import kvstore.core.Member;
import kvstore.core.tpc.Batch;
import kvstore.http.Guard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The leader's messages to one follower, coalesced ({@link Batch}): a message goes out at once
 * when fewer than {@link #MAX_IN_FLIGHT} batches are on the wire, and otherwise waits for the
 * next batch, which leaves as soon as one returns. So at low load nothing waits and latency is
 * that of a single request; under load one request, one write system call and one fsync on the
 * follower serve many transactions.
 *
 * <p>Writes (prepare, commit, abort) and reads travel in separate batches, so a read never waits
 * for a follower's fsync. Every answer completes exactly one promise; a batch that fails (timeout,
 * connection refused, a malformed answer) fails all of its messages, which the coordinator treats
 * as "no answer", never as "no". Runs on the leader's event loop only.
 */
final class FollowerChannel {
    static final int MAX_IN_FLIGHT = 2;
    static final int MAX_BATCH_BYTES = 512 * 1024;

    private record Pending(Batch.Item item, Promise<Batch.Answer> answer) {}

    private final class Lane {
        final ArrayDeque<Pending> queue = new ArrayDeque<>();
        int inFlight;
    }

    private final Member member;
    private final WebClient client;
    private final String secret;
    private final long timeoutMillis;
    private final LongSupplier epoch;
    private final Lane writes = new Lane();
    private final Lane reads = new Lane();
    private long batches, messages;

    FollowerChannel(Member member, WebClient client, String secret, long timeoutMillis, LongSupplier epoch) {
        this.member = member;
        this.client = client;
        this.secret = secret;
        this.timeoutMillis = timeoutMillis;
        this.epoch = epoch;
    }

    Future<Batch.Answer> send(Batch.Item item) {
        Promise<Batch.Answer> p = Promise.promise();
        Lane lane = item.kind() == Batch.Kind.READ || item.kind() == Batch.Kind.OUTCOME ? reads : writes;
        lane.queue.add(new Pending(item, p));
        pump(lane);
        return p.future();
    }

    private void pump(Lane lane) {
        while (lane.inFlight < MAX_IN_FLIGHT && !lane.queue.isEmpty()) {
            List<Pending> batch = new ArrayList<>(Math.min(lane.queue.size(), Batch.MAX_ITEMS));
            StringBuilder body = new StringBuilder(256);
            while (!lane.queue.isEmpty() && batch.size() < Batch.MAX_ITEMS && body.length() < MAX_BATCH_BYTES) {
                Pending p = lane.queue.poll();
                Batch.encode(p.item(), body);
                batch.add(p);
            }
            lane.inFlight++;
            batches++;
            messages += batch.size();
            post(batch, body).onComplete(ar -> {
                lane.inFlight--;
                if (ar.failed()) {
                    for (Pending p : batch) p.answer().fail(ar.cause());
                } else {
                    List<Batch.Answer> answers = ar.result();
                    for (int i = 0; i < batch.size(); i++) batch.get(i).answer().complete(answers.get(i));
                }
                pump(lane);
            });
        }
    }

    private Future<List<Batch.Answer>> post(List<Pending> batch, StringBuilder body) {
        HttpRequest<Buffer> r = client.request(HttpMethod.POST, member.port(), member.host(), "/tpc/batch?epoch=" + epoch.getAsLong())
                .timeout(timeoutMillis);
        if (secret != null) r.putHeader(Guard.SECRET_HEADER, secret);
        return r.sendBuffer(Buffer.buffer(body.toString())).compose(resp -> {
            if (resp.statusCode() == 409) {
                List<Batch.Answer> stale = new ArrayList<>(batch.size());
                for (int i = 0; i < batch.size(); i++) stale.add(new Batch.Answer(409, Errors.STALE_LEADER));
                return Future.succeededFuture(stale);
            }
            if (resp.statusCode() != 200) return Future.failedFuture("batch answered " + resp.statusCode());
            List<Batch.Answer> answers = Batch.decodeAnswers(resp.bodyAsString());
            if (answers == null || answers.size() != batch.size()) return Future.failedFuture("malformed batch answer");
            return Future.succeededFuture(answers);
        });
    }

    long batches() { return batches; }

    long messages() { return messages; }
}
