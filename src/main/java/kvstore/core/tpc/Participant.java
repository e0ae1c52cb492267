package kvstore.core.tpc;

import kvstore.core.Errors;
import kvstore.core.Hash;
import kvstore.core.Keys;
import kvstore.core.TxId;
import kvstore.core.Write;
import kvstore.core.log.LogRecord;
import kvstore.core.log.LogState;
import kvstore.core.view.Placement;
import kvstore.core.view.View;
import kvstore.core.view.ViewMember;

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
import java.util.Set;
import java.util.function.LongPredicate;
import java.util.function.Predicate;

/**
 * A follower's side of two-phase commit (PROTOCOL.md, "Write path" steps 2 and 6, "Manual slot",
 * "Versions", "Views and moving keys"), with no I/O: it decides votes and outcomes and says which
 * records must be appended.
 *
 * <p>Every change goes through {@link #apply(LogRecord)}, both live (right after the record is
 * made, before it is durable) and during recovery (replaying the log), so a restarted follower
 * rebuilds exactly the state it had. The caller's rule is "persist before you speak": a
 * {@link Step}'s reply may only be sent once every record appended so far is durable.
 *
 * <h2>Invariants</h2>
 * A key is locked by at most one prepared transaction, which holds it until its COMMIT or ABORT;
 * a transaction of several keys locks them all or none; at most one manual (hand-driven)
 * transaction at a time; a key's version only grows; a follower answers a leader's read of a
 * key only when its view says it holds that key's latest value, and a person's read only while
 * it is a serving member.
 */
public final class Participant implements LogState {

    /** Bound on prepared transactions: a leader never has more in flight than this. */
    public static final int MAX_PREPARED = 100_000;
    public static final int MAX_CHANGED_BY_HAND = 10_000;
    public static final long MANUAL_TIMEOUT_MILLIS = 60_000;
    /** Keys a copy request looks at before it answers, matching or not (a bound on one request's work). */
    public static final int COPY_SCAN_LIMIT = 20_000;
    /** Keys looked at when a move ends before the view step returns; a bigger store goes on in slices ({@link #sweep}). */
    public static final int SWEEP_SLICE = 5_000;

    /** A prepared transaction: its keys are locked until it is decided. */
    public record Prepared(TxId tx, long epoch, List<Write> writes, long sinceMillis, String rid, long view) {
        public String firstKey() {
            return writes.get(0).key();
        }
    }

    /** What to answer, with a version when there is one, and what to append first (possibly nothing). */
    public record Step(int status, String body, long version, List<LogRecord> records) {
        static Step of(int status, String body) { return new Step(status, body, 0, List.of()); }
        static Step of(int status, String body, LogRecord... records) { return new Step(status, body, 0, List.of(records)); }
        Step with(LogRecord first) {
            if (first == null) return this;
            List<LogRecord> r = new ArrayList<>(records.size() + 1);
            r.add(first);
            r.addAll(records);
            return new Step(status, body, version, r);
        }
        Step withVersion(long v) { return new Step(status, body, v, records); }
        public boolean ok() { return status >= 200 && status < 300; }
    }

    /** The answer to a read. NOT_CURRENT: this follower does not hold the key's latest value; ask another. */
    public enum ReadResult { VALUE, NO_KEY, PENDING, NOT_CURRENT }

    public record Read(ReadResult result, byte[] value, long version) {}

    /** What became of a transaction, for a new leader resolving it (PROTOCOL.md, "Standby leader"). */
    public enum Outcome { COMMITTED, ABORTED, PREPARED, UNKNOWN }

    /** A page of keys for a gainer, and where the next page starts (null: the end). */
    public record CopyPage(List<LogRecord.Data> entries, String next) {}

