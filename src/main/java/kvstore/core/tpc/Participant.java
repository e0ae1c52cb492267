package kvstore.core.tpc;

import kvstore.core.Errors;
import kvstore.core.KeyRequest;
import kvstore.core.Keys;
import kvstore.core.Op;
import kvstore.core.TxId;
import kvstore.core.log.LogRecord;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A follower's side of two-phase commit (PROTOCOL.md, "Write path" steps 2 and 6, and "Manual
 * slot"), with no I/O: it decides votes and outcomes and says which records must be appended.
 *
 * <p>Every change goes through {@link #apply(LogRecord)}, both live (right after the record is
 * made, before it is durable) and during recovery (replaying the log), so a restarted follower
 * rebuilds exactly the state it had. The caller's rule is "persist before you speak": a
 * {@link Step}'s reply may only be sent once every record appended so far is durable.
 *
 * <p>Invariants: a key is locked by at most one prepared transaction; a prepared tx locks its
 * key until its COMMIT or ABORT; at most one manual (hand-driven, tx-less) transaction at a time;
 * the committed map changes only by applying a COMMIT of a prepared write.
 */
public final class Participant implements kvstore.core.log.LogState {

    /** Hand-driven (manual) outcomes remembered; a leader's are all remembered, as bits. */
    public static final int MANUAL_DECIDED_RETAINED = 1_000;
    /** Bound on prepared transactions: a leader never has more in flight than this. */
    public static final int MAX_PREPARED = 100_000;
    public static final int MAX_CHANGED_BY_HAND = 10_000;
    public static final long MANUAL_TIMEOUT_MILLIS = 60_000;

    /** A prepared transaction: its key is locked until it is decided. */
    public record Prepared(TxId tx, long epoch, String key, Op op, byte[] value, long sinceMillis) {}

    /** What to answer and what to append first (possibly nothing). */
    public record Step(int status, String body, List<LogRecord> records) {
        static Step of(int status, String body) { return new Step(status, body, List.of()); }
        static Step of(int status, String body, LogRecord... records) { return new Step(status, body, List.of(records)); }
        Step with(LogRecord first) {
            if (first == null) return this;
            List<LogRecord> r = new ArrayList<>(records.size() + 1);
            r.add(first);
            r.addAll(records);
            return new Step(status, body, r);
        }
    }

    /** The answer to a read. */
    public enum ReadResult { VALUE, NO_KEY, PENDING }

    private long epoch;
    private final TreeMap<String, byte[]> data = new TreeMap<>(Keys.UTF8_ORDER);
    private final LinkedHashMap<TxId, Prepared> prepared = new LinkedHashMap<>();
    private final HashMap<String, TxId> locks = new HashMap<>();
    private TxId manual;
    private long lastManualSeq;
    private final Outcomes decided = new Outcomes();
    private final LinkedHashSet<String> changedByHand = new LinkedHashSet<>();

    /* --- Live requests --- */

    /**
     * Checks a leader message's epoch. Returns null to go on (with the epoch record to append,
     * if the epoch is new, via {@link #pendingEpochRecord}), or a 409 step.
     */
    private Step checkEpoch(long msgEpoch, LogRecord[] epochRecord) {
        if (msgEpoch < epoch) return Step.of(409, Errors.STALE_LEADER);
        if (msgEpoch > epoch) {
            LogRecord r = new LogRecord.Epoch(msgEpoch);
            apply(r);
            epochRecord[0] = r;
        }
        return null;
    }

    /** A leader message that carries only an epoch (a read or a health check). */
    public Step observeEpoch(long msgEpoch) {
        LogRecord[] rec = new LogRecord[1];
        Step stale = checkEpoch(msgEpoch, rec);
        if (stale != null) return stale;
        return Step.of(200, "").with(rec[0]);
    }

    /**
     * A leader taking office claims a new epoch: accepted only if it is above every epoch this
     * follower has accepted, so no two leaders ever hold the same epoch (tx ids are EPOCH.N, and
     * a paused leader must be refused at its old epoch). A routine check at the current epoch
     * ({@link #observeEpoch}) is not a claim.
     */
    public Step claimEpoch(long msgEpoch) {
        if (msgEpoch <= epoch) return Step.of(409, Errors.STALE_LEADER);
        return observeEpoch(msgEpoch);
    }

