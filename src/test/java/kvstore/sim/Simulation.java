package kvstore.sim;

import kvstore.core.Errors;
import kvstore.core.LeaderLog;
import kvstore.core.Member;
import kvstore.core.Write;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Answer;
import kvstore.core.tpc.ClientOp;
import kvstore.core.tpc.Coordinator;
import kvstore.core.tpc.Effect;
import kvstore.core.tpc.EffectRunner;
import kvstore.core.tpc.Participant;
import kvstore.core.tpc.RidMemory;
import kvstore.core.view.Membership;
import kvstore.core.view.Placement;
import kvstore.core.view.View;
import kvstore.lincheck.Operation;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A deterministic simulation of leaders and followers (FoundationDB's simulation, TigerBeetle's
 * VOPR): the real {@link Coordinator} and {@link Participant}s, the coordinator driven through
 * the real {@link EffectRunner} (the loop that ships), in one thread, on a seeded schedule.
 *
 * <p>Faults: messages delayed, dropped, doubled and reordered; answers that arrive after their
 * deadline; partitions that cut a leader from some followers both ways, silently; a failure
 * detector that suspects live followers and notices dead ones late; disks that lose what was not
 * flushed; crashes and restarts of any node; and, with {@code twoLeaders}, a standby that takes
 * office with a newer epoch accepted by a majority while the old leader still runs (it is fenced:
 * the followers refuse it, and it steps down when it notices). Clients' operations and their
 * answers are recorded, refusals included, for the linearizability checker.
 *
 * <p>Everything random comes from one {@link Random}: the same seed gives the same run.
 */
final class Simulation {

    /** The knobs of one run. */
    record Faults(double drop, double duplicate, int maxDelayMillis, double crashPerStep, double cutPerStep,
                  double suspectPerStep, boolean twoLeaders, double deadlineFactor) {
        static final Faults NONE = new Faults(0, 0, 3, 0, 0, 0, false, 10);
        static final Faults ROUGH = new Faults(0.03, 0.03, 25, 0.002, 0, 0, false, 3);
        static final Faults NASTY = new Faults(0.15, 0.15, 120, 0.006, 0, 0, false, 3);
        /** The grey failures: partitions, a lying failure detector, answers often past their deadlines, two leaders. */
        static final Faults GREY = new Faults(0.05, 0.05, 90, 0.003, 0.004, 0.004, true, 1.5);

        /** Message deadlines in proportion to the delays: with a factor near 1, many answers come too late. */
        Coordinator.Settings settings(boolean cluster) {
            long d = maxDelayMillis;
            return new Coordinator.Settings(2_000, (long) (deadlineFactor * d) + 10, (long) (deadlineFactor * d * 0.8) + 10,
                    (long) (deadlineFactor * d * 1.2) + 10, 100_000, 5, 200, cluster, cluster, 0);
        }
    }

    final Random rnd;
    final Faults faults;
    final boolean clusterRules;
    long now;
    private long seq;
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    final List<Operation> history = new ArrayList<>();
    final List<String> keys = List.of("a", "b", "c");
    int crashes, acked, refused, unknown, takeovers, stepDowns;

    private record Event(long at, long seq, Runnable action) implements Comparable<Event> {
        @Override public int compareTo(Event o) {
            return at != o.at ? Long.compare(at, o.at) : Long.compare(seq, o.seq);
        }
    }

    void at(long delay, Runnable action) {
        events.add(new Event(now + Math.max(0, delay), seq++, action));
    }

    /* --- Disks: records are durable only once flushed; a crash loses the rest --- */

    static final class Disk {
        final List<LogRecord> durable = new ArrayList<>();
        final List<LogRecord> pending = new ArrayList<>();
    }

    /** Flushes what is pending now; {@code then} runs when it is durable (unless the node crashed meanwhile). */
    void flush(Disk disk, java.util.function.IntSupplier generation, Runnable then) {
        List<LogRecord> batch = new ArrayList<>(disk.pending);
        int g = generation.getAsInt();
        at(1 + rnd.nextInt(3), () -> {
            if (generation.getAsInt() != g) return;
            for (LogRecord r : batch) if (disk.pending.remove(r)) disk.durable.add(r);
            then.run();
        });
    }

