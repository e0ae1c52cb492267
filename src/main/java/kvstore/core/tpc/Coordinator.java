package kvstore.core.tpc;

import kvstore.core.Errors;
import kvstore.core.Member;
import kvstore.core.TxId;
import kvstore.core.Write;
import kvstore.core.log.LogRecord;
import kvstore.core.view.Placement;
import kvstore.core.view.View;
import kvstore.core.view.ViewMember;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The leader's side of the protocol (PROTOCOL.md, "Write path", "Read path", "Deadlines",
 * "Versions"), as a state machine with no I/O, no clock and no threads. Events come in as
 * method calls with the time as a parameter; what to do comes out as {@link Effect}s that the
 * {@link EffectRunner} drains and runs in order.
 *
 * <p>It is the hub of a few parts, each with one job: {@link Lanes} (per-key order),
 * {@link Reads}, {@link Writes} (two-phase commit and phase 2), {@link TxnPlan} (what a
 * transaction does once it has read), {@link Inherited} (transactions of earlier epochs) and
 * {@link Rids} (retries that apply once). The coordinator admits client operations, owns
 * their deadlines and answers, and knows the membership ({@link Placement}), who is up, and
 * the highest version given.
 *
 * <h2>Invariants</h2>
 * Never an error answer after a commit decision (the answer is the commit, or, past the
 * deadline, no answer at all); never phase 2 before the decision is durable; at most one
 * unsettled write per key at a time, except for transactions inherited from an earlier epoch;
 * a version above every version any replica of the keys holds.
 */
public final class Coordinator implements Lanes.Ready {

    /**
     * @param opTimeoutMillis     a client operation's deadline, from admission to answer
     * @param prepareTimeoutMillis how long a replica may take to vote (a paused one costs its keys no more)
     * @param readAttemptMillis   how long one replica may take to answer a read before the next is asked
     * @param replyAfterFirstAck  cluster mode: answer a commit only once a replica holds it, so a
     *                            standby that takes over finds every acknowledged decision
     * @param resolveHeldByQuery  cluster mode: resolve inherited transactions by asking the replicas
     * @param wallOffsetMillis    wall-clock time minus the {@code now} the shell passes (for rid records)
     */
    public record Settings(long opTimeoutMillis, long prepareTimeoutMillis, long readAttemptMillis, long phase2TimeoutMillis,
                           int maxPendingPhase2, long retryBaseMillis, long retryCapMillis,
                           boolean replyAfterFirstAck, boolean resolveHeldByQuery, long wallOffsetMillis) {
        public static Settings defaults() {
            return new Settings(5_000, 1_500, 750, 3_000, 100_000, 25, 1_000, false, false, 0);
        }

        public static Settings cluster() {
            return new Settings(5_000, 1_500, 750, 3_000, 100_000, 25, 1_000, true, true, 0);
        }
    }

    public enum VoteKind { YES, NO, UNKNOWN, STALE }

    /** A replica's phase-1 answer: its kind, its error body for a no, the highest version it holds of the keys. */
    public record Vote(VoteKind kind, String reason, long version) {}

    /**
     * How a replica answered phase 2. REFUSED: it says it never prepared the tx. GONE: it was
     * evicted (its view says so before ours does) and holds nothing of it any more.
     */
    public enum Phase2Result { ACK, RETRY, REFUSED, STALE, GONE }

    /** ELSEWHERE: pending, not current there, unreachable or refused: try another replica. */
    public enum ReadResult { VALUE, NO_KEY, ELSEWHERE, STALE }

    public record ReadReply(ReadResult result, byte[] value, long version) {}

    /** A replica's answer to "what became of tx?". UNREACHABLE: no answer, ask again. */
    public enum Outcome { COMMITTED, ABORTED, PREPARED, UNKNOWN, UNREACHABLE }

    public record OutcomeReply(Outcome outcome, long version) {}

    /** A replica's answer about a rid: known (with its outcome), held prepared (ask again), unknown. */
    public enum RidState { KNOWN, PENDING, UNKNOWN, UNREACHABLE }

