package kvstore.fault;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named fault points for tests (etcd's gofail, FAULTS.md): when armed, the process halts at the
 * named step as if killed with -9, with no shutdown hooks and no flush — or, with
 * {@code stall=MS}, freezes its event loop there for that long, as a paused process would (its
 * sockets stay open, nothing is answered).
 *
 * <p>Armed by the environment variable {@code KVSTORE_FAULT} or the system property
 * {@code kvstore.fault}, as {@code NAME} (halt the first time), {@code NAME:N} (halt the Nth
 * time) or {@code NAME:N:stall=MS}. Unarmed, a check is one string comparison against null. The
 * names in use are listed in docs/operations.md ("Fault points").
 */
public final class FaultPoints {
    private FaultPoints() {}

    private static final Logger LOG = LoggerFactory.getLogger(FaultPoints.class);
    private static final String NAME;
    private static final int NTH;
    private static final long STALL_MILLIS;
    private static int hits;

    static {
        String spec = System.getProperty("kvstore.fault");
        if (spec == null || spec.isBlank()) spec = System.getenv("KVSTORE_FAULT");
        String name = null;
        int n = 1;
        long stall = 0;
        if (spec != null && !spec.isBlank()) {
            String[] parts = spec.trim().split(":");
            name = parts[0];
            for (int i = 1; i < parts.length; i++) {
                try {
                    if (parts[i].startsWith("stall=")) stall = Long.parseLong(parts[i].substring(6));
                    else n = Integer.parseInt(parts[i]);
                } catch (NumberFormatException e) {
                    LOG.warn("fault point {}: ignoring '{}'", name, parts[i]);
                }
            }
            LOG.warn("fault point armed: {} (hit {}{})", name, n, stall > 0 ? ", stall " + stall + " ms" : "");
        }
        NAME = name;
        NTH = Math.max(1, n);
        STALL_MILLIS = stall;
    }

    /** True when this call is the armed hit of {@code name}: the caller is about to crash there. */
    public static synchronized boolean armed(String name) {
        if (NAME == null || !NAME.equals(name)) return false;
        return ++hits == NTH;
    }

    /** Halts the process here (or stalls it, when so armed) if {@code name} is armed for this hit. */
    public static void hit(String name) {
        if (!armed(name)) return;
        if (STALL_MILLIS <= 0) halt(name);
        System.out.println("kvstore fault point " + name + ": stalling " + STALL_MILLIS + " ms");
        System.out.flush();
        try {
            Thread.sleep(STALL_MILLIS); // deliberately on the caller's thread: the node stops answering
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public static void halt(String name) {
        System.out.println("kvstore fault point " + name + ": halting");
        System.out.flush();
        Runtime.getRuntime().halt(137);
    }
}
