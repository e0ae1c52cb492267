package kvstore.sim;

import kvstore.core.Errors;
import kvstore.core.KeyRequest;
import kvstore.core.LeaderLog;
import kvstore.core.Member;
import kvstore.core.Op;
import kvstore.core.Ring;
import kvstore.core.TxId;
import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Coordinator;
import kvstore.core.tpc.Effect;
import kvstore.core.tpc.Participant;
import kvstore.lincheck.Operation;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;

/**
 * A deterministic simulation of one leader and its followers (FoundationDB's simulation,
 * TigerBeetle's VOPR): the real {@link Coordinator} and {@link Participant}s, driven in one
 * thread by a seeded random schedule, with a network that delays, drops, duplicates and
 * reorders messages, disks that lose what was not yet flushed, and crashes and restarts of any
 * node at any moment. The shells here follow the same rules as the real ones: persist before
 * you speak, a reply only after the fsync that covers the step's records.
 *
 * <p>Everything random comes from one {@link Random}: the same seed gives the same run.
 */
final class Simulation {

    /** The knobs of one run. */
    record Faults(double drop, double duplicate, int maxDelayMillis, double crashPerStep) {
        static final Faults NONE = new Faults(0, 0, 3, 0);
        static final Faults ROUGH = new Faults(0.03, 0.03, 25, 0.002);
        static final Faults NASTY = new Faults(0.15, 0.15, 120, 0.006);
    }

    final Random rnd;
    final Faults faults;
    long now;
    private long seq;
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    final List<Operation> history = new ArrayList<>();
    final List<String> keys = List.of("a", "b", "c");
    final Map<String, String> lastAcked = new HashMap<>();
    int crashes, acked, refused, unknown;

    private record Event(long at, long seq, Runnable action) implements Comparable<Event> {
        @Override public int compareTo(Event o) {
            return at != o.at ? Long.compare(at, o.at) : Long.compare(seq, o.seq);
        }
    }

    void at(long delay, Runnable action) {
        events.add(new Event(now + delay, seq++, action));
    }

    /* --- Disks: records are durable only once flushed; a crash loses the rest --- */

    static final class Disk {
        final List<LogRecord> durable = new ArrayList<>();
        final List<LogRecord> pending = new ArrayList<>();

        void lose() { pending.clear(); }
    }

    /** Schedules an fsync of everything pending now; {@code then} runs when it is durable. */
    void flush(Disk disk, int generation, java.util.function.IntSupplier alive, Runnable then) {
        List<LogRecord> batch = new ArrayList<>(disk.pending);
        at(1 + rnd.nextInt(3), () -> {
            if (alive.getAsInt() != generation) return; // crashed meanwhile: nothing became durable
            for (LogRecord r : batch) if (disk.pending.remove(r)) disk.durable.add(r);
            then.run();
        });
    }

    /* --- Followers --- */

    final class Follower {
        final Member member;
        final Disk disk = new Disk();
        Participant p = new Participant();
        boolean up = true;
        int generation;

        Follower(int i) { member = Member.of("10.0.0." + (i + 1), 16201); }

        /** A message from the leader; the answer goes back over the network once durable. */
        void receive(Runnable work) {
            if (up) work.run();
        }

        void persistThen(Participant.Step step, Runnable reply) {
            disk.pending.addAll(step.records());
            int g = generation;
            flush(disk, g, () -> generation, () -> { if (up && generation == g) reply.run(); });
        }

        void crash() {
            up = false;
            generation++;
            disk.lose();
            crashes++;
        }

        void restart() {
            p = new Participant();
            for (LogRecord r : disk.durable) p.apply(r);
            up = true;
        }
    }

    /* --- The leader --- */

    final List<Follower> followers = new ArrayList<>();
    final Disk leaderDisk = new Disk();
    Coordinator coordinator;
    long epoch;
    boolean leaderUp = true;
    int leaderGeneration;
    private long nextReq = 1;
    /** reqId -> the client's pending operation. */
    private final Map<Long, Pending> pending = new HashMap<>();
    private final Client[] clients = new Client[3];

    private record Pending(Client client, Op op, String key, String value, long call) {}

    private final class Client {
        final int id;
        boolean busy;
        int n;

        Client(int id) { this.id = id; }
    }

    /** Clustered-mode rules: answer after the first acknowledgement; a new leader trusts the replicas, not its log. */
    final boolean clusterRules;

    Simulation(long seed, Faults faults, int followerCount, int redundancy) {
        this(seed, faults, followerCount, redundancy, false);
    }

