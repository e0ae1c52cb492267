package kvstore.core.tpc;

import kvstore.core.TxId;
import kvstore.core.log.LogRecord;

import java.util.BitSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Every decided transaction of every leader epoch, exactly: one bit per sequence number in a
 * committed and an aborted bitset per epoch (a million transactions cost 250 KB). So a repeated
 * phase-2 message, or a new leader asking what became of a transaction, always gets the truth,
 * however long ago it was decided. Hand-driven transactions (epoch 0, whose numbers are clock
 * readings) are kept in a small bounded map instead.
 */
final class Outcomes {
    /** Hand-driven (manual) outcomes remembered. */
    static final int MANUAL_RETAINED = 1_000;

    private final TreeMap<Long, BitSet> committed = new TreeMap<>();
    private final TreeMap<Long, BitSet> aborted = new TreeMap<>();
    private final LinkedHashMap<Long, Boolean> manual = new LinkedHashMap<>();

    Boolean get(TxId tx) {
        if (tx.isManual()) return manual.get(tx.seq());
        if (tx.seq() > Integer.MAX_VALUE) return null;
        BitSet c = committed.get(tx.epoch());
        if (c != null && c.get((int) tx.seq())) return Boolean.TRUE;
        BitSet a = aborted.get(tx.epoch());
        if (a != null && a.get((int) tx.seq())) return Boolean.FALSE;
        return null;
    }

    void put(TxId tx, boolean commit) {
        if (tx.isManual()) {
            manual.put(tx.seq(), commit);
            if (manual.size() > MANUAL_RETAINED) {
                Iterator<Long> it = manual.keySet().iterator();
                it.next();
                it.remove();
            }
            return;
        }
        if (tx.seq() > Integer.MAX_VALUE) return;
        (commit ? committed : aborted).computeIfAbsent(tx.epoch(), e -> new BitSet()).set((int) tx.seq());
    }

    void load(LogRecord.Outcomes o) {
        committed.computeIfAbsent(o.epoch(), e -> new BitSet()).or(BitSet.valueOf(o.committed()));
        aborted.computeIfAbsent(o.epoch(), e -> new BitSet()).or(BitSet.valueOf(o.aborted()));
    }

    void snapshot(List<LogRecord> out) {
        TreeSet<Long> epochs = new TreeSet<>(committed.keySet());
        epochs.addAll(aborted.keySet());
        for (long e : epochs) {
            BitSet c = committed.getOrDefault(e, new BitSet());
            BitSet a = aborted.getOrDefault(e, new BitSet());
            out.add(new LogRecord.Outcomes(e, c.toByteArray(), a.toByteArray()));
        }
        for (Map.Entry<Long, Boolean> m : manual.entrySet()) out.add(new LogRecord.Decided(new TxId(0, m.getKey()), m.getValue()));
    }
}