    public record RidReply(RidState state, RidMemory.Outcome outcome) {}

    /** A prepared transaction a follower reports holding. */
    public record Held(TxId tx, List<String> keys, String rid) {}

    private static final int PHASE2_PER_TICK = 4_096;

    private final Settings settings;
    private final long epoch;
    private long nextSeq = 1;
    private Placement placement;
    /** A newer view being made durable, not yet acted on (null: none): a standby may adopt it. */
    private Placement proposed;
    private final Map<Long, Member> known = new HashMap<>();
    private final Map<Long, Boolean> up = new HashMap<>();
    private final Lanes lanes = new Lanes(this);
    private final Reads reads = new Reads(this);
    private final Writes writes = new Writes(this);
    private final Inherited inherited = new Inherited(this);
    private final long startedMillis;
    private final Rids rids;
    private final Map<TxId, Transaction> txs = new HashMap<>();
    private final Map<Long, Job> jobs = new LinkedHashMap<>();
    private final Map<Long, Runnable> onDurable = new HashMap<>();
    private final List<Runnable> later = new ArrayList<>();
    private final List<Effect> effects = new ArrayList<>();
    private final long ridsElsewhereUntil;
    private long nextToken = 1;
    private long lastVersion;
    private long commits, aborts;
    private long now;
    private boolean deposed;
    private boolean steppedDown;

    /**
     * @param undecided          decisions in the leader's log without an END: phase 2 restarts for them
     * @param highVersion        the highest version our log or any follower reported: we give versions above it
     * @param ridsElsewhereUntil until then (cluster mode, after taking office), a rid we do not know
     *                           may be known to the followers: ask them before running the write
     */
    public Coordinator(Settings settings, long epoch, View view, List<LogRecord.Decision> undecided, long highVersion,
                       RidMemory rids, long ridsElsewhereUntil, long now) {
        this.settings = settings;
        this.epoch = epoch;
        this.rids = new Rids(this, rids);
        this.ridsElsewhereUntil = ridsElsewhereUntil;
        this.now = now;
        this.startedMillis = now;
        this.lastVersion = highVersion;
        useView(view, now);
        for (LogRecord.Decision d : undecided) {
            lastVersion = Math.max(lastVersion, d.version());
            inherited.fromLog(d, now);
        }
    }

    /** The effects produced since the last call, in the order they must run. */
    public List<Effect> drainEffects() {
        if (effects.isEmpty()) return List.of();
        List<Effect> out = new ArrayList<>(effects);
        effects.clear();
        return out;
    }

    /* --- Client operations: admission, deadlines, answers --- */

    public void submit(long reqId, ClientOp op, long now) {
        this.now = now;
        if (steppedDown) {
            effect(new Effect.Reply(reqId, Answer.error(503, Errors.UNABLE)));
            return;
        }
        Job job = new Job(reqId, op, now + settings.opTimeoutMillis());
        jobs.put(reqId, job);
        if (!rids.admit(job, now)) admitted(job, now);
    }

    /** The job may run: it queues for its keys' lanes. */
    void admitted(Job job, long now) {
        lanes.enqueue(job);
    }

    /** Lanes: the job holds every lane it needs. */
    @Override
    public void ready(Job job) {
        if (job.op instanceof ClientOp.Get g) {
            job.phase = Job.Phase.READING;
            reads.start(job, g.key(), now);
            return;
        }
        job.phase = Job.Phase.SETTLING;
        startIfSettled(job);
    }

