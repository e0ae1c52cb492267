package kvstore.testing.netlab;

import kvstore.lincheck.Operation;
import kvstore.testing.netlab.LabClient.Call;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A history written by {@link LabClient} ({@code load}): what the clients saw, as operations for
 * the linearizability checker and as figures per fault window.
 */
public final class History {
    public final List<Call> calls;

    public History(List<Call> calls) {
        this.calls = List.copyOf(calls);
    }

    public static History read(Path file) throws IOException {
        List<Call> calls = new ArrayList<>();
        if (Files.exists(file)) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) continue;
                try {
                    calls.add(Call.parse(line));
                } catch (RuntimeException e) {
                    // the last line of a file still being written may be cut short
                }
            }
        }
        calls.sort(Comparator.comparingLong(Call::callUs));
        return new History(calls);
    }

    /** Lines so far, for waiting on a running client (cheap: counts newlines). */
    public static long lines(Path file) {
        try {
            if (!Files.exists(file)) return 0;
            byte[] b = Files.readAllBytes(file);
            long n = 0;
            for (byte x : b) if (x == '\n') n++;
            return n;
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * The history for {@link kvstore.lincheck.LinearizabilityChecker}: answered operations as
     * they returned, writes without an answer with an unknown outcome (they may have happened at
     * any time after their call, or never), GETs without an answer and refused operations left out
     * (SPEC.md section 5: an error answer means no effect). Times are microseconds.
     */
    public List<Operation> operations() {
        List<Operation> out = new ArrayList<>();
        for (Call c : calls) {
            Operation op = operation(c);
            if (op != null) out.add(op);
        }
        return out;
    }

    public static Operation operation(Call c) {
        if (!c.answered()) {
            return switch (c.method()) {
                case "PUT" -> Operation.put(c.client(), c.key(), c.value(), c.callUs(), Long.MAX_VALUE);
                case "DELETE" -> Operation.delete(c.client(), c.key(), true, c.callUs(), Long.MAX_VALUE);
                default -> null;
            };
        }
        boolean ok = c.status() >= 200 && c.status() < 300;
        return switch (c.method()) {
            case "GET" -> c.status() == 200 ? Operation.get(c.client(), c.key(), c.body(), c.callUs(), c.retUs())
                    : c.noKey() ? Operation.get(c.client(), c.key(), null, c.callUs(), c.retUs()) : null;
            case "PUT" -> ok ? Operation.put(c.client(), c.key(), c.value(), c.callUs(), c.retUs()) : null;
            default -> ok ? Operation.delete(c.client(), c.key(), true, c.callUs(), c.retUs())
                    : c.noKey() ? Operation.delete(c.client(), c.key(), false, c.callUs(), c.retUs()) : null;
        };
    }

    public long firstCallMs() {
        return calls.isEmpty() ? 0 : calls.get(0).callUs() / 1000;
    }

    public long lastReturnMs() {
        long m = 0;
        for (Call c : calls) m = Math.max(m, c.retUs() / 1000);
        return m;
    }

    public List<Call> select(Predicate<Call> p) {
        List<Call> out = new ArrayList<>();
        for (Call c : calls) if (p.test(c)) out.add(c);
        return out;
    }

    /** Calls made in [fromMs, toMs). */
    public List<Call> calledIn(long fromMs, long toMs, Predicate<Call> p) {
        return select(c -> c.callUs() >= fromMs * 1000 && c.callUs() < toMs * 1000 && p.test(c));
    }

    public static Predicate<Call> on(Collection<String> keys) {
        Set<String> s = Set.copyOf(keys);
        return c -> s.contains(c.key());
    }

    /** The q-quantile (0..1) of the calls' latencies in ms, -1 for none. */
    public static double latencyQuantile(List<Call> cs, double q) {
        if (cs.isEmpty()) return -1;
        long[] l = cs.stream().mapToLong(c -> c.retUs() - c.callUs()).sorted().toArray();
        int i = (int) Math.ceil(q * l.length) - 1;
        return l[Math.max(0, Math.min(l.length - 1, i))] / 1000.0;
    }

    public static double maxLatencyMs(List<Call> cs) {
        return latencyQuantile(cs, 1.0);
    }

    /** A fault window as the nemesis applied it: wall-clock ms, and the keys it should cost. */
    public record Fault(String label, long startMs, long endMs, Set<String> affectedKeys) {}

    /** What one fault cost, from the history (SPEC.md sections 5 and 12). */
    public record FaultFigures(Fault fault, int affectedWrites, int writesServed, int writesRefused, int writesUnknown,
                               long firstRefusalMs, long lastRefusalMs, double slowestRefusalMs, double slowestDuringMs,
                               int affectedReads, int readsRefused, double slowestReadMs,
                               int otherOps, int otherRefused, double otherP99BeforeMs, double otherP99DuringMs,
                               long servedAgainAfterHealMs) {

        /** How long writes to the affected keys were refused: first refused call to last refusal's answer. */
        public long refusedForMs() {
            return firstRefusalMs < 0 ? 0 : lastRefusalMs - firstRefusalMs;
        }

        public String describe() {
            Fault f = fault;
            StringBuilder sb = new StringBuilder();
            sb.append(String.format("fault '%s': %.1f s (affected keys: %s)%n", f.label(), (f.endMs() - f.startMs()) / 1000.0,
                    f.affectedKeys()));
            if (firstRefusalMs < 0) sb.append("  writes to the affected keys: never refused");
            else sb.append(String.format("  writes to the affected keys refused for %.1f s (from +%.1f s to +%.1f s after the fault began)",
                    refusedForMs() / 1000.0, (firstRefusalMs - f.startMs()) / 1000.0, (lastRefusalMs - f.startMs()) / 1000.0));
            sb.append(String.format("; %d writes: %d acknowledged, %d refused, %d unknown; slowest refusal %.0f ms; "
                    + "slowest answer to a write in flight during the fault %.0f ms%n",
                    affectedWrites, writesServed, writesRefused, writesUnknown, slowestRefusalMs, slowestDuringMs));
            sb.append(String.format("  reads of the affected keys: %d, %d refused or unanswered, slowest %.0f ms%n",
                    affectedReads, readsRefused, slowestReadMs));
            sb.append(String.format("  other keys: %d operations, %d refused or unanswered; p99 %.0f ms before the fault, %.0f ms during%n",
                    otherOps, otherRefused, otherP99BeforeMs, otherP99DuringMs));
            sb.append(servedAgainAfterHealMs < 0 ? "  the cluster never served everything again before the run ended"
                    : String.format("  served everything again %.1f s after the heal", servedAgainAfterHealMs / 1000.0));
            return sb.toString();
        }
    }

    /**
     * Figures for a fault. {@code untilMs} ends its influence (the next fault or the end of the
     * run); {@code baselineFromMs} starts the undisturbed window before it. "Refused" here means
     * not acknowledged: refused or unanswered. Writes of the affected keys count from those in
     * flight when the fault began to the last one answered before {@code untilMs}.
     */
    public FaultFigures figures(Fault f, long baselineFromMs, long untilMs, Set<String> allKeys) {
        Predicate<Call> affected = on(f.affectedKeys());
        Predicate<Call> other = affected.negate();
        // Writes in flight when the fault began count too: they were the first to wait on it.
        // Those still in flight at untilMs (the next fault's start) belong to the next fault.
        List<Call> writes = select(c -> c.retUs() >= f.startMs() * 1000 && c.retUs() < untilMs * 1000 && affected.test(c) && c.write());
        List<Call> notAcked = writes.stream().filter(c -> !c.served()).toList();
        long first = notAcked.stream().mapToLong(c -> Math.max(f.startMs(), c.callUs() / 1000)).min().orElse(-1);
        long last = notAcked.stream().mapToLong(c -> c.retUs() / 1000).max().orElse(-1);
        List<Call> refused = notAcked.stream().filter(Call::answered).toList();
        List<Call> inFault = duringFault(f);
        List<Call> reads = calledIn(f.startMs(), f.endMs(), affected.and(c -> !c.write()));
        List<Call> during = calledIn(f.startMs(), f.endMs(), other);
        List<Call> before = calledIn(baselineFromMs, f.startMs(), other.and(Call::served));
        return new FaultFigures(f, writes.size(), (int) writes.stream().filter(Call::served).count(), refused.size(),
                (int) writes.stream().filter(c -> !c.answered()).count(), first, last, maxLatencyMs(refused), maxLatencyMs(inFault),
                reads.size(), (int) reads.stream().filter(c -> !c.served()).count(), maxLatencyMs(reads),
                during.size(), (int) during.stream().filter(c -> !c.served()).count(),
                latencyQuantile(before, 0.99), latencyQuantile(during.stream().filter(Call::served).toList(), 0.99),
                servedAgain(f, untilMs, allKeys));
    }

    /**
     * Writes of the affected keys in flight at some moment of the fault window, answered or not
     * (an unanswered one counts with the time the client waited): SPEC.md section 5 wants each
     * answered within 2 s, refused or acknowledged.
     */
    public List<Call> duringFault(Fault f) {
        Predicate<Call> affected = on(f.affectedKeys());
        return select(c -> affected.test(c) && c.write() && c.retUs() >= f.startMs() * 1000 && c.callUs() <= f.endMs() * 1000);
    }

    /**
     * Time from the heal until the cluster served everything again: after the last operation
     * (called after the heal) that was not served, the first acknowledged write of an affected
     * key; -1 if that never happened before {@code untilMs}.
     */
    long servedAgain(Fault f, long untilMs, Set<String> allKeys) {
        long lastBadUs = f.endMs() * 1000;
        for (Call c : calledIn(f.endMs(), untilMs, on(allKeys))) {
            if (!c.served() && c.retUs() < untilMs * 1000) lastBadUs = Math.max(lastBadUs, c.retUs());
        }
        Predicate<Call> affected = on(f.affectedKeys());
        long lb = lastBadUs;
        return select(c -> c.callUs() >= lb && c.callUs() < untilMs * 1000 && affected.test(c) && c.write() && c.served())
                .stream().mapToLong(c -> c.retUs() / 1000 - f.endMs()).min().orElse(-1);
    }
}
