package kvstore.app;

import sun.misc.Signal;

/**
 * SIGTERM and SIGINT (Ctrl-C) start a clean stop that exits 0 (SPEC.md section 1). A plain JVM
 * shutdown hook would exit 143 for SIGTERM, so we take the signals ourselves.
 */
final class Signals {
    private Signals() {}

    private static volatile boolean stopping;

    /** True once SIGTERM or SIGINT has started a stop. */
    static boolean stopping() {
        return stopping;
    }

    static void onTerminate(Runnable stop) {
        Runnable once = () -> {
            if (stopping) return;
            stopping = true;
            stop.run();
        };
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), sig -> once.run());
            } catch (IllegalArgumentException e) {
                // not available on this platform: the default behaviour stays
            }
        }
    }
}
