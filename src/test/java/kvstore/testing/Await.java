package kvstore.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waiting on conditions with a deadline (microraft's eventually), never a bare sleep. */
public final class Await {
    private Await() {}

    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) return;
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            pause(20);
        }
    }

    /** Polls until the supplier gives a non-null value. */
    public static <T> T value(String what, Duration timeout, Supplier<T> s) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            T v = s.get();
            if (v != null) return v;
            if (System.nanoTime() > deadline) throw new AssertionError("timed out after " + timeout + " waiting for: " + what);
            pause(20);
        }
    }

    /** The poll interval of the loops above; a condition is checked between pauses. */
    private static void pause(long millis) {
        java.util.concurrent.locks.LockSupport.parkNanos(millis * 1_000_000L);
    }
}
