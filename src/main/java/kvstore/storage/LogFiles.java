package kvstore.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The file layout of a data directory:
 * <pre>
 *   wal-0000000001.log      log segments, numbered from 1; only the newest is written to
 *   snap-0000000007.snap    a snapshot of the state after segments 1..7 (they are then deleted)
 *   *.tmp                   a file being created (header or snapshot not yet complete): ignored
 *                           and removed at the next start
 *   *.broken                torn tail bytes cut from a segment, kept for inspection
 * </pre>
 * New files are written under a {@code .tmp} name, fsynced, renamed, and the directory fsynced,
 * so a file with a real name always has a complete header.
 */
public final class LogFiles {
    private LogFiles() {}

    private static final Pattern SEGMENT = Pattern.compile("wal-(\\d{10})\\.log");
    private static final Pattern SNAPSHOT = Pattern.compile("snap-(\\d{10})\\.snap");

    public static Path segment(Path dir, long seq) {
        return dir.resolve(String.format("wal-%010d.log", seq));
    }

    public static Path snapshot(Path dir, long seq) {
        return dir.resolve(String.format("snap-%010d.snap", seq));
    }

    /** What a directory holds, sorted by sequence number. */
    public record Listing(TreeMap<Long, Path> segments, TreeMap<Long, Path> snapshots, List<Path> temporary) {}

    public static Listing list(Path dir) throws IOException {
        TreeMap<Long, Path> segments = new TreeMap<>();
        TreeMap<Long, Path> snapshots = new TreeMap<>();
        List<Path> tmp = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                Matcher m;
                if ((m = SEGMENT.matcher(name)).matches()) segments.put(Long.parseLong(m.group(1)), p);
                else if ((m = SNAPSHOT.matcher(name)).matches()) snapshots.put(Long.parseLong(m.group(1)), p);
                else if (name.endsWith(".tmp")) tmp.add(p);
            }
        }
        return new Listing(segments, snapshots, tmp);
    }

    /** Makes a rename or a new file in {@code dir} durable. */
    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** Writes {@code bytes} as a new file, atomically: tmp, fsync, rename, fsync directory. */
    public static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) ch.write(b);
            ch.force(true);
        }
        Files.move(tmp, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        fsyncDirectory(target.getParent());
    }

    public static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }
}
