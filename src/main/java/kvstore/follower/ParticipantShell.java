package kvstore.follower;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Errors;
import kvstore.core.KeyRequest;
import kvstore.core.Limits;
import kvstore.core.TxId;
import kvstore.core.Write;
import kvstore.core.log.LogRecord;
import kvstore.core.log.ViewCodec;
import kvstore.core.tpc.Batch;
import kvstore.core.tpc.Participant;
import kvstore.core.tpc.RidMemory;
import kvstore.fault.FaultPoints;
import kvstore.storage.LogStore;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs the leader's messages and a person's hand-driven requests on the {@link Participant}
 * (request, state machine, log, reply — the same path as the leader's): every answer waits for
 * the fsync that covers the records its step produced ("persist before you speak"). It also
 * keeps the lease that makes a follower refuse a claim for a newer epoch while it hears from a
 * live leader of its current epoch (PROTOCOL.md, "Standby leader"). One per follower, on its
 * event loop.
 */
final class ParticipantShell {
    /** How long a follower counts its leader as live after its last message (a few of its checks). */
    static final long LEASE_MILLIS = 2_000;

    /** The answer to a whole batch: 200 with its lines, or a status for all of it (409 stale leader, 421 wrong identity). */
    record BatchAnswer(int status, String body, boolean voted) {
        BatchAnswer(int status, String body) {
            this(status, body, false);
        }
    }

    private final Participant participant;
    private final LogStore log;
    private final Limits limits;
    private final String identity;
    private final java.util.function.Consumer<Boolean> heard;
    private long leaderEpochSeen = -1;
    private long lastLeaderNanos;

    /** Runs a task on this follower's event loop after what is already queued there (its network events included). */
    private final java.util.function.Consumer<Runnable> later;

    ParticipantShell(Participant participant, LogStore log, Limits limits, java.util.function.Consumer<Boolean> heard,
                     java.util.function.Consumer<Runnable> later) {
        this.participant = participant;
        this.later = later;
        this.log = log;
        this.limits = limits;
        this.identity = log.identity();
        this.heard = heard;
    }

    /** Appends a step's records; completes when it may be answered (after every earlier record, too). */
    /** While held for some reason, the log is not compacted (a copy is running: see {@link LogStore#holdCompaction}). */
    void holdCompaction(String reason, boolean hold) {
        log.holdCompaction(reason, hold);
    }

    Future<Void> persist(Participant.Step step) {
        for (LogRecord r : step.records()) log.appendLazy(r);
        return log.barrier();
    }

    /** A leader's message carried an accepted epoch: the leader is live, and a newer epoch is a new leader. */
    private void leaderHeard(long epoch) {
        lastLeaderNanos = System.nanoTime();
        boolean newer = epoch > leaderEpochSeen;
        if (newer) leaderEpochSeen = epoch;
        heard.accept(newer);
    }

    private boolean leaderLive() {
        return leaderEpochSeen >= 0 && System.nanoTime() - lastLeaderNanos < LEASE_MILLIS * 1_000_000L;
    }

    /* --- The leader's batch --- */

    /**
     * Batches that wait, in the order they came, for a pass over the store to end (see
     * {@link #batch}). Bounded: the leader has a few batches on the wire at a time; past
     * {@link #MAX_WAITING} the pass is finished at once, as it was before batches waited.
     */
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    static final int MAX_WAITING = 16;

    private record Waiting(long epoch, String to, List<Batch.Item> items, Promise<BatchAnswer> answer) {}

    /**
     * A leader's batch. One that brings a newer view while a pass over the store is still
     * dropping what the last view took away ({@link Participant#sweep}) waits for the pass to
     * end, and every batch after it waits behind it: the view would otherwise finish the pass at
     * once, on the event loop (about a second per million keys), and the follower would answer
     * nothing, its checks included, for as long, and be taken for paused. Meanwhile the pass
     * goes on a slice at a time and the follower answers checks, status and copy pages.
     */
    Future<BatchAnswer> batch(long epoch, String to, List<Batch.Item> items) {
        if (waiting.isEmpty() && !mustWait(items)) return run(epoch, to, items);
        Promise<BatchAnswer> answer = Promise.promise();
        waiting.add(new Waiting(epoch, to, items, answer));
        if (waiting.size() > MAX_WAITING) runAllNow();
        else if (waiting.size() == 1) later.accept(this::sweepThenRun);
        return answer.future();
    }

    /** More than the leader ever has on the wire: every batch runs now, in order, each pass finished at once. */
    private void runAllNow() {
        while (!waiting.isEmpty()) {
            participant.sweep(Integer.MAX_VALUE);
            Waiting w = waiting.poll();
            run(w.epoch(), w.to(), w.items()).onComplete(w.answer());
        }
    }

    /** A newer view in a batch while a pass is pending. */
    private boolean mustWait(List<Batch.Item> items) {
        if (!participant.sweeping()) return false;
        for (Batch.Item item : items) {
            if (item instanceof Batch.ViewItem v && v.view().newerThan(participant.view())) return true;
        }
        return false;
    }

    /** One slice of the pass, then again later; once it is over, the waiting batches run in order. */
    private void sweepThenRun() {
        if (waiting.isEmpty()) return;
        if (mustWait(waiting.peek().items()) && participant.sweep(Participant.SWEEP_SLICE)) {
            later.accept(this::sweepThenRun);
            return;
        }
        runWaiting();
    }

    /** Runs the waiting batches in order, until one must wait for a pass again (a view it ran began one). */
    private void runWaiting() {
        while (!waiting.isEmpty()) {
            Waiting w = waiting.peek();
            if (mustWait(w.items())) {
                later.accept(this::sweepThenRun);
                return;
            }
            waiting.poll();
            run(w.epoch(), w.to(), w.items()).onComplete(w.answer());
        }
    }

    private Future<BatchAnswer> run(long epoch, String to, List<Batch.Item> items) {
        if (to != null && !to.equals(identity)) return Future.succeededFuture(new BatchAnswer(421, Errors.NOT_THIS_FOLLOWER));
        Participant.Step epochStep = participant.observeEpoch(epoch);
        if (epochStep.status() != 200) return Future.succeededFuture(new BatchAnswer(409, Errors.STALE_LEADER));
        leaderHeard(epoch);
        List<LogRecord> records = new ArrayList<>(epochStep.records());
        StringBuilder out = new StringBuilder(items.size() * 12);
        boolean voted = false, committed = false, writes = !records.isEmpty();
        long now = System.currentTimeMillis();
        for (Batch.Item item : items) {
            Batch.Answer a;
            if (item instanceof Batch.ViewItem v) {
                Participant.Step s = participant.learnView(v.view());
                records.addAll(s.records());
                writes |= !s.records().isEmpty();
                a = new Batch.Answer(200, participant.view() == null ? 0 : participant.view().number(), "");
            } else if (item instanceof Batch.Prepare p) {
                writes = true;
                String invalid = invalid(p.writes());
                if (invalid != null) {
                    a = new Batch.Answer(500, 0, invalid);
                } else {
                    FaultPoints.hit("follower.before-prepare");
                    Participant.Step s = participant.prepare(p.tx(), epoch, p.writes(), p.rid(), now);
                    records.addAll(s.records());
                    voted |= s.status() == 202;
                    a = new Batch.Answer(s.status(), s.version(), s.body());
                }
            } else if (item instanceof Batch.Commit c) {
                writes = true;
                Participant.Step s = participant.commit(c.tx(), epoch, c.version(), c.rid());
                records.addAll(s.records());
                committed |= s.status() == 204;
                a = new Batch.Answer(s.status(), 0, s.body());
            } else if (item instanceof Batch.Abort ab) {
                writes = true;
                Participant.Step s = participant.abort(ab.tx(), epoch, ab.rid());
                records.addAll(s.records());
                a = new Batch.Answer(s.status(), 0, s.body());
            } else if (item instanceof Batch.Read r) {
                a = read(r.key());
            } else if (item instanceof Batch.Outcome o) {
                Participant.Outcome outcome = participant.outcome(o.tx());
                long version = outcome == Participant.Outcome.COMMITTED ? participant.committedVersion(o.tx()) : 0;
                a = new Batch.Answer(200, version, outcome.name().toLowerCase(Locale.ROOT));
            } else {
                a = rid(((Batch.RidQuery) item).rid());
            }
            Batch.encode(a, out);
        }
        String body = out.toString();
        if (!writes) return Future.succeededFuture(new BatchAnswer(200, body));
        boolean anyYes = voted, anyCommit = committed;
        return persist(new Participant.Step(200, "", 0, records)).map(v -> {
            if (anyYes) FaultPoints.hit("follower.after-prepare-fsync");
            if (anyCommit) FaultPoints.hit("follower.after-commit-fsync");
            return new BatchAnswer(200, body, anyYes);
        });
    }

    private String invalid(List<Write> writes) {
        for (Write w : writes) {
            if (w.kind() == Write.Kind.CHECK) continue;
            String e = KeyRequest.validate(w.kind() == Write.Kind.PUT ? kvstore.core.Op.PUT : kvstore.core.Op.DELETE, w.key(), w.value(), limits);
            if (e != null) return e;
        }
        return null;
    }

    private Batch.Answer read(String key) {
        Participant.Read r = participant.read(key, true);
        return switch (r.result()) {
            case VALUE -> new Batch.Answer(200, r.version(), new String(r.value(), java.nio.charset.StandardCharsets.UTF_8));
            case NO_KEY -> new Batch.Answer(500, 0, Errors.NO_KEY);
            case PENDING -> new Batch.Answer(503, 0, Errors.PENDING);
            case NOT_CURRENT -> new Batch.Answer(503, 0, Errors.NOT_CURRENT);
        };
    }

    private Batch.Answer rid(String rid) {
        RidMemory.Outcome o = participant.rid(rid);
        if (o != null) {
            return new Batch.Answer(200, o.version(), List.of("known", String.valueOf(o.fingerprint()), String.valueOf(o.status()),
                    o.body(), String.valueOf(o.atMillis())));
        }
        return new Batch.Answer(200, 0, participant.ridPending(rid) ? "pending" : "unknown");
    }

    /* --- Health checks and epoch claims --- */

    /**
     * {@code GET /tpc/check?epoch=E[&claim=1]}: this follower's identity, epoch, view, highest
     * version, copy progress and prepared transactions. A claim (a leader taking office) is
     * accepted only above every epoch accepted so far and when no live leader of the current
     * epoch has been heard from within the lease.
     */
    Future<Object> check(long epoch, boolean claim, String to, CopyProgress copy) {
        if (to != null && !to.equals(identity)) return Future.succeededFuture(421);
        Participant.Step step = claim ? participant.claimEpoch(epoch, leaderLive())
                : participant.observeEpoch(epoch);
        if (step.status() != 200) return Future.succeededFuture(409);
        if (!claim || step.ok()) leaderHeard(epoch);
        return persist(step).map(v -> {
            JsonArray held = new JsonArray();
            for (Participant.Prepared pr : participant.preparedByLeaders()) {
                JsonArray keys = new JsonArray();
                for (Write w : pr.writes()) keys.add(w.key());
                held.add(new JsonObject().put("tx", pr.tx().toString()).put("keys", keys).put("rid", pr.rid()));
            }
            JsonObject o = new JsonObject()
                    .put("identity", identity)
                    .put("epoch", participant.epoch())
                    .put("keys", participant.keyCount())
                    .put("version", participant.highVersion())
                    .put("view", participant.view() == null ? 0 : participant.view().number())
                    .put("state", participant.state())
                    .put("copied", participant.copiedRound())
                    .put("copiedKeys", copy.keys())
                    .put("copiedBytes", copy.bytes())
                    .put("copyRound", copy.round())
                    .put("copyRoundKeys", copy.roundKeys())
                    .put("copyRoundBytes", copy.roundBytes())
                    .put("held", held);
            if (claim && participant.view() != null) o.put("fullView", ViewCodec.toText(participant.view()));
            return o;
        });
    }

    /** What the copier has done so far, for the leader's progress figures. */
    record CopyProgress(long keys, long bytes, long round, long roundKeys, long roundBytes) {}

    /* --- A person's requests (the seed's participant API, SPEC.md section 3) --- */

    /** PUT or DELETE: with tx and epoch a leader's single prepare, without the manual slot. */
    Future<Participant.Step> prepare(KeyRequest kr) {
        FaultPoints.hit("follower.before-prepare");
        Write w = kr.op() == kvstore.core.Op.PUT ? Write.put(kr.key(), kr.value()) : Write.delete(kr.key());
        Participant.Step step = kr.tx() != null
                ? participant.prepare(kr.tx(), kr.epoch(), List.of(w), null, System.currentTimeMillis())
                : participant.prepareByHand(w, System.currentTimeMillis());
        if (step.status() == 409) return Future.succeededFuture(step);
        if (kr.tx() != null) leaderHeard(kr.epoch());
        return persist(step).map(v -> {
            if (step.status() == 202) FaultPoints.hit("follower.after-prepare-fsync");
            return step;
        });
    }

    /** POST /commit or /abort, with tx and epoch (deciding a leader's transaction by hand) or without (the manual slot). */
    Future<Participant.Step> decide(TxId tx, long epoch, boolean commit) {
        Participant.Step step = commit ? participant.commit(tx, epoch, 0, null) : participant.abort(tx, epoch, null);
        if (step.status() == 409) return Future.succeededFuture(step);
        return persist(step).map(v -> {
            if (commit && step.status() == 204) FaultPoints.hit("follower.after-commit-fsync");
            return step;
        });
    }

    /** A leader's single read ({@code GET /?key=K&epoch=E}). */
    Future<Participant.Step> leaderRead(long epoch) {
        Participant.Step step = participant.observeEpoch(epoch);
        if (step.status() != 200) return Future.succeededFuture(step);
        leaderHeard(epoch);
        return persist(step).map(v -> step);
    }

    String identity() {
        return identity;
    }
}
