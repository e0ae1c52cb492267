package kvstore.storage;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of the road for errors that must not be retried: a failed write or fsync of the log
 * (on Linux a retried fsync can report success after the data was dropped: PostgreSQL's
 * "fsyncgate"). The node stops acknowledging anything by stopping the process, exit code 1.
 */
public final class Fatal {
    private Fatal() {}

    private static final Logger LOG = LoggerFactory.getLogger(Fatal.class);

    public static void halt(String what, Throwable cause) {
        LOG.error("fatal: {}: {}", what, cause == null ? "" : cause.toString());
        System.err.println("kvstore: fatal: " + what + (cause == null ? "" : ": " + cause));
        System.err.flush();
        Runtime.getRuntime().halt(1);
    }
}