    /**
     * A write prepares only once every earlier write of its keys is settled on every replica;
     * if one is unsettled on a replica that is down it fails now rather than wait for it.
     */
    private void startIfSettled(Job job) {
        boolean wait = false;
        for (String key : job.keys) {
            Lanes.Lane lane = lanes.peek(key);
            if (lane == null) continue;
            for (Transaction tx : lane.unsettled) {
                for (Transaction.Slot s : tx.slots) {
                    if (!s.state.unsettled()) continue;
                    if (!isUp(s.member.id())) {
                        answer(job, Answer.error(500, Errors.UNABLE), now);
                        return;
                    }
                    wait = true;
                }
            }
        }
        if (wait) return;
        if (job.op instanceof ClientOp.Put p) {
            Write w = p.delete() ? Write.delete(p.key()) : Write.put(p.key(), p.value());
            writes.start(job, Map.of(p.key(), List.of(p.ifVersion() >= 0 ? w.withCondition(p.ifVersion()) : w)), now);
        } else if (job.op instanceof ClientOp.Txn t) {
            job.phase = Job.Phase.READING;
            job.readsOut = job.keys.size();
            if (job.keys.isEmpty()) { // nothing to read or write: it succeeds at once
                answer(job, new Answer(200, TxnPlan.of(t.request(), job.read).answer(lastVersion), null, -1), now);
                return;
            }
            for (String key : job.keys) reads.start(job, key, now);
        }
    }

    /** A read of one of the job's keys is over ({@code result} null: no replica could answer). */
    void readFinished(Job job, String key, Reads.Result result, long now) {
        if (job.phase != Job.Phase.READING) return;
        if (result == null) {
            answer(job, Answer.error(500, Errors.UNABLE), now);
            return;
        }
        if (job.op instanceof ClientOp.Get) {
            answer(job, result.value() == null ? Answer.error(500, Errors.NO_KEY) : new Answer(200, null, result.value(), result.version()), now);
            return;
        }
        job.read.put(key, result);
        if (--job.readsOut > 0) return;
        TxnPlan plan = TxnPlan.of(((ClientOp.Txn) job.op).request(), job.read);
        job.plan = plan;
        if (plan.writes()) {
            writes.start(job, plan.writes, now);
            return;
        }
        answer(job, new Answer(200, plan.answer(lastVersion), null, -1), now);
    }

    /** The job's commit is durable (and, in cluster mode, held by a replica): its answer. */
    void committed(Job job, long now) {
        if (job.phase != Job.Phase.DECIDED) return;
        answer(job, committedAnswer(job, job.tx.version), now);
    }

    private Answer committedAnswer(Job job, long version) {
        if (job.plan != null) return new Answer(200, job.plan.answer(version), null, -1);
        return new Answer(201, "", null, version);
    }

    /** The rid outcome of a transaction about to be decided commit: recorded with the decision. */
    RidMemory.Outcome txnAnswered(Transaction tx, long now) {
        Job job = tx.job;
        if (job == null || job.rid == null) return null;
        job.recorded = true;
        Answer a = committedAnswer(job, tx.version);
        return outcome(job, a, now);
    }

    private RidMemory.Outcome outcome(Job job, Answer a, long now) {
        return new RidMemory.Outcome(job.rid, job.fingerprint, a.status(), a.version(), a.body() == null ? "" : a.body(),
                now + settings.wallOffsetMillis());
    }

    /** The replicas refused the write; phase 2's aborts carry the rid's outcome so the followers remember it too. */
    void refused(Job job, Answer a, long now) {
        if (job == null) return;
        if (job.rid != null && job.tx != null) job.tx.rid = outcome(job, a, now);
        answer(job, a, now);
    }

    /** The answer a repeated rid gets: the first one's (a PUT's or DELETE's body is filled in by the HTTP layer). */
    Answer replay(Job job, RidMemory.Outcome o) {
        return new Answer(o.status(), o.body(), null, o.status() == 412 || o.committed() ? o.version() : -1);
    }

    /**
     * Answers a job. An admitted request with a rid that gets an outcome (a refusal, or a
     * transaction that wrote nothing) has it made durable first, so a repeat after a restart
     * gets the same (SPEC.md section 11); a commit's outcome was recorded with its decision.
     */
    void answer(Job job, Answer a, long now) {
        if (job.phase == Job.Phase.DONE || job.recording) return;
        boolean remember = job.rid != null && !job.recorded && !a.close() && a.status() != 503;
        if (!remember) {
            deliver(job, a);
            return;
        }
        job.recording = true;
        job.recorded = true;
        RidMemory.Outcome o = job.tx != null && job.tx.rid != null ? job.tx.rid : outcome(job, a, now);
        appendThen(List.of(o.record()), () -> {
            rids.memory.put(o);
            job.recording = false;
            deliver(job, a);
        });
    }

