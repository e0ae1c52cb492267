package kvstore.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The seed's hash (SPEC.md section 4): {@code strhash64(s)} is the first 8 bytes of MD5 over the
 * UTF-8 bytes of s, read as a little-endian unsigned 64-bit integer. Java has no unsigned long,
 * so callers compare ids with {@link Long#compareUnsigned} and print them with
 * {@link Long#toUnsignedString}.
 */
public final class Hash {
    private Hash() {}

    private static final ThreadLocal<MessageDigest> MD5 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM must provide MD5", e);
        }
    });

    public static long strhash64(String s) {
        return strhash64(s.getBytes(StandardCharsets.UTF_8));
    }

    public static long strhash64(byte[] utf8) {
        MessageDigest md5 = MD5.get();
        md5.reset();
        byte[] d = md5.digest(utf8);
        long h = 0;
        for (int i = 7; i >= 0; i--) {
            h = (h << 8) | (d[i] & 0xFF);
        }
        return h;
    }

    /** A follower's ring id: strhash64(PORT + ":" + HOST). */
    public static long followerId(String host, int port) {
        return strhash64(port + ":" + host);
    }

    /** The id of virtual node i of a follower: strhash64(PORT + ":" + HOST + "#" + i). */
    public static long vnodeId(String host, int port, int i) {
        return strhash64(port + ":" + host + "#" + i);
    }
}