    /* --- Followers --- */

    final class Follower {
        final Member member;
        final Disk disk = new Disk();
        Participant p;
        boolean up = true;
        int generation;
        long downSince;
        long lastLeaderContact = -10_000;
        long leaderEpochSeen;

        Follower(int i) {
            member = Member.of("10.0.0." + (i + 1), 16201);
            p = new Participant(member.id());
        }

        void persistThen(Participant.Step step, Runnable reply) {
            disk.pending.addAll(step.records());
            int g = generation;
            flush(disk, () -> generation, () -> { if (up && generation == g) reply.run(); });
        }

        void heard(long epoch) {
            lastLeaderContact = now;
            leaderEpochSeen = Math.max(leaderEpochSeen, epoch);
        }

        void crash() {
            up = false;
            generation++;
            disk.pending.clear();
            downSince = now;
            crashes++;
        }

        void restart() {
            p = new Participant(member.id());
            for (LogRecord r : disk.durable) p.apply(r);
            up = true;
        }
    }

    /* --- Leaders --- */

    final class Leader implements EffectRunner.Shell {
        final int id;
        final Disk disk = new Disk();
        final EffectRunner runner = new EffectRunner(this);
        long epoch;
        boolean up = true;
        boolean active;
        int generation;
        /** What the failure detector says: followers suspected down, until when. */
        final Map<Long, Long> suspectedUntil = new HashMap<>();

        Leader(int id) {
            this.id = id;
        }

        Coordinator coordinator() {
            return runner.coordinator();
        }

        /** Takes office alone (one leader: its log is the whole truth) with the next epoch. */
        void startAlone() {
            LeaderLog log = replay();
            epoch = log.epoch() + 1;
            disk.durable.add(new LogRecord.Epoch(epoch)); // durable before any message
            active = true;
            runner.attach(new Coordinator(faults.settings(false), epoch, view, log.undecided(), log.highVersion(), log.rids(), 0, now));
            health();
        }

        LeaderLog replay() {
            LeaderLog log = new LeaderLog();
            for (LogRecord r : disk.durable) log.apply(r);
            return log;
        }

        void crash() {
            up = false;
            generation++;
            disk.pending.clear();
            runner.stepDown();
            active = false;
            crashes++;
            for (Pending p : new ArrayList<>(pending.values())) if (p.leader == this) finishUnknown(p);
            pending.values().removeIf(p -> p.leader == this);
        }

        /** Tells the coordinator what the (imperfect) failure detector sees. */
        void health() {
            Coordinator c = coordinator();
            if (c == null) return;
            for (Follower f : followers) {
                boolean seen = f.up && !cut(this, f);
                Long until = suspectedUntil.get(f.member.id());
                if (until != null && until > now) seen = false;
                // A dead follower is noticed late: up to 150 ms after it died.
                if (!f.up && now - f.downSince < (f.member.id() & 127)) seen = true;
                c.followerHealth(f.member.id(), seen, now);
            }
        }

        /* --- EffectRunner.Shell: the network and disk of the simulation --- */

        @Override public long now() {
            return now;
        }

        /** A request to a follower: {@code done} runs once, with the answer or with {@code timeout} at the deadline. */
        private <T> void request(Follower f, long deadline, T timeout, java.util.function.Function<Follower, Consumer<Consumer<T>>> handler,
                                 Consumer<T> done) {
            boolean[] finished = {false};
            int g = generation;
            Consumer<T> once = t -> {
                if (finished[0] || generation != g || !up) return;
                finished[0] = true;
                done.accept(t);
            };
            long e = epoch;
            send(this, f, () -> {
                if (!f.up) return;
                Participant.Step s = f.p.observeEpoch(e);
                if (s.status() != 200) {
                    send(this, f, () -> once.accept(stale(timeout)), true);
                    return;
                }
                f.heard(e);
                f.disk.pending.addAll(s.records());
                handler.apply(f).accept(answer -> send(this, f, () -> once.accept(answer), true));
            }, false);
            at(deadline - now, () -> once.accept(timeout));
        }