    /** Sends the answer to the job and every request waiting on its rid, and lets its lanes go. */
    private void deliver(Job job, Answer a) {
        if (job.phase == Job.Phase.DONE) return;
        job.phase = Job.Phase.DONE;
        answerOnly(job.reqId, a);
        if (job.waiters != null) for (long w : job.waiters) answerOnly(w, a);
        rids.finished(job, a);
        reads.drop(job);
        Transaction tx = job.tx;
        if (tx != null && !tx.settled()) for (String key : tx.keys) lanes.get(key).unsettled.add(tx);
        lanes.release(job);
        if (tx != null && tx.settled()) forget(tx);
    }

    void answerOnly(long reqId, Answer a) {
        jobs.remove(reqId);
        effect(new Effect.Reply(reqId, a));
    }

    /* --- Transactions --- */

    TxId newTxId() {
        return new TxId(epoch, nextSeq++);
    }

    void track(Transaction tx) {
        txs.put(tx.id, tx);
    }

    /** An inherited transaction holds its keys from the start. */
    void trackInherited(Transaction tx) {
        txs.put(tx.id, tx);
        for (String key : tx.keys) lanes.get(key).unsettled.add(tx);
    }

    /** An inherited transaction turned out to hold one more key: it holds that key's lane too. */
    void trackKey(Transaction tx, String key) {
        lanes.get(key).unsettled.add(tx);
    }

    /** Forgets a settled transaction once no job holds it; lets the writes waiting on it go. */
    void settleIfDone(Transaction tx, long now) {
        if (!tx.settled()) {
            reads.kick(now); // an acknowledgement may have made a replica readable
            return;
        }
        if (tx.job != null && tx.job.phase != Job.Phase.DONE) return; // answer() forgets it
        forget(tx);
        for (String key : tx.keys) {
            Lanes.Lane lane = lanes.peek(key);
            if (lane == null) continue;
            lane.unsettled.remove(tx);
            if (lane.owner != null && lane.owner.phase == Job.Phase.SETTLING) startIfSettled(lane.owner);
            lanes.pump(lane);
        }
        reads.kick(now);
    }

    private void forget(Transaction tx) {
        if (txs.remove(tx.id) != null && tx.committed()) effect(new Effect.Append(List.of(new LogRecord.End(tx.id)), 0));
    }

    long nextVersion(long heldByReplicas) {
        lastVersion = Math.max(lastVersion, heldByReplicas) + 1;
        return lastVersion;
    }

    /** A follower holds versions up to {@code v}: ours will be above. */
    public void observeVersion(long v) {
        lastVersion = Math.max(lastVersion, v);
    }

    /* --- Events from the shell --- */

    public void voted(TxId txId, long followerId, Vote vote, long now) {
        this.now = now;
        Transaction tx = txs.get(txId);
        Transaction.Slot s = tx == null ? null : tx.slot(followerId);
        if (s != null) writes.voted(tx, s, vote, now);
    }

    /** Records appended with {@code token} are durable. */
    public void durable(long token, long now) {
        this.now = now;
        Runnable r = onDurable.remove(token);
        if (r != null) r.run();
    }

    public void phase2Done(TxId txId, long followerId, Phase2Result result, long now) {
        this.now = now;
        Transaction tx = txs.get(txId);
        Transaction.Slot s = tx == null ? null : tx.slot(followerId);
        if (s != null) writes.phase2Done(tx, s, result, now);
    }

    public void readDone(long readId, long followerId, ReadReply reply, long now) {
        this.now = now;
        reads.done(readId, reply, now);
    }

    public void outcomeKnown(TxId tx, long followerId, OutcomeReply reply, long now) {
        this.now = now;
        inherited.outcome(tx, followerId, reply, now);
    }

    public void ridAnswered(long queryId, long followerId, RidReply reply, long now) {
        this.now = now;
        rids.answered(queryId, reply, now);
    }

