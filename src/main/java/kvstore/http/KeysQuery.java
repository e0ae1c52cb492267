package kvstore.http;

import io.vertx.core.http.HttpMethod;
import kvstore.core.KeyRequest;
import kvstore.core.Keys;
import kvstore.core.Params;

/**
 * The parameters of {@code GET /api/keys?prefix=P&after=K&limit=N} (SPEC.md section 2): limit
 * defaults to 100 and is cut to 1000. Null when the request is not a valid one.
 */
public record KeysQuery(String prefix, String after, int limit) {
    public static KeysQuery parse(HttpMethod method, String query) {
        if (method != HttpMethod.GET) return null;
        Params p = Params.parse(query);
        if (p.malformed() || p.count("prefix") > 1 || p.count("after") > 1 || p.count("limit") > 1) return null;
        int limit = Keys.DEFAULT_PAGE;
        String l = p.get("limit");
        if (l != null) {
            long v = KeyRequest.parseEpoch(l);
            if (v < 1) return null;
            limit = (int) Math.min(v, Keys.MAX_PAGE);
        }
        String after = p.get("after");
        return new KeysQuery(p.get("prefix"), after == null || after.isEmpty() ? null : after, limit);
    }
}