        @SuppressWarnings("unchecked")
        private <T> T stale(T timeout) {
            if (timeout instanceof Coordinator.Vote) return (T) new Coordinator.Vote(Coordinator.VoteKind.STALE, null, 0);
            if (timeout instanceof Coordinator.Phase2Result) return (T) Coordinator.Phase2Result.STALE;
            if (timeout instanceof Coordinator.ReadReply) return (T) new Coordinator.ReadReply(Coordinator.ReadResult.STALE, null, 0);
            return timeout;
        }

        @Override public void prepare(Effect.SendPrepare sp, Consumer<Coordinator.Vote> done) {
            request(follower(sp.to().id()), sp.deadlineMillis(), new Coordinator.Vote(Coordinator.VoteKind.UNKNOWN, null, 0), f -> reply -> {
                Participant.Step s = f.p.prepare(sp.tx(), epoch, sp.writes(), sp.rid(), now);
                f.persistThen(s, () -> reply.accept(s.status() == 202 ? new Coordinator.Vote(Coordinator.VoteKind.YES, null, s.version())
                        : s.status() == 409 ? new Coordinator.Vote(Coordinator.VoteKind.STALE, null, 0)
                        : new Coordinator.Vote(Coordinator.VoteKind.NO, s.body(), s.version())));
            }, done);
        }

        @Override public void phase2(Effect.SendPhase2 p2, Consumer<Coordinator.Phase2Result> done) {
            request(follower(p2.to().id()), p2.deadlineMillis(), Coordinator.Phase2Result.RETRY, f -> reply -> {
                Participant.Step s = p2.commit() ? f.p.commit(p2.tx(), epoch, p2.version(), p2.rid()) : f.p.abort(p2.tx(), epoch, p2.rid());
                f.persistThen(s, () -> reply.accept(s.status() == 204 ? Coordinator.Phase2Result.ACK
                        : s.status() == 409 ? Coordinator.Phase2Result.STALE : Coordinator.Phase2Result.REFUSED));
            }, done);
        }

        @Override public void read(Effect.SendRead r, Consumer<Coordinator.ReadReply> done) {
            request(follower(r.to().id()), r.deadlineMillis(), new Coordinator.ReadReply(Coordinator.ReadResult.ELSEWHERE, null, 0), f -> reply -> {
                Participant.Read rr = f.p.read(r.key(), true);
                Coordinator.ReadReply a = switch (rr.result()) {
                    case VALUE -> new Coordinator.ReadReply(Coordinator.ReadResult.VALUE, rr.value(), rr.version());
                    case NO_KEY -> new Coordinator.ReadReply(Coordinator.ReadResult.NO_KEY, null, 0);
                    default -> new Coordinator.ReadReply(Coordinator.ReadResult.ELSEWHERE, null, 0);
                };
                f.persistThen(new Participant.Step(200, "", 0, List.of()), () -> reply.accept(a));
            }, done);
        }

        @Override public void queryOutcome(Effect.QueryOutcome q, Consumer<Coordinator.OutcomeReply> done) {
            request(follower(q.to().id()), q.deadlineMillis(), new Coordinator.OutcomeReply(Coordinator.Outcome.UNREACHABLE, 0), f -> reply -> {
                Participant.Outcome o = f.p.outcome(q.tx());
                reply.accept(new Coordinator.OutcomeReply(Coordinator.Outcome.valueOf(o.name()), 0));
            }, done);
        }

        @Override public void queryRid(Effect.QueryRid q, Consumer<Coordinator.RidReply> done) {
            request(follower(q.to().id()), q.deadlineMillis(), new Coordinator.RidReply(Coordinator.RidState.UNREACHABLE, null), f -> reply -> {
                RidMemory.Outcome o = f.p.rid(q.rid());
                reply.accept(o != null ? new Coordinator.RidReply(Coordinator.RidState.KNOWN, o)
                        : new Coordinator.RidReply(f.p.ridPending(q.rid()) ? Coordinator.RidState.PENDING : Coordinator.RidState.UNKNOWN, null));
            }, done);
        }

        @Override public void append(List<LogRecord> records, Runnable durable) {
            disk.pending.addAll(records);
            if (durable != null) flush(disk, () -> generation, () -> { if (up) durable.run(); });
        }

        @Override public void reply(long reqId, Answer a) {
            Pending p = pending.remove(reqId);
            if (p != null) finish(p, a);
        }

