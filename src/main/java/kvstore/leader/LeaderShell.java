package kvstore.leader;

import kvstore.core.log.LogRecord;
import kvstore.core.tpc.Answer;
import kvstore.core.tpc.Coordinator;
import kvstore.core.tpc.Effect;
import kvstore.core.tpc.EffectRunner;
import kvstore.fault.FaultPoints;
import kvstore.queue.WorkQueue;
import kvstore.storage.LogStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.function.Consumer;

/**
 * The leader's I/O for the coordinator (the real side of {@link EffectRunner.Shell}): messages
 * to followers through the {@link FollowerClient}, records to the leader's {@link LogStore},
 * answers through the {@link WorkQueue}; and on the way, the metrics and the fault points of
 * docs/operations.md. It decides nothing.
 */
final class LeaderShell implements EffectRunner.Shell {
    private static final Logger LOG = LoggerFactory.getLogger(LeaderShell.class);

    private final FollowerClient client;
    private final LogStore log;
    private final WorkQueue queue;
    private final LeaderMetrics metrics;
    private final Runnable deposed;

    LeaderShell(FollowerClient client, LogStore log, WorkQueue queue, LeaderMetrics metrics, Runnable deposed) {
        this.client = client;
        this.log = log;
        this.queue = queue;
        this.metrics = metrics;
        this.deposed = deposed;
    }

    @Override
    public long now() {
        return LeaderClock.now();
    }

    @Override
    public void prepare(Effect.SendPrepare p, Consumer<Coordinator.Vote> done) {
        metrics.prepareSent(p.tx());
        client.prepare(p, v -> {
            metrics.voteReceived(p.tx());
            done.accept(v);
        });
    }

    @Override
    public void phase2(Effect.SendPhase2 p, Consumer<Coordinator.Phase2Result> done) {
        long sentNanos = System.nanoTime();
        client.phase2(p, r -> {
            metrics.phase2Answered(sentNanos, r);
            if (r == Coordinator.Phase2Result.ACK && p.commit()) FaultPoints.hit("leader.after-phase2-ack");
            done.accept(r);
        });
    }

    @Override
    public void read(Effect.SendRead r, Consumer<Coordinator.ReadReply> done) {
        client.read(r, done);
    }

    @Override
    public void queryOutcome(Effect.QueryOutcome q, Consumer<Coordinator.OutcomeReply> done) {
        client.outcome(q, done);
    }

    @Override
    public void queryRid(Effect.QueryRid q, Consumer<Coordinator.RidReply> done) {
        client.rid(q, done);
    }

    @Override
    public void append(List<LogRecord> records, Runnable durable) {
        if (durable == null) {
            for (LogRecord r : records) log.appendLazy(r);
            return;
        }
        boolean decision = records.get(0) instanceof LogRecord.Decision;
        long appendedNanos = System.nanoTime();
        log.append(records).onSuccess(v -> {
            if (decision) {
                metrics.decisionDurable(appendedNanos);
                FaultPoints.hit("leader.after-decision-fsync");
            }
            durable.run();
        });
    }

    @Override
    public void reply(long reqId, Answer a) {
        if (a.status() == 201 || a.status() == 200 && a.body() != null && a.body().startsWith("{\"succeeded\"")) {
            FaultPoints.hit("leader.before-client-reply");
        }
        queue.complete(reqId, a);
    }

    @Override
    public void deposed() {
        deposed.run();
    }

    @Override
    public void alarm(String message) {
        LOG.error(message);
    }
}
