package kvstore.http;

import io.netty.util.NetUtil;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Who may do what (SPEC.md section 6), checked before anything else about a request.
 *
 * <ul>
 *   <li>Browsers cannot be turned against a node: a PUT, DELETE or POST whose {@code Origin}
 *       names another site is refused, and so is a request whose {@code Host} is not an IP
 *       address, {@code localhost} or one of the node's own names (DNS rebinding).</li>
 *   <li>The cluster secret: internal requests carry {@code X-KV-Secret}, compared in constant
 *       time. The secret itself is never logged or echoed.</li>
 *   <li>The client token: client requests carry {@code Authorization: Bearer <token>}.</li>
 * </ul>
 */
public final class Guard {
    public static final String SECRET_HEADER = "X-KV-Secret";

    private final String secret;
    private final String bearer;
    private final String[] names;

    public Guard(String secret, String clientToken, String... ownNames) {
        this.secret = secret == null || secret.isEmpty() ? null : secret;
        this.bearer = clientToken == null || clientToken.isEmpty() ? null : "Bearer " + clientToken;
        Set<String> n = new LinkedHashSet<>();
        n.add("localhost");
        for (String name : ownNames) if (name != null && !name.isEmpty()) n.add(name.toLowerCase(Locale.ROOT));
        this.names = n.toArray(new String[0]);
    }

    public boolean hasSecret() {
        return secret != null;
    }

    /**
     * True when the browser rules allow the request: its {@code Host} (when it has one; only
     * HTTP/1.0 may omit it, see {@link Intake}) names this node, and a PUT, DELETE or POST
     * that carries an {@code Origin} comes from the page this node serves.
     */
    public boolean browserSafe(HttpServerRequest req) {
        String host = req.getHeader(HttpHeaders.HOST);
        if (host != null && !hostAllowed(host)) return false;
        HttpMethod m = req.method();
        if (m == HttpMethod.PUT || m == HttpMethod.DELETE || m == HttpMethod.POST) {
            String origin = req.getHeader(HttpHeaders.ORIGIN);
            if (origin != null && !sameSite(origin, host)) return false;
        }
        return true;
    }

    public boolean secretOk(HttpServerRequest req) {
        return secret == null || equal(req.getHeader(SECRET_HEADER), secret);
    }

    public boolean tokenOk(HttpServerRequest req) {
        return bearer == null || equal(req.getHeader(HttpHeaders.AUTHORIZATION), bearer);
    }

    /**
     * Compares in constant time through {@link MessageDigest#isEqual}, which takes as long as its
     * first argument is long, whatever the second is and wherever they differ: the given value
     * goes first, so the time says nothing about the secret. Both sides are encoded as UTF-16BE,
     * two bytes for every char, so two strings give equal bytes exactly when they are equal (a
     * char that matches only in its low byte does not pass); a lone surrogate would be encoded as
     * U+FFFD, which a secret or token never holds (Config admits printable ASCII only).
     */
    static boolean equal(String given, String expected) {
        if (given == null) return false;
        return MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_16BE), expected.getBytes(StandardCharsets.UTF_16BE));
    }

    /**
     * A Host header (RFC 9110 section 7.2: host and optional port) that names this node: an IP
     * literal, {@code localhost} or one of its configured names, in any case. IP literals are
     * Netty's to parse ({@link NetUtil}): four decimal parts of 0 to 255, or an IPv6 address in
     * any of its textual forms, in brackets when a port follows. A zone index ({@code %eth0}),
     * which Netty would take, is refused: it names an interface of the sender's machine, and no
     * browser sends one.
     */
    boolean hostAllowed(String header) {
        String h = header.trim();
        if (h.isEmpty()) return false;
        if (h.charAt(0) == '[') { // [IPv6] or [IPv6]:port
            int close = h.indexOf(']');
            return close > 0 && portOrNothing(h, close + 1, h.length()) && isIpv6(h.substring(1, close));
        }
        int colon = h.indexOf(':');
        if (colon >= 0 && h.indexOf(':', colon + 1) >= 0) return isIpv6(h); // bare IPv6, no port
        if (colon >= 0) {
            if (!portOrNothing(h, colon, h.length())) return false;
            h = h.substring(0, colon);
        }
        if (h.isEmpty()) return false;
        if (NetUtil.isValidIpV4Address(h)) return true;
        for (String n : names) {
            if (n.equalsIgnoreCase(h)) return true;
        }
        return false;
    }

    /** Nothing, or a colon and 1 to 5 digits. */
    private static boolean portOrNothing(String s, int from, int to) {
        if (from == to) return true;
        if (s.charAt(from) != ':' || to - from < 2 || to - from > 6) return false;
        for (int i = from + 1; i < to; i++) if (s.charAt(i) < '0' || s.charAt(i) > '9') return false;
        return true;
    }

    /** An IPv6 literal without brackets and without a zone index. */
    private static boolean isIpv6(String s) {
        return s.indexOf('%') < 0 && NetUtil.isValidIpV6Address(s);
    }

    /** The host of a Host header or authority, without port or IPv6 brackets. */
    static String hostPart(String hostHeader) {
        String h = hostHeader.trim();
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end > 0 ? h.substring(1, end) : h;
        }
        int colon = h.lastIndexOf(':');
        if (colon >= 0 && h.indexOf(':') == colon) h = h.substring(0, colon);
        return h;
    }

    /**
     * An Origin is the same site when it is {@code http} (a node serves no TLS) with the host and
     * port this request was sent to: the node's own page.
     */
    static boolean sameSite(String origin, String host) {
        if (host == null) return false;
        try {
            URI u = new URI(origin.trim());
            if (u.getHost() == null || !"http".equalsIgnoreCase(u.getScheme())) return false;
            int port = u.getPort() >= 0 ? u.getPort() : 80;
            String h = host.trim();
            String hostOnly = hostPart(h);
            int hostPort;
            int colon = h.lastIndexOf(':');
            if (colon > h.lastIndexOf(']') && colon >= 0) hostPort = Integer.parseInt(h.substring(colon + 1));
            else hostPort = 80;
            String originHost = u.getHost().startsWith("[") ? u.getHost().substring(1, u.getHost().length() - 1) : u.getHost();
            return originHost.equalsIgnoreCase(hostOnly) && port == hostPort;
        } catch (Exception e) {
            return false;
        }
    }
}
