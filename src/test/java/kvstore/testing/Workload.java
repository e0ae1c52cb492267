package kvstore.testing;

import kvstore.core.Errors;
import kvstore.lincheck.Operation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Clients that keep reading, writing and deleting a set of keys through the leader and record
 * every call and its return (a history for the linearizability checker): a write answered 201 is
 * acknowledged; one answered with an error had no effect; one with no answer (-1: a closed
 * connection or a timeout) may or may not have happened. Values are unique, so a read shows
 * exactly which write it saw.
 */
public final class Workload implements AutoCloseable {
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final ConcurrentLinkedQueue<Operation> history = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<long[]> refusals = new ConcurrentLinkedQueue<>();
    public final AtomicLong acked = new AtomicLong(), refused = new AtomicLong(), unknown = new AtomicLong(), reads = new AtomicLong();
    private final long t0 = System.nanoTime();

    /**
     * @param leader  the leader's URL for a path and query (a function, so clients can follow a new leader)
     * @param keys    the keys the clients work on
     * @param clients how many run at once
     * @param writeShare the share of writes (a tenth of them deletes)
     */
    public Workload(Function<String, String> leader, List<String> keys, int clients, double writeShare, long seed) {
        for (int i = 0; i < clients; i++) {
            int id = i;
            Random rnd = new Random(seed * 31 + i);
            Thread t = new Thread(() -> run(id, rnd, leader, keys, writeShare), "workload-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
    }

    /**
     * Writes {@code value} to every key through the leader before the clients start, each
     * answered 201, into the history (the checker starts every key absent).
     */
    public Workload preload(Function<String, String> leader, List<String> keys, String value) {
        for (String key : keys) {
            long call = now();
            Http.Response r = Http.put(leader.apply("/?key=" + Http.enc(key) + "&val=" + Http.enc(value)));
            long ret = now();
            if (r.status() != 201) throw new AssertionError("preload of " + key + ": " + r.status() + " " + r.body());
            history.add(Operation.put(98, key, value, call, ret));
        }
        return this;
    }

    /** One PUT outside the clients (a probe), recorded as the clients record theirs; returns its status. */
    public int put(Function<String, String> leader, String key, String value) {
        long call = now();
        Http.Response r = Http.put(leader.apply("/?key=" + Http.enc(key) + "&val=" + Http.enc(value)));
        long ret = now();
        if (r.status() == 201) history.add(Operation.put(97, key, value, call, ret));
        else if (r.status() == -1) history.add(Operation.put(97, key, value, call, Long.MAX_VALUE));
        return r.status();
    }

    public Workload start() {
        for (Thread t : threads) t.start();
        return this;
    }

    private long now() {
        return System.nanoTime() - t0;
    }

    private void run(int id, Random rnd, Function<String, String> leader, List<String> keys, double writeShare) {
        int n = 0;
        while (!stop.get()) {
            String key = keys.get(rnd.nextInt(keys.size()));
            long call = now();
            double dice = rnd.nextDouble();
            if (dice < writeShare * 0.9) {
                String value = "c" + id + "-" + (n++);
                Http.Response r = Http.put(leader.apply("/?key=" + Http.enc(key) + "&val=" + value));
                long ret = now();
                if (r.status() == 201) {
                    history.add(Operation.put(id, key, value, call, ret));
                    acked.incrementAndGet();
                } else if (r.status() == -1) {
                    history.add(Operation.put(id, key, value, call, Long.MAX_VALUE));
                    unknown.incrementAndGet();
                } else {
                    refused.incrementAndGet();
                    refusals.add(new long[] {call, ret});
                }
            } else if (dice < writeShare) {
                Http.Response r = Http.delete(leader.apply("/?key=" + Http.enc(key)));
                long ret = now();
                if (r.status() == 201) {
                    history.add(Operation.delete(id, key, true, call, ret));
                    acked.incrementAndGet();
                } else if (r.status() == 500 && Errors.NO_KEY.equals(r.body())) {
                    history.add(Operation.delete(id, key, false, call, ret));
                } else if (r.status() == -1) {
                    history.add(Operation.delete(id, key, true, call, Long.MAX_VALUE));
                    unknown.incrementAndGet();
                } else {
                    refused.incrementAndGet();
                    refusals.add(new long[] {call, ret});
                }
            } else {
                Http.Response r = Http.get(leader.apply("/?key=" + Http.enc(key)));
                long ret = now();
                reads.incrementAndGet();
                if (r.status() == 200) history.add(Operation.get(id, key, r.body(), call, ret));
                else if (r.status() == 500 && Errors.NO_KEY.equals(r.body())) history.add(Operation.get(id, key, null, call, ret));
            }
        }
    }

    /** Stops the clients and waits for their last calls to return. */
    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) t.join(60_000);
    }

    public List<Operation> history() {
        return new ArrayList<>(history);
    }

    /**
     * Reads every key once more through the leader, after the clients stopped, into the history:
     * the linearizability checker then also proves that the final state holds every acknowledged
     * write and no deleted key came back. Returns what was read (null: no key).
     */
    public Map<String, String> finalReads(Function<String, String> leader, List<String> keys) {
        Map<String, String> out = new HashMap<>();
        for (String key : keys) {
            long call = now();
            Http.Response r = Http.get(leader.apply("/?key=" + Http.enc(key)));
            long ret = now();
            if (r.status() == 200) {
                history.add(Operation.get(99, key, r.body(), call, ret));
                out.put(key, r.body());
            } else if (r.status() == 500 && Errors.NO_KEY.equals(r.body())) {
                history.add(Operation.get(99, key, null, call, ret));
                out.put(key, null);
            } else {
                throw new AssertionError("the final read of " + key + " answered " + r.status() + " " + r.body());
            }
        }
        return out;
    }

    /** Refused writes per interval of {@code millis}, from the start, for a report. */
    public long refusedBetween(long fromNanos, long toNanos) {
        long n = 0;
        for (long[] r : refusals) if (r[0] >= fromNanos - t0 && r[0] < toNanos - t0) n++;
        return n;
    }
}
