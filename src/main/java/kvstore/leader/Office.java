package kvstore.leader;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import kvstore.core.Member;
import kvstore.core.log.LogRecord;
import kvstore.core.log.ViewCodec;
import kvstore.core.view.View;
import kvstore.core.view.ViewMember;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which leader is the active one, in cluster mode (SPEC.md section 7; PROTOCOL.md, "Standby
 * leader"), and what happens when that changes.
 *
 * <h2>Taking office</h2>
 * A standby that gets the cluster lock ({@link Election}) picks an epoch above every one it has
 * seen, makes it durable, and claims it from every follower that registered with it. A follower
 * accepts a claim only above every epoch it has accepted and only when it has not heard from a
 * live leader of its current epoch within its lease. Once a majority has durably accepted, the
 * old leader can no longer get a message past them: the new leader adopts the newest view any
 * of them logged, restates it under its own epoch, and serves once a majority has logged that.
 *
 * <h2>Stepping down</h2>
 * A leader steps down when a follower has accepted a newer epoch, when another leader has
 * published a higher one as active, and when it cannot reach a majority of its members for
 * {@link #LEASE_MILLIS} (so clients that can still reach it move to the other): operations not
 * decided are answered 503, decided ones get no answer (the new leader settles them), and it
 * waits for the lock again as a standby. The reason is logged once and shown in
 * {@code /api/status}.
 */
final class Office {
    private static final Logger LOG = LoggerFactory.getLogger(Office.class);
    /** A leader that cannot reach a majority of its members this long stops serving (SPEC.md section 7). */
    static final long LEASE_MILLIS = 5_000;
    /** Claim rounds a lock holder tries before it gives the lock back and waits again. */
    static final int MAX_ROUNDS = 8;
    /** Registrations a standby keeps (it has no view to bound them by). */
    static final int MAX_CANDIDATES = 1000;

    private record Candidate(Member member, String identity, String nodeId) {}

    private final LeaderVerticle l;
    private final Map<Long, Candidate> candidates = new LinkedHashMap<>();
    private Election election;
    private boolean takingOffice;
    private boolean everServed;
    private long minoritySince;
    private int rounds;
    private long lockSince;
    private String lastShortfall;
    /** How long a leader that never led a cluster waits for registrations before it founds one. */
    static final long NEW_CLUSTER_WAIT_MILLIS = 3_000;
    private String steppedDown;

    Office(LeaderVerticle leader) {
        this.l = leader;
    }

    /* --- Cluster mode: the standby --- */

    void startStandby() {
        l.cluster.onMemberRemoved(l.vertx().getOrCreateContext(), id -> {
            l.monitor.nodeGone(id);
            // Membership changed: ask everyone now. If it was us who was cut off (a pause, a
            // partition), a 409 tells us a newer leader took office.
            l.monitor.checkAll();
        });
        election = new Election(l.vertx(), l.cluster, this::directoryEntry, this::takeOffice);
        election.start();
    }

    /** A follower registered with this standby: it is asked to accept our epoch when we take office. */
    String candidate(Member m, String identity, String nodeId) {
        if (!candidates.containsKey(m.id()) && candidates.size() >= MAX_CANDIDATES) return kvstore.core.Errors.CAPACITY_FULL;
        candidates.put(m.id(), new Candidate(m, identity, nodeId));
        return null;
    }

    /** Followers that registered with this standby (its {@code /api/status} "registered"). */
    int candidateCount() {
        return candidates.size();
    }

    private JsonObject directoryEntry() {
        return new JsonObject().put("host", l.settings.advertise()).put("port", l.boundPort).put("nodeId", l.cluster.nodeId())
                .put("state", l.active ? "active" : takingOffice ? "taking-office" : "standby").put("epoch", l.epoch);
    }

    private void takeOffice() {
        if (l.stopping || l.active) return;
        takingOffice = true;
        rounds = 0;
        lockSince = LeaderClock.now();
        election.highestPublishedEpoch().otherwise(0L).onComplete(ar -> claim(Math.max(l.epoch, ar.result()) + 1));
    }

    private void claim(long proposed) {
        if (l.stopping || l.active) return;
        if (!candidates.isEmpty() && ++rounds > MAX_ROUNDS) {
            LOG.warn("epoch {} not accepted by a majority after {} rounds: giving the lock back", proposed, MAX_ROUNDS);
            takingOffice = false;
            election.stepDown();
            return;
        }
        l.epoch = proposed;
        l.log.append(new LogRecord.Epoch(proposed)).onSuccess(appended -> {
            List<Candidate> asked = new ArrayList<>(candidates.values());
            // (Never after having served: a leader that stepped down knows a cluster exists, even
            // if no follower can reach it now; founding another would be a split brain.)
            if (asked.isEmpty() && l.recovered.view() == null && !everServed && l.members == null
                    && LeaderClock.now() - lockSince >= NEW_CLUSTER_WAIT_MILLIS) {
                // A new cluster: we never led one, and no follower registered with us while we
                // waited (followers register with every leader they find), so there is no one to
                // fence. Take office; followers register with the active leader.
                takingOffice = false;
                l.becomeActive(View.empty(Math.max(1, l.settings.redundancy()), l.settings.vnodes(), l.settings.followers()), false, true);
                election.publish();
                LOG.info("took office as the active leader of a new cluster: epoch {}", proposed);
                return;
            }
            List<Future<FollowerClient.CheckAnswer>> asks = new ArrayList<>();
            for (Candidate c : asked) asks.add(l.client.check(c.member(), proposed, true, c.identity(), 1_000).otherwise(new FollowerClient.CheckAnswer(0, null, 0)));
            Future.join(new ArrayList<>(asks)).onComplete(done -> {
                long higher = 0;
                int accepted = 0;
                View newest = null;
                for (Future<FollowerClient.CheckAnswer> f : asks) {
                    FollowerClient.CheckAnswer a = f.result();
                    higher = Math.max(higher, a.theirEpoch());
                    if (!a.ok()) continue;
                    accepted++;
                    String text = a.body().getString("fullView");
                    View v = text == null ? null : ViewCodec.fromText(text);
                    if (v != null && v.newerThan(newest)) newest = v;
                }
                if (higher >= proposed) {
                    claim(higher + 1); // some follower has seen a newer epoch: go above it
                    return;
                }
                int voters = Math.max(l.settings.followers(), Math.max(asked.size(), newest == null ? 0 : newest.members().size()));
                if (newest != null) {
                    // Only the newest view's members count, each under the identity it names: a
                    // wiped disk answering at a member's address remembers no view.
                    voters = newest.members().size();
                    accepted = 0;
                    for (int i = 0; i < asked.size(); i++) {
                        if (!asks.get(i).result().ok()) continue;
                        ViewMember vm = newest.member(asked.get(i).member().id());
                        String id = asked.get(i).identity();
                        if (vm != null && (vm.identity() == null || vm.identity().equals(id))) accepted++;
                    }
                }
                int majority = voters / 2 + 1;
                if (accepted < majority) {
                    String why = "epoch " + proposed + " accepted by " + accepted + " of " + voters + " followers, " + majority + " needed";
                    if (!why.equals(lastShortfall)) LOG.warn("{}: trying again", why);
                    lastShortfall = why;
                    l.vertx().setTimer(500, t -> claim(proposed));
                    return;
                }
                takingOffice = false;
                steppedDown = null;
                View start = newest != null ? newest
                        : View.empty(Math.max(1, l.settings.redundancy()), l.settings.vnodes(), l.settings.followers());
                l.becomeActive(start, true, true);
                election.publish();
                LOG.info("took office as the active leader: epoch {}, accepted by {} of {} followers; view {}", proposed, accepted, voters,
                        start.number());
                for (int i = 0; i < asked.size(); i++) {
                    FollowerClient.CheckAnswer a = asks.get(i).result();
                    if (a.ok()) l.monitor.accepted(asked.get(i).member(), a.body());
                }
                l.monitor.checkAll();
            });
        });
    }

    /* --- Stepping down --- */

    /** A follower has accepted a newer epoch than ours. */
    void superseded(Member m, long theirEpoch) {
        if (theirEpoch > l.epoch) deposed("follower " + m.address() + " has accepted epoch " + theirEpoch + ", above ours (" + l.epoch + ")");
    }

    /** A newer leader took office. Alone there is no one to hand over to: the alarm says why, and writes are refused. */
    void deposed(String reason) {
        if (l.cluster == null) {
            if (steppedDown == null) LOG.error("{}; with no cluster there is no one to hand over to", reason);
            steppedDown = reason;
            return;
        }
        stepDown(reason);
    }

    private void stepDown(String reason) {
        if (!l.active) return;
        LOG.warn("stepping down to standby (epoch {}): {}", l.epoch, reason);
        steppedDown = reason;
        l.active = false;
        l.runner.stepDown();
        l.members = null;
        minoritySince = 0;
        election.stepDown();
    }

    void healthChanged() {
        if (l.cluster == null || !l.active) return;
        int members = l.monitor.size();
        boolean majority = members == 0 || l.monitor.upCount() >= members / 2 + 1;
        if (majority) minoritySince = 0;
        else if (minoritySince == 0) minoritySince = LeaderClock.now();
    }

    void tick() {
        if (l.runner.coordinator() != null) everServed = true;
        if (l.cluster == null || !l.active) return;
        healthChanged();
        // Counted from the last answer of a majority, not from when the checks gave up on them:
        // an isolated leader stops serving 5 s after it was cut off.
        if (LeaderClock.now() - l.monitor.majorityHeardAt() >= LEASE_MILLIS) {
            stepDown("it cannot reach a majority of its followers (" + l.monitor.upCount() + " of " + l.monitor.size() + " up) for "
                    + LEASE_MILLIS / 1000 + " s");
            return;
        }
        election.supersededAt(l.epoch).onSuccess(yes -> {
            if (yes) stepDown("another leader has published a higher epoch as active");
        });
    }

    /** Alone and deposed: it serves no more (a restart takes a new epoch). */
    boolean cutOff() {
        return l.cluster == null && steppedDown != null;
    }

    boolean everServed() {
        return everServed;
    }

    /** Why this leader is not serving, for {@code /api/status}, or null. */
    String reason() {
        if (takingOffice) return "taking office";
        return steppedDown;
    }

    boolean takingOffice() {
        return takingOffice;
    }

    Future<Void> stop() {
        return election == null ? Future.succeededFuture() : election.stop().otherwiseEmpty();
    }
}
