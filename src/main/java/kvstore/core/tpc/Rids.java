package kvstore.core.tpc;

import kvstore.core.Errors;
import kvstore.core.Member;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Retries that apply once (SPEC.md section 11). A write with a rid is looked up before it is
 * admitted: a rid already answered gets that answer again (and is not applied again), a rid in
 * flight waits for the first request's answer, a rid with another request is an invalid
 * request. A leader that took office from another (cluster mode) does not know its
 * predecessor's rids for a while: it asks the key's current replicas, which remember the rids
 * of the writes they applied or held prepared, before running the write.
 */
final class Rids {
    /** A lookup of a rid on the followers, for a job waiting on it. */
    private static final class Query {
        final long id;
        final Job job;
        final List<Member> asked;
        int out;
        boolean pending;
        RidMemory.Outcome found;

        Query(long id, Job job, List<Member> asked) {
            this.id = id;
            this.job = job;
            this.asked = asked;
        }
    }

    private final Coordinator c;
    final RidMemory memory;
    private final Map<String, Job> inFlight = new HashMap<>();
    private final Map<String, List<Job>> queriesWaiting = new HashMap<>();
    private final Map<Long, Query> queries = new HashMap<>();
    private long nextQuery = 1;

    Rids(Coordinator c, RidMemory memory) {
        this.c = c;
        this.memory = memory;
    }

    /**
     * Looks the job's rid up. True when the job is taken care of here (answered, waiting for
     * another, or waiting for the followers' answers); false to run it now.
     */
    boolean admit(Job job, long now) {
        if (job.op instanceof ClientOp.RidQuery q) {
            answerQuery(job, q.rid(), now);
            return true;
        }
        if (job.rid == null) return false;
        RidMemory.Outcome o = memory.get(job.rid);
        if (o != null) {
            c.answerOnly(job.reqId, o.fingerprint() == job.fingerprint ? c.replay(job, o) : Answer.error(500, Errors.INVALID_REQUEST));
            return true;
        }
        Job first = inFlight.get(job.rid);
        if (first != null) {
            if (first.fingerprint != job.fingerprint) c.answerOnly(job.reqId, Answer.error(500, Errors.INVALID_REQUEST));
            else first.addWaiter(job.reqId);
            return true;
        }
        inFlight.put(job.rid, job);
        if (c.ridsMayBeElsewhere(now)) {
            List<Member> ask = new ArrayList<>();
            for (var r : c.placement().writeSet(job.keys.get(0))) if (r.current() && c.isUp(r.member().id())) ask.add(r.member());
            if (!ask.isEmpty()) {
                ask(job, ask, now);
                return true;
            }
        }
        return false;
    }

    private void ask(Job job, List<Member> members, long now) {
        Query q = new Query(nextQuery++, job, members);
        queries.put(q.id, q);
        q.out = members.size();
        for (Member m : members) c.effect(new Effect.QueryRid(q.id, m, job.rid, Math.min(job.deadline, now + c.settings().readAttemptMillis())));
    }

    void answered(long queryId, Coordinator.RidReply reply, long now) {
        Query q = queries.get(queryId);
        if (q == null) return;
        q.out--;
        if (reply.state() == Coordinator.RidState.KNOWN && reply.outcome() != null) q.found = reply.outcome();
        if (reply.state() == Coordinator.RidState.PENDING) q.pending = true;
        if (q.out > 0 && q.found == null) return;
        queries.remove(queryId);
        Job job = q.job;
        if (q.found != null) {
            memory.put(q.found);
            if (job.op instanceof ClientOp.RidQuery) {
                c.answerOnly(job.reqId, queryAnswer(job.rid == null ? ((ClientOp.RidQuery) job.op).rid() : job.rid, q.found));
                return;
            }
            inFlight.remove(job.rid);
            Answer a = q.found.fingerprint() == job.fingerprint ? c.replay(job, q.found) : Answer.error(500, Errors.INVALID_REQUEST);
            c.answerOnly(job.reqId, a);
            if (job.waiters != null) for (long w : job.waiters) c.answerOnly(w, a);
            return;
        }
        if (q.pending && job.deadline > now) {
            // A replica holds the write prepared: it is being resolved. Ask again shortly.
            c.askAgainLater(() -> ask(job, q.asked, c.now()));
            return;
        }
        if (job.op instanceof ClientOp.RidQuery rq) c.answerOnly(job.reqId, queryAnswer(rq.rid(), null));
        else c.admitted(job, now);
    }

    /** The job is answered: its outcome is in memory (when it has one) and waiters get the same. */
    void finished(Job job, Answer a) {
        if (job.rid == null) return;
        if (inFlight.get(job.rid) == job) inFlight.remove(job.rid);
        List<Job> waiting = queriesWaiting.remove(job.rid);
        if (waiting != null) for (Job w : waiting) c.answerOnly(w.reqId, queryAnswer(job.rid, memory.get(job.rid)));
    }

    /** {@code GET /api/writes?rid=}: committed, aborted or unknown; a write in flight is waited for. */
    private void answerQuery(Job job, String rid, long now) {
        RidMemory.Outcome o = memory.get(rid);
        if (o != null) {
            c.answerOnly(job.reqId, queryAnswer(rid, o));
        } else if (inFlight.containsKey(rid)) {
            queriesWaiting.computeIfAbsent(rid, k -> new ArrayList<>()).add(job);
        } else if (c.ridsMayBeElsewhere(now)) {
            List<Member> ask = new ArrayList<>();
            for (Member m : c.placement().targetRing().members()) if (c.isUp(m.id())) ask.add(m);
            if (ask.isEmpty()) c.answerOnly(job.reqId, queryAnswer(rid, null));
            else ask(job, ask, now);
        } else {
            c.answerOnly(job.reqId, queryAnswer(rid, null));
        }
    }

    /** A query waiting on a write in flight that ran out of time: the outcome is still unknown. */
    void expire(long now) {
        for (var it = queriesWaiting.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            e.getValue().removeIf(j -> {
                if (j.deadline > now) return false;
                c.answerOnly(j.reqId, queryAnswer(e.getKey(), null));
                return true;
            });
            if (e.getValue().isEmpty()) it.remove();
        }
    }

    static Answer queryAnswer(String rid, RidMemory.Outcome o) {
        StringBuilder sb = new StringBuilder("{\"rid\":");
        Json.quote(sb, rid);
        String state = o == null ? "unknown" : o.committed() ? "committed" : "aborted";
        sb.append(",\"state\":\"").append(state).append("\",\"version\":");
        sb.append(o != null && o.committed() ? String.valueOf(o.version()) : "null").append('}');
        return new Answer(200, sb.toString(), null, -1);
    }

    /** Jobs of other requests that wait for rids (answered at the step-down). */
    List<Long> waitingRequests() {
        List<Long> out = new ArrayList<>();
        for (List<Job> js : queriesWaiting.values()) for (Job j : js) out.add(j.reqId);
        for (Query q : queries.values()) out.add(q.job.reqId);
        return out;
    }
}
