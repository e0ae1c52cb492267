package kvstore.storage;

import java.nio.file.Path;

/** Damage that is not a torn tail: the node must stop and change nothing (SPEC.md section 5). */
public final class CorruptLogException extends Exception {
    private final Path file;
    private final long offset;

    public CorruptLogException(Path file, long offset, String reason) {
        super("corrupt log: " + file + " at offset " + offset + ": " + reason);
        this.file = file;
        this.offset = offset;
    }

    public Path file() { return file; }

    public long offset() { return offset; }
}
