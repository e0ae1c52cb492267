package kvstore.http;

import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/** A Vert.x buffer over an array: {@code Buffer.buffer(byte[])} copies it, which for a half-megabyte copy page is garbage. */
public final class Wrap {
    private Wrap() {}

    /** The array itself, not a copy: the caller must not change it afterwards. */
    public static Buffer bytes(byte[] b) {
        return BufferInternal.buffer(Unpooled.wrappedBuffer(b));
    }
}
