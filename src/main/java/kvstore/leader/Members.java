package kvstore.leader;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Member;
import kvstore.core.log.LogRecord;
import kvstore.core.view.Evicted;
import kvstore.core.view.Membership;
import kvstore.core.view.Placement;
import kvstore.core.view.View;
import kvstore.core.view.ViewKeeper;
import kvstore.core.view.ViewMember;
import kvstore.storage.LogStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The membership as the active leader runs it (SPEC.md section 10): the shell around the pure
 * {@link ViewKeeper}. Registrations and admin requests become view changes, applied one at a
 * time in the order received; each new view is fsynced before anyone is told, then sent to every
 * follower (ahead of the next batch, or alone); the coordinator switches to it when the keeper
 * says so. Followers' checks bring back the view they logged and the copy round they finished,
 * which move the keeper on.
 */
final class Members implements FollowerChannel.Views {
    private static final Logger LOG = LoggerFactory.getLogger(Members.class);

    private final ViewKeeper keeper;
    private final LogStore log;
    private final FollowerClient client;
    private final Consumer<View> act;
    private final Consumer<View> proposed;
    private long rebalanceSince;

    /**
     * @param act      the coordinator follows this view from now on
     * @param proposed a newer view is about to be made durable (told before any follower can log it)
     */
    Members(ViewKeeper keeper, LogStore log, FollowerClient client, Consumer<View> act, Consumer<View> proposed) {
        this.keeper = keeper;
        this.log = log;
        this.client = client;
        this.act = act;
        this.proposed = proposed;
        run();
    }

    /** Runs the keeper's effects: make views durable, then tell the followers; act; log. */
    private void run() {
        for (ViewKeeper.Effect e : keeper.drain()) {
            if (e instanceof ViewKeeper.AppendView a) {
                View before = keeper.durable();
                proposed.accept(a.view());
                log.append(new LogRecord.ViewRecord(a.view())).onSuccess(v -> {
                    keeper.durable(a.view());
                    // Address each member by the identity this view names (a wiped follower back
                    // under a new one must learn the view that admits it before the leader acts on it).
                    for (ViewMember m : a.view().members()) if (m.identity() != null) client.identity(m.member(), m.identity());
                    pushAll(a.view());
                    if (before != null) pushAll(before); // a member it evicted learns it (and stops serving)
                    run();
                });
            } else if (e instanceof ViewKeeper.Act a) {
                if (a.view().moving() && rebalanceSince == 0) rebalanceSince = System.currentTimeMillis();
                if (!a.view().moving()) rebalanceSince = 0;
                act.accept(a.view());
            } else if (e instanceof ViewKeeper.Note n) {
                LOG.info(n.message());
            }
        }
        while (!completions.isEmpty()) completions.poll().run();
    }

    private void pushAll(View v) {
        for (ViewMember m : v.members()) client.pushView(m.member());
        for (Member m : v.base()) if (!v.gone().contains(m.id())) client.pushView(m);
    }

    /**
     * Applies a rule to the latest view (after every change asked before it); completes once its
     * view is durable and acted on (so a registration completes after the monitor tracks it).
     */
    Future<Membership.Change> change(Function<View, Membership.Change> rule) {
        Promise<Membership.Change> p = Promise.promise();
        keeper.propose(rule, c -> completions.add(() -> p.complete(c)));
        run();
        return p.future();
    }

    /** Answers to changes, given after the effects their views caused (the keeper decides synchronously). */
    private final java.util.ArrayDeque<Runnable> completions = new java.util.ArrayDeque<>();

    /** A check answered: the view it logged, and the copy round it finished. */
    void answered(Member m, long viewLogged, long copied) {
        keeper.logged(m.id(), viewLogged);
        View v = keeper.latest();
        if (viewLogged < keeper.durable().number()) client.pushView(m);
        if (copied != 0 && copied == v.copyRound() && !v.current().contains(m.id())) {
            keeper.propose(x -> Membership.copied(x, m.id(), copied, x.epoch()), c -> {
                if (c.view() != null) LOG.info("follower {} holds every key it gains: current in view {}", m.address(), c.view().number());
            });
        }
        run();
    }