        @Override public void deposed() {
            if (!clusterRules) throw new AssertionError("deposed with a single leader, epoch " + epoch);
            stepDowns++;
            active = false;
            runner.stepDown();
        }

        @Override public void alarm(String message) {
            throw new AssertionError("alarm: " + message);
        }
    }

    /* --- The network: a message may be late, lost or doubled; a cut link loses everything --- */

    private final Set<String> cuts = new HashSet<>();

    boolean cut(Leader l, Follower f) {
        return cuts.contains(l.id + "-" + f.member.id());
    }

    private void send(Leader l, Follower f, Runnable deliver, boolean toLeader) {
        if (cut(l, f) || rnd.nextDouble() < faults.drop()) return;
        Runnable guarded = () -> { if (!cut(l, f)) deliver.run(); };
        at(1 + rnd.nextInt(faults.maxDelayMillis()), guarded);
        if (rnd.nextDouble() < faults.duplicate()) at(1 + rnd.nextInt(faults.maxDelayMillis()), guarded);
    }

    /* --- Setup --- */

    final List<Follower> followers = new ArrayList<>();
    final List<Leader> leaders = new ArrayList<>();
    final View view;
    final Placement placement;
    private long nextReq = 1;
    private final Map<Long, Pending> pending = new HashMap<>();
    private final Client[] clients = new Client[3];

    private record Pending(Client client, Leader leader, ClientOp op, long call) {}

    private final class Client {
        final int id;
        boolean busy;
        int n;

        Client(int id) { this.id = id; }
    }

    Simulation(long seed, Faults faults, int followerCount, int redundancy) {
        this(seed, faults, followerCount, redundancy, false);
    }

    Simulation(long seed, Faults faults, int followerCount, int redundancy, boolean clusterRules) {
        this.clusterRules = clusterRules || faults.twoLeaders();
        this.rnd = new Random(seed);
        this.faults = faults;
        for (int i = 0; i < followerCount; i++) followers.add(new Follower(i));
        for (int i = 0; i < clients.length; i++) clients[i] = new Client(i);
        View v = View.empty(redundancy, 1, followerCount);
        for (Follower f : followers) v = Membership.register(v, f.member.host(), f.member.port(), "id-" + f.member.host(), 1, 0).view();
        this.view = v;
        this.placement = new Placement(v);
        for (Follower f : followers) {
            Participant.Step s = f.p.learnView(v);
            f.disk.durable.addAll(s.records());
        }
        leaders.add(new Leader(0));
        if (faults.twoLeaders()) leaders.add(new Leader(1));
        Leader first = leaders.get(0);
        first.disk.durable.add(new LogRecord.ViewRecord(v));
        if (this.clusterRules) takeOffice(first);
        else first.startAlone();
    }

    /**
     * A standby takes office (PROTOCOL.md, "Standby leader"): an epoch above every one it knows,
     * accepted durably by a majority of followers that have not heard from a live leader within
     * the lease; then a coordinator with the cluster rules (inherited transactions resolved by
     * asking the replicas). Its predecessor is not told: it is fenced by the followers.
     */
    private void takeOffice(Leader l) {
        if (!l.up || l.active) return;
        long proposed = l.epoch + 1;
        for (Leader o : leaders) proposed = Math.max(proposed, o.epoch + 1);
        for (Follower f : followers) proposed = Math.max(proposed, f.p.epoch() + 1);
        int accepted = 0;
        long high = 0;
        for (Follower f : followers) {
            if (!f.up || cut(l, f)) continue;
            boolean leaderLive = now - f.lastLeaderContact < 100;
            Participant.Step s = f.p.claimEpoch(proposed, leaderLive);
            if (s.status() != 200) continue;
            f.disk.durable.addAll(s.records()); // accepted durably before answering
            f.heard(proposed);
            accepted++;
            high = Math.max(high, f.p.highVersion());
        }
        if (accepted < followers.size() / 2 + 1) return;
        l.epoch = proposed;
        l.disk.durable.add(new LogRecord.Epoch(proposed));
        l.active = true;
        takeovers++;
        LeaderLog log = l.replay();
        l.runner.attach(new Coordinator(faults.settings(true), proposed, view, List.of(), Math.max(high, log.highVersion()), log.rids(),
                now + 600_000, now));
        l.health();
    }

