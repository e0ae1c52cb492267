package kvstore.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashSet;
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

    private final byte[] secret;
    private final byte[] bearer;
    private final Set<String> names = new HashSet<>();

    public Guard(String secret, String clientToken, String... ownNames) {
        this.secret = secret == null ? null : secret.getBytes(StandardCharsets.UTF_8);
        this.bearer = clientToken == null ? null : ("Bearer " + clientToken).getBytes(StandardCharsets.UTF_8);
        names.add("localhost");
        for (String n : ownNames) if (n != null) names.add(n.toLowerCase(Locale.ROOT));
    }

    public boolean hasSecret() {
        return secret != null;
    }

    /** True when the browser rules allow the request (Origin and Host). */
    public boolean browserSafe(HttpServerRequest req) {
        String host = req.getHeader(HttpHeaders.HOST);
        if (host != null && !hostAllowed(hostPart(host))) return false;
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

    private static boolean equal(String given, byte[] expected) {
        byte[] g = given == null ? new byte[0] : given.getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(g, expected); // constant time for equal lengths
    }

    private boolean hostAllowed(String h) {
        if (h.isEmpty()) return false;
        String lower = h.toLowerCase(Locale.ROOT);
        return names.contains(lower) || isIpLiteral(lower);
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

    static boolean isIpLiteral(String h) {
        if (h.indexOf(':') >= 0) { // IPv6
            for (char c : h.toCharArray()) if (Character.digit(c, 16) < 0 && c != ':' && c != '.') return false;
            return true;
        }
        String[] parts = h.split("\\.", -1);
        if (parts.length != 4) return false;
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3) return false;
            for (char c : p.toCharArray()) if (c < '0' || c > '9') return false;
            if (Integer.parseInt(p) > 255) return false;
        }
        return true;
    }

    /** An Origin is the same site when its host and port are the ones this request was sent to. */
    private static boolean sameSite(String origin, String host) {
        if (host == null) return false;
        try {
            URI u = new URI(origin.trim());
            if (u.getHost() == null) return false;
            int port = u.getPort() >= 0 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
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
