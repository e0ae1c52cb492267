package kvstore.app;

import kvstore.core.Params;

import java.io.IOException;
import java.io.PrintStream;
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
 * server answers an error (its body on stderr), 3 when the leader cannot be reached; bad usage
 * (exit 2) is caught earlier by {@link Config}. The secret and the client token come from
 * KVSTORE_SECRET and KVSTORE_TOKEN, never from the command line (where {@code ps} shows them).
 * Keys and values are sent percent-encoded as UTF-8; a value is printed as the bytes the
 * leader sent.
 */
final class Cli {
    private Cli() {}

    static final int OK = 0, SERVER_ERROR = 1, BAD_USAGE = 2, UNREACHABLE = 3;

    static int run(String verb, List<String> words, String leaderUrl, Map<String, String> env) {
        String argCharset = System.getProperty("sun.jnu.encoding", "UTF-8");
        if (!argCharset.equalsIgnoreCase("UTF-8") && words.stream().anyMatch(w -> w.indexOf('\uFFFD') >= 0)) {
            // The JVM decoded the arguments in this locale's charset and lost what it could not read.
            System.err.println("kvstore: an argument has characters that this locale's charset (" + argCharset
                    + ") cannot read; run the client under a UTF-8 locale, e.g. LANG=C.UTF-8");
            return BAD_USAGE;
        }
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
        byte[] body = r.body();
        int status = r.statusCode();
        boolean ok = switch (verb) {
            case "get", "status" -> status == 200;
            default -> status == 201;
        };
        if (!ok) {
            writeLine(System.err, body.length == 0 ? ("error: HTTP " + status).getBytes(StandardCharsets.UTF_8) : body);
            return SERVER_ERROR;
        }
        if (verb.equals("get") || verb.equals("status")) writeLine(System.out, body);
        return OK;
    }

    /**
     * Writes the server's bytes as they are, then a newline. Going through a String and
     * println would re-encode them in the platform charset, which is ASCII under the POSIX
     * locale of a bare shell or a CI job, and every non-ASCII character would become '?'.
     */
    private static void writeLine(PrintStream out, byte[] bytes) {
        out.write(bytes, 0, bytes.length);
        out.write('\n');
        out.flush();
    }
}