    /** Phase 1 (PUT or DELETE), from the leader (with tx) or by hand (without). */
    public Step prepare(KeyRequest req, long nowMillis) {
        LogRecord[] rec = new LogRecord[1];
        TxId tx = req.tx();
        if (tx != null) {
            Step stale = checkEpoch(req.epoch(), rec);
            if (stale != null) return stale;
        }
        return vote(req, tx, nowMillis).with(rec[0]);
    }

    private Step vote(KeyRequest req, TxId tx, long nowMillis) {
        TxId holder = locks.get(req.key());
        if (holder != null) {
            if (holder.equals(tx)) return Step.of(202, Errors.VOTE_COMMIT); // a repeated prepare
            return Step.of(500, Errors.UNABLE);
        }
        if (tx == null && manual != null) return Step.of(500, Errors.UNABLE);
        if (tx != null && (prepared.containsKey(tx) || decided.get(tx) != null)) return Step.of(500, Errors.UNABLE);
        if (req.op() == Op.DELETE && !data.containsKey(req.key())) return Step.of(500, Errors.NO_KEY);
        if (prepared.size() >= MAX_PREPARED) return Step.of(500, Errors.UNABLE);
        if (tx == null) tx = new TxId(0, Math.max(lastManualSeq + 1, nowMillis));
        LogRecord r = new LogRecord.Prepare(tx, Math.max(req.epoch(), 0), req.key(), req.op(),
                req.op() == Op.PUT ? req.value().getBytes(StandardCharsets.UTF_8) : null, nowMillis);
        apply(r);
        return Step.of(202, Errors.VOTE_COMMIT, r);
    }

    /** Phase 2, commit. {@code tx} null means the manual slot; {@code msgEpoch} -1 means by hand. */
    public Step commit(TxId tx, long msgEpoch) {
        LogRecord[] rec = new LogRecord[1];
        if (tx != null) {
            Step stale = checkEpoch(msgEpoch, rec);
            if (stale != null) return stale;
        } else {
            tx = manual;
            if (tx == null) return Step.of(204, ""); // the seed's answer: nothing pending, nothing to do
        }
        Step s;
        if (prepared.containsKey(tx)) {
            LogRecord r = new LogRecord.Commit(tx);
            apply(r);
            s = Step.of(204, "", r);
        } else {
            Boolean d = decided.get(tx);
            // Never a silent 204 for a tx we never prepared: that would hide a lost yes vote.
            s = Boolean.TRUE.equals(d) ? Step.of(204, "") : Step.of(500, Errors.UNABLE);
        }
        return s.with(rec[0]);
    }

    /** Phase 2, abort. Unknown transactions are presumed aborted (204). */
    public Step abort(TxId tx, long msgEpoch) {
        LogRecord[] rec = new LogRecord[1];
        if (tx != null) {
            Step stale = checkEpoch(msgEpoch, rec);
            if (stale != null) return stale;
        } else {
            tx = manual;
            if (tx == null) return Step.of(204, "");
        }
        Step s;
        if (prepared.containsKey(tx)) {
            LogRecord r = new LogRecord.Abort(tx);
            apply(r);
            s = Step.of(204, "", r);
        } else if (decided.get(tx) != null) {
            s = Boolean.TRUE.equals(decided.get(tx)) ? Step.of(500, Errors.UNABLE) : Step.of(204, "");
        } else if (tx.isManual()) {
            s = Step.of(204, "");
        } else {
            // Presumed abort of a tx we never saw. Remember it (durably, before answering): its
            // prepare may still be on its way, overtaken by this abort, and must then vote no
            // rather than lock the key for a transaction the leader has already forgotten.
            LogRecord r = new LogRecord.Decided(tx, false);
            apply(r);
            s = Step.of(204, "", r);
        }
        return s.with(rec[0]);
    }

