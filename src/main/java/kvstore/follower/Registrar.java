package kvstore.follower;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import kvstore.core.NodeSettings;
import kvstore.core.Params;
import kvstore.http.Guard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.LongSupplier;

/**
 * Keeps this follower registered with its leader ({@code POST /register?key=HOST&val=PORT}, the
 * seed's call, plus our identity and epoch in headers). It retries until the leader accepts,
 * and registers again when the leader seems to have forgotten us: a newer epoch (the leader
 * restarted) or no word from the leader for a while. Registering again is always a success.
 */
final class Registrar {
    private static final Logger LOG = LoggerFactory.getLogger(Registrar.class);
    private static final long RETRY_MILLIS = 1_000;
    private static final long REFUSED_RETRY_MILLIS = 5_000;

    private final Vertx vertx;
    private final NodeSettings settings;
    private final String identity;
    private final LongSupplier epoch;
    private final WebClient client;
    private final long silenceMillis;
    private boolean registered;
    private boolean attempting;
    private boolean stopped;
    private String lastProblem;
    private long lastLeaderContact = System.nanoTime();
    private long timer = -1;

    Registrar(Vertx vertx, NodeSettings settings, String identity, LongSupplier epoch) {
        this.vertx = vertx;
        this.settings = settings;
        this.identity = identity;
        this.epoch = epoch;
        this.client = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false).setConnectTimeout(2_000).setUserAgentEnabled(false));
        this.silenceMillis = Math.max(6_000, 4 * settings.checkIntervalMillis());
    }

    boolean registered() {
        return registered;
    }

    void start() {
        attempt();
        vertx.setPeriodic(2_000, t -> {
            long silentFor = (System.nanoTime() - lastLeaderContact) / 1_000_000L;
            if (!stopped && registered && silentFor > silenceMillis) attempt();
        });
    }

    /** A leader message arrived; a newer epoch than the one we registered under means a new leader. */
    void leaderContact(boolean newEpoch) {
        lastLeaderContact = System.nanoTime();
        if (newEpoch) attempt();
    }

    private void attempt() {
        if (attempting || stopped) return;
        attempting = true;
        String uri = "/register?key=" + Params.encode(settings.advertise()) + "&val=" + settings.port();
        HttpRequest<Buffer> r = client.request(HttpMethod.POST, settings.leaderPort(), settings.leaderHost(), uri)
                .timeout(5_000)
                .putHeader("X-KV-Identity", identity)
                .putHeader("X-KV-Epoch", String.valueOf(epoch.getAsLong()));
        if (settings.secret() != null) r.putHeader(Guard.SECRET_HEADER, settings.secret());
        r.send().onComplete(ar -> {
            attempting = false;
            if (ar.succeeded() && ar.result().statusCode() == 201) {
                if (!registered) LOG.info("registered with leader {} as {}", settings.leaderAddress(), settings.address());
                registered = true;
                lastProblem = null;
                lastLeaderContact = System.nanoTime();
                return;
            }
            String problem = ar.succeeded()
                    ? ar.result().statusCode() + " " + ar.result().bodyAsString()
                    : "leader unreachable (" + ar.cause().getMessage() + ")";
            if (ar.succeeded() && ar.result().statusCode() == 500) registered = false;
            if (!problem.equals(lastProblem)) LOG.warn("registration with leader {} failed: {}; retrying", settings.leaderAddress(), problem);
            lastProblem = problem;
            boolean refused = ar.succeeded() && ar.result().statusCode() == 500;
            schedule(refused ? REFUSED_RETRY_MILLIS : RETRY_MILLIS);
        });
    }

    private void schedule(long delay) {
        if (stopped) return;
        if (timer >= 0) vertx.cancelTimer(timer);
        timer = vertx.setTimer(delay, t -> {
            timer = -1;
            if (!registered) attempt();
        });
    }

    void stop() {
        stopped = true;
        client.close();
    }
}
