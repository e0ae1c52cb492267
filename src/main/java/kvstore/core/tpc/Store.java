package kvstore.core.tpc;

import kvstore.core.Hash;
import kvstore.core.Keys;
import kvstore.core.log.LogRecord;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * A follower's committed keys, each with the version of the write that stored it (PROTOCOL.md,
 * "Versions"). A deleted key may be kept as a tombstone (a null value with its version) while
 * keys move, so that a copy of an older value never brings it back: every change is applied
 * only if its version is newer than the one held. Keys are in UTF-8 byte order.
 */
final class Store {
    /** A key's value (null: deleted), version, and strhash64 (kept: a copy or a move looks at every key's). */
    record Entry(byte[] value, long version, long hash) {
        boolean live() {
            return value != null;
        }
    }

    private final TreeMap<String, Entry> entries = new TreeMap<>(Keys.UTF8_ORDER);
    private int live;
    private long highVersion;

    Entry get(String key) {
        return entries.get(key);
    }

    /** The value of a live key, or null. */
    byte[] value(String key) {
        Entry e = entries.get(key);
        return e == null ? null : e.value;
    }

    /** The version a condition is checked against: 0 when the key is absent or deleted. */
    long liveVersion(String key) {
        Entry e = entries.get(key);
        return e == null || !e.live() ? 0 : e.version;
    }

    /** The version held, a tombstone's included: a new write must be above it. */
    long heldVersion(String key) {
        Entry e = entries.get(key);
        return e == null ? 0 : e.version;
    }

    /**
     * Stores a value (or, with {@code value} null, a deletion) if {@code version} is newer than
     * what is held. A deletion leaves a tombstone only when {@code keepTombstone}.
     */
    void apply(String key, byte[] value, long version, boolean keepTombstone) {
        highVersion = Math.max(highVersion, version);
        // One walk down the tree (a copy applies a million keys; get then put walked it twice).
        entries.compute(key, (k, old) -> {
            if (old != null && old.version > version) return old;
            boolean was = old != null && old.live();
            if (value == null && !keepTombstone) {
                if (was) live--;
                return null;
            }
            if (!was && value != null) live++;
            if (was && value == null) live--;
            return new Entry(value, version, old != null ? old.hash : Hash.strhash64(k));
        });
    }

    void remove(String key) {
        Entry old = entries.remove(key);
        if (old != null && old.live()) live--;
    }

    /**
     * Looks at up to {@code max} (at least 1) entries after {@code after} (null: from the first)
     * and drops those the predicate selects. Returns the last key looked at, or null once it
     * reached the end.
     */
    String removeIf(String after, int max, Predicate<Map.Entry<String, Entry>> drop) {
        var tail = after == null ? entries : entries.tailMap(after, false);
        int seen = 0;
        for (Iterator<Map.Entry<String, Entry>> it = tail.entrySet().iterator(); it.hasNext(); ) {
            if (seen++ == max) return after;
            Map.Entry<String, Entry> e = it.next();
            after = e.getKey();
            if (drop.test(e)) {
                if (e.getValue().live()) live--;
                it.remove();
            }
        }
        return null;
    }

    void clear() {
        entries.clear();
        live = 0;
    }

    int liveKeys() {
        return live;
    }

    int size() {
        return entries.size();
    }

    long highVersion() {
        return highVersion;
    }

    void seeVersion(long v) {
        highVersion = Math.max(highVersion, v);
    }

    NavigableMap<String, Entry> entries() {
        return entries;
    }

    void snapshot(List<LogRecord> out) {
        for (Map.Entry<String, Entry> e : entries.entrySet()) {
            out.add(new LogRecord.Data(e.getKey(), e.getValue().version, e.getValue().value));
        }
    }
}