    /**
     * A read of the committed state. A leader's read ({@code fromLeader}) of a key held by a
     * prepared transaction is {@link ReadResult#PENDING}: its value may be about to change.
     */
    public ReadResult read(String key, boolean fromLeader) {
        if (fromLeader && locks.containsKey(key)) return ReadResult.PENDING;
        return data.containsKey(key) ? ReadResult.VALUE : ReadResult.NO_KEY;
    }

    public byte[] value(String key) {
        return data.get(key);
    }

    /** The manual slot's abort record if its prepare is older than the timeout, else null. */
    public LogRecord expireManual(long nowMillis) {
        if (manual == null) return null;
        Prepared p = prepared.get(manual);
        if (p == null || nowMillis - p.sinceMillis() < MANUAL_TIMEOUT_MILLIS) return null;
        LogRecord r = new LogRecord.Abort(manual);
        apply(r);
        return r;
    }

    /* --- State changes, live and in recovery --- */

    /**
     * Applies one record. Throws {@link IllegalStateException} for a record that cannot follow
     * the state so far (a COMMIT of a tx never prepared): that is a damaged or foreign log.
     */
    @Override
    public void apply(LogRecord r) {
        if (r instanceof LogRecord.Prepare p) {
            if (locks.containsKey(p.key())) throw new IllegalStateException("PREPARE " + p.tx() + " of a locked key");
            Prepared pr = new Prepared(p.tx(), p.epoch(), p.key(), p.op(), p.value(), p.sinceMillis());
            prepared.put(p.tx(), pr);
            locks.put(p.key(), p.tx());
            if (p.tx().isManual()) {
                manual = p.tx();
                lastManualSeq = Math.max(lastManualSeq, p.tx().seq());
            }
        } else if (r instanceof LogRecord.Commit c) {
            Prepared p = decide(c.tx(), true);
            if (p.op() == Op.PUT) data.put(p.key(), p.value());
            else data.remove(p.key());
            if (p.tx().isManual()) {
                changedByHand.remove(p.key());
                changedByHand.add(p.key());
                if (changedByHand.size() > MAX_CHANGED_BY_HAND) {
                    Iterator<String> it = changedByHand.iterator();
                    it.next();
                    it.remove();
                }
            }
        } else if (r instanceof LogRecord.Abort a) {
            decide(a.tx(), false);
        } else if (r instanceof LogRecord.Epoch e) {
            epoch = Math.max(epoch, e.epoch());
        } else if (r instanceof LogRecord.Data d) {
            data.put(d.key(), d.value());
        } else if (r instanceof LogRecord.Decided d) {
            decided.put(d.tx(), d.committed());
            if (d.tx().isManual()) lastManualSeq = Math.max(lastManualSeq, d.tx().seq());
        } else if (r instanceof LogRecord.Outcomes o) {
            decided.load(o);
        } else if (r instanceof LogRecord.Hand h) {
            changedByHand.add(h.key());
        } else {
            throw new IllegalStateException("a follower log cannot hold " + r.getClass().getSimpleName());
        }
    }

    private Prepared decide(TxId tx, boolean commit) {
        Prepared p = prepared.remove(tx);
        if (p == null) throw new IllegalStateException((commit ? "COMMIT " : "ABORT ") + tx + " of a tx never prepared");
        locks.remove(p.key());
        if (tx.equals(manual)) manual = null;
        decided.put(tx, commit);
        return p;
    }

    /** The whole state as records, for a snapshot. Applying them to a fresh Participant rebuilds it. */
    @Override
    public List<LogRecord> snapshotRecords() {
        List<LogRecord> out = new ArrayList<>(data.size() + prepared.size() + 16);
        out.add(new LogRecord.Epoch(epoch));
        for (Map.Entry<String, byte[]> e : data.entrySet()) out.add(new LogRecord.Data(e.getKey(), e.getValue()));
        decided.snapshot(out);
        for (Prepared p : prepared.values()) {
            out.add(new LogRecord.Prepare(p.tx(), p.epoch(), p.key(), p.op(), p.value(), p.sinceMillis()));
        }
        for (String k : changedByHand) out.add(new LogRecord.Hand(k));
        return out;
    }