    private final long self;
    private long epoch;
    private final Store store = new Store();
    private final LinkedHashMap<TxId, Prepared> prepared = new LinkedHashMap<>();
    private final HashMap<String, TxId> locks = new HashMap<>();
    private TxId manual;
    private long lastManualSeq;
    private final Outcomes decided = new Outcomes();
    /**
     * The versions of the latest commits (from the log since the last snapshot, at most
     * {@link #RECENT_VERSIONS}): a new leader resolving a transaction commits it everywhere at
     * the version it got here, so every replica holds one value under one version.
     */
    private final LinkedHashMap<TxId, Long> recentVersions = new LinkedHashMap<>();
    static final int RECENT_VERSIONS = 10_000;
    /**
     * Leaders' transactions this follower held prepared when it left the ring (evicted, or a new
     * membership): their phase 2 is answered "not this follower", not "never prepared" (at most
     * {@link #RECENT_VERSIONS}, in memory).
     */
    private final LinkedHashSet<TxId> droppedOnLeaving = new LinkedHashSet<>();
    private final LinkedHashSet<String> changedByHand = new LinkedHashSet<>();
    private final RidMemory rids = new RidMemory();
    private View view;
    private Placement placement;
    private long mySince;
    private long copiedRound;

    /** A participant that does not know its own ring id: every key is its own (tests, hand use). */
    public Participant() {
        this(0);
    }

    /** @param self this follower's ring id (SPEC.md section 4), to find itself in a view */
    public Participant(long self) {
        this.self = self;
    }

    /* --- Epochs --- */

    /** Checks a leader message's epoch: null to go on (with the epoch record to append first, if new), or a 409. */
    private Step checkEpoch(long msgEpoch, LogRecord[] epochRecord) {
        if (msgEpoch < epoch) return Step.of(409, Errors.STALE_LEADER);
        if (msgEpoch > epoch) {
            LogRecord r = new LogRecord.Epoch(msgEpoch);
            apply(r);
            epochRecord[0] = r;
        }
        return null;
    }

    /** A leader message that carries only an epoch (a read, a batch, a health check). */
    public Step observeEpoch(long msgEpoch) {
        LogRecord[] rec = new LogRecord[1];
        Step stale = checkEpoch(msgEpoch, rec);
        if (stale != null) return stale;
        return Step.of(200, "").with(rec[0]);
    }

    /**
     * A leader taking office claims a new epoch: accepted only if it is above every epoch this
     * follower has accepted (no two leaders share an epoch) and this follower has not heard from
     * a live leader of its current epoch within the lease ({@code leaderLive}): a leader that
     * still serves is not deposed by one that merely lost touch with it (PROTOCOL.md, "Standby
     * leader": Raft's leader stickiness).
     */
    public Step claimEpoch(long msgEpoch, boolean leaderLive) {
        if (msgEpoch <= epoch || leaderLive) return Step.of(409, Errors.STALE_LEADER);
        return observeEpoch(msgEpoch);
    }

    /* --- Phase 1 --- */

    /**
     * A leader's prepare of transaction {@code tx}: every write's key locked by it, or none. A
     * key held by another transaction, a failed condition, or a DELETE of an absent key votes no
     * (a blind write checks neither). The vote carries the highest version held of its keys, so
     * the leader can give the writes a version above it.
     */
    public Step prepare(TxId tx, long msgEpoch, List<Write> writes, String rid, long nowMillis) {
        LogRecord[] rec = new LogRecord[1];
        Step stale = checkEpoch(msgEpoch, rec);
        if (stale != null) return stale;
        return vote(tx, msgEpoch, writes, rid, nowMillis).with(rec[0]);
    }

    /** The manual slot's prepare: a PUT or DELETE by hand, without a transaction id. */
    public Step prepareByHand(Write write, long nowMillis) {
        if (manual != null) return Step.of(500, Errors.UNABLE);
        TxId tx = new TxId(0, Math.max(lastManualSeq + 1, nowMillis));
        return vote(tx, 0, List.of(write), null, nowMillis);
    }

