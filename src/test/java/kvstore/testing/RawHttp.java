package kvstore.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * HTTP over a raw socket, for requests that java.net.http refuses to send (bad escapes, raw
 * bytes, broken framing). One request per connection; the answer is read to the end.
 */
public final class RawHttp {
    private RawHttp() {}

    public record Response(int status, String body, String raw, boolean closedWithoutAnswer) {}

    /** Sends {@code METHOD target HTTP/1.1} with a Host header and Connection: close. */
    public static Response request(int port, String method, String target) {
        return send(port, (method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Writes the bytes as they are and reads everything the server answers until it closes. */
    public static Response send(int port, byte[] bytes) {
        return send(port, bytes, 10_000);
    }

    /**
     * The same, giving up reading after {@code timeoutMillis} of silence. A write the server
     * refuses (it closed or reset the connection) still reads whatever it answered.
     */
    public static Response send(int port, byte[] bytes, int timeoutMillis) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(timeoutMillis);
            OutputStream out = s.getOutputStream();
            try {
                out.write(bytes);
                out.flush();
            } catch (IOException refused) {
                // closed by the server mid-write: read what it said before closing
            }
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) > 0) got.write(buf, 0, n);
            } catch (SocketTimeoutException e) {
                // answered but kept open: parse what we have
            } catch (IOException e) {
                // reset by the server: parse what we have
            }
            return parse(got.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Response(-1, "", "", true);
        }
    }

    static Response parse(String raw) {
        if (raw.isEmpty()) return new Response(-1, "", raw, true);
        int sp = raw.indexOf(' ');
        int status;
        try {
            status = Integer.parseInt(raw.substring(sp + 1, sp + 4));
        } catch (RuntimeException notHttp) {
            return new Response(-2, "", raw, false);
        }
        int bodyAt = raw.indexOf("\r\n\r\n");
        String body = bodyAt < 0 ? "" : raw.substring(bodyAt + 4);
        return new Response(status, body, raw, false);
    }
}
