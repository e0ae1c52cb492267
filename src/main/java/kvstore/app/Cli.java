package kvstore.app;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Params;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The command-line client (SPEC.md sections 9, 10 and 11) against a running leader:
 * <pre>
 *   get [-v] KEY                      GET /?key=K            value on stdout; -v: "version V" on stderr
 *   put KEY VALUE [--if-version V]    PUT /?key=K&amp;val=V[&amp;ifVersion=V]
 *   del KEY [--if-version V]          DELETE /?key=K[&amp;ifVersion=V]
 *   status                            GET /api/status        its JSON
 *   members [--json]                  GET /api/members       a table (or its JSON)
 *   members evict|drain HOST:PORT     POST /api/members/evict|drain?follower=HOST:PORT   its JSON
 *   members capacity N                POST /api/members/capacity?n=N                     its JSON
 *   txn FILE|-                        POST /txn with the file's (or stdin's) JSON        its JSON
 * </pre>
 * Exit 0 on success, 1 when the server answers an error (its body on stderr, e.g. {@code error:
 * version mismatch}), 3 when the leader cannot be reached or gives no answer, 2 for bad usage
 * (mostly caught earlier by {@link Config}; here: a transaction file that cannot be read). The
 * secret and the client token come from KVSTORE_SECRET and KVSTORE_TOKEN, never from the command
 * line (where {@code ps} shows them); both are sent when set, so the membership requests, which
 * need the secret, work with KVSTORE_SECRET alone. Keys and values are sent percent-encoded as
 * UTF-8; a value is printed as the bytes the leader sent.
 *
 * <p>A transaction's answer is printed and exits 0 whether its conditions held or not: the
 * request succeeded, and {@code "succeeded"} in the JSON says which branch ran (as etcdctl does).
 */
final class Cli {
    private Cli() {}

    static final int OK = 0, SERVER_ERROR = 1, BAD_USAGE = 2, UNREACHABLE = 3;

    /** The most a transaction body may hold (SPEC.md section 11); a larger one is refused here. */
    static final int TXN_MAX_BYTES = 64 * 1024;

    /** The seed's verbs, which Main hands to {@link #run} by name. */
    private static final Set<String> SEED_VERBS = Set.of("get", "put", "del", "status");

    /**
     * One client invocation as {@link Config} parsed it. Main dispatches only the seed's four
     * verbs to {@link #run} and passes a verb and a list of words, so a call with a newer verb or
     * option travels as {@link #encode()}: a mark that no command-line argument can contain (a
     * NUL) and then its fields. A plain seed call travels as its own verb and words, exactly as
     * before.
     */
    record Call(String verb, List<String> words, Long ifVersion, boolean showVersion, boolean json) {
        static final String MARK = "\u0000kvstore-call";

        boolean plain() {
            return SEED_VERBS.contains(verb) && ifVersion == null && !showVersion && !json;
        }

        /** The verb Main is given: one it hands to the client. */
        String mainVerb() {
            return SEED_VERBS.contains(verb) ? verb : "status";
        }

        List<String> encode() {
            if (plain()) return words;
            List<String> out = new ArrayList<>(List.of(MARK, verb, ifVersion == null ? "" : ifVersion.toString(),
                    showVersion ? "v" : "", json ? "json" : ""));
            out.addAll(words);
            return List.copyOf(out);
        }

        static Call decode(String verb, List<String> words) {
            if (words.isEmpty() || !words.get(0).equals(MARK)) return new Call(verb, words, null, false, false);
            String v = words.get(2);
            return new Call(words.get(1), List.copyOf(words.subList(5, words.size())), v.isEmpty() ? null : Long.valueOf(v),
                    words.get(3).equals("v"), words.get(4).equals("json"));
        }
    }

    /** What Main calls: the verb and words from {@link Config.Command}. */
    static int run(String verb, List<String> words, String leaderUrl, Map<String, String> env) {
        return run(Call.decode(verb, words), leaderUrl, env, System.in, System.out, System.err);
    }

    /** One HTTP request of a call: method, path with query, body (or null), the status that means success. */
    private record Exchange(String method, String path, byte[] body, int okStatus) {}

