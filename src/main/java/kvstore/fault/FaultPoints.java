package kvstore.fault;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named crash points for tests (etcd's gofail, FAULTS.md): when armed, the process halts at the
 * named step as if killed with -9, with no shutdown hooks and no flush.
 *
 * <p>Armed by the environment variable {@code KVSTORE_FAULT} or the system property
 * {@code kvstore.fault}, as {@code NAME} (halt the first time) or {@code NAME:N} (halt the Nth
 * time). Unarmed, a check is one string comparison against null. The names in use are listed in
 * the README ("Fault points").
 */
public final class FaultPoints {
    private FaultPoints() {}

    private static final Logger LOG = LoggerFactory.getLogger(FaultPoints.class);
    private static final String NAME;
    private static final int NTH;
    private static int hits;

    static {
        String spec = System.getProperty("kvstore.fault");
        if (spec == null || spec.isBlank()) spec = System.getenv("KVSTORE_FAULT");
        if (spec == null || spec.isBlank()) {
            NAME = null;
            NTH = 0;
        } else {
            int colon = spec.lastIndexOf(':');
            int n = 1;
            String name = spec.trim();
            if (colon > 0) {
                try {
                    n = Integer.parseInt(spec.substring(colon + 1).trim());
                    name = spec.substring(0, colon).trim();
                } catch (NumberFormatException e) {
                    n = 1;
                }
            }
            NAME = name;
            NTH = Math.max(1, n);
            LOG.warn("fault point armed: {} (hit {})", NAME, NTH);
        }
    }

    /** True when this call is the armed hit of {@code name}: the caller is about to crash there. */
    public static synchronized boolean armed(String name) {
        if (NAME == null || !NAME.equals(name)) return false;
        return ++hits == NTH;
    }

    /** Halts the process here if {@code name} is armed for this hit. */
    public static void hit(String name) {
        if (armed(name)) halt(name);
    }

    public static void halt(String name) {
        System.out.println("kvstore fault point " + name + ": halting");
        System.out.flush();
        Runtime.getRuntime().halt(137);
    }
}