    Follower follower(long id) {
        for (Follower f : followers) if (f.member.id() == id) return f;
        throw new IllegalStateException("no follower " + id);
    }

    /* --- Clients and their history --- */

    private Leader activeLeader() {
        List<Leader> act = new ArrayList<>();
        for (Leader l : leaders) if (l.up && l.active) act.add(l);
        return act.isEmpty() ? null : act.get(rnd.nextInt(act.size()));
    }

    private void clientStep(Client cl) {
        Leader l = activeLeader();
        if (cl.busy || l == null) return;
        cl.busy = true;
        String key = keys.get(rnd.nextInt(keys.size()));
        int dice = rnd.nextInt(10);
        ClientOp op = dice < 4 ? new ClientOp.Get(key)
                : dice < 8 ? new ClientOp.Put(key, "c" + cl.id + "-" + (cl.n++), -1, null)
                : new ClientOp.Put(key, null, -1, null);
        long req = nextReq++;
        pending.put(req, new Pending(cl, l, op, now));
        l.runner.event(c -> c.submit(req, op, now));
    }

    private void finish(Pending p, Answer a) {
        p.client.busy = false;
        long ret = now + 1; // the answer travels back after the reply
        if (a.close()) {
            finishUnknown(p);
            return;
        }
        boolean noKey = a.status() == 500 && Errors.NO_KEY.equals(a.body());
        if (p.op instanceof ClientOp.Get g) {
            if (a.status() == 200) history.add(Operation.get(p.client.id, g.key(), new String(a.value(), StandardCharsets.UTF_8), p.call, ret));
            else if (noKey) history.add(Operation.get(p.client.id, g.key(), null, p.call, ret));
        } else if (p.op instanceof ClientOp.Put w) {
            if (a.status() == 201) {
                history.add(w.delete() ? Operation.delete(p.client.id, w.key(), true, p.call, ret)
                        : Operation.put(p.client.id, w.key(), w.value(), p.call, ret));
                acked++;
            } else if (noKey && w.delete()) {
                history.add(Operation.delete(p.client.id, w.key(), false, p.call, ret));
            } else {
                // Refused: it must have had no effect. Its value is unique, so a read that sees it fails the check.
                refused++;
                if (a.status() != 500 && a.status() != 503 && a.status() != 412) throw new AssertionError("a write answered " + a.status());
            }
        }
    }

    private void finishUnknown(Pending p) {
        p.client.busy = false;
        unknown++;
        if (p.op instanceof ClientOp.Put w) {
            history.add(w.delete() ? Operation.delete(p.client.id, w.key(), true, p.call, Long.MAX_VALUE)
                    : Operation.put(p.client.id, w.key(), w.value(), p.call, Long.MAX_VALUE));
        }
    }

    /* --- The run --- */

    /** Runs {@code steps} scheduler steps of load and faults, then heals and settles. */
    void run(int steps) {
        for (int i = 0; i < steps; i++) {
            now++;
            for (Client cl : clients) if (rnd.nextInt(4) == 0) clientStep(cl);
            maybeFault();
            if (now % 20 == 0) background();
            drainUntil(now);
        }
        // Heal: every link up, everyone up, no more faults; let phase 2 and recovery finish.
        cuts.clear();
        for (Leader l : leaders) l.suspectedUntil.clear();
        for (Follower f : followers) if (!f.up) f.restart();
        for (Leader l : leaders) if (!l.up) restartLeader(l);
        for (int i = 0; i < 20_000 && (activeLeader() == null || busy()); i++) {
            now++;
            if (now % 20 == 0) background();
            if (activeLeader() == null && now % 100 == 0) for (Leader l : leaders) if (clusterRules) takeOffice(l);
            drainUntil(now);
        }
    }

    private boolean busy() {
        for (Leader l : leaders) if (l.coordinator() != null && l.coordinator().pendingTransactions() > 0) return true;
        return anyPrepared() || !pending.isEmpty();
    }

    boolean anyPrepared() {
        for (Follower f : followers) if (!f.p.preparedByLeaders().isEmpty()) return true;
        return false;
    }

