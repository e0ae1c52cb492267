package kvstore.app;

import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.file.FileSystemOptions;
import kvstore.cluster.Cluster;
import kvstore.node.NodeSettings;
import kvstore.follower.FollowerVerticle;
import kvstore.leader.LeaderVerticle;
import kvstore.storage.CorruptLogException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.BindException;
import java.nio.file.AccessDeniedException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one entry point of the jar (SPEC.md sections 1 and 9): a role (embedded default, leader,
 * follower), {@code help}, or a client verb. Exit codes: 0 ok or clean stop (SIGTERM, Ctrl-C),
 * 1 a runtime error (port in use, unreadable data directory, corrupt config or log), 2 bad usage;
 * the client adds 3 for an unreachable leader.
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) {
        System.setProperty("vertx.disableDnsResolver", System.getProperty("vertx.disableDnsResolver", "true"));
        Config.Command cmd;
        try {
            cmd = Config.parse(args, System.getenv());
        } catch (UsageException e) {
            System.err.println("kvstore: " + e.getMessage());
            System.err.print(Usage.TEXT);
            System.exit(2);
            return;
        } catch (ConfigException e) {
            System.err.println("kvstore: " + e.getMessage());
            System.exit(1);
            return;
        }
        switch (cmd.verb()) {
            case "help" -> {
                System.out.print(Usage.TEXT);
                System.exit(0);
            }
            case "get", "put", "del", "status" -> System.exit(Cli.run(cmd.verb(), cmd.words(), cmd.leaderUrl(), System.getenv()));
            case "embedded" -> runServer(cmd.settings(), true);
            default -> runServer(cmd.settings(), false);
        }
    }

    private static void runServer(NodeSettings s, boolean embedded) {
        Signals.install(); // before anything starts: a SIGTERM from now on is a clean stop
        Vertx vertx;
        Cluster cluster = null;
        VertxOptions options = new VertxOptions().setPreferNativeTransport(false)
                .setFileSystemOptions(new FileSystemOptions().setFileCacheDir(FileCacheDir.base()));
        if (s.cluster()) {
            try {
                cluster = Cluster.start(s.clusterSettings(), options).await(3, TimeUnit.MINUTES);
            } catch (Throwable e) {
                System.err.println("kvstore: cannot join the cluster on " + s.host() + ":" + s.clusterPort() + ": " + rootCause(e));
                System.err.flush();
                Runtime.getRuntime().halt(1);
                return;
            }
            vertx = cluster.vertx();
            LOG.info("joined the cluster as {} (Hazelcast on {}:{})", cluster.nodeId(), s.host(), s.clusterPort());
        } else {
            vertx = Vertx.vertx(options);
        }
        Node node = embedded ? new EmbeddedCluster(vertx, s) : new SingleNode(vertx, s, cluster);
        CountDownLatch stopped = new CountDownLatch(1);
        AtomicBoolean stopRequested = new AtomicBoolean();
        AtomicReference<Future<?>> starting = new AtomicReference<>();
        Runnable shutdown = () -> {
            stopRequested.set(true);
            LOG.info("stopping");
            // A stop during the start lets the start finish first (its log replay and first
            // append), so that the node is stopped as a whole: closing Vert.x under a running
            // start fails its log writes, which are fatal.
            Future<?> start = starting.get();
            if (start != null) {
                try {
                    start.await(60, TimeUnit.SECONDS);
                } catch (Exception ignored) {
                    // failed or slow: stop what there is
                }
            }
            try {
                node.stop().await(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                LOG.warn("stop did not finish cleanly: {}", e.toString());
            }
            try {
                vertx.close().await(10, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // exiting anyway
            }
            stopped.countDown();
            exitRunningHooks();
        };
        Signals.onTerminate(() -> new Thread(shutdown, "kvstore-shutdown").start());
        boolean started = false;
        try {
            Future<?> start = node.start();
            starting.set(start);
            start.await(5, TimeUnit.MINUTES);
            started = true;
        } catch (Throwable e) {
            // A SIGTERM during the start undeploys the node, which fails the start: that is the
            // clean stop SPEC.md section 1 asks for (exit 0, from the shutdown thread), not an error.
            if (!stopRequested.get() && !Signals.stopping()) {
                System.err.println("kvstore: " + startFailure(e, s));
                System.err.flush();
                Runtime.getRuntime().halt(1);
            }
        }
        if (started && embedded && !Signals.stopping()) ((EmbeddedCluster) node).console(System.in, System.out, shutdown);
        try {
            stopped.await();
        } catch (InterruptedException ignored) {
            Thread.currentThread().interrupt();
        }
    }

    private static String rootCause(Throwable e) {
        Throwable c = e;
        while (c.getCause() != null) c = c.getCause();
        return c.getMessage() == null ? c.toString() : c.getMessage();
    }

    /** One line that says why a node could not start. */
    static String startFailure(Throwable e, NodeSettings s) {
        Throwable c = e;
        while (c.getCause() != null && !(c instanceof BindException) && !(c instanceof CorruptLogException)) c = c.getCause();
        if (c.getMessage() != null && c.getMessage().contains("Address already in use")) {
            return "cannot listen on " + s.host() + ":" + s.port() + ": address already in use";
        }
        if (c instanceof BindException) {
            // Not in use but not possible either: e.g. an address this machine does not have.
            return "cannot listen on " + s.host() + ":" + s.port() + ": " + c.getMessage();
        }
        if (c instanceof CorruptLogException) return c.getMessage();
        if (c instanceof AccessDeniedException) return "data directory not accessible: " + c.getMessage();
        if (c instanceof IOException) return c.getMessage();
        return "start failed: " + c;
    }

    /** Something that starts and stops: one node, or the embedded cluster. */
    interface Node {
        Future<?> start();

        Future<?> stop();
    }

    /** A leader or a follower in its own process. */
    static final class SingleNode implements Node {
        private final Vertx vertx;
        private final NodeSettings settings;
        private final Cluster cluster;
        private String deployment;

        SingleNode(Vertx vertx, NodeSettings settings, Cluster cluster) {
            this.vertx = vertx;
            this.settings = settings;
            this.cluster = cluster;
        }

        @Override
        public Future<?> start() {
            var verticle = settings.role().equals("leader") ? new LeaderVerticle(settings, cluster) : new FollowerVerticle(settings, cluster);
            return vertx.deployVerticle(verticle, new DeploymentOptions()).map(id -> deployment = id);
        }

        @Override
        public Future<?> stop() {
            return deployment == null ? Future.succeededFuture() : vertx.undeploy(deployment);
        }
    }

    /**
     * Exits 0 with the JVM's shutdown hooks run: a flight recording started with
     * -XX:StartFlightRecording writes its file in one, and halt skipped them. This runs on the
     * shutdown thread, not the signal's, so the exit status stays 0; a hook that hangs cannot keep
     * the process alive, as a halt follows 10 s later.
     */
    private static void exitRunningHooks() {
        Thread halt = new Thread(() -> {
            try {
                Thread.sleep(10_000);
            } catch (InterruptedException ignored) {
                // halting anyway
            }
            Runtime.getRuntime().halt(0);
        }, "kvstore-exit-bound");
        halt.setDaemon(true);
        halt.start();
        System.exit(0);
    }
}