    private Step vote(TxId tx, long msgEpoch, List<Write> writes, String rid, long nowMillis) {
        if (prepared.containsKey(tx)) return Step.of(202, Errors.VOTE_COMMIT).withVersion(heldVersion(writes)); // a repeat
        if (decided.get(tx) != null) return Step.of(500, Errors.UNABLE);
        // Evicted in the view it logged (before the leader acts on it): it dropped its keys, so
        // its "no key" or version would be wrong answers; it votes no until it joins again.
        if (evicted()) return Step.of(500, Errors.UNABLE);
        for (Write w : writes) {
            TxId holder = locks.get(w.key());
            if (holder != null) return Step.of(500, Errors.UNABLE);
        }
        for (Write w : writes) {
            if (w.blind()) continue;
            boolean checked = w.ifVersion() >= 0 || w.kind() == Write.Kind.DELETE;
            // The view it logged, newer than the one the leader planned under, says it does not
            // hold the key's latest value (evicted and joining again, or the key moved away): what
            // it holds answers no condition; "no key" or a version mismatch would be wrong answers
            // (simulation seed 7200000000754). A no vote the client may retry.
            if (checked && !tx.isManual() && !currentFor(w.key())) return Step.of(500, Errors.UNABLE);
            long live = store.liveVersion(w.key());
            if (w.ifVersion() >= 0 && w.ifVersion() != live) return Step.of(500, Errors.VERSION_MISMATCH).withVersion(live);
            if (w.kind() == Write.Kind.DELETE && live == 0) return Step.of(500, Errors.NO_KEY);
        }
        if (prepared.size() >= MAX_PREPARED) return Step.of(500, Errors.UNABLE);
        LogRecord r = new LogRecord.Prepare(tx, Math.max(msgEpoch, 0), nowMillis, rid, writes, view == null ? 0 : view.number());
        apply(r);
        return Step.of(202, Errors.VOTE_COMMIT, r).withVersion(heldVersion(writes));
    }

    private long heldVersion(List<Write> writes) {
        long v = 0;
        for (Write w : writes) v = Math.max(v, store.heldVersion(w.key()));
        return v;
    }

    /* --- Phase 2 --- */

    /**
     * Phase 2, commit, at {@code version}. {@code rid}, when the write carried one, is remembered
     * with it. {@code tx} null means the manual slot (by hand: {@code msgEpoch} -1).
     */
    public Step commit(TxId tx, long msgEpoch, long version, RidMemory.Outcome rid) {
        LogRecord[] rec = new LogRecord[1];
        if (tx != null) {
            Step stale = checkEpoch(msgEpoch, rec);
            if (stale != null) return stale;
        } else {
            tx = manual;
            if (tx == null) return Step.of(204, ""); // the seed's answer: nothing pending, nothing to do
            version = Math.max(store.highVersion(), heldVersion(prepared.get(tx).writes())) + 1;
        }
        Step s;
        if (prepared.containsKey(tx)) {
            if (version <= 0) version = Math.max(store.highVersion(), heldVersion(prepared.get(tx).writes())) + 1; // by hand
            LogRecord r = new LogRecord.Commit(tx, version);
            apply(r);
            s = rid == null ? Step.of(204, "", r) : Step.of(204, "", r, remember(rid));
        } else if ((evicted() || droppedOnLeaving.contains(tx)) && decided.get(tx) == null) {
            s = Step.of(410, Errors.NOT_THIS_FOLLOWER); // evicted: it dropped what it held, and is no replica now
        } else {
            // Never a silent 204 for a tx we never prepared: that would hide a lost yes vote.
            s = Boolean.TRUE.equals(decided.get(tx)) ? Step.of(204, "") : Step.of(500, Errors.UNABLE);
        }
        return s.with(rec[0]);
    }

    /** This follower's view says it is no member (it learns that before the leader acts on the view). */
    private boolean evicted() {
        return view != null && self != 0 && view.member(self) == null;
    }

    public Step commit(TxId tx, long msgEpoch) {
        return commit(tx, msgEpoch, 0, null);
    }

