package kvstore.core.tpc;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A client operation the leader admitted, from admission to its answer: which lanes it holds,
 * its transaction, the reads a transaction made, and other requests that repeated its rid and
 * wait for the same answer. Every job has one deadline (PROTOCOL.md, "Deadlines").
 */
final class Job {
    enum Phase { LANES, SETTLING, READING, PREPARING, DECIDED, DONE }

    final long reqId;
    final ClientOp op;
    final long deadline;
    final List<String> keys;
    final String rid;
    final long fingerprint;
    Phase phase = Phase.LANES;
    int lanesHeld;
    Transaction tx;
    /** Transactions: what each key read, and how many reads are still out. */
    final Map<String, Reads.Result> read = new HashMap<>();
    int readsOut;
    TxnPlan plan;
    /** The rid's outcome is (being) made durable: a commit's with its decision, a refusal's before its answer. */
    boolean recorded, recording;
    /** Requests that repeated this job's rid while it ran: they get its answer. */
    List<Long> waiters;

    Job(long reqId, ClientOp op, long deadline) {
        this.reqId = reqId;
        this.op = op;
        this.deadline = deadline;
        this.keys = op.keys();
        this.rid = ClientOp.ridOf(op);
        this.fingerprint = rid == null ? 0 : ClientOp.fingerprint(op);
    }

    boolean exclusive() {
        return !(op instanceof ClientOp.Get);
    }

    void addWaiter(long reqId) {
        if (waiters == null) waiters = new ArrayList<>(1);
        waiters.add(reqId);
    }
}