    static int run(Call call, String leaderUrl, Map<String, String> env, InputStream stdin, PrintStream out, PrintStream err) {
        String argCharset = System.getProperty("sun.jnu.encoding", "UTF-8");
        if (!argCharset.equalsIgnoreCase("UTF-8") && call.words().stream().anyMatch(w -> w.indexOf('\uFFFD') >= 0)) {
            // The JVM decoded the arguments in this locale's charset and lost what it could not read.
            err.println("kvstore: an argument has characters that this locale's charset (" + argCharset
                    + ") cannot read; run the client under a UTF-8 locale, e.g. LANG=C.UTF-8");
            return BAD_USAGE;
        }
        Exchange x;
        try {
            x = exchange(call, stdin);
        } catch (UsageException e) {
            err.println("kvstore: " + e.getMessage());
            err.print(Usage.TEXT);
            err.flush();
            return BAD_USAGE;
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(leaderUrl + x.path()))
                .timeout(Duration.ofSeconds(60))
                .method(x.method(), x.body() == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(x.body()));
        if (x.body() != null) b.header("Content-Type", "application/json");
        String token = env.get("KVSTORE_TOKEN");
        if (token != null && !token.isEmpty()) b.header("Authorization", "Bearer " + token);
        String secret = env.get("KVSTORE_SECRET");
        if (secret != null && !secret.isEmpty()) b.header("X-KV-Secret", secret);
        HttpResponse<byte[]> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            err.println("kvstore: cannot reach the leader at " + leaderUrl + " (" + describe(e) + ")");
            return UNREACHABLE;
        } catch (IOException e) {
            // Connected, but no answer came: for a write, SPEC.md section 5 says its outcome is unknown.
            err.println("kvstore: cannot reach the leader at " + leaderUrl + ": no answer (" + describe(e) + ")"
                    + (x.method().equals("GET") ? "" : "; whether the request took effect is unknown"));
            return UNREACHABLE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return UNREACHABLE;
        }
        byte[] body = r.body();
        int status = r.statusCode();
        if (status != x.okStatus()) {
            writeLine(err, body.length == 0 ? ("error: HTTP " + status).getBytes(StandardCharsets.UTF_8) : body);
            return SERVER_ERROR;
        }
        switch (call.verb()) {
            case "get" -> {
                writeLine(out, body);
                if (call.showVersion()) {
                    String v = r.headers().firstValue("X-KV-Version").orElse("unknown (the leader sent none)");
                    err.println("version " + v);
                    err.flush();
                }
            }
            case "put", "del" -> { } // nothing on success, as before
            case "members" -> {
                if (call.words().isEmpty() && !call.json()) {
                    try {
                        out.print(membersTable(new JsonObject(new String(body, StandardCharsets.UTF_8))));
                        out.flush();
                    } catch (DecodeException | ClassCastException e) {
                        writeLine(out, body); // not the JSON we know: show it as it came
                    }
                } else {
                    writeLine(out, body);
                }
            }
            default -> writeLine(out, body);
        }
        return OK;
    }

    /** The request a call makes; a transaction file that cannot be read is bad usage. */
    private static Exchange exchange(Call call, InputStream stdin) throws UsageException {
        List<String> w = call.words();
        String cond = call.ifVersion() == null ? "" : "&ifVersion=" + call.ifVersion();
        return switch (call.verb()) {
            case "get" -> new Exchange("GET", "/?key=" + Params.encode(w.get(0)), null, 200);
            case "put" -> new Exchange("PUT", "/?key=" + Params.encode(w.get(0)) + "&val=" + Params.encode(w.get(1)) + cond, null, 201);
            case "del" -> new Exchange("DELETE", "/?key=" + Params.encode(w.get(0)) + cond, null, 201);
            case "txn" -> new Exchange("POST", "/txn", readTxn(w.get(0), stdin), 200);
            case "members" -> {
                if (w.isEmpty()) yield new Exchange("GET", "/api/members", null, 200);
                if (w.get(0).equals("capacity")) {
                    yield new Exchange("POST", "/api/members/capacity?n=" + Config.parseInt(w.get(1), "members capacity N", 1, 1000), null, 200);
                }
                String[] hp = Config.hostPort(w.get(1), "members " + w.get(0) + " HOST:PORT");
                String follower = (hp[0].contains(":") ? "[" + hp[0] + "]" : hp[0]) + ":" + hp[1];
                yield new Exchange("POST", "/api/members/" + w.get(0) + "?follower=" + Params.encode(follower), null, 202);
            }
            default -> new Exchange("GET", "/api/status", null, 200);
        };
    }

    /** The transaction's JSON, from a file or (for {@code -}) stdin, at most {@link #TXN_MAX_BYTES}. */
    private static byte[] readTxn(String file, InputStream stdin) throws UsageException {
        byte[] bytes;
        try {
            if (file.equals("-")) {
                bytes = stdin.readNBytes(TXN_MAX_BYTES + 1);
            } else {
                Path p = Path.of(file);
                if (Files.isDirectory(p)) throw new UsageException("txn " + file + ": a directory, not a file");
                if (Files.size(p) > TXN_MAX_BYTES) throw new UsageException("txn " + file + ": larger than 64 KiB, the most a transaction may be");
                bytes = Files.readAllBytes(p);
            }
        } catch (IOException e) {
            throw new UsageException("txn: cannot read " + (file.equals("-") ? "stdin" : file) + " (" + describe(e) + ")");
        }
        if (bytes.length > TXN_MAX_BYTES) throw new UsageException("txn: larger than 64 KiB, the most a transaction may be");
        return bytes;
    }

    /**
     * {@code GET /api/members} for a person: the view, the capacity and redundancy, one line per
     * member (address, state, the view it joined in, id), the evicted addresses with when, and the
     * rebalance. {@code --json} prints the leader's JSON instead.
     */
    static String membersTable(JsonObject m) {
        StringBuilder sb = new StringBuilder();
        JsonArray members = m.getJsonArray("members", new JsonArray());
        sb.append("view ").append(m.getValue("view")).append(", capacity ").append(m.getValue("capacity"))
                .append(", redundancy ").append(m.getValue("redundancy")).append(", ").append(members.size())
                .append(members.size() == 1 ? " member" : " members").append('\n');
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"MEMBER", "STATE", "SINCE VIEW", "ID"});
        for (int i = 0; i < members.size(); i++) {
            JsonObject f = members.getJsonObject(i);
            rows.add(new String[] {address(f), String.valueOf(f.getValue("state")), String.valueOf(f.getValue("since", "")),
                    String.valueOf(f.getValue("id"))});
        }
        table(sb, rows);
        JsonArray evicted = m.getJsonArray("evicted", new JsonArray());
        if (!evicted.isEmpty()) {
            List<String[]> out = new ArrayList<>();
            out.add(new String[] {"EVICTED", "SINCE"});
            for (int i = 0; i < evicted.size(); i++) {
                JsonObject f = evicted.getJsonObject(i);
                Object since = f.getValue("since");
                out.add(new String[] {address(f), since instanceof Number n ? Instant.ofEpochMilli(n.longValue()).toString() : String.valueOf(since)});
            }
            table(sb, out);
        }
        Object reb = m.getValue("rebalancing");
        if (reb instanceof JsonObject r) {
            sb.append("rebalancing: view ").append(r.getValue("view")).append(", ").append(r.getValue("copied"))
                    .append(" of about ").append(r.getValue("keys")).append(" keys copied");
            if (r.getValue("since") instanceof Number n) sb.append(", since ").append(Instant.ofEpochMilli(n.longValue()));
            sb.append('\n');
        } else {
            sb.append("rebalancing: no key is moving\n");
        }
        return sb.toString();
    }

    private static String address(JsonObject f) {
        String host = String.valueOf(f.getValue("host"));
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + f.getValue("port");
    }

    private static void table(StringBuilder sb, List<String[]> rows) {
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) for (int i = 0; i < r.length; i++) width[i] = Math.max(width[i], r[i].length());
        for (String[] r : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < r.length; i++) {
                line.append(r[i]);
                if (i < r.length - 1) line.append(" ".repeat(width[i] - r[i].length() + 2));
            }
            sb.append(line.toString().stripTrailing()).append('\n');
        }
    }

    private static String describe(Exception e) {
        String name = e.getClass().getSimpleName();
        return e.getMessage() == null ? name : name + ": " + e.getMessage();
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