    Simulation(long seed, Faults faults, int followerCount, int redundancy, boolean clusterRules) {
        this.clusterRules = clusterRules;
        this.rnd = new Random(seed);
        this.faults = faults;
        for (int i = 0; i < followerCount; i++) followers.add(new Follower(i));
        for (int i = 0; i < clients.length; i++) clients[i] = new Client(i);
        List<Member> ms = new ArrayList<>();
        for (Follower f : followers) {
            ms.add(f.member);
            leaderDisk.durable.add(new LogRecord.Register(f.member.host(), f.member.port(), "id-" + f.member.host()));
        }
        this.redundancy = redundancy;
        this.ring = new Ring(ms, redundancy, 1);
        startLeader();
    }

    private final int redundancy;
    private final Ring ring;

    private void startLeader() {
        LeaderLog log = new LeaderLog();
        for (LogRecord r : leaderDisk.durable) log.apply(r);
        epoch = log.epoch() + 1;
        leaderDisk.durable.add(new LogRecord.Epoch(epoch)); // durable before any message
        coordinator = new Coordinator(ring, epoch, new Coordinator.Settings(2_000, 100_000, 5, 200, clusterRules, clusterRules),
                clusterRules ? List.of() : log.undecided());
        for (Follower f : followers) coordinator.followerHealth(f.member.id(), f.up, now);
        leaderUp = true;
        runEffects();
    }

    private void crashLeader() {
        leaderUp = false;
        leaderGeneration++;
        leaderDisk.lose();
        coordinator = null;
        crashes++;
        for (Pending p : pending.values()) finishUnknown(p);
        pending.clear();
    }

    Follower follower(long id) {
        for (Follower f : followers) if (f.member.id() == id) return f;
        throw new IllegalStateException("no follower " + id);
    }

    /* --- The network: a message may be late, lost or doubled --- */

    /** Sends {@code deliver} to run at the far end; {@code lost} runs at the sender if no answer came. */
    private void send(Runnable deliver) {
        if (rnd.nextDouble() < faults.drop()) return;
        at(1 + rnd.nextInt(faults.maxDelayMillis()), deliver);
        if (rnd.nextDouble() < faults.duplicate()) at(1 + rnd.nextInt(faults.maxDelayMillis()), deliver);
    }

    /**
     * A request from the leader to a follower with a timeout: {@code onAnswer} runs at most once,
     * with the answer, or with null when none came in time (the shell's "no answer").
     */
    private <T> void request(Follower f, java.util.function.Function<Follower, java.util.function.Consumer<java.util.function.Consumer<T>>> handler,
                             java.util.function.Consumer<T> onAnswer) {
        int g = leaderGeneration;
        Coordinator c = coordinator;
        boolean[] done = {false};
        java.util.function.Consumer<T> once = t -> {
            if (done[0] || leaderGeneration != g || coordinator != c) return;
            done[0] = true;
            onAnswer.accept(t);
            runEffects();
        };
        send(() -> f.receive(() -> handler.apply(f).accept(answer -> send(() -> once.accept(answer)))));
        at(300, () -> once.accept(null));
    }

    /* --- The leader's effects, as LeaderVerticle runs them --- */

    void runEffects() {
        if (coordinator == null) return;
        for (List<Effect> batch = coordinator.drainEffects(); !batch.isEmpty(); batch = coordinator == null ? List.of() : coordinator.drainEffects()) {
            for (Effect e : batch) execute(e);
        }
    }

