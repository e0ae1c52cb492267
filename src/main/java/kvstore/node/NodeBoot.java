package kvstore.node;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import kvstore.core.log.LogState;
import kvstore.storage.LogStore;
import kvstore.storage.Recovery;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/**
 * The start and stop both roles share (SPEC.md section 1): bind first (a busy port fails before
 * anything in the data directory is touched) and print the one "listening" line, then replay
 * the log on a worker thread into the role's state and open the log for appending; at the end,
 * stop accepting, let the log drain, close.
 */
public final class NodeBoot {
    private static final Logger LOG = LoggerFactory.getLogger(NodeBoot.class);

    private NodeBoot() {}

    /** A recovered node: its state and its open log. */
    public record Recovered<S extends LogState>(S state, LogStore log, Recovery.Result replay) {}

    /** Binds the server and prints {@code kvstore ROLE listening on http://HOST:PORT}; completes with the bound port. */
    public static Future<Integer> bind(HttpServer server, NodeSettings s, String role) {
        return server.listen(s.port(), s.host()).map(srv -> {
            int port = srv.actualPort();
            String shown = s.host().equals("0.0.0.0") || s.host().equals("::") ? s.advertise() : s.host();
            System.out.println("kvstore " + role + " listening on http://" + shown + ":" + port);
            return port;
        });
    }

    /** Replays the data directory into {@code state} (on a worker thread) and opens its log. */
    public static <S extends LogState> Future<Recovered<S>> recover(Vertx vertx, NodeSettings s, int role, S state,
                                                                     Supplier<LogState> fresh) {
        return vertx.executeBlocking(() -> Recovery.recover(s.dataDir(), role, state))
                .compose(rec -> {
                    LogStore.Settings ls = new LogStore.Settings(s.segmentBytes(), s.groupCommit(), s.compactMinBytes());
                    return LogStore.open(vertx, s.dataDir(), role, ls, fresh, rec).map(store -> new Recovered<>(state, store, rec));
                });
    }

    /** One line for the log about a replay. */
    public static String describe(Recovery.Result rec) {
        return (rec.fresh() ? "created" : "recovered") + ": " + rec.records() + " records, " + rec.bytesReplayed()
                + " bytes replayed in " + rec.millis() + " ms";
    }

    /** Stops accepting, lets the log drain, closes it. */
    public static Future<Void> stop(HttpServer server, LogStore log) {
        Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
        return closed.compose(v -> log == null ? Future.succeededFuture() : log.close())
                .onFailure(e -> LOG.warn("stop: {}", e.toString()));
    }
}
