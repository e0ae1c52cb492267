package kvstore.core.log;

import kvstore.core.TxId;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable byte array with big-endian writers: the codec's output buffer. */
public final class Bytes {
    private byte[] buf;
    private int len;

    public Bytes(int capacity) {
        buf = new byte[Math.max(16, capacity)];
    }

    public int length() {
        return len;
    }

    public byte[] array() {
        return buf;
    }

    /** The bytes written: the array itself when it is exactly full (a copy page of half a megabyte is not copied again). */
    public byte[] toArray() {
        return len == buf.length ? buf : Arrays.copyOf(buf, len);
    }

    public void clear() {
        len = 0;
    }

    private void ensure(int more) {
        if (len + more > buf.length) buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
    }

    public Bytes put(int b) {
        ensure(1);
        buf[len++] = (byte) b;
        return this;
    }

    public Bytes putShort(int v) {
        ensure(2);
        buf[len++] = (byte) (v >>> 8);
        buf[len++] = (byte) v;
        return this;
    }

    public Bytes putInt(int v) {
        ensure(4);
        setInt(len, v);
        len += 4;
        return this;
    }

    public void setInt(int at, int v) {
        buf[at] = (byte) (v >>> 24);
        buf[at + 1] = (byte) (v >>> 16);
        buf[at + 2] = (byte) (v >>> 8);
        buf[at + 3] = (byte) v;
    }

    public Bytes putLong(long v) {
        ensure(8);
        for (int i = 7; i >= 0; i--) buf[len++] = (byte) (v >>> (8 * i));
        return this;
    }

    public Bytes put(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
        return this;
    }

    public Bytes bytes(byte[] b) {
        putInt(b.length);
        return put(b);
    }

    /** A string as UTF-8 with its length first; ASCII (most keys) is written without a copy of it. */
    public Bytes str(String s) {
        int n = s.length();
        ensure(4 + n);
        int at = len + 4;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) return bytes(s.getBytes(StandardCharsets.UTF_8));
            buf[at + i] = (byte) c;
        }
        putInt(n);
        len += n;
        return this;
    }

    public Bytes tx(TxId tx) {
        return putLong(tx.epoch()).putLong(tx.seq());
    }
}
