package kvstore.leader;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import kvstore.core.Member;
import kvstore.core.TxId;
import kvstore.core.tpc.Batch;
import kvstore.core.view.Membership;
import kvstore.core.view.View;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** The leader's channel to one follower, against a real HTTP server standing in for the follower. */
@ExtendWith(VertxExtension.class)
@Timeout(60)
class FollowerChannelTest {

    /**
     * A view that removes a member becomes durable while a batch is on the wire to it. The
     * channel used to leave the view to "the next batch", which a member no longer in the view
     * never gets: the drained follower never learned it was out and registered again as a new
     * member (MovesUnderFaultsIT, two drains at once under load). Now the view follows alone.
     */
    @Test
    void aViewPushedWhileABatchIsOnTheWireStillReachesTheFollower(Vertx vertx) throws Exception {
        LinkedBlockingQueue<String> bodies = new LinkedBlockingQueue<>();
        List<HttpServerRequest> held = new CopyOnWriteArrayList<>();
        AtomicReference<View> durable = new AtomicReference<>(view(1));
        AtomicLong logged = new AtomicLong(durable.get().number());
        HttpServer server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(b -> {
            String body = b.toString();
            bodies.add(body);
            List<Batch.Item> items = Batch.decodeItems(body);
            boolean withView = !items.isEmpty() && items.get(0) instanceof Batch.ViewItem;
            if (!withView && held.isEmpty()) {
                held.add(req); // the first batch stays on the wire until the test lets it go
                return;
            }
            if (withView) logged.set(((Batch.ViewItem) items.get(0)).view().number());
            answer(req, items.size(), logged.get());
        })).listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        Member follower = Member.of("127.0.0.1", server.actualPort());
        FollowerChannel.Views views = new FollowerChannel.Views() {
            @Override public View durable() { return durable.get(); }
            @Override public long logged(long memberId) { return logged.get(); }
            @Override public void logged(long memberId, long number) { logged.set(number); }
        };
        WebClient client = WebClient.create(vertx);
        AtomicReference<FollowerChannel> channel = new AtomicReference<>();
        vertx.runOnContext(v -> {
            channel.set(new FollowerChannel(follower, client, null, () -> 1, views));
            channel.get().send(new Batch.Abort(new TxId(1, 1), null), LeaderClock.now() + 10_000);
        });
        assertNotNull(bodies.poll(10, TimeUnit.SECONDS), "the first batch");

        View next = view(2);
        vertx.runOnContext(v -> {
            durable.set(next); // the view that drains it is durable: tell it
            channel.get().pushView();
            for (HttpServerRequest r : held) answer(r, 1, logged.get()); // then the batch on the wire returns
        });
        String second = bodies.poll(10, TimeUnit.SECONDS);
        assertNotNull(second, "the newer view never reached the follower");
        Batch.Item first = Batch.decodeItems(second).get(0);
        assertEquals(next.number(), ((Batch.ViewItem) first).view().number());
    }

    /**
     * Failing a message runs its caller's handler at once, and that handler may send again on
     * the same channel (the coordinator answers a lost vote with an abort to the same follower).
     * {@code down()} and {@code expire()} failed messages while walking the lists that such a
     * send adds to: a ConcurrentModificationException, seen on the real jar when a paused
     * follower was marked down. It left the coordinator never told the follower was down, so
     * writes of its keys waited out their 5 s deadlines (GreyFailuresIT's flake).
     */
    @Test
    void messagesFailedWhenTheFollowerIsDownOrLateMaySendAgainFromTheirHandlers(Vertx vertx) throws Exception {
        HttpServer server = vertx.createHttpServer().requestHandler(req -> { }) // a paused follower: never answers
                .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        Member follower = Member.of("127.0.0.1", server.actualPort());
        FollowerChannel.Views views = new FollowerChannel.Views() {
            @Override public View durable() { return null; }
            @Override public long logged(long memberId) { return 0; }
            @Override public void logged(long memberId, long number) { }
        };
        WebClient client = WebClient.create(vertx);
        for (String how : List.of("down", "expire")) {
            java.util.concurrent.CompletableFuture<String> outcome = new java.util.concurrent.CompletableFuture<>();
            vertx.runOnContext(v -> {
                FollowerChannel channel = new FollowerChannel(follower, client, null, () -> 1, views);
                long deadline = LeaderClock.now() + 60_000;
                List<io.vertx.core.Future<Batch.Answer>> sent = new java.util.ArrayList<>();
                // a read and a write on the wire, with room for more beside them
                for (int i = 0; i < 2; i++) {
                    Batch.Item item = i % 2 == 0 ? new Batch.Read("k" + i) : new Batch.Abort(new TxId(1, i), null);
                    io.vertx.core.Future<Batch.Answer> f = channel.send(item, deadline);
                    f.onFailure(e -> {
                        channel.send(new Batch.Read("again"), deadline);
                        channel.send(new Batch.Abort(new TxId(2, 1), null), deadline);
                    });
                    sent.add(f);
                }
                try {
                    if (how.equals("down")) channel.down();
                    else channel.expire(deadline + 1);
                } catch (RuntimeException e) {
                    outcome.complete(how + " threw " + e);
                    return;
                }
                long failed = sent.stream().filter(io.vertx.core.Future::failed).count();
                outcome.complete(how + ": " + failed + " of " + sent.size() + " failed");
            });
            assertEquals(how + ": 2 of 2 failed", outcome.get(10, TimeUnit.SECONDS));
        }
    }

    private static void answer(HttpServerRequest req, int items, long logged) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < items; i++) Batch.encode(new Batch.Answer(204, 0, ""), out);
        req.response().putHeader("X-KV-View", String.valueOf(logged)).end(out.toString());
    }

    /** A view of three members, {@code changes} changes after the first registration. */
    private static View view(int changes) {
        View v = View.empty(2, 1, 3);
        for (int port = 16201; port <= 16203; port++) v = Membership.register(v, "127.0.0.1", port, "id-" + port, 1, 0).view();
        for (int i = 0; i < changes; i++) v = v.next(1);
        return v;
    }
}
