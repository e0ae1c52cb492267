package kvstore.storage;

import kvstore.core.log.Decoded;
import kvstore.core.log.LogCodec;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads framed records from a file of any size through a window buffer, for recovery and
 * compaction (worker threads only: it blocks). {@link #next()} answers Incomplete only at the
 * end of the file.
 */
final class RecordReader implements Closeable {
    private final FileChannel ch;
    private final long size;
    private byte[] buf = new byte[1 << 20];
    private int start, end;
    private long bufOffset;   // file offset of buf[0]
    private boolean eof;

    RecordReader(Path file) throws IOException {
        ch = FileChannel.open(file, StandardOpenOption.READ);
        size = ch.size();
    }

    long size() { return size; }

    /** File offset of the next unread byte. */
    long offset() { return bufOffset + start; }

    /** Reads the first {@code n} bytes of the file (at most), from offset 0. */
    byte[] head(int n) throws IOException {
        int len = (int) Math.min(n, size);
        byte[] out = new byte[len];
        ByteBuffer b = ByteBuffer.wrap(out);
        long pos = 0;
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) break;
            pos += r;
        }
        return out;
    }

    /** Positions the reader at {@code offset} (used once, after the header). */
    void seek(long offset) {
        bufOffset = offset;
        start = end = 0;
        eof = offset >= size;
    }

    Decoded next() throws IOException {
        while (true) {
            Decoded d = LogCodec.decode(buf, start, end);
            if (d instanceof Decoded.Ok ok) {
                start += ok.length();
                return d;
            }
            if (d instanceof Decoded.Bad || eof) return d;
            fill();
        }
    }

    /** Moves unread bytes to the front, grows the buffer if one record needs it, reads more. */
    private void fill() throws IOException {
        if (start > 0) {
            System.arraycopy(buf, start, buf, 0, end - start);
            bufOffset += start;
            end -= start;
            start = 0;
        }
        if (end == buf.length) {
            int want = Math.min(buf.length * 2, LogCodec.MAX_RECORD_BYTES + LogCodec.RECORD_HEADER_BYTES);
            if (want <= buf.length) { eof = true; return; }
            byte[] bigger = new byte[want];
            System.arraycopy(buf, 0, bigger, 0, end);
            buf = bigger;
        }
        ByteBuffer b = ByteBuffer.wrap(buf, end, buf.length - end);
        int r = ch.read(b, bufOffset + end);
        if (r <= 0) eof = true;
        else {
            end += r;
            if (bufOffset + end >= size) eof = true;
        }
    }

    /** The rest of the file from {@code offset}, for deciding torn tail versus corruption. */
    byte[] rest(long offset) throws IOException {
        long n = size - offset;
        if (n > Integer.MAX_VALUE - 16) n = Integer.MAX_VALUE - 16;
        byte[] out = new byte[(int) n];
        ByteBuffer b = ByteBuffer.wrap(out);
        long pos = offset;
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) break;
            pos += r;
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        ch.close();
    }
}
