package kvstore.core.tpc;

import kvstore.core.log.LogRecord;

import java.util.List;
import java.util.function.Consumer;

/**
 * Runs a {@link Coordinator}'s effects through a {@link Shell} and feeds every completion back
 * to the coordinator that asked for it — only while it is still the one attached: after a
 * step-down, late answers are dropped. The real leader and the seeded simulation both drive the
 * coordinator through this one class, so the simulation tests the loop that ships
 * (STYLE.md section 6, "One shell, two drivers").
 *
 * <p>Single-threaded: every method, and every callback a shell makes, must run on one thread
 * (the leader's event loop, or the simulation's scheduler).
 */
public final class EffectRunner {

    /** The I/O a coordinator needs. Each {@code done} is called exactly once, on the runner's thread. */
    public interface Shell {
        /** The time the coordinator works in (milliseconds, never going back). */
        long now();

        void prepare(Effect.SendPrepare p, Consumer<Coordinator.Vote> done);

        void phase2(Effect.SendPhase2 p, Consumer<Coordinator.Phase2Result> done);

        void read(Effect.SendRead r, Consumer<Coordinator.ReadReply> done);

        void queryOutcome(Effect.QueryOutcome q, Consumer<Coordinator.OutcomeReply> done);

        void queryRid(Effect.QueryRid q, Consumer<Coordinator.RidReply> done);

        /** Appends records; {@code durable} (null for none) runs once they are all durable. */
        void append(List<LogRecord> records, Runnable durable);

        void reply(long reqId, Answer answer);

        /** A follower has accepted a newer epoch (the shell decides whether to step down). */
        void deposed();

        void alarm(String message);
    }

    private final Shell shell;
    private Coordinator coordinator;

    public EffectRunner(Shell shell) {
        this.shell = shell;
    }

    public void attach(Coordinator c) {
        this.coordinator = c;
        run();
    }

    public Coordinator coordinator() {
        return coordinator;
    }

    /**
     * The coordinator steps down: operations it has not answered are answered (503, or no
     * answer when a commit was decided), and it is detached. Nothing it started reaches it again.
     */
    public void stepDown() {
        Coordinator c = coordinator;
        if (c == null) return;
        c.stepDown(shell.now());
        run();
        coordinator = null;
    }

    /** Runs every pending effect, in order, including those that running them produced. */
    public void run() {
        Coordinator c = coordinator;
        if (c == null) return;
        for (List<Effect> batch = c.drainEffects(); !batch.isEmpty(); batch = c.drainEffects()) {
            for (Effect e : batch) execute(c, e);
        }
    }

    private void execute(Coordinator c, Effect e) {
        if (e instanceof Effect.SendPrepare p) {
            shell.prepare(p, v -> back(c, () -> c.voted(p.tx(), p.to().id(), v, shell.now())));
        } else if (e instanceof Effect.Append a) {
            shell.append(a.records(), a.token() == 0 ? null : () -> back(c, () -> c.durable(a.token(), shell.now())));
        } else if (e instanceof Effect.SendPhase2 p) {
            shell.phase2(p, r -> back(c, () -> c.phase2Done(p.tx(), p.to().id(), r, shell.now())));
        } else if (e instanceof Effect.SendRead r) {
            shell.read(r, a -> back(c, () -> c.readDone(r.readId(), r.to().id(), a, shell.now())));
        } else if (e instanceof Effect.QueryOutcome q) {
            shell.queryOutcome(q, o -> back(c, () -> c.outcomeKnown(q.tx(), q.to().id(), o, shell.now())));
        } else if (e instanceof Effect.QueryRid q) {
            shell.queryRid(q, o -> back(c, () -> c.ridAnswered(q.queryId(), q.to().id(), o, shell.now())));
        } else if (e instanceof Effect.Reply r) {
            shell.reply(r.reqId(), r.answer());
        } else if (e instanceof Effect.Deposed) {
            shell.deposed();
        } else if (e instanceof Effect.Alarm a) {
            shell.alarm(a.message());
        }
    }

    /** A completion: delivered only to the coordinator still attached, then its effects run. */
    private void back(Coordinator c, Runnable event) {
        if (coordinator != c) return;
        event.run();
        run();
    }

    /** Delivers an event from outside (a client operation, a health change, a tick) and runs its effects. */
    public void event(Consumer<Coordinator> e) {
        Coordinator c = coordinator;
        if (c == null) return;
        e.accept(c);
        run();
    }
}
