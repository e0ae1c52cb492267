package kvstore.core;

import kvstore.core.log.LogRecord;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The leader's followers (SPEC.md section 2, {@code POST /register}): up to {@code capacity}
 * of them, each known by HOST:PORT and by the identity of its data directory.
 *
 * <p>Registering the same follower again is a success. A follower that comes back with the same
 * address but another identity has lost or swapped its data directory: it is refused, because it
 * would otherwise answer {@code error: no key} for data it no longer has (PROTOCOL.md, "Node
 * identity"). One registered by hand (no identity) adopts the identity of the first real
 * follower to register at that address.
 */
public final class Registry {

    public record Entry(Member member, String identity) {}

    /** The outcome of a registration: ok (maybe with a record to append first) or an error. */
    public record Result(boolean ok, LogRecord.Register record, String error, String reason) {}

    private final int capacity;
    private final LinkedHashMap<Long, Entry> entries = new LinkedHashMap<>();

    public Registry(int capacity) {
        this.capacity = capacity;
    }

    public Result register(String host, int port, String identity) {
        Member m = Member.of(host, port);
        Entry known = entries.get(m.id());
        if (known != null) {
            if (identity == null || identity.equals(known.identity())) return new Result(true, null, null, null);
            if (known.identity() == null) {
                LogRecord.Register r = new LogRecord.Register(host, port, identity);
                apply(r);
                return new Result(true, r, null, null);
            }
            return new Result(false, null, Errors.UNABLE, "identity mismatch: " + m.address()
                    + " registered with data directory " + known.identity() + " but now has " + identity
                    + " (its data directory was lost or swapped)");
        }
        if (entries.size() >= capacity) return new Result(false, null, Errors.CAPACITY_FULL, null);
        LogRecord.Register r = new LogRecord.Register(host, port, identity);
        apply(r);
        return new Result(true, r, null, null);
    }

    /** Replays a registration from the log. Entries beyond capacity (a smaller restart) are kept. */
    public void apply(LogRecord.Register r) {
        Member m = Member.of(r.host(), r.port());
        entries.put(m.id(), new Entry(m, r.identity()));
    }

    public boolean full() {
        return entries.size() >= capacity;
    }

    public int capacity() {
        return capacity;
    }

    public int size() {
        return entries.size();
    }

    public Entry get(long id) {
        return entries.get(id);
    }

    public List<Entry> entries() {
        return new ArrayList<>(entries.values());
    }

    public List<Member> members() {
        List<Member> out = new ArrayList<>(entries.size());
        for (Entry e : entries.values()) out.add(e.member());
        return out;
    }
}
