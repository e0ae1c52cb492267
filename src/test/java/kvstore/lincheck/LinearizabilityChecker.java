package kvstore.lincheck;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A linearizability checker for histories of a key-value register: the Wing-Gong-Lowe search
 * with memoization, as in Porcupine (Go), run per key because keys are independent
 * ("P-compositionality": a history is linearizable iff each key's sub-history is).
 *
 * <p>The model of one key: its value or "absent". GET must return the current value; PUT sets
 * it; DELETE that answered 201 needs a value and removes it; DELETE that answered "no key" needs
 * it absent. Operations with an unknown outcome return at infinity, so they may be placed last,
 * where they affect nothing observed; a DELETE with an unknown outcome leaves the key absent
 * whether or not it found a value.
 *
 * <p>Search: walk the time-ordered list of call and return events. At a call, try to linearize
 * that operation now (if the model allows it and the resulting (set of linearized operations,
 * state) was not already explored), remove it from the list and restart from the head. At a
 * return whose operation is not yet linearized, backtrack: undo the last choice and try the next
 * operation. The history is linearizable when the list empties.
 */
public final class LinearizabilityChecker {
    private LinearizabilityChecker() {}

    /** The verdict for a whole history: which keys, if any, are not linearizable. */
    public record Result(boolean ok, Map<String, String> failures) {}

    public static Result check(List<Operation> history) {
        Map<String, List<Operation>> byKey = new HashMap<>();
        for (Operation op : history) byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        Map<String, String> failures = new HashMap<>();
        for (Map.Entry<String, List<Operation>> e : byKey.entrySet()) {
            if (!checkKey(e.getValue(), null)) failures.put(e.getKey(), describe(e.getValue()));
        }
        return new Result(failures.isEmpty(), failures);
    }

    /** One key's history, starting from {@code initial} (null: absent). */
    public static boolean checkKey(List<Operation> ops, String initial) {
        Entry head = buildList(ops);
        int n = ops.size();
        BitSet linearized = new BitSet(n);
        Set<CacheKey> cache = new HashSet<>();
        ArrayDeque<Frame> stack = new ArrayDeque<>();
        String state = initial;
        Entry entry = head.next;
        while (head.next != null) {
            if (entry.isCall) {
                Step s = step(state, entry.op);
                boolean fresh = false;
                if (s.ok) {
                    BitSet next = (BitSet) linearized.clone();
                    next.set(entry.id);
                    fresh = cache.add(new CacheKey(next, s.state));
                }
                if (fresh) {
                    stack.push(new Frame(entry, state));
                    state = s.state;
                    linearized.set(entry.id);
                    lift(entry);
                    entry = head.next;
                } else {
                    entry = entry.next;
                }
            } else {
                if (stack.isEmpty()) return false;
                Frame f = stack.pop();
                state = f.state;
                linearized.clear(f.call.id);
                unlift(f.call);
                entry = f.call.next;
            }
        }
        return true;
    }

    private record Step(boolean ok, String state) {}

    private static Step step(String state, Operation op) {
        return switch (op.kind()) {
            case GET -> new Step(Objects.equals(state, op.value()), state);
            case PUT -> new Step(true, op.value());
            // A DELETE whose answer was lost either deleted the value or found none: absent after.
            case DELETE -> op.unknownOutcome() ? new Step(true, null)
                    : op.found() ? new Step(state != null, null) : new Step(state == null, null);
        };
    }

    /* --- The event list: calls and returns in time order, doubly linked --- */

    private static final class Entry {
        final int id;
        final boolean isCall;
        final Operation op;
        Entry match;        // a call's return, and a return's call
        Entry prev, next;

        Entry(int id, boolean isCall, Operation op) {
            this.id = id;
            this.isCall = isCall;
            this.op = op;
        }
    }

    private record Frame(Entry call, String state) {}

    private record CacheKey(BitSet linearized, String state) {}

    private record Event(long time, boolean isCall, int id) {}

    private static Entry buildList(List<Operation> ops) {
        List<Event> events = new ArrayList<>(2 * ops.size());
        for (int i = 0; i < ops.size(); i++) {
            events.add(new Event(ops.get(i).callNanos(), true, i));
            events.add(new Event(ops.get(i).returnNanos(), false, i));
        }
        // Calls before returns at equal times: two operations that touch are concurrent.
        events.sort(Comparator.comparingLong(Event::time).thenComparing(ev -> !ev.isCall()));
        Entry head = new Entry(-1, false, null);
        Entry last = head;
        Entry[] calls = new Entry[ops.size()];
        for (Event ev : events) {
            Entry e = new Entry(ev.id(), ev.isCall(), ops.get(ev.id()));
            if (ev.isCall()) calls[ev.id()] = e;
            else {
                e.match = calls[ev.id()];
                calls[ev.id()].match = e;
            }
            last.next = e;
            e.prev = last;
            last = e;
        }
        return head;
    }

    /** Removes a call and its return from the list. */
    private static void lift(Entry call) {
        call.prev.next = call.next;
        if (call.next != null) call.next.prev = call.prev;
        Entry ret = call.match;
        ret.prev.next = ret.next;
        if (ret.next != null) ret.next.prev = ret.prev;
    }

    /** Puts them back, in reverse order of removal. */
    private static void unlift(Entry call) {
        Entry ret = call.match;
        ret.prev.next = ret;
        if (ret.next != null) ret.next.prev = ret;
        call.prev.next = call;
        if (call.next != null) call.next.prev = call;
    }

    static String describe(List<Operation> ops) {
        List<Operation> sorted = new ArrayList<>(ops);
        sorted.sort(Comparator.comparingLong(Operation::callNanos));
        StringBuilder sb = new StringBuilder();
        for (Operation op : sorted) sb.append(op).append('\n');
        return sb.toString();
    }
}
