package kvstore.leader;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Member;
import kvstore.core.TxId;
import kvstore.core.tpc.Coordinator;
import kvstore.core.view.View;
import kvstore.core.view.ViewMember;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The leader's failure detector (SPEC.md sections 2 and 5): it checks every member every check
 * interval with {@code GET /tpc/check} (a check that takes longer than {@code timeoutMillis} is a
 * miss; one runs at a time per member), marks it down after {@link #MISSES_BEFORE_DOWN} misses in
 * a row and up again at the next answer. It is not what bounds a request's wait on a slow or
 * paused follower — every message has its own deadline — but what makes later requests fail
 * fast instead of waiting out theirs. "Up" means more than reachable: the answer carried the identity the member
 * registered with. A member that answers with another identity (its data directory was wiped
 * or swapped) is held down with the reason in {@code /api/status}, and nothing is routed to it
 * (PROTOCOL.md, "Node identity").
 *
 * <p>A check also carries the leader's epoch and brings back the follower's prepared
 * transactions, its highest version, the view it has logged and its copy progress, which the
 * leader acts on.
 */
final class FollowerMonitor {
    static final int MISSES_BEFORE_DOWN = 3;
    private static final Logger LOG = LoggerFactory.getLogger(FollowerMonitor.class);

    interface Listener {
        void health(Member m, boolean up);

        /** A check answered: its prepared transactions, highest version, view logged and copy round done. */
        void answered(Member m, List<Coordinator.Held> held, long version, long viewLogged, long copied);

        /** A follower answered 409: it has accepted a newer leader's epoch. */
        void superseded(Member m, long theirEpoch);
    }

    private static final class State {
        final Member member;
        String identity;        // the identity the member registered with (null: by hand)
        boolean up;
        boolean answered;       // a check has completed (either way) since we started
        boolean inFlight;
        int misses;
        long lastSeenWall;      // wall-clock millis of the last answer with its identity, 0 if none
        long lastSeenMono;      // the same on the leader's clock, for how long it has been silent
        String refused;         // why this member is held down, or null
        String nodeId;          // cluster mode: its cluster member id
        long copiedKeys, copiedBytes, keys, copyRound, copyRoundKeys, copyRoundBytes;

        State(Member member, String identity, long since) {
            this.member = member;
            this.identity = identity;
            this.lastSeenMono = since;
        }
    }

    private final Map<Long, State> states = new LinkedHashMap<>();
    private final FollowerClient client;
    private final LongSupplier epoch;
    private final BooleanSupplier enabled;
    private final long timeoutMillis;
    private final Listener listener;

    /** @param enabled false while a standby: its epoch must not reach the followers */
    FollowerMonitor(FollowerClient client, LongSupplier epoch, BooleanSupplier enabled, long timeoutMillis, Listener listener) {
        this.client = client;
        this.epoch = epoch;
        this.enabled = enabled;
        this.timeoutMillis = timeoutMillis;
        this.listener = listener;
    }

    /** Watches exactly the members of this view (and keeps the identity each is addressed by). */
    void track(View v) {
        Set<Long> keep = new HashSet<>();
        for (ViewMember vm : v.members()) {
            keep.add(vm.member().id());
            State s = states.get(vm.member().id());
            if (s == null) {
                s = new State(vm.member(), vm.identity(), LeaderClock.now());
                states.put(vm.member().id(), s);
                check(s);
            } else if (vm.identity() != null && !vm.identity().equals(s.identity)) {
                s.identity = vm.identity();
                s.refused = null;
            }
            client.identity(vm.member(), s.identity);
        }
        for (Member m : v.base()) if (!v.gone().contains(m.id())) keep.add(m.id());
        states.values().removeIf(s -> {
            if (keep.contains(s.member.id())) return false;
            if (s.up) listener.health(s.member, false);
            return true;
        });
    }

    /** A registration with this identity arrived: the member is up and confirmed, or refused. */
    void registered(Member m, String identity, String nodeId) {
        State s = states.get(m.id());
        if (s == null) return;
        if (nodeId != null) s.nodeId = nodeId;
        if (identity != null && s.identity != null && !identity.equals(s.identity)) {
            refuse(s, identity);
            return;
        }
        heard(s);
        check(s);
    }

    /** A refused registration (another identity at a member's address): say why in the status. */
    void refused(Member m, String reason) {
        State s = states.get(m.id());
        if (s == null) return;
        if (!reason.equals(s.refused)) LOG.warn("refusing follower {}: {}", m.address(), reason);
        s.refused = reason;
        setUp(s, false);
    }

    void checkAll() {
        for (State s : new ArrayList<>(states.values())) check(s);
    }

    /** Cluster mode: a cluster member left or died. If it was a follower, it is down now. */
    void nodeGone(String nodeId) {
        for (State s : states.values()) {
            if (nodeId.equals(s.nodeId)) {
                s.misses = MISSES_BEFORE_DOWN;
                setUp(s, false);
            }
        }
    }

    /**
     * Messages to this member are overdue and it answers nothing: down now (its keys' writes are
     * refused and their reads go elsewhere), checked at once, up again at its next answer.
     */
    void silent(Member m) {
        State s = states.get(m.id());
        if (s == null || !s.up) return;
        s.misses = MISSES_BEFORE_DOWN;
        LOG.warn("follower {} answers nothing while messages to it are overdue", m.address());
        setUp(s, false);
        check(s);
    }

    /** A message to this member was refused because it has another identity. */
    void wrongIdentity(Member m) {
        State s = states.get(m.id());
        if (s != null && s.up) {
            LOG.warn("follower {} answered with another identity: holding it down until it is evicted or back with its own", m.address());
            setUp(s, false);
        }
    }

    /** A member accepted our epoch when we took office: its answer counts as a check. */
    void accepted(Member m, JsonObject body) {
        State s = states.get(m.id());
        if (s != null) answer(s, body);
    }

    private void check(State s) {
        if (s.inFlight || !enabled.getAsBoolean()) return;
        s.inFlight = true;
        client.check(s.member, epoch.getAsLong(), false, s.identity, timeoutMillis).onComplete(ar -> {
            s.inFlight = false;
            s.answered = true;
            if (ar.failed()) {
                missed(s);
                return;
            }
            FollowerClient.CheckAnswer a = ar.result();
            if (a.status() == 409) listener.superseded(s.member, a.theirEpoch());
            if (a.status() == 421) {
                refuse(s, "another data directory");
                return;
            }
            if (!a.ok()) {
                missed(s);
                return;
            }
            answer(s, a.body());
        });
    }

    private void answer(State s, JsonObject body) {
        String identity = body.getString("identity");
        if (s.identity != null && identity != null && !s.identity.equals(identity)) {
            refuse(s, identity);
            return;
        }
        long ck = body.getLong("copiedKeys", 0L), cb = body.getLong("copiedBytes", 0L);
        // Followers count from their own start: the leader's totals only ever grow.
        keysCopied += ck >= s.copiedKeys ? ck - s.copiedKeys : ck;
        bytesCopied += cb >= s.copiedBytes ? cb - s.copiedBytes : cb;
        s.copiedKeys = ck;
        s.copiedBytes = cb;
        s.keys = body.getLong("keys", 0L);
        s.copyRound = body.getLong("copyRound", 0L);
        s.copyRoundKeys = body.getLong("copyRoundKeys", 0L);
        s.copyRoundBytes = body.getLong("copyRoundBytes", 0L);
        heard(s);
        listener.answered(s.member, held(body.getJsonArray("held")), body.getLong("version", 0L), body.getLong("view", 0L),
                body.getLong("copied", 0L));
    }

    private void heard(State s) {
        client.heard(s.member);
        s.refused = null;
        s.misses = 0;
        s.lastSeenWall = System.currentTimeMillis();
        s.lastSeenMono = LeaderClock.now();
        setUp(s, true);
    }

    private void refuse(State s, String theirs) {
        refused(s.member, "identity mismatch: " + s.member.address() + " registered with data directory " + s.identity
                + " but now has " + theirs + " (its data directory was lost or swapped)");
    }

    static List<Coordinator.Held> held(JsonArray arr) {
        List<Coordinator.Held> out = new ArrayList<>();
        if (arr == null) return out;
        for (int i = 0; i < arr.size(); i++) {
            JsonObject o = arr.getJsonObject(i);
            TxId tx = TxId.parse(o.getString("tx", ""));
            JsonArray ks = o.getJsonArray("keys");
            if (tx == null || ks == null || ks.isEmpty()) continue;
            List<String> keys = new ArrayList<>(ks.size());
            for (int k = 0; k < ks.size(); k++) keys.add(ks.getString(k));
            out.add(new Coordinator.Held(tx, keys, o.getString("rid")));
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
        try {
            if (!up) client.down(s.member);
        } finally {
            listener.health(s.member, up); // whatever failing its messages did: the coordinator must hear it
        }
    }

    boolean isUp(long id) {
        State s = states.get(id);
        return s != null && s.up;
    }

    /** How long the member has not answered with its own identity (0 when it is up). */
    long silentForMillis(long id, long now) {
        State s = states.get(id);
        if (s == null) return Long.MAX_VALUE;
        return s.up ? 0 : now - s.lastSeenMono;
    }

    /** Every member has answered a check or failed one since we started. */
    boolean allAnsweredOnce() {
        for (State s : states.values()) if (!s.answered) return false;
        return true;
    }

    /**
     * The last moment (leader clock) a majority of the members had answered a check: the
     * (n/2+1)-th most recent answer. A leader whose majority has been silent this long since
     * gives up office (SPEC.md section 7); now when there are no members.
     */
    long majorityHeardAt() {
        if (states.isEmpty()) return LeaderClock.now();
        long[] seen = new long[states.size()];
        int i = 0;
        for (State s : states.values()) seen[i++] = s.lastSeenMono;
        java.util.Arrays.sort(seen);
        return seen[seen.length - (seen.length / 2 + 1)];
    }

    int upCount() {
        int n = 0;
        for (State s : states.values()) if (s.up) n++;
        return n;
    }

    int size() {
        return states.size();
    }

    List<Member> upMembers() {
        List<Member> out = new ArrayList<>();
        for (State s : states.values()) if (s.up) out.add(s.member);
        return out;
    }

    /** Keys a gainer has copied in copy round {@code round}, by its last check. */
    long roundCopied(long id, long round) {
        State s = states.get(id);
        return round == 0 || s == null || s.copyRound != round ? 0 : s.copyRoundKeys;
    }

    /** The bytes a gainer has copied in this copy round (0 before the round starts). */
    long roundCopiedBytes(long id, long round) {
        State s = states.get(id);
        return round == 0 || s == null || s.copyRound != round ? 0 : s.copyRoundBytes;
    }

    /** The keys a member held at its last check. */
    long keysAt(long id) {
        State s = states.get(id);
        return s == null ? 0 : s.keys;
    }

    /** Keys copied by gainers since this leader started (from their checks). */
    long copiedKeys() {
        return keysCopied;
    }

    long copiedBytes() {
        return bytesCopied;
    }

    private long keysCopied, bytesCopied;

    /** Each member as {@code /api/status} shows it; {@code state} comes from the view. */
    JsonArray statusJson(View view, Coordinator coordinator) {
        JsonArray arr = new JsonArray();
        for (State s : states.values()) {
            String state = view == null ? "up" : view.state(s.member.id());
            if (!s.up && !state.equals("evicted")) state = "down";
            JsonObject o = new JsonObject()
                    .put("id", s.member.idString())
                    .put("host", s.member.host())
                    .put("port", s.member.port())
                    .put("up", s.up)
                    .put("state", state)
                    .put("lastSeen", s.lastSeenWall == 0 ? null : s.lastSeenWall)
                    .put("pendingPhase2", coordinator == null ? 0 : coordinator.pendingPhase2At(s.member.id()));
            if (s.refused != null) o.put("refused", s.refused);
            arr.add(o);
        }
        return arr;
    }
}
