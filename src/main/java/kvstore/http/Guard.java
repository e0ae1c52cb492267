package kvstore.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;

import java.net.URI;
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
     * that carries an {@code Origin} comes from the page this node serves. Allocation-free
     * on the usual path (a Host and no Origin).
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
     * Compares in constant time: the time depends only on the length of what was given, never on
     * where it differs or on the expected length (as {@link java.security.MessageDigest#isEqual}
     * does, but on chars, so the hot path allocates nothing). Header values arrive one char per
     * byte, and a secret or token is printable ASCII (Config checks), so chars compare exactly.
     */
    static boolean equal(String given, String expected) {
        if (given == null) return false;
        int n = given.length(), m = expected.length();
        int diff = n ^ m;
        for (int i = 0; i < n; i++) {
            int j = ((i - m) >>> 31) * i; // i while i < m, else 0: no branch on the expected length
            diff |= given.charAt(i) ^ expected.charAt(j);
        }
        return diff == 0;
    }

    /**
     * A Host header (RFC 9110 section 7.2: host and optional port) that names this node: an IP
     * literal, {@code localhost} or one of its configured names, in any case.
     */
    boolean hostAllowed(String header) {
        int from = 0, to = header.length();
        while (from < to && header.charAt(from) <= ' ') from++;
        while (to > from && header.charAt(to - 1) <= ' ') to--;
        if (from == to) return false;
        if (header.charAt(from) == '[') { // [IPv6]:port
            int close = header.indexOf(']', from);
            if (close < 0 || close >= to || !portOrNothing(header, close + 1, to)) return false;
            return isIpv6(header, from + 1, close);
        }
        int colon = header.indexOf(':', from);
        if (colon >= 0 && colon < to) {
            if (header.indexOf(':', colon + 1) >= 0) return isIpv6(header, from, to); // bare IPv6, no port
            if (!portOrNothing(header, colon, to)) return false;
            to = colon;
        }
        if (from == to) return false;
        if (isIpv4(header, from, to)) return true;
        for (String n : names) {
            if (n.length() == to - from && header.regionMatches(true, from, n, 0, n.length())) return true;
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

    /** Four decimal parts of 0 to 255. */
    static boolean isIpv4(String s, int from, int to) {
        int parts = 0, digits = 0, value = 0;
        for (int i = from; i <= to; i++) {
            char c = i == to ? '.' : s.charAt(i);
            if (c == '.') {
                if (digits == 0 || value > 255) return false;
                parts++;
                digits = 0;
                value = 0;
            } else if (c >= '0' && c <= '9' && digits < 3) {
                value = value * 10 + (c - '0');
                digits++;
            } else {
                return false;
            }
        }
        return parts == 4;
    }

    /** Hex digits, colons and dots (an IPv4 tail), with at least two colons. */
    static boolean isIpv6(String s, int from, int to) {
        int colons = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == ':') colons++;
            else if (Character.digit(c, 16) < 0 && c != '.') return false;
        }
        return colons >= 2;
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