    private void execute(Effect e) {
        Coordinator c = coordinator;
        long ep = epoch;
        if (e instanceof Effect.SendPrepare sp) {
            this.<Participant.Step>request(follower(sp.to().id()), f -> reply -> {
                String q = "key=" + kvstore.core.Params.encode(sp.key()) + (sp.op() == Op.PUT ? "&val=" + kvstore.core.Params.encode(sp.value()) : "")
                        + "&tx=" + sp.tx() + "&epoch=" + ep;
                KeyRequest kr = KeyRequest.parse(sp.op(), kvstore.core.Params.parse(q), kvstore.core.Limits.DEFAULTS, true).request();
                Participant.Step s = f.p.prepare(kr, now);
                f.persistThen(s, () -> reply.accept(s));
            }, s -> {
                Coordinator.VoteKind k = s == null ? Coordinator.VoteKind.UNKNOWN : s.status() == 202 ? Coordinator.VoteKind.YES
                        : s.status() == 409 ? Coordinator.VoteKind.STALE : Coordinator.VoteKind.NO;
                c.voted(sp.tx(), sp.to().id(), k, s == null ? Errors.UNABLE : s.body(), now);
            });
        } else if (e instanceof Effect.AppendDecision d) {
            leaderDisk.pending.add(new LogRecord.Decision(d.tx(), d.key(), d.replicaIds()));
            int g = leaderGeneration;
            flush(leaderDisk, g, () -> leaderGeneration, () -> {
                if (coordinator != c) return;
                c.decisionDurable(d.tx(), now);
                runEffects();
            });
        } else if (e instanceof Effect.AppendAbort a) {
            leaderDisk.pending.add(new LogRecord.Abort(a.tx()));
            int g = leaderGeneration;
            flush(leaderDisk, g, () -> leaderGeneration, () -> {
                if (coordinator != c) return;
                c.abortDurable(a.tx(), now);
                runEffects();
            });
        } else if (e instanceof Effect.AppendEnd end) {
            leaderDisk.pending.add(new LogRecord.End(end.tx()));
        } else if (e instanceof Effect.SendPhase2 p2) {
            at(p2.delayMillis(), () -> {
                if (coordinator != c) return;
                this.<Participant.Step>request(follower(p2.to().id()), f -> reply -> {
                    Participant.Step s = p2.commit() ? f.p.commit(p2.tx(), ep) : f.p.abort(p2.tx(), ep);
                    f.persistThen(s, () -> reply.accept(s));
                }, s -> c.phase2Done(p2.tx(), p2.to().id(), s == null ? Coordinator.Phase2Result.RETRY
                        : s.status() == 204 ? Coordinator.Phase2Result.ACK : s.status() == 409 ? Coordinator.Phase2Result.STALE
                        : Coordinator.Phase2Result.REFUSED, now));
            });
        } else if (e instanceof Effect.SendRead r) {
            this.<byte[][]>request(follower(r.to().id()), f -> reply -> {
                Participant.Step s = f.p.observeEpoch(ep);
                if (s.status() != 200) {
                    reply.accept(new byte[][] {null, "stale".getBytes()});
                    return;
                }
                Participant.ReadResult rr = f.p.read(r.key(), true);
                byte[][] answer = rr == Participant.ReadResult.VALUE ? new byte[][] {f.p.value(r.key())}
                        : new byte[][] {null, rr.name().getBytes()};
                if (s.records().isEmpty()) reply.accept(answer);
                else f.persistThen(s, () -> reply.accept(answer));
            }, a -> {
                Coordinator.ReadResult res = a == null ? Coordinator.ReadResult.ELSEWHERE
                        : a[0] != null ? Coordinator.ReadResult.VALUE
                        : new String(a[1]).equals("NO_KEY") ? Coordinator.ReadResult.NO_KEY : Coordinator.ReadResult.ELSEWHERE;
                c.readDone(r.reqId(), r.to().id(), res, a == null ? null : a[0], now);
            });
        } else if (e instanceof Effect.QueryOutcome q) {
            at(q.delayMillis(), () -> {
                if (coordinator != c) return;
                this.<Participant.Outcome>request(follower(q.to().id()), f -> reply -> reply.accept(f.p.outcome(q.tx())),
                        o -> c.outcomeKnown(q.tx(), q.to().id(), o == null ? Coordinator.Outcome.UNREACHABLE
                                : Coordinator.Outcome.valueOf(o.name()), now));
            });
        } else if (e instanceof Effect.Deposed) {
            throw new AssertionError("deposed with a single leader");
        } else if (e instanceof Effect.Reply r) {
            Pending p = pending.remove(r.reqId());
            if (p != null) finish(p, r);
        } else if (e instanceof Effect.Alarm a) {
            throw new AssertionError("alarm: " + a.message());
        }
    }

    /* --- Clients and their history --- */

    private void clientStep(Client cl) {
        if (cl.busy || !leaderUp) return;
        cl.busy = true;
        String key = keys.get(rnd.nextInt(keys.size()));
        int dice = rnd.nextInt(10);
        Op op = dice < 4 ? Op.GET : dice < 8 ? Op.PUT : Op.DELETE;
        String value = op == Op.PUT ? "c" + cl.id + "-" + (cl.n++) : null;
        long req = nextReq++;
        pending.put(req, new Pending(cl, op, key, value, now));
        coordinator.submit(req, op, key, value, now);
        runEffects();
    }

