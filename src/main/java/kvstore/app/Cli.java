package kvstore.app;

import kvstore.core.Params;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The command-line client (SPEC.md section 9): {@code get KEY}, {@code put KEY VALUE},
 * {@code del KEY} and {@code status} against a running leader. Exit 0 on success, 1 when the
 * server answers an error (its body on stderr), 3 when the leader cannot be reached.
 * The secret and the client token come from KVSTORE_SECRET and KVSTORE_TOKEN.
 */
final class Cli {
    private Cli() {}

    static final int OK = 0, SERVER_ERROR = 1, UNREACHABLE = 3;

    static int run(String verb, List<String> words, String leaderUrl, Map<String, String> env) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
        String uri;
        String method;
        switch (verb) {
            case "get" -> { method = "GET"; uri = "/?key=" + Params.encode(words.get(0)); }
            case "put" -> { method = "PUT"; uri = "/?key=" + Params.encode(words.get(0)) + "&val=" + Params.encode(words.get(1)); }
            case "del" -> { method = "DELETE"; uri = "/?key=" + Params.encode(words.get(0)); }
            default -> { method = "GET"; uri = "/api/status"; }
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(leaderUrl + uri))
                .timeout(Duration.ofSeconds(60))
                .method(method, HttpRequest.BodyPublishers.noBody());
        String token = env.get("KVSTORE_TOKEN");
        if (token != null && !token.isEmpty()) b.header("Authorization", "Bearer " + token);
        String secret = env.get("KVSTORE_SECRET");
        if (secret != null && !secret.isEmpty()) b.header("X-KV-Secret", secret);
        HttpResponse<byte[]> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            System.err.println("kvstore: cannot reach the leader at " + leaderUrl + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")");
            return UNREACHABLE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return UNREACHABLE;
        }
        String body = new String(r.body(), StandardCharsets.UTF_8);
        int status = r.statusCode();
        boolean ok = switch (verb) {
            case "get", "status" -> status == 200;
            default -> status == 201;
        };
        if (!ok) {
            System.err.println(body.isEmpty() ? "error: HTTP " + status : body);
            return SERVER_ERROR;
        }
        if (verb.equals("get") || verb.equals("status")) {
            System.out.println(body);
            System.out.flush();
        }
        return OK;
    }
}