    /** A follower's prepared transactions, reported by its health check or its acceptance of our epoch. */
    public void heldReport(long followerId, List<Held> held, long now) {
        this.now = now;
        Member m = member(followerId);
        if (m == null) return;
        for (Held h : held) inherited.held(m, h, now);
    }

    public void followerHealth(long followerId, boolean isUp, long now) {
        this.now = now;
        Boolean was = up.put(followerId, isUp);
        if (was != null && was == isUp) return;
        if (!isUp) {
            writes.followerDown(followerId);
            for (Job job : new ArrayList<>(jobs.values())) if (job.phase == Job.Phase.SETTLING) startIfSettled(job);
        } else {
            writes.tick(now, PHASE2_PER_TICK);
        }
        reads.kick(now);
    }

    /**
     * Acts on a new view: writes prepare on its replica sets from now on (those in flight keep
     * theirs), and members it evicted take no further part in any transaction.
     */
    public void useView(View view, long now) {
        this.now = now;
        Placement old = placement;
        placement = new Placement(view);
        if (proposed != null && !proposed.view().newerThan(view)) proposed = null;
        for (Member m : view.base()) known.put(m.id(), m);
        for (ViewMember m : view.members()) known.put(m.member().id(), m.member());
        if (old == null) return;
        for (Member m : new ArrayList<>(known.values())) {
            ViewMember before = old.view().member(m.id()), after = view.member(m.id());
            // Evicted, or evicted and back as another membership (a wiped disk, a rejoin): the
            // replica that took part in our transactions is gone, whatever answers at its address.
            boolean renewed = before != null && after != null
                    && (before.since() != after.since()
                        || before.identity() != null && after.identity() != null && !before.identity().equals(after.identity()));
            if (!isMember(m.id()) || renewed) writes.forget(m, now);
        }
    }

    /**
     * False while evicting the member could lose the outcome of a transaction: it acknowledged a
     * commit that another replica has not, or it has not yet answered about a transaction found
     * prepared that is being resolved by asking the replicas (it may be the one that committed).
     */
    public boolean mayEvict(long memberId) {
        // Cluster mode: a new leader learns what its predecessor decided only from the replicas'
        // reports; until every follower has had time to report, any of them may be the one that knows.
        if (settings.resolveHeldByQuery() && now - startedMillis < 2 * settings.phase2TimeoutMillis()) return false;
        for (Transaction tx : txs.values()) {
            if (tx.state == Transaction.State.RESOLVING && inherited.awaits(tx.id, memberId)) return false;
            if (!tx.committed()) continue;
            Transaction.Slot mine = tx.slot(memberId);
            if (mine == null || mine.state != SlotState.SETTLED) continue;
            for (Transaction.Slot s : tx.slots) if (s != mine && s.state.unsettled()) return false;
        }
        return true;
    }

    /** True when every transaction begun under a view older than {@code viewNumber} is settled on the replicas that are up. */
    public boolean settledBefore(long viewNumber) {
        for (Transaction tx : txs.values()) {
            if (tx.view >= viewNumber) continue;
            if (!tx.committed() && tx.state != Transaction.State.ABORTED) return false;
            for (Transaction.Slot s : tx.slots) if (s.state.unsettled() && isUp(s.member.id())) return false;
        }
        return true;
    }

    /** Expires what is past its deadline, retries what waits, sends phase 2 that is due. Call every ~50-100 ms. */
    public void tick(long now) {
        this.now = now;
        for (Job job : lanes.waitingJobs()) if (job.deadline <= now) answer(job, Answer.error(500, Errors.UNABLE), now);
        for (Job job : new ArrayList<>(jobs.values())) {
            if (job.deadline > now) continue;
            if (job.phase == Job.Phase.SETTLING) answer(job, Answer.error(500, Errors.UNABLE), now);
            else if (job.phase == Job.Phase.DECIDED) answer(job, Answer.CLOSE, now); // decided, not yet answerable: no answer
        }
        reads.tick(now);
        rids.expire(now);
        writes.tick(now, PHASE2_PER_TICK);
        if (!later.isEmpty()) {
            List<Runnable> due = new ArrayList<>(later);
            later.clear();
            for (Runnable r : due) r.run();
        }
    }