    private void drainUntil(long t) {
        while (!events.isEmpty() && events.peek().at <= t) {
            Event e = events.poll();
            long saved = now;
            now = Math.max(now, e.at);
            e.action.run();
            now = Math.max(saved, now);
        }
    }

    /** What the real leader does every tick and every check: time, health, prepared reports, versions. */
    private void background() {
        for (Leader l : leaders) {
            Coordinator c = l.coordinator();
            if (c == null || !l.up) continue;
            l.runner.event(k -> k.tick(now));
            l.health();
            for (Follower f : followers) {
                if (!f.up || cut(l, f)) continue;
                Participant.Step s = f.p.observeEpoch(l.epoch);
                if (s.status() != 200) {
                    // The check answered 409: a newer leader has taken office.
                    if (l.active && clusterRules) l.deposed();
                    continue;
                }
                f.heard(l.epoch);
                f.disk.pending.addAll(s.records());
                List<Coordinator.Held> held = new ArrayList<>();
                for (Participant.Prepared p : f.p.preparedByLeaders()) {
                    List<String> ks = new ArrayList<>();
                    for (Write w : p.writes()) ks.add(w.key());
                    held.add(new Coordinator.Held(p.tx(), ks, p.rid()));
                }
                long hv = f.p.highVersion();
                l.runner.event(k -> {
                    k.observeVersion(hv);
                    if (!held.isEmpty()) k.heldReport(f.member.id(), held, now);
                });
            }
        }
    }

    private void maybeFault() {
        if (rnd.nextDouble() < faults.crashPerStep()) crashSomething();
        if (rnd.nextDouble() < faults.cutPerStep()) {
            Leader l = leaders.get(rnd.nextInt(leaders.size()));
            Follower f = followers.get(rnd.nextInt(followers.size()));
            String link = l.id + "-" + f.member.id();
            cuts.add(link);
            at(20 + rnd.nextInt(400), () -> cuts.remove(link));
        }
        if (rnd.nextDouble() < faults.suspectPerStep()) {
            Leader l = leaders.get(rnd.nextInt(leaders.size()));
            Follower f = followers.get(rnd.nextInt(followers.size()));
            l.suspectedUntil.put(f.member.id(), now + 20 + rnd.nextInt(200)); // false suspicion of a live follower
        }
        if (faults.twoLeaders() && rnd.nextDouble() < faults.cutPerStep() / 2) {
            Leader standby = null;
            for (Leader l : leaders) if (l.up && !l.active) standby = l;
            if (standby != null) takeOffice(standby);
        }
    }

    private void crashSomething() {
        int who = rnd.nextInt(followers.size() + leaders.size());
        if (who >= followers.size()) {
            Leader l = leaders.get(who - followers.size());
            if (!l.up) return;
            l.crash();
            at(50 + rnd.nextInt(200), () -> restartLeader(l));
        } else {
            Follower f = followers.get(who);
            if (!f.up) return;
            f.crash();
            at(50 + rnd.nextInt(300), () -> { if (!f.up) f.restart(); });
        }
    }

    private void restartLeader(Leader l) {
        if (l.up) return;
        l.up = true;
        if (!clusterRules) l.startAlone();
        else {
            l.epoch = l.replay().epoch();
            takeOffice(l);
        }
    }

    /* --- Checks --- */

    /** Every replica of every key agrees, and nothing is left prepared. */
    String checkReplicas() {
        for (String key : keys) {
            String first = null;
            boolean seen = false;
            for (Member m : placement.readSet(key)) {
                byte[] v = follower(m.id()).p.value(key);
                String s = v == null ? null : new String(v, StandardCharsets.UTF_8);
                if (seen && !Objects.equals(first, s)) return "replicas of " + key + " disagree: " + first + " vs " + s;
                first = s;
                seen = true;
            }
        }
        if (anyPrepared()) {
            StringBuilder sb = new StringBuilder("a transaction is still prepared after healing (now " + now + ")");
            for (Follower f : followers) {
                for (Participant.Prepared p : f.p.preparedByLeaders()) {
                    sb.append("; ").append(f.member.host()).append(" holds ").append(p.tx()).append(" on ").append(p.firstKey())
                            .append(" (follower epoch ").append(f.p.epoch()).append(")");
                }
            }
            return sb.toString();
        }
        return null;
    }
}