    /** Phase 2, abort. Unknown transactions are presumed aborted (204), and remembered so a late prepare votes no. */
    public Step abort(TxId tx, long msgEpoch, RidMemory.Outcome rid) {
        LogRecord[] rec = new LogRecord[1];
        if (tx != null) {
            Step stale = checkEpoch(msgEpoch, rec);
            if (stale != null) return stale;
        } else {
            tx = manual;
            if (tx == null) return Step.of(204, "");
        }
        List<LogRecord> records = new ArrayList<>(2);
        Step s;
        if (prepared.containsKey(tx)) {
            LogRecord r = new LogRecord.Abort(tx);
            apply(r);
            records.add(r);
            s = Step.of(204, "");
        } else if (decided.get(tx) != null) {
            s = Boolean.TRUE.equals(decided.get(tx)) ? Step.of(500, Errors.UNABLE) : Step.of(204, "");
        } else if (tx.isManual()) {
            s = Step.of(204, "");
        } else {
            // Presumed abort of a tx we never saw: its prepare may still be on its way, overtaken
            // by this abort, and must then vote no rather than lock its keys for nothing.
            LogRecord r = new LogRecord.Decided(tx, false);
            apply(r);
            records.add(r);
            s = Step.of(204, "");
        }
        if (rid != null && s.ok()) records.add(remember(rid));
        return new Step(s.status(), s.body(), 0, records).with(rec[0]);
    }

    public Step abort(TxId tx, long msgEpoch) {
        return abort(tx, msgEpoch, null);
    }

