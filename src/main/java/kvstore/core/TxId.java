package kvstore.core;

/**
 * A transaction id, {@code EPOCH.N} on the wire (PROTOCOL.md, "Names"): the epoch of the leader
 * that began it and a counter within that epoch, so ids are unique across restarts and leaders.
 * Epoch 0 is never a leader's: it marks the manual slot's hand-driven transactions.
 */
public record TxId(long epoch, long seq) implements Comparable<TxId> {
    public TxId {
        if (epoch < 0 || seq < 0) throw new IllegalArgumentException("negative tx id part");
    }

    public boolean isManual() {
        return epoch == 0;
    }

    /** Parses {@code E.N} with both parts plain decimal; null when the text is not a tx id. */
    public static TxId parse(String s) {
        int dot = s.indexOf('.');
        if (dot <= 0 || dot == s.length() - 1 || dot > 19 || s.length() - dot - 1 > 19) return null;
        long e = digits(s, 0, dot);
        long n = digits(s, dot + 1, s.length());
        if (e < 1 || n < 0) return null;
        return new TxId(e, n);
    }

    private static long digits(String s, int from, int to) {
        long v = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return -1;
            v = v * 10 + (c - '0');
            if (v < 0) return -1;
        }
        return v;
    }

    @Override
    public int compareTo(TxId o) {
        int c = Long.compare(epoch, o.epoch);
        return c != 0 ? c : Long.compare(seq, o.seq);
    }

    @Override
    public String toString() {
        return epoch == 0 ? "manual." + seq : epoch + "." + seq;
    }
}