    private void finish(Pending p, Effect.Reply r) {
        p.client.busy = false;
        long ret = now + 1; // the answer travels back after the reply
        boolean noKey = r.status() == 500 && Errors.NO_KEY.equals(r.body());
        switch (p.op) {
            case GET -> {
                if (r.status() == 200) history.add(Operation.get(p.client.id, p.key, new String(r.value(), StandardCharsets.UTF_8), p.call, ret));
                else if (noKey) history.add(Operation.get(p.client.id, p.key, null, p.call, ret));
            }
            case PUT -> {
                if (r.status() == 201) {
                    history.add(Operation.put(p.client.id, p.key, p.value, p.call, ret));
                    acked++;
                } else refused++;
            }
            case DELETE -> {
                if (r.status() == 201) {
                    history.add(Operation.delete(p.client.id, p.key, true, p.call, ret));
                    acked++;
                } else if (noKey) history.add(Operation.delete(p.client.id, p.key, false, p.call, ret));
                else refused++;
            }
        }
    }

    private void finishUnknown(Pending p) {
        p.client.busy = false;
        unknown++;
        if (p.op == Op.PUT) history.add(Operation.put(p.client.id, p.key, p.value, p.call, Long.MAX_VALUE));
        else if (p.op == Op.DELETE) history.add(Operation.delete(p.client.id, p.key, true, p.call, Long.MAX_VALUE));
    }

    /* --- The run --- */

    /** Runs {@code steps} scheduler steps of load and faults, then heals and settles. */
    void run(int steps) {
        for (int i = 0; i < steps; i++) {
            now++;
            for (Client cl : clients) if (rnd.nextInt(4) == 0) clientStep(cl);
            maybeCrash();
            if (now % 20 == 0) background();
            drainUntil(now);
        }
        // Heal: everyone up, no more faults, let phase 2 and recovery finish.
        for (Follower f : followers) if (!f.up) restartFollower(f);
        if (!leaderUp) startLeader();
        for (int i = 0; i < 5_000 && (coordinator.pendingTransactions() > 0 || anyPrepared()); i++) {
            now++;
            if (now % 20 == 0) background();
            drainUntil(now);
        }
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

    /** What the real leader does every tick and every check: time, health, prepared reports. */
    private void background() {
        if (coordinator == null) return;
        coordinator.tick(now);
        for (Follower f : followers) {
            coordinator.followerHealth(f.member.id(), f.up, now);
            if (f.up) {
                List<Coordinator.Held> held = new ArrayList<>();
                for (Participant.Prepared p : f.p.preparedByLeaders()) held.add(new Coordinator.Held(p.tx(), p.key()));
                if (f.p.observeEpoch(epoch).status() == 200 && !held.isEmpty()) coordinator.heldReport(f.member.id(), held, now);
                Participant.Step s = f.p.observeEpoch(epoch);
                f.disk.pending.addAll(s.records());
            }
        }
        runEffects();
    }

    private void maybeCrash() {
        if (rnd.nextDouble() >= faults.crashPerStep()) return;
        int who = rnd.nextInt(followers.size() + 1);
        if (who == followers.size()) {
            if (!leaderUp) return;
            crashLeader();
            at(50 + rnd.nextInt(200), this::startLeader);
        } else {
            Follower f = followers.get(who);
            if (!f.up) return;
            f.crash();
            at(50 + rnd.nextInt(300), () -> restartFollower(f));
        }
    }

    private void restartFollower(Follower f) {
        if (f.up) return;
        f.restart();
    }

    /* --- Checks --- */

    /** Every replica of every key agrees, and nothing is left prepared. */
    String checkReplicas() {
        for (String key : keys) {
            String first = null;
            boolean seen = false;
            for (Member m : ring.replicas(key)) {
                byte[] v = follower(m.id()).p.value(key);
                String s = v == null ? null : new String(v, StandardCharsets.UTF_8);
                if (seen && !java.util.Objects.equals(first, s)) return "replicas of " + key + " disagree: " + first + " vs " + s;
                first = s;
                seen = true;
            }
        }
        if (anyPrepared()) {
            StringBuilder sb = new StringBuilder("a transaction is still prepared after healing (now " + now + ", leader epoch " + epoch
                    + ", coordinator pending " + coordinator.pendingTransactions() + ")");
            for (Follower f : followers) {
                for (Participant.Prepared p : f.p.preparedByLeaders()) {
                    sb.append("; ").append(f.member.host()).append(" holds ").append(p.tx()).append(" on ").append(p.key())
                            .append(" (follower epoch ").append(f.p.epoch()).append(")");
                }
            }
            return sb.toString();
        }
        return null;
    }
}
