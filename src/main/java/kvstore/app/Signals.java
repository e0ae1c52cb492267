package kvstore.app;

import sun.misc.Signal;

/**
 * SIGTERM and SIGINT (Ctrl-C) start a clean stop that exits 0 (SPEC.md section 1). A plain JVM
 * shutdown hook would exit 143 for SIGTERM, so a server takes the signals itself before it
 * starts anything: until a node is starting there is nothing to stop, and a signal then simply
 * exits 0.
 */
final class Signals {
    private Signals() {}

    private static volatile boolean stopping;
    private static volatile Runnable action;

    /** True once SIGTERM or SIGINT has started a stop. */
    static boolean stopping() {
        return stopping;
    }

    /** Takes SIGTERM and SIGINT from now on. Call before anything else. */
    static void install() {
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), sig -> fire());
            } catch (IllegalArgumentException e) {
                // not available on this platform: the default behaviour stays
            }
        }
    }

    private static void fire() {
        if (stopping) return;
        stopping = true;
        Runnable a = action;
        if (a == null) Runtime.getRuntime().halt(0); // nothing has started: nothing to flush
        else a.run();
    }

    /** What a signal does once a node is starting. */
    static void onTerminate(Runnable stop) {
        action = stop;
        if (stopping) stop.run(); // a signal came in between: honour it now
    }
}
