package kvstore.leader;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import kvstore.core.TxId;
import kvstore.core.tpc.Coordinator;
import kvstore.metrics.NodeMetrics;
import kvstore.metrics.RequestType;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The leader's metrics: client requests (GET, PUT, DELETE) by status, 2PC outcomes and phase
 * latencies, the work queue, pending phase 2 and the leader's log. Counts the coordinator keeps
 * itself are read at scrape time; the verticle calls the few hooks below as it runs the
 * coordinator's effects. Every method runs on the leader's event loop.
 *
 * <h2>Phases</h2>
 * <ul>
 *   <li>{@code prepare}: one per transaction, from its first prepare sent to its last vote
 *       received (the whole phase-1 round, yes or no);</li>
 *   <li>{@code decision_fsync}: from appending a commit decision to its fsync;</li>
 *   <li>{@code phase2}: one per phase-2 message (commit or abort), from sending it to its answer;
 *       retries are separate messages, and {@code kvstore_tpc_phase2_answers_total} counts
 *       the answers by kind.</li>
 * </ul>
 * The prepare round needs per-transaction state: a start time and the votes still awaited, in
 * a map that holds only transactions in phase 1 (every prepare's future completes, with a vote
 * or with "no answer", so each entry is removed).
 */
final class LeaderMetrics extends NodeMetrics {
    static final String COMMITS = "kvstore.tpc.commits";
    static final String ABORTS = "kvstore.tpc.aborts";
    static final String PHASE = "kvstore.tpc.phase";
    static final String PHASE2_ANSWERS = "kvstore.tpc.phase2.answers";
    static final String PENDING_TX = "kvstore.tpc.pending.transactions";
    static final String PENDING_PHASE2 = "kvstore.tpc.pending.phase2";
    static final String QUEUE_DEPTH = "kvstore.queue.depth";
    static final String QUEUE_REJECTED = "kvstore.queue.rejected";
    static final String FOLLOWERS_UP = "kvstore.followers.up";
    static final String FOLLOWERS_REGISTERED = "kvstore.followers.registered";
    static final String FOLLOWER_BATCHES = "kvstore.follower.batches";
    static final String FOLLOWER_MESSAGES = "kvstore.follower.messages";
    static final String COPY_KEYS = "kvstore.copy.keys";
    static final String COPY_BYTES = "kvstore.copy.bytes";

    private final Timer prepareRound;
    private final Timer decisionFsync;
    private final Timer phase2;
    private final Counter[] phase2Answers = new Counter[Coordinator.Phase2Result.values().length];
    private final Map<TxId, long[]> inPhase1 = new HashMap<>();

    LeaderMetrics(LeaderVerticle leader) {
        super(RequestType.GET, RequestType.PUT, RequestType.DELETE, RequestType.TXN);
        functionCounter(COMMITS, "Transactions decided commit (the decision is durable)", leader::coordinator, Coordinator::commits);
        functionCounter(ABORTS, "Transactions aborted", leader::coordinator, Coordinator::aborts);
        gauge(PENDING_TX, "Transactions not yet settled", leader::coordinator, Coordinator::pendingTransactions, null);
        gauge(PENDING_PHASE2, "Phase-2 messages not yet acknowledged", leader::coordinator, Coordinator::pendingPhase2, null);
        gauge(QUEUE_DEPTH, "Client operations admitted and not yet answered", () -> leader, LeaderVerticle::queueDepth, null);
        functionCounter(QUEUE_REJECTED, "Client operations refused because the queue was full", leader::queue,
                q -> q.rejected());
        gauge(FOLLOWERS_UP, "Followers the leader sees up", leader::monitor, m -> m.upMembers().size(), null);
        gauge(FOLLOWERS_REGISTERED, "Followers that are members (not draining)", leader::members, m -> m.latest().memberCount(), null);
        gauge(READY, "1 when the leader serves clients", () -> leader, l -> l.ready() ? 1 : 0, null);
        gauge(EPOCH, "The leader's epoch", leader::coordinator, Coordinator::epoch, null);
        functionCounter(FOLLOWER_BATCHES, "Batched requests sent to followers (POST /tpc/batch)", leader::followerClient,
                FollowerClient::batches);
        functionCounter(FOLLOWER_MESSAGES, "Messages to followers (prepares, phase 2, reads) carried by those batches",
                leader::followerClient, FollowerClient::messages);
        functionCounter(COPY_KEYS, "Keys copied to followers that gain them (moving keys), as they report", leader::monitor,
                FollowerMonitor::copiedKeys);
        functionCounter(COPY_BYTES, "Bytes of keys and values copied to followers that gain them", leader::monitor,
                FollowerMonitor::copiedBytes);
        logMeters(leader::log);
        prepareRound = timer(PHASE, "Two-phase commit, by phase", "phase", "prepare");
        decisionFsync = timer(PHASE, "Two-phase commit, by phase", "phase", "decision_fsync");
        phase2 = timer(PHASE, "Two-phase commit, by phase", "phase", "phase2");
        for (Coordinator.Phase2Result r : Coordinator.Phase2Result.values()) {
            phase2Answers[r.ordinal()] = Counter.builder(PHASE2_ANSWERS).description("Answers to phase-2 messages, by kind")
                    .tag("result", r.name().toLowerCase(java.util.Locale.ROOT)).register(registry);
        }
    }

    /* --- Hooks, called by LeaderVerticle as it runs the coordinator's effects --- */

    /** A prepare of {@code tx} was sent to one replica. */
    void prepareSent(TxId tx) {
        long[] round = inPhase1.get(tx);
        if (round == null) inPhase1.put(tx, round = new long[] {System.nanoTime(), 0});
        round[1]++;
    }

    /** One replica's vote on {@code tx} arrived (or its prepare failed): the round ends with the last. */
    void voteReceived(TxId tx) {
        long[] round = inPhase1.get(tx);
        if (round == null) return;
        if (--round[1] == 0) {
            inPhase1.remove(tx);
            prepareRound.record(System.nanoTime() - round[0], TimeUnit.NANOSECONDS);
        }
    }

    /** A commit decision appended at {@code startedNanos} is durable. */
    void decisionDurable(long startedNanos) {
        decisionFsync.record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
    }

    /** A phase-2 message sent at {@code startedNanos} got its answer. */
    void phase2Answered(long startedNanos, Coordinator.Phase2Result result) {
        phase2.record(System.nanoTime() - startedNanos, TimeUnit.NANOSECONDS);
        phase2Answers[result.ordinal()].increment();
    }
}
