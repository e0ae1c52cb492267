package kvstore.core.tpc;

import kvstore.core.Member;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads of one key for a job (PROTOCOL.md, "Read path"): from the first replica, in placement
 * order, that holds the key's latest value, is up and has acknowledged every decided write of
 * the key. Each attempt has its own deadline; one that fails or times out moves on to the next
 * replica. When no replica can be asked right now the read waits (a tick, an acknowledgement or
 * a follower coming up retries it) until the job's deadline.
 */
final class Reads {
    /** What a read found: the value (null: no key) and its version. */
    record Result(byte[] value, long version) {}

    private static final class KeyRead {
        final long id;
        final Job job;
        final String key;
        final List<Member> replicas;
        int next;
        boolean inFlight;
        boolean parked;

        KeyRead(long id, Job job, String key, List<Member> replicas) {
            this.id = id;
            this.job = job;
            this.key = key;
            this.replicas = replicas;
        }
    }

    private final Coordinator c;
    private final Map<Long, KeyRead> byId = new HashMap<>();
    private long nextId = 1;

    Reads(Coordinator c) {
        this.c = c;
    }

    void start(Job job, String key, long now) {
        KeyRead r = new KeyRead(nextId++, job, key, c.placement().readSet(key));
        byId.put(r.id, r);
        attempt(r, now);
    }

    private void attempt(KeyRead r, long now) {
        Lanes.Lane lane = c.lanes().peek(r.key);
        for (int i = r.next; i < r.replicas.size(); i++) {
            Member m = r.replicas.get(i);
            if (c.isUp(m.id()) && (lane == null || !lane.unsettledAt(m.id()))) {
                r.next = i + 1;
                r.inFlight = true;
                r.parked = false;
                c.effect(new Effect.SendRead(r.id, m, r.key, Math.min(r.job.deadline, now + c.settings().readAttemptMillis())));
                return;
            }
        }
        boolean anyUp = false;
        for (Member m : r.replicas) anyUp |= c.isUp(m.id());
        if (!anyUp) {
            finish(r, null, now);
            return;
        }
        r.parked = true;
    }

    void done(long readId, Coordinator.ReadReply reply, long now) {
        KeyRead r = byId.get(readId);
        if (r == null || !r.inFlight) return;
        r.inFlight = false;
        switch (reply.result()) {
            case VALUE -> finish(r, new Result(reply.value(), reply.version()), now);
            case NO_KEY -> finish(r, new Result(null, 0), now);
            case ELSEWHERE -> attempt(r, now);
            case STALE -> {
                c.deposedBy(r.replicas.get(r.next - 1));
                attempt(r, now);
            }
        }
    }

    /** {@code result} null: no replica could answer. */
    private void finish(KeyRead r, Result result, long now) {
        byId.remove(r.id);
        c.readFinished(r.job, r.key, result, now);
    }

    /** Retries parked reads and gives up those past their job's deadline. */
    void tick(long now) {
        for (KeyRead r : new ArrayList<>(byId.values())) {
            if (!r.parked) continue;
            if (r.job.deadline <= now) finish(r, null, now);
            else {
                r.next = 0;
                attempt(r, now);
            }
        }
    }

    /** Something changed (an acknowledgement, a follower came up): parked reads try again now. */
    void kick(long now) {
        tick(now);
    }

    /** Forgets the reads of a job that is answered (their late answers are ignored). */
    void drop(Job job) {
        byId.values().removeIf(r -> r.job == job);
    }

    int size() {
        return byId.size();
    }
}
