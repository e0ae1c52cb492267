package kvstore.testing;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The real fat jar, as a separate process: {@code java -jar target/kvstore.jar ARGS}, with its
 * output in a file we can wait on. kill -9 is {@link Process#destroyForcibly()} (SIGKILL) and
 * SIGTERM is {@link Process#destroy()}.
 */
public final class JarNode implements AutoCloseable {
    private final Process process;
    private final Path outFile;
    private final Path errFile;
    public final List<String> args;

    private JarNode(Process process, Path outFile, Path errFile, List<String> args) {
        this.process = process;
        this.outFile = outFile;
        this.errFile = errFile;
        this.args = args;
    }

    public static Path jar() {
        Path p = Path.of(System.getProperty("kvstore.jar", "target/kvstore.jar")).toAbsolutePath();
        if (!Files.exists(p)) throw new IllegalStateException("build the jar first (mvn package): " + p);
        return p;
    }

    public static JarNode start(Path workDir, Map<String, String> env, String... args) throws IOException {
        Files.createDirectories(workDir);
        List<String> cmd = new ArrayList<>(List.of("java", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", jar().toString()));
        cmd.addAll(List.of(args));
        String tag = String.valueOf(System.nanoTime());
        Path out = workDir.resolve("node-" + tag + ".out");
        Path err = workDir.resolve("node-" + tag + ".err");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().remove("KVSTORE_SECRET");
        pb.environment().remove("KVSTORE_TOKEN");
        pb.environment().remove("KVSTORE_FAULT");
        pb.environment().putAll(env);
        return new JarNode(pb.start(), out, err, List.of(args));
    }

    /** Runs the jar to completion (for help, bad usage, the client verbs). */
    public static Result run(Path workDir, Map<String, String> env, String... args) throws Exception {
        try (JarNode n = start(workDir, env, args)) {
            int code = n.waitFor(Duration.ofSeconds(60));
            return new Result(code, n.stdout(), n.stderr());
        }
    }

    public record Result(int exitCode, String stdout, String stderr) {}

    public String stdout() {
        return read(outFile);
    }

    public String stderr() {
        return read(errFile);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    /** Waits until stdout contains {@code text} at least {@code times} times. */
    public void awaitOutput(String text, int times, Duration timeout) {
        Await.until("'" + text + "' x" + times + " in the output of " + args + " (stderr: " + stderr() + ")", timeout, () -> {
            if (!process.isAlive() && count(stdout(), text) < times) {
                throw new AssertionError("process exited (" + process.exitValue() + ") before printing '" + text
                        + "'\nstdout:\n" + stdout() + "\nstderr:\n" + stderr());
            }
            return count(stdout(), text) >= times;
        });
    }

    public void awaitOutput(String text, Duration timeout) {
        awaitOutput(text, 1, timeout);
    }

    static int count(String s, String sub) {
        int n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) n++;
        return n;
    }

    public void stdin(String line) throws IOException {
        OutputStream o = process.getOutputStream();
        o.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        o.flush();
    }

    public boolean alive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, then the exit code. */
    public int term(Duration timeout) throws InterruptedException {
        process.destroy();
        return waitFor(timeout);
    }

    public int waitFor(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("process " + args + " did not exit within " + timeout + "\nstdout:\n" + stdout());
        }
        return process.exitValue();
    }

    /** Signals the process (for kill -STOP / -CONT). */
    public void signal(String sig) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + sig, String.valueOf(process.pid())).start().waitFor();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