    private LogRecord remember(RidMemory.Outcome rid) {
        LogRecord r = rid.record();
        apply(r);
        return r;
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

    /* --- Reads --- */

    /**
     * A read of the committed state. A leader's read ({@code fromLeader}) of a key held by a
     * prepared transaction is PENDING (its value may be about to change), and of a key this
     * follower does not hold the latest value of is NOT_CURRENT.
     */
    public Read read(String key, boolean fromLeader) {
        if (fromLeader) {
            if (locks.containsKey(key)) return new Read(ReadResult.PENDING, null, 0);
            if (!currentFor(key)) return new Read(ReadResult.NOT_CURRENT, null, 0);
        }
        Store.Entry e = store.get(key);
        if (e == null || !e.live()) return new Read(ReadResult.NO_KEY, null, 0);
        return new Read(ReadResult.VALUE, e.value(), e.version());
    }

    /** True when this follower's view says it holds the key's latest committed value. */
    public boolean currentFor(String key) {
        if (placement == null || self == 0) return view == null || self == 0;
        return placement.isCurrent(self, Hash.strhash64(key));
    }

    /**
     * Whether a person's GET is served (SPEC.md section 10: not while joining or evicted). A
     * follower that knows no view yet serves, as the seed's did.
     */
    public boolean servesPersonReads() {
        String s = state();
        return !s.equals("joining") && !s.equals("evicted");
    }

    /* --- Views and moving keys --- */

    /** A view from the leader: logged if it is newer than the one held. */
    public Step learnView(View v) {
        if (!v.newerThan(view)) return Step.of(200, "");
        LogRecord r = new LogRecord.ViewRecord(v);
        apply(r);
        return Step.of(200, "", r);
    }

    private void applyView(View v) {
        finishSweep(); // what the last view took away goes before anything of the new one
        View old = view;
        view = v;
        placement = new Placement(v);
        if (self != 0) {
            ViewMember me = v.member(self);
            if (me == null) {
                wipe(); // evicted: drop every key; if it comes back, it is filled again
                mySince = 0;
            } else if (me.since() != mySince) {
                if (!v.inBase(self)) wipe(); // a new membership starts empty: nothing it held is trusted
                mySince = me.since();
            }
        }
        // Keys that moved away go once the move is complete (not at every view: a key a person
        // wrote here by hand stays until the ring changes).
        boolean ringChanged = old == null || !old.settled() || !old.base().equals(v.base()) || !old.gone().equals(v.gone());
        if (v.settled() && ringChanged) {
            Placement p = placement;
            startSweep(e -> !e.getValue().live() || self != 0 && !p.holds(self, e.getValue().hash()) && !locks.containsKey(e.getKey()));
        }
        // Keys this follower gains in a move, that it was no replica of under the view before the
        // move, may be left over from an earlier membership: a follower that skipped a settled view
        // (it was down) never swept them. The copy brings what is current; a key deleted since has
        // no entry there, and the leftover would come back. They go when the copy round begins:
        // by then every write planned under an older view has settled (one may still be on its
        // way to this follower until then, and must find the key). Writes under the move are
        // newer than anything held when it began, so only versions up to then go. A key locked by
        // one of them goes too: its commit writes it anew, and if it aborts the leftover must not
        // stay (simulation seed 12100000000984).
        if (!v.moving() || old == null || self == 0 || v.member(self) == null) {
            gainedFrom = null;
        } else if (gainedFrom == null && !sameRings(old, v)) {
            gainedFrom = new Placement(old);
            gainedUpTo = store.highVersion();
        }
        if (gainedFrom != null && v.copyRound() != 0 && old.copyRound() != v.copyRound()) {
            Placement before = gainedFrom, now = placement;
            long upTo = gainedUpTo;
            gainedFrom = null; // once per move: a later change of it compares with the view before that
            // Only a member that gains a range looks: on a source of a million keys the pass is a
            // second of CPU at the copy's first moment, when the machine has least to spare.
            LongPredicate gained = gained(before, now, self);
            if (gainsARange(before, now, gained)) startSweep(e -> e.getValue().version() <= upTo && gained.test(e.getValue().hash()));
        }
    }

    /** Hashes the member holds under {@code now} and did not under {@code before}. */
    private static LongPredicate gained(Placement before, Placement now, long self) {
        return h -> !before.holds(self, h) && now.holds(self, h);
    }

    /** True when the member gains some range from {@code before} to {@code now}. */
    static boolean gainsARange(Placement before, Placement now, long self) {
        return gainsARange(before, now, gained(before, now, self));
    }

    private static boolean gainsARange(Placement before, Placement now, LongPredicate gained) {
        List<Long> ranges = Placement.representatives(before, now); // one hash per range
        if (ranges.isEmpty()) return true; // no ring points to go by: look at every key
        for (long h : ranges) if (gained.test(h)) return true;
        return false;
    }

    private Placement gainedFrom; // the placement before the move under way, until its copy round begins
    private long gainedUpTo;      // and this follower's highest version then

    private static boolean sameRings(View a, View b) {
        return a.moving() == b.moving() && a.base().equals(b.base()) && a.gone().equals(b.gone()) && a.members().equals(b.members());
    }

    /* The keys a completed move took away, and the tombstones it kept, are dropped by one pass over
     * the store. On a follower of a million keys that pass takes long enough to stall its writes,
     * so past the first slice it goes on in slices between other work ({@link #sweep}, driven by
     * the shell). Until it ends such a key may still be listed here, never read through the leader
     * (it routes by the ring); it is gone before any newer view is applied (so a later move that
     * gives the key back never finds an old copy) and before a snapshot is taken. */
    private Predicate<Map.Entry<String, Store.Entry>> sweepDrops; // what the pass drops; null: no pass pending
    private String sweepAfter;                                    // the last key looked at, null: from the start

    private void startSweep(Predicate<Map.Entry<String, Store.Entry>> drops) {
        sweepDrops = drops;
        sweepAfter = null;
        sweep(SWEEP_SLICE);
    }

    /** True while keys a completed move took away, or leftovers in keys a move gives, may still be held. */
    public boolean sweeping() {
        return sweepDrops != null;
    }

    /** Looks at up to {@code max} more keys and drops those the pass under way drops; true when more remain. */
    public boolean sweep(int max) {
        if (sweepDrops == null) return false;
        sweepAfter = store.removeIf(sweepAfter, max, sweepDrops);
        if (sweepAfter == null) sweepDrops = null;
        return sweepDrops != null;
    }

    private void finishSweep() {
        sweep(Integer.MAX_VALUE);
    }

    /** Drops every key and every transaction prepared by a leader: what this follower held is no longer trusted. */
    private void wipe() {
        store.clear();
        for (Iterator<Prepared> it = prepared.values().iterator(); it.hasNext(); ) {
            Prepared p = it.next();
            if (p.tx().isManual()) continue;
            droppedOnLeaving.add(p.tx());
            if (droppedOnLeaving.size() > RECENT_VERSIONS) droppedOnLeaving.remove(droppedOnLeaving.iterator().next());
            for (Write w : p.writes()) locks.remove(w.key());
            it.remove();
        }
        changedByHand.clear();
        copiedRound = 0;
    }

    /** This follower's state in its view (SPEC.md section 10): new (no view yet), joining, up, draining or evicted. */
    public String state() {
        if (view == null || self == 0) return "new";
        return view.state(self);
    }

    /** Keys copied from a current replica: each applied only if newer than what is held. */
    public Step applyCopy(List<LogRecord.Data> entries) {
        LogRecord r = new LogRecord.Copy(entries);
        apply(r);
        return Step.of(200, "", r);
    }

    /** Every key of copy round {@code round} is held (once this record is durable). */
    public Step copied(long round) {
        LogRecord r = new LogRecord.Copied(round);
        apply(r);
        return Step.of(200, "", r);
    }

    /** The copy round this follower must still fill, or 0 when it has nothing to copy. */
    public long roundToCopy() {
        if (view == null || self == 0 || view.copyRound() == 0 || view.member(self) == null) return 0;
        if (view.current().contains(self) || copiedRound == view.copyRound()) return 0;
        return placement.gainers().contains(self) ? view.copyRound() : 0;
    }

    /**
     * The source's side of a copy: the next keys after {@code after} that {@code gainer} gains in
     * copy round {@code round} and must copy from this follower (the first base replica not gone
     * and not in {@code skip}), with their versions and deletions. Null when this follower does
     * not know that round (its view is older or newer), or while a transaction from before the
     * round holds one of the keys (see {@link #holdsOlderThan}): the gainer asks again. Also null
     * when {@code gainerView} (0: not given) is not this follower's view: a round spans several
     * views (a gainer made current changes which member is the source of a key when its base
     * replica is skipped), and a source deciding under another view than the gainer's may send
     * none of keys the gainer expects from it (simulation seed 8700000000435).
     */
    public CopyPage copyPage(long round, long gainer, String after, int limit, int maxBytes, Set<Long> skip, long gainerView) {
        if (view == null || view.copyRound() != round || round == 0) return null;
        if (gainerView > 0 && view.number() != gainerView) return null;
        if (holdsOlderThan(round, gainer, skip)) return null;
        var tail = after == null ? store.entries() : store.entries().tailMap(after, false);
        Placement.HashFilter sends = copyFilter(gainer, skip);
        List<LogRecord.Data> out = new ArrayList<>(Math.min(limit, 1024));
        int scanned = 0;
        long bytes = 0;
        String last = null;
        for (var e : tail.entrySet()) {
            if (out.size() >= limit || bytes >= maxBytes || scanned >= COPY_SCAN_LIMIT) return new CopyPage(out, last);
            scanned++;
            last = e.getKey();
            if (sends.test(e.getValue().hash())) {
                byte[] v = e.getValue().value();
                out.add(new LogRecord.Data(e.getKey(), e.getValue().version(), v));
                bytes += e.getKey().length() + (v == null ? 0 : v.length) + 16;
            }
        }
        return new CopyPage(out, null);
    }

    /** The last copy filter made, for the pages that follow with the same placement, gainer and skip set. */
    private record CopyFilterFor(Placement placement, long gainer, Set<Long> skip, Placement.HashFilter filter) {}
    private CopyFilterFor copyFilter;

    private Placement.HashFilter copyFilter(long gainer, Set<Long> skip) {
        CopyFilterFor f = copyFilter;
        if (f == null || f.placement != placement || f.gainer != gainer || !f.skip.equals(skip)) {
            f = new CopyFilterFor(placement, gainer, Set.copyOf(skip), placement.copyFilter(self, gainer, skip));
            copyFilter = f;
        }
        return f.filter;
    }

    /* --- State changes, live and in recovery --- */

    /**
     * Applies one record. Throws {@link IllegalStateException} for a record that cannot follow
     * the state so far (a COMMIT of a tx never prepared): that is a damaged or foreign log.
     */
    @Override
    public void apply(LogRecord r) {
        if (r instanceof LogRecord.Prepare p) {
            for (Write w : p.writes()) if (locks.containsKey(w.key())) throw new IllegalStateException("PREPARE " + p.tx() + " of a locked key");
            prepared.put(p.tx(), new Prepared(p.tx(), p.epoch(), p.writes(), p.sinceMillis(), p.rid(), p.view()));
            for (Write w : p.writes()) locks.put(w.key(), p.tx());
            if (p.tx().isManual()) {
                manual = p.tx();
                lastManualSeq = Math.max(lastManualSeq, p.tx().seq());
            }
        } else if (r instanceof LogRecord.Commit c) {
            Prepared p = decide(c.tx(), true);
            if (!c.tx().isManual()) {
                recentVersions.put(c.tx(), c.version());
                if (recentVersions.size() > RECENT_VERSIONS) recentVersions.remove(recentVersions.keySet().iterator().next());
            }
            boolean tombstones = view != null && !view.settled();
            for (Write w : p.writes()) {
                if (w.kind() == Write.Kind.CHECK) continue;
                byte[] value = w.kind() == Write.Kind.PUT ? w.value().getBytes(StandardCharsets.UTF_8) : null;
                store.apply(w.key(), value, c.version(), tombstones);
                // A leader's write of a key that moved away while it ran is not kept; a person's is.
                if (p.tx().isManual()) handChanged(w.key());
                else if (view != null && view.settled() && self != 0 && !placement.holds(self, Hash.strhash64(w.key()))) store.remove(w.key());
            }
        } else if (r instanceof LogRecord.Abort a) {
            Prepared p = decide(a.tx(), false);
            // A key kept past a completed move only because this transaction held it goes now.
            if (!p.tx().isManual() && view != null && view.settled() && self != 0) {
                for (Write w : p.writes()) if (!placement.holds(self, Hash.strhash64(w.key()))) store.remove(w.key());
            }
        } else if (r instanceof LogRecord.Epoch e) {
            epoch = Math.max(epoch, e.epoch());
        } else if (r instanceof LogRecord.Data d) {
            store.apply(d.key(), d.value(), d.version(), true);
        } else if (r instanceof LogRecord.Copy c) {
            finishSweep(); // leftovers go before the copy's entries come in (they may be as old)
            for (LogRecord.Data d : c.entries()) store.apply(d.key(), d.value(), d.version(), true);
        } else if (r instanceof LogRecord.Copied c) {
            copiedRound = c.round();
        } else if (r instanceof LogRecord.ViewRecord v) {
            applyView(v.view());
        } else if (r instanceof LogRecord.Decided d) {
            decided.put(d.tx(), d.committed());
            if (d.tx().isManual()) lastManualSeq = Math.max(lastManualSeq, d.tx().seq());
        } else if (r instanceof LogRecord.Outcomes o) {
            decided.load(o);
        } else if (r instanceof LogRecord.Hand h) {
            changedByHand.add(h.key());
        } else if (r instanceof LogRecord.Rid d) {
            rids.put(RidMemory.Outcome.of(d));
        } else if (r instanceof LogRecord.HighVersion h) {
            store.seeVersion(h.version());
        } else {
            throw new IllegalStateException("a follower log cannot hold " + r.getClass().getSimpleName());
        }
    }

    private void handChanged(String key) {
        changedByHand.remove(key);
        changedByHand.add(key);
        if (changedByHand.size() > MAX_CHANGED_BY_HAND) {
            Iterator<String> it = changedByHand.iterator();
            it.next();
            it.remove();
        }
    }

    /**
     * True while a leader's transaction prepared here before the copy round (it may have begun
     * under the view before the move, whose replicas do not include the gainer) holds a key this
     * follower would send the gainer: its commit would never reach the gainer, so the key is not
     * served until it is decided. Those found here at restart, whose phase 2 is still on its way,
     * are the ones this stops.
     */
    private boolean holdsOlderThan(long round, long gainer, Set<Long> skip) {
        for (Prepared p : prepared.values()) {
            if (p.tx().isManual() || p.view() >= round) continue;
            for (Write w : p.writes()) if (placement.copySourceFor(self, gainer, Hash.strhash64(w.key()), skip)) return true;
        }
        return false;
    }

    private Prepared decide(TxId tx, boolean commit) {
        Prepared p = prepared.remove(tx);
        if (p == null) throw new IllegalStateException((commit ? "COMMIT " : "ABORT ") + tx + " of a tx never prepared");
        for (Write w : p.writes()) locks.remove(w.key());
        if (tx.equals(manual)) manual = null;
        decided.put(tx, commit);
        return p;
    }

    /** The whole state as records, for a snapshot. Applying them to a fresh Participant rebuilds it. */
    @Override
    public List<LogRecord> snapshotRecords() {
        finishSweep(); // a snapshot holds only what is kept
        List<LogRecord> out = new ArrayList<>(store.size() + prepared.size() + 16);
        out.add(new LogRecord.Epoch(epoch));
        out.add(new LogRecord.HighVersion(store.highVersion()));
        // The view first and the data after: applying a view may drop keys, never the other way round.
        if (view != null) out.add(new LogRecord.ViewRecord(view));
        if (copiedRound != 0) out.add(new LogRecord.Copied(copiedRound));
        store.snapshot(out);
        decided.snapshot(out);
        for (Prepared p : prepared.values()) out.add(new LogRecord.Prepare(p.tx(), p.epoch(), p.sinceMillis(), p.rid(), p.writes(), p.view()));
        for (String k : changedByHand) out.add(new LogRecord.Hand(k));
        rids.snapshot(out);
        return out;
    }

    /* --- Views for status pages and the leader --- */

    public long epoch() { return epoch; }

    public int keyCount() { return store.liveKeys(); }

    /** The highest version this follower holds or has seen: a new leader starts above it. */
    public long highVersion() { return store.highVersion(); }

    public View view() { return view; }

    public long copiedRound() { return copiedRound; }

    public byte[] value(String key) { return store.value(key); }

    public long version(String key) { return store.liveVersion(key); }

    /** A page of live keys for the key browser (SPEC.md section 2, {@code /api/keys}). */
    public Keys.Page keys(String prefix, String after, int limit) {
        return Keys.page(store.entries(), prefix, after, limit, e -> e.live());
    }

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

    public Outcome outcome(TxId tx) {
        if (prepared.containsKey(tx)) return Outcome.PREPARED;
        Boolean d = decided.get(tx);
        return d == null ? Outcome.UNKNOWN : d ? Outcome.COMMITTED : Outcome.ABORTED;
    }

    /** The version tx committed at here, or 0 when it is not among the latest commits. */
    public long committedVersion(TxId tx) {
        Long v = recentVersions.get(tx);
        return v == null ? 0 : v;
    }

    /** What this follower knows of a rid: the outcome its leader sent with phase 2, or null. */
    public RidMemory.Outcome rid(String rid) { return rids.get(rid); }

    /** True when a transaction that carries this rid is prepared here (its outcome is not known yet). */
    public boolean ridPending(String rid) {
        for (Prepared p : prepared.values()) if (rid.equals(p.rid())) return true;
        return false;
    }

    /** The version a key holds (a deleted key's included), for a new leader resolving a transaction. */
    public long heldVersion(String key) { return store.heldVersion(key); }
}
