package kvstore.leader;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Member;
import kvstore.core.TxId;
import kvstore.core.tpc.Coordinator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The leader's view of each follower's health (SPEC.md section 2): it checks every follower
 * every {@code checkIntervalMillis} (at least every 2 seconds) with {@code GET /tpc/check}, marks
 * it down after 3 missed checks and up again at the next answer. A check also carries the
 * leader's epoch (so a follower learns of a new leader) and brings back the follower's identity
 * and its prepared transactions, which the coordinator resolves.
 *
 * <p>A follower whose identity differs from the registered one has lost or swapped its data
 * directory: it is held down, with the reason shown in {@code /api/status}.
 */
final class FollowerMonitor {
    static final int MISSES_BEFORE_DOWN = 3;
    private static final Logger LOG = LoggerFactory.getLogger(FollowerMonitor.class);

    interface Listener {
        void health(Member m, boolean up);

        void held(Member m, List<Coordinator.Held> held);

        /** A follower answered 409: it has accepted a newer leader's epoch. */
        void superseded(Member m);
    }

    private static final class State {
        final Member member;
        String identity;        // the registered identity (null: registered by hand)
        boolean up;
        boolean answered;       // a check has completed (either way) since we started
        boolean inFlight;
        int misses;
        long lastSeen;          // epoch millis of the last answer, 0 if none
        String refused;         // why this follower is refused, or null
        String nodeId;          // clustered mode: its cluster member id

        State(Member member, String identity, boolean up) {
            this.member = member;
            this.identity = identity;
            this.up = up;
        }
    }

    private final Map<Long, State> states = new LinkedHashMap<>();
    private final FollowerClient client;
    private final LongSupplier epoch;
    private final java.util.function.BooleanSupplier enabled;
    private final long timeoutMillis;
    private final Listener listener;

    /** @param enabled false while a standby: its epoch must not reach the followers */
    FollowerMonitor(FollowerClient client, LongSupplier epoch, java.util.function.BooleanSupplier enabled, long timeoutMillis,
                    Listener listener) {
        this.client = client;
        this.epoch = epoch;
        this.enabled = enabled;
        this.timeoutMillis = timeoutMillis;
        this.listener = listener;
    }

    /**
     * Starts watching a follower. One that just registered is up; one known only from the log
     * (the leader restarted) is down until it answers.
     */
    void track(Member m, String identity, boolean justRegistered, String nodeId) {
        State s = states.get(m.id());
        if (s != null && nodeId != null) s.nodeId = nodeId;
        if (s == null) {
            s = new State(m, identity, justRegistered);
            s.nodeId = nodeId;
            if (justRegistered) {
                s.answered = true;
                s.lastSeen = System.currentTimeMillis();
            }
            states.put(m.id(), s);
            if (justRegistered) listener.health(m, true);
        } else {
            if (identity != null) s.identity = identity;
            if (justRegistered && s.refused == null) {
                s.lastSeen = System.currentTimeMillis();
                s.misses = 0;
                setUp(s, true);
            }
        }
        if (justRegistered) check(s);
    }

    /** A registration was refused: remember why, for the status page. */
    void refused(Member m, String reason) {
        State s = states.get(m.id());
        if (s == null) return;
        if (!reason.equals(s.refused)) LOG.warn("refusing follower {}: {}", m.address(), reason);
        s.refused = reason;
        setUp(s, false);
    }

    void checkAll() {
        for (State s : states.values()) check(s);
    }

    /** Clustered mode: a cluster member left or died. If it was a follower, it is down now. */
    void nodeGone(String nodeId) {
        for (State s : states.values()) {
            if (nodeId.equals(s.nodeId)) {
                s.misses = MISSES_BEFORE_DOWN;
                setUp(s, false);
            }
        }
    }

    /** A follower answered outside the periodic checks (it accepted our epoch at takeover). */
    void answered(Member m, String identity, List<Coordinator.Held> held) {
        State s = states.get(m.id());
        if (s == null) return;
        s.answered = true;
        s.misses = 0;
        s.lastSeen = System.currentTimeMillis();
        setUp(s, true);
        listener.held(m, held);
    }

    private void check(State s) {
        if (s.inFlight || !enabled.getAsBoolean()) return;
        s.inFlight = true;
        client.check(s.member, epoch.getAsLong(), timeoutMillis).onComplete(ar -> {
            s.inFlight = false;
            s.answered = true;
            if (ar.failed()) {
                if (String.valueOf(ar.cause().getMessage()).startsWith("check answered 409")) listener.superseded(s.member);
                missed(s);
                return;
            }
            JsonObject body = ar.result();
            String identity = body.getString("identity");
            if (s.identity != null && identity != null && !s.identity.equals(identity)) {
                refused(s.member, "identity mismatch: " + s.member.address() + " registered with data directory "
                        + s.identity + " but now has " + identity + " (its data directory was lost or swapped)");
                return;
            }
            s.refused = null;
            s.misses = 0;
            s.lastSeen = System.currentTimeMillis();
            setUp(s, true);
            listener.held(s.member, held(body.getJsonArray("held")));
        });
    }

    static List<Coordinator.Held> held(JsonArray arr) {
        List<Coordinator.Held> out = new ArrayList<>();
        if (arr == null) return out;
        for (int i = 0; i < arr.size(); i++) {
            JsonObject o = arr.getJsonObject(i);
            TxId tx = TxId.parse(o.getString("tx", ""));
            String key = o.getString("key");
            if (tx != null && key != null) out.add(new Coordinator.Held(tx, key));
        }
        return out;
    }

    private void missed(State s) {
        s.misses++;
        if (s.up && s.misses >= MISSES_BEFORE_DOWN) setUp(s, false);
    }

    private void setUp(State s, boolean up) {
        if (s.up == up) return;
        s.up = up;
        LOG.info("follower {} is {}", s.member.address(), up ? "up" : "down");
        listener.health(s.member, up);
    }

    boolean isUp(long id) {
        State s = states.get(id);
        return s != null && s.up;
    }

    /** Every follower has answered a check or failed one since we started. */
    boolean allAnsweredOnce() {
        for (State s : states.values()) if (!s.answered) return false;
        return true;
    }

    List<Member> upMembers() {
        List<Member> out = new ArrayList<>();
        for (State s : states.values()) if (s.up) out.add(s.member);
        return out;
    }

    JsonArray statusJson(Coordinator coordinator) {
        JsonArray arr = new JsonArray();
        for (State s : states.values()) {
            JsonObject o = new JsonObject()
                    .put("id", s.member.idString())
                    .put("host", s.member.host())
                    .put("port", s.member.port())
                    .put("up", s.up)
                    .put("lastSeen", s.lastSeen == 0 ? null : s.lastSeen)
                    .put("pendingPhase2", coordinator == null ? 0 : coordinator.pendingPhase2At(s.member.id()));
            if (s.refused != null) o.put("refused", s.refused);
            arr.add(o);
        }
        return arr;
    }
}
