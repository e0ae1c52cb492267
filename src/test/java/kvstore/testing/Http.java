package kvstore.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/** A blocking HTTP client for tests: real sockets, answers as status and text. */
public final class Http {
    private Http() {}

    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public record Response(int status, String body, Map<String, java.util.List<String>> headers) {
        public String header(String name) {
            for (var e : headers.entrySet()) if (e.getKey().equalsIgnoreCase(name)) return e.getValue().get(0);
            return null;
        }
    }

    public static Response send(String method, String url, String... headerPairs) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                    .method(method, HttpRequest.BodyPublishers.noBody());
            for (int i = 0; i + 1 < headerPairs.length; i += 2) b.header(headerPairs[i], headerPairs[i + 1]);
            HttpResponse<byte[]> r = CLIENT.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Response(r.statusCode(), new String(r.body(), StandardCharsets.UTF_8), r.headers().map());
        } catch (IOException e) {
            return new Response(-1, "io: " + e, Map.of());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    public static Response get(String url, String... headers) { return send("GET", url, headers); }

    public static Response put(String url, String... headers) { return send("PUT", url, headers); }

    public static Response delete(String url, String... headers) { return send("DELETE", url, headers); }

    public static Response post(String url, String... headers) { return send("POST", url, headers); }

    /** Percent-encodes a query value the way the web client does. */
    public static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