    /**
     * This leader steps down: every operation not yet answered is answered now — 503 if nothing
     * was decided for it, no answer at all (the connection closes) if a commit was decided, since
     * its outcome is then the new leader's to give. Nothing happens here afterwards.
     */
    public void stepDown(long now) {
        this.now = now;
        if (steppedDown) return;
        steppedDown = true;
        for (Job job : new ArrayList<>(jobs.values())) {
            Answer a = job.tx != null && job.tx.decided() ? Answer.CLOSE : Answer.error(503, Errors.UNABLE);
            answerOnly(job.reqId, a);
            if (job.waiters != null) for (long w : job.waiters) answerOnly(w, a);
        }
        for (long reqId : rids.waitingRequests()) answerOnly(reqId, Answer.error(503, Errors.UNABLE));
        jobs.clear();
    }

    /* --- For the parts --- */

    void effect(Effect e) {
        if (!steppedDown || e instanceof Effect.Reply) effects.add(e);
    }

    /** Appends records; {@code then} runs once they are durable. */
    void appendThen(List<LogRecord> records, Runnable then) {
        long token = nextToken++;
        onDurable.put(token, then);
        effect(new Effect.Append(records, token));
    }

    /** Runs {@code r} at the next tick (a retry without a timer of its own). */
    void askAgainLater(Runnable r) {
        later.add(r);
    }

    /** A follower refused us as stale: it has accepted a newer leader's epoch. Said once; the shell decides. */
    void deposedBy(Member m) {
        if (deposed) return;
        deposed = true;
        effect(new Effect.Deposed());
    }

    void remember(RidMemory.Outcome o) { rids.memory.put(o); }

    void countCommit() { commits++; }

    void countAbort() { aborts++; }

    public boolean isUp(long followerId) {
        return up.getOrDefault(followerId, false);
    }

    /** A member of the current view: in the target, or in the base and not gone. */
    boolean isMember(long id) {
        View v = placement.view();
        if (v.member(id) != null) return true;
        return v.inBase(id) && !v.gone().contains(id);
    }

    /** The member's membership began after view {@code view} (0: unknown): it never saw what was prepared then. */
    boolean joinedAfter(long id, long view) {
        ViewMember m = placement.view().member(id);
        return view > 0 && m != null && m.since() > view;
    }

    Member member(long id) {
        return known.get(id);
    }

    boolean ridsMayBeElsewhere(long now) {
        return now < ridsElsewhereUntil;
    }

    Lanes lanes() { return lanes; }

    Writes writes() { return writes; }

    Transaction transaction(TxId id) { return txs.get(id); }

    Collection<Transaction> transactions() { return new ArrayList<>(txs.values()); }

    long nextSeq() { return nextSeq; }

    long now() { return now; }

    Settings settings() { return settings; }

    /* --- Views for status, metrics and the membership --- */

    public Placement placement() { return placement; }

    /**
     * A newer view is being made durable (before any follower can log it). Until it is acted on,
     * a commit's acknowledgement answers the client only from a member that is a current replica
     * in it too: a standby taking over may adopt that view, and asks only its replicas.
     */
    public void viewProposed(View view) {
        if (view.newerThan(placement.view())) proposed = new Placement(view);
    }

    /** The view proposed and not yet acted on, if any. */
    Placement proposed() { return proposed; }

    public long epoch() { return epoch; }

    public long commits() { return commits; }

    public long aborts() { return aborts; }

    /** The highest version given (or seen): an answer with no write reports it. */
    public long lastVersion() { return lastVersion; }

    /** Transactions not yet settled (in phase 1, deciding, or with phase 2 outstanding). */
    public int pendingTransactions() { return txs.size(); }

    public int pendingPhase2() { return writes.pendingPhase2(); }

    /** Phase-2 messages not yet acknowledged by one follower. */
    public int pendingPhase2At(long followerId) { return writes.pendingPhase2At(followerId); }

    /** Client operations admitted and not yet answered. */
    public int pendingOperations() { return jobs.size(); }
}