    void tick(ViewKeeper.Facts facts) {
        keeper.tick(LeaderClock.now(), System.currentTimeMillis(), facts);
        run();
        tellTheRemoved(System.currentTimeMillis());
    }

    /**
     * A follower an admin evicted or a drain removed stays out until it is restarted (SPEC.md
     * section 10), and only the view tells it so: until it has logged one that says so, it is
     * sent the view again at each tick (a send can fail; it would register again after 6 s of
     * silence), for a minute after its eviction.
     */
    private void tellTheRemoved(long nowMillis) {
        View v = keeper.durable();
        if (v == null) return;
        for (Evicted e : v.evicted()) {
            if (!e.rejoin() && nowMillis - e.sinceMillis() < 60_000) client.pushView(Member.of(e.host(), e.port()));
        }
    }

    View latest() {
        return keeper.latest();
    }

    View acting() {
        return keeper.acting();
    }

    /* --- FollowerChannel.Views --- */

    @Override
    public View durable() {
        return keeper.durable();
    }

    @Override
    public long logged(long memberId) {
        return keeper.loggedBy(memberId);
    }

    @Override
    public void logged(long memberId, long number) {
        keeper.logged(memberId, number);
        run();
    }

    /* --- Views for the status page and the admin API --- */

    /**
     * {@code rebalancing} of SPEC.md section 10, null when no key is moving: {@code keys} is the
     * number of key copies the move needs (estimated: each gainer's share of the hash space times
     * the keys the base holds once), {@code copied} those copied so far in this round.
     */
    Object rebalancing(FollowerMonitor monitor) {
        View v = keeper.latest();
        // Complete but not yet settled: the members that lost keys drop them at the settled view,
        // so the rebalance is not over until then ("settling": true, nothing left to copy).
        if (!v.moving() && v.settled()) return null;
        Placement p = new Placement(v);
        long held = 0;
        for (Member m : v.base()) if (!v.gone().contains(m.id())) held += monitor.keysAt(m.id());
        int copies = Math.max(1, Math.min(v.redundancy(), v.base().size() - v.gone().size()));
        double distinct = (double) held / copies;
        double share = 0;
        long copied = 0, bytes = 0;
        for (long g : p.gainers()) {
            share += p.gainedShare(g);
            copied += monitor.roundCopied(g, v.copyRound());
            bytes += monitor.roundCopiedBytes(g, v.copyRound());
        }
        return new JsonObject().put("view", v.number()).put("keys", Math.round(distinct * share)).put("copied", copied)
                .put("bytes", bytes).put("copyRound", v.copyRound()).put("gainers", p.gainers().size())
                .put("current", v.current().size()).put("since", rebalanceSince == 0 ? null : rebalanceSince)
                .put("settling", !v.moving());
    }


    JsonObject json(FollowerMonitor monitor) {
        View v = keeper.latest();
        JsonArray members = new JsonArray();
        for (ViewMember m : v.members()) {
            String state = v.state(m.member().id());
            if (!monitor.isUp(m.member().id()) && !state.equals("draining")) state = "down";
            members.add(new JsonObject().put("id", m.member().idString()).put("host", m.member().host()).put("port", m.member().port())
                    .put("state", state).put("joinedView", m.since()));
        }
        JsonArray evicted = new JsonArray();
        for (Evicted e : v.evicted()) evicted.add(new JsonObject().put("host", e.host()).put("port", e.port()).put("since", e.sinceMillis()));
        return new JsonObject().put("view", v.number()).put("capacity", v.capacity()).put("redundancy", v.redundancy())
                .put("members", members).put("evicted", evicted).put("rebalancing", rebalancing(monitor));
    }
}
