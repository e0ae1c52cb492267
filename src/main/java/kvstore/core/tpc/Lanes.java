package kvstore.core.tpc;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One lane per key with activity (PROTOCOL.md, "Read path"): a FIFO of jobs waiting for it.
 * Reads of a key run together; a write or a transaction runs alone, and takes the lanes of all
 * its keys one after the other in one global key order, so that two transactions never wait for
 * each other in a cycle. A lane also lists the transactions whose phase 2 on the key is not yet
 * acknowledged everywhere: a write may not prepare until they are settled, and reads avoid the
 * replicas they are unsettled on. Different keys never wait for each other.
 */
final class Lanes {
    static final class Lane {
        final String key;
        final ArrayDeque<Job> waiting = new ArrayDeque<>(2);
        final Set<Job> readers = new LinkedHashSet<>(2);
        Job owner;
        final List<Transaction> unsettled = new ArrayList<>(1);

        Lane(String key) {
            this.key = key;
        }

        boolean unsettledAt(long followerId) {
            for (Transaction tx : unsettled) if (tx.unsettledAt(followerId)) return true;
            return false;
        }

        boolean idle() {
            return waiting.isEmpty() && readers.isEmpty() && owner == null && unsettled.isEmpty();
        }
    }

    /** Told when a job holds every lane it needs. */
    interface Ready {
        void ready(Job job);
    }

    private final Map<String, Lane> lanes = new HashMap<>();
    private final Ready ready;

    Lanes(Ready ready) {
        this.ready = ready;
    }

    Lane get(String key) {
        return lanes.computeIfAbsent(key, Lane::new);
    }

    Lane peek(String key) {
        return lanes.get(key);
    }

    /** Queues a job at the lane of its first key. A job with no key (a rid query) is ready at once. */
    void enqueue(Job job) {
        if (job.keys.isEmpty()) {
            ready.ready(job);
            return;
        }
        Lane lane = get(job.keys.get(0));
        lane.waiting.add(job);
        pump(lane);
    }

    /** Lets the jobs at the head of the lane in, in FIFO order, as far as the rules allow. */
    void pump(Lane lane) {
        while (!lane.waiting.isEmpty()) {
            Job job = lane.waiting.peek();
            if (!job.exclusive()) {
                if (lane.owner != null) break;
                lane.waiting.poll();
                lane.readers.add(job);
                job.lanesHeld = 1;
                ready.ready(job);
                continue;
            }
            if (lane.owner != null || !lane.readers.isEmpty()) break;
            lane.waiting.poll();
            lane.owner = job;
            job.lanesHeld++;
            if (job.lanesHeld < job.keys.size()) {
                Lane next = get(job.keys.get(job.lanesHeld));
                next.waiting.add(job);
                pump(next);
            } else {
                ready.ready(job);
            }
        }
        dropIfIdle(lane);
    }

    /** The job is done with its lanes (answered, or given up while waiting). */
    void release(Job job) {
        List<Lane> freed = new ArrayList<>(job.keys.size());
        for (int i = 0; i < job.keys.size(); i++) {
            Lane lane = lanes.get(job.keys.get(i));
            if (lane == null) continue;
            if (lane.waiting.remove(job) || lane.readers.remove(job) || lane.owner == job) {
                if (lane.owner == job) lane.owner = null;
                freed.add(lane);
            }
        }
        job.lanesHeld = 0;
        for (Lane lane : freed) pump(lane);
    }

    void dropIfIdle(Lane lane) {
        if (lane.idle()) lanes.remove(lane.key);
    }

    List<Lane> all() {
        return new ArrayList<>(lanes.values());
    }

    /** Jobs waiting in any lane (for expiring them at their deadline). */
    List<Job> waitingJobs() {
        List<Job> out = new ArrayList<>();
        for (Lane lane : lanes.values()) out.addAll(lane.waiting);
        return out;
    }
}
