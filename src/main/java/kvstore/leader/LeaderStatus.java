package kvstore.leader;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Keys;
import kvstore.core.Member;
import kvstore.core.tpc.Coordinator;
import kvstore.core.view.View;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The leader's views for people and tools (SPEC.md sections 2 and 10): {@code /api/status},
 * {@code /api/members} and the cluster-wide key browser of {@code /api/keys}. Read-only.
 */
final class LeaderStatus {
    private final LeaderVerticle l;

    LeaderStatus(LeaderVerticle leader) {
        this.l = leader;
    }

    JsonObject status() {
        Coordinator c = l.coordinator();
        View v = l.members() == null ? null : l.members().latest();
        JsonObject o = new JsonObject()
                .put("role", "leader")
                .put("host", l.settings.advertise())
                .put("port", l.boundPort)
                .put("ready", l.ready())
                .put("standby", !l.active)
                .put("epoch", l.epoch)
                .put("view", v == null ? 0 : v.number())
                .put("capacity", v == null ? l.settings.followers() : v.capacity())
                .put("redundancy", Math.min(l.settings.redundancy(), v == null || v.memberCount() == 0 ? l.settings.followers() : v.memberCount()))
                .put("vnodes", l.settings.vnodes())
                .put("registered", v != null ? v.memberCount() : l.active ? 0 : l.office.candidateCount())
                .put("followers", l.monitor == null ? new JsonArray() : l.monitor.statusJson(v, c))
                .put("evicted", evicted(v))
                .put("rebalancing", l.members() == null ? null : l.members().rebalancing(l.monitor))
                .put("pendingTransactions", c == null ? 0 : c.pendingTransactions())
                .put("pendingPhase2", c == null ? 0 : c.pendingPhase2())
                .put("commits", c == null ? 0 : c.commits())
                .put("aborts", c == null ? 0 : c.aborts())
                .put("version", c == null ? 0 : c.lastVersion())
                .put("queueDepth", l.queueDepth())
                .put("logBytes", l.log == null ? 0 : l.log.logBytes())
                .put("startedAt", l.startedAtMillis)
                .put("now", System.currentTimeMillis())
                .put("secretRequired", l.settings.secret() != null)
                .put("tokenRequired", l.settings.clientToken() != null);
        String why = l.office == null ? null : l.office.reason();
        if (why != null) o.put("reason", why);
        return o;
    }

    private static JsonArray evicted(View v) {
        JsonArray out = new JsonArray();
        if (v == null) return out;
        for (var e : v.evicted()) out.add(new JsonObject().put("host", e.host()).put("port", e.port()).put("since", e.sinceMillis()));
        return out;
    }

    /**
     * A page of keys across the cluster: every member that is up is asked for the same page,
     * and the answers are merged in UTF-8 byte order without duplicates (replicas overlap).
     */
    Future<JsonObject> keys(String prefix, String after, int limit) {
        // The base members that are not gone hold every key's latest value (they get every write
        // until a move completes); members still filling, or leaving, may hold less or more.
        View v = l.members() == null ? null : l.members().acting();
        List<Member> ups = new ArrayList<>();
        for (Member m : l.monitor.upMembers()) if (v == null || v.inBase(m.id()) && !v.gone().contains(m.id())) ups.add(m);
        List<Future<JsonObject>> asks = new ArrayList<>();
        for (Member m : ups) asks.add(l.client.keys(m, prefix, after, limit, l.settings.requestTimeoutMillis()));
        return Future.join(new ArrayList<>(asks)).transform(ar -> {
            TreeSet<String> merged = new TreeSet<>(Keys.UTF8_ORDER);
            boolean more = false;
            int answered = 0;
            for (Future<JsonObject> f : asks) {
                if (f.failed()) continue;
                answered++;
                JsonArray ks = f.result().getJsonArray("keys", new JsonArray());
                for (int i = 0; i < ks.size(); i++) merged.add(ks.getString(i));
                more |= f.result().getValue("next") != null;
            }
            if (answered == 0 && !ups.isEmpty()) return Future.failedFuture("no follower answered");
            List<String> page = new ArrayList<>(Math.min(limit, merged.size()));
            for (String k : merged) {
                if (page.size() == limit) {
                    more = true;
                    break;
                }
                page.add(k);
            }
            String next = more && !page.isEmpty() ? page.get(page.size() - 1) : null;
            return Future.succeededFuture(new JsonObject().put("keys", new JsonArray(new ArrayList<Object>(page))).put("next", next));
        });
    }
}
