package kvstore.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import kvstore.core.Errors;
import kvstore.core.Limits;
import kvstore.testing.Await;
import kvstore.testing.RawHttp;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SPEC.md section 5 at the door of every server: what {@link Intake} adds to Vert.x (bodies,
 * undecodable HTTP, Host, and the request-head timeouts), on a real server with short
 * timeouts in this JVM. Method: raw sockets, and a route that counts what reaches it (it
 * answers "routed", or after 1.5 s for {@code /slow}). The real jar gets the same attacks
 * with the real timeouts in HostileInputIT.
 */
@ExtendWith(VertxExtension.class)
@Timeout(60)
class IntakeTest {
    private static final long FIRST_MILLIS = 600, NEXT_MILLIS = 900;
    private static final int MAX_CONNECTIONS = 40;
    private static int port;
    private static final AtomicInteger routed = new AtomicInteger();

    /**
     * The server, on a {@code Vertx} that vertx-junit5 injects for the class and closes after it.
     * The tests themselves stay blocking: they are the client side of raw sockets, writing bytes
     * at a chosen pace and reading what comes back, which a plain socket says most directly.
     */
    @BeforeAll
    @Timeout(120)
    static void start(Vertx vertx, VertxTestContext ctx) {
        vertx.deployVerticle(new VerticleBase() {
            @Override
            public Future<?> start() {
                HttpServer server = Intake.create(vertx, Limits.DEFAULTS, req -> {
                    routed.incrementAndGet();
                    if (req.path().equals("/bug")) throw new IllegalStateException("a bug in a route");
                    if (req.path().equals("/slow")) vertx.setTimer(1_500, t -> Replies.text(req, 200, "late"));
                    else Replies.text(req, 200, "routed");
                }, FIRST_MILLIS, NEXT_MILLIS, MAX_CONNECTIONS);
                return server.listen(0, "127.0.0.1").map(s -> port = s.actualPort());
            }
        }).onComplete(ctx.succeedingThenComplete());
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Reads until the server closes; fails if it has not within {@code millis}. Returns what came. */
    private static String readUntilClosed(Socket s, long millis) throws IOException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        InputStream in = s.getInputStream();
        StringBuilder got = new StringBuilder();
        byte[] buf = new byte[4096];
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) throw new AssertionError("still open after " + millis + " ms; got: " + got);
            s.setSoTimeout((int) Math.max(1, left));
            try {
                int n = in.read(buf);
                if (n < 0) return got.toString();
                got.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
            } catch (SocketTimeoutException e) {
                // loop: the deadline check fails the test
            } catch (IOException reset) {
                return got.toString();
            }
        }
    }

    @Test
    void aConnectionThatNeverSendsARequestIsClosed() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            long t0 = System.nanoTime();
            assertEquals("", readUntilClosed(s, FIRST_MILLIS + 3_000));
            assertTrue(System.nanoTime() - t0 >= FIRST_MILLIS * 1_000_000L, "not before the timeout");
        }
    }

    @Test
    void aRequestHeadDrippedByteByByteIsClosed() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            byte[] head = ascii("GET /?key=a HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
            out.write(head);
            long deadline = System.nanoTime() + (FIRST_MILLIS + 3_000) * 1_000_000L;
            boolean closed = false;
            s.setSoTimeout(100);
            while (!closed && System.nanoTime() < deadline) {
                try {
                    out.write('x'); // one byte every ~100 ms keeps Vert.x's idle timeout from firing
                    out.flush();
                    closed = s.getInputStream().read() < 0;
                } catch (SocketTimeoutException e) {
                    // nothing yet
                } catch (IOException e) {
                    closed = true;
                }
            }
            assertTrue(closed, "a slow drip is closed by the request-head timeout");
        }
    }

    @Test
    void theNextRequestOnAKeepAliveConnectionHasItsOwnDeadline() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            out.write(ascii("GET /?key=a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
            out.flush();
            s.setSoTimeout(5_000);
            byte[] buf = new byte[4096];
            String first = new String(buf, 0, s.getInputStream().read(buf), StandardCharsets.ISO_8859_1);
            assertTrue(first.startsWith("HTTP/1.1 200") && first.endsWith("routed"), first);
            out.write(ascii("GET /?key=b HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "));
            long deadline = System.nanoTime() + (NEXT_MILLIS + 3_000) * 1_000_000L;
            boolean closed = false;
            s.setSoTimeout(100);
            while (!closed && System.nanoTime() < deadline) {
                try {
                    out.write('x');
                    out.flush();
                    closed = s.getInputStream().read() < 0;
                } catch (SocketTimeoutException e) {
                    // nothing yet
                } catch (IOException e) {
                    closed = true;
                }
            }
            assertTrue(closed, "closed while the second head was still dripping");
        }
    }

    @Test
    void connectionsBeyondTheLimitAreClosedAndTheFloodClearsItself() throws Exception {
        java.util.List<Socket> flood = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < MAX_CONNECTIONS + 10; i++) flood.add(new Socket("127.0.0.1", port));
            // The ones past the limit are closed at once (other tests' connections may count too).
            int closedAtOnce = 0;
            for (Socket s : flood.subList(MAX_CONNECTIONS, flood.size())) {
                try {
                    readUntilClosed(s, 300);
                    closedAtOnce++;
                } catch (AssertionError stillOpen) {
                    // one of the first MAX_CONNECTIONS to arrive
                }
            }
            assertTrue(closedAtOnce >= 5, "connections past the limit are closed at once: " + closedAtOnce);
            for (Socket s : flood) readUntilClosed(s, FIRST_MILLIS + 3_000); // the head timeout clears the rest
        } finally {
            for (Socket s : flood) s.close();
        }
        Await.until("serving again", java.time.Duration.ofSeconds(5), () -> RawHttp.request(port, "GET", "/?key=a").status() == 200);
    }

    @Test
    void aRouteThatThrowsAnswersUnableInsteadOfHanging() {
        RawHttp.Response r = RawHttp.send(port, ascii("GET /bug HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"), 3_000);
        assertEquals(500, r.status(), r.raw());
        assertEquals(Errors.UNABLE, r.body());
    }

    @Test
    void aRequestBeingAnsweredIsNeverCut() {
        RawHttp.Response r = RawHttp.request(port, "GET", "/slow");
        assertEquals(200, r.status(), "answered after 1.5 s, longer than both timeouts: " + r.raw());
        assertEquals("late", r.body());
    }

    @Test
    void aDeclaredBodyOverTheLimitIs413AndNeverRouted() throws Exception {
        int before = routed.get();
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write(ascii("PUT /?key=a&val=b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 20000000\r\n\r\n"));
            s.getOutputStream().write(new byte[64 * 1024]);
            String got = readUntilClosed(s, 5_000);
            assertTrue(got.startsWith("HTTP/1.1 413 "), got);
        }
        RawHttp.Response bad = RawHttp.send(port, ascii("PUT /?key=a&val=b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
                + (Intake.MAX_BODY_BYTES + 1) + "\r\n\r\n"));
        assertEquals(413, bad.status());
        assertEquals(before, routed.get(), "the request never ran");
    }

    @Test
    void aSmallBodyIsReadAndIgnored() {
        RawHttp.Response r = RawHttp.send(port, ascii("PUT /?key=a&val=b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
                + "Connection: close\r\n\r\nhello"));
        assertEquals(200, r.status());
        assertEquals("routed", r.body());
    }

    @Test
    void aChunkedBodyPastTheLimitIs413OrClosedAndNeverRouted() throws Exception {
        int before = routed.get();
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            out.write(ascii("PUT /?key=a&val=b HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
            boolean closed = false;
            try {
                for (int i = 0; i < 2_000 && !closed; i++) { // up to 2 MB, in 1 KB chunks
                    out.write(ascii("400\r\n"));
                    out.write(new byte[1024]);
                    out.write(ascii("\r\n"));
                    out.flush();
                }
            } catch (IOException e) {
                closed = true; // the server closed: writes fail
            }
            String got = readUntilClosed(s, 5_000);
            assertTrue(got.isEmpty() || got.startsWith("HTTP/1.1 413 "), got);
        }
        assertEquals(before, routed.get(), "the request never ran");
    }

    @Test
    void expectContinueIsAnsweredWithinTheLimitAnd413Beyond() throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.getOutputStream().write(ascii("PUT /?key=a&val=b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
                    + "Expect: 100-continue\r\nConnection: close\r\n\r\n"));
            s.setSoTimeout(5_000);
            byte[] buf = new byte[256];
            String interim = new String(buf, 0, s.getInputStream().read(buf), StandardCharsets.ISO_8859_1);
            assertTrue(interim.startsWith("HTTP/1.1 100 Continue"), "the client is told to send: " + interim);
            s.getOutputStream().write(ascii("hello"));
            String rest = interim + readUntilClosed(s, 5_000);
            assertTrue(rest.contains("HTTP/1.1 200 OK") && rest.endsWith("routed"), rest);
        }
        RawHttp.Response big = RawHttp.send(port, ascii("PUT /?key=a&val=b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000000\r\n"
                + "Expect: 100-continue\r\n\r\n"), 5_000);
        assertEquals(413, big.status(), "refused before the client sends anything: " + big.raw());
        assertFalse(big.raw().contains("100 Continue"), big.raw());
    }

    @Test
    void aSmallChunkedBodyRunsTheRequestOnceComplete() {
        RawHttp.Response r = RawHttp.send(port, ascii("PUT /?key=a&val=b HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                + "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
        assertEquals(200, r.status(), r.raw());
        assertEquals("routed", r.body());
    }

    @Test
    void aBodyDrippedSlowlyIsClosed() throws Exception {
        int before = routed.get();
        try (Socket s = new Socket("127.0.0.1", port)) {
            OutputStream out = s.getOutputStream();
            out.write(ascii("PUT /?key=a&val=b HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4000\r\n\r\n"));
            long deadline = System.nanoTime() + (NEXT_MILLIS + 3_000) * 1_000_000L;
            boolean closed = false;
            s.setSoTimeout(100);
            while (!closed && System.nanoTime() < deadline) {
                try {
                    out.write('x');
                    out.flush();
                    closed = s.getInputStream().read() < 0;
                } catch (SocketTimeoutException e) {
                    // nothing yet
                } catch (IOException e) {
                    closed = true;
                }
            }
            assertTrue(closed, "a body that never completes is closed");
        }
        assertEquals(before, routed.get(), "the request never ran");
    }

    @Test
    void http11WithoutHostIsInvalidHttp10IsServed() {
        RawHttp.Response r11 = RawHttp.send(port, ascii("GET /?key=a HTTP/1.1\r\nConnection: close\r\n\r\n"));
        assertEquals(500, r11.status());
        assertEquals(Errors.INVALID_REQUEST, r11.body());
        RawHttp.Response r10 = RawHttp.send(port, ascii("GET /?key=a HTTP/1.0\r\n\r\n"));
        assertEquals(200, r10.status());
        assertEquals("routed", r10.body());
    }

    @Test
    void undecodableHttpIsInvalidRequestAndTooLongIs414Or431() {
        RawHttp.Response g = RawHttp.send(port, new byte[] {0, 1, 2, (byte) 0xFF, '\r', '\n', '\r', '\n'});
        assertEquals(500, g.status(), g.raw());
        assertEquals(Errors.INVALID_REQUEST, g.body());
        RawHttp.Response line = RawHttp.send(port, ascii("GET /?key=" + "a".repeat(100_000) + " HTTP/1.1\r\nHost: x\r\n\r\n"));
        assertEquals(414, line.status());
        StringBuilder many = new StringBuilder("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (int i = 0; i < 10_000; i++) many.append("X-").append(i).append(": v\r\n");
        RawHttp.Response headers = RawHttp.send(port, ascii(many.append("\r\n").toString()));
        assertEquals(431, headers.status());
    }

    @Test
    void h2cIsNotSpoken() {
        RawHttp.Response r = RawHttp.send(port, ascii("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"));
        assertTrue(r.closedWithoutAnswer() || r.status() == 501 && r.body().isEmpty(), "Vert.x: 501 for an unknown version: " + r.raw());
        RawHttp.Response up = RawHttp.send(port, ascii("GET /?key=a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings, close\r\n"
                + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n"));
        assertEquals(200, up.status(), "the upgrade is ignored and the request answered in HTTP/1.1: " + up.raw());
    }
}