    /* --- Views for status pages and the leader --- */

    public long epoch() { return epoch; }

    public int keyCount() { return data.size(); }

    public TreeMap<String, byte[]> data() { return data; }

    public Collection<Prepared> prepared() { return Collections.unmodifiableCollection(prepared.values()); }

    /** The leader's prepared transactions (not the manual slot's), for its recovery. */
    public List<Prepared> preparedByLeaders() {
        List<Prepared> out = new ArrayList<>();
        for (Prepared p : prepared.values()) if (!p.tx().isManual()) out.add(p);
        return out;
    }

    public Prepared manual() { return manual == null ? null : prepared.get(manual); }

    public Collection<String> changedByHand() { return Collections.unmodifiableCollection(changedByHand); }

    public Boolean decidedOutcome(TxId tx) { return decided.get(tx); }

    /** What this follower knows of a transaction, for a new leader resolving it (PROTOCOL.md, "Standby leader"). */
    public enum Outcome { COMMITTED, ABORTED, PREPARED, UNKNOWN }

    public Outcome outcome(TxId tx) {
        if (prepared.containsKey(tx)) return Outcome.PREPARED;
        Boolean d = decided.get(tx);
        return d == null ? Outcome.UNKNOWN : d ? Outcome.COMMITTED : Outcome.ABORTED;
    }

    /**
     * Every decided transaction of every leader epoch, exactly: one bit per sequence number in a
     * committed and an aborted bitset per epoch (a million transactions cost 250 KB). So a
     * repeated phase-2 message, or a new leader asking what became of a transaction, always
     * gets the truth, however long ago it was decided. Hand-driven transactions (epoch 0, whose
     * numbers are clock readings) are kept in a small bounded map instead.
     */
    static final class Outcomes {
        private final java.util.TreeMap<Long, java.util.BitSet> committed = new java.util.TreeMap<>();
        private final java.util.TreeMap<Long, java.util.BitSet> aborted = new java.util.TreeMap<>();
        private final LinkedHashMap<Long, Boolean> manual = new LinkedHashMap<>();

        Boolean get(TxId tx) {
            if (tx.isManual()) return manual.get(tx.seq());
            if (tx.seq() > Integer.MAX_VALUE) return null;
            java.util.BitSet c = committed.get(tx.epoch());
            if (c != null && c.get((int) tx.seq())) return Boolean.TRUE;
            java.util.BitSet a = aborted.get(tx.epoch());
            if (a != null && a.get((int) tx.seq())) return Boolean.FALSE;
            return null;
        }

        void put(TxId tx, boolean commit) {
            if (tx.isManual()) {
                manual.put(tx.seq(), commit);
                if (manual.size() > MANUAL_DECIDED_RETAINED) {
                    Iterator<Long> it = manual.keySet().iterator();
                    it.next();
                    it.remove();
                }
                return;
            }
            if (tx.seq() > Integer.MAX_VALUE) return;
            (commit ? committed : aborted).computeIfAbsent(tx.epoch(), e -> new java.util.BitSet()).set((int) tx.seq());
        }

        void load(LogRecord.Outcomes o) {
            committed.computeIfAbsent(o.epoch(), e -> new java.util.BitSet()).or(java.util.BitSet.valueOf(o.committed()));
            aborted.computeIfAbsent(o.epoch(), e -> new java.util.BitSet()).or(java.util.BitSet.valueOf(o.aborted()));
        }

        void snapshot(List<LogRecord> out) {
            java.util.TreeSet<Long> epochs = new java.util.TreeSet<>(committed.keySet());
            epochs.addAll(aborted.keySet());
            for (long e : epochs) {
                java.util.BitSet c = committed.getOrDefault(e, new java.util.BitSet());
                java.util.BitSet a = aborted.getOrDefault(e, new java.util.BitSet());
                out.add(new LogRecord.Outcomes(e, c.toByteArray(), a.toByteArray()));
            }
            for (Map.Entry<Long, Boolean> m : manual.entrySet()) out.add(new LogRecord.Decided(new TxId(0, m.getKey()), m.getValue()));
        }
    }
}
