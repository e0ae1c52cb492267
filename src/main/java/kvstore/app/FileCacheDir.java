package kvstore.app;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where Vert.x unpacks the web client's files from the jar: a directory of its own per process in
 * the temp directory, which Vert.x deletes when the process stops cleanly. A process killed with
 * -9 cannot delete its own, so each start deletes those of processes that are gone: their names
 * carry the process id ({@code kvstore-files-<pid>-<uuid>}). A live process's directory is never
 * touched; one whose id a new process took is left for a later start.
 */
final class FileCacheDir {
    static final String PREFIX = "kvstore-files-";

    private FileCacheDir() {}

    /** The base Vert.x adds {@code -<uuid>} to, after the directories of processes that are gone are deleted. */
    static String base() {
        Path tmp = Paths.get(System.getProperty("java.io.tmpdir"));
        deleteLeftovers(tmp);
        return tmp.resolve(PREFIX + ProcessHandle.current().pid()).toString();
    }

    /** Deletes {@code kvstore-files-<pid>-*} for each pid that no process has now; quietly skips what it cannot. */
    static void deleteLeftovers(Path tmp) {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(tmp, PREFIX + "*")) {
            for (Path d : dirs) {
                long pid = pidOf(d.getFileName().toString());
                if (pid > 0 && ProcessHandle.of(pid).isEmpty()) deleteTree(d);
            }
        } catch (IOException | RuntimeException e) {
            // not listable: nothing to tidy
        }
    }

    /** The process id in a name {@code kvstore-files-<pid>-<uuid>}, or -1. */
    static long pidOf(String name) {
        if (!name.startsWith(PREFIX)) return -1;
        int end = name.indexOf('-', PREFIX.length());
        if (end < 0) return -1;
        try {
            return Long.parseLong(name.substring(PREFIX.length(), end));
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void deleteTree(Path d) {
        try (Stream<Path> all = Files.walk(d)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // another start is deleting it too, or it is not ours: leave it
                }
            });
        } catch (IOException | RuntimeException ignored) {
            // the same
        }
    }
}
