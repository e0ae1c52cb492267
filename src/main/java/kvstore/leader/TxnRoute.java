package kvstore.leader;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import kvstore.core.Errors;
import kvstore.core.KeyRequest;
import kvstore.core.Limits;
import kvstore.core.tpc.ClientOp;
import kvstore.core.tpc.RidMemory;
import kvstore.core.tpc.TxnRequest;
import kvstore.http.Replies;
import kvstore.metrics.RequestType;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * {@code POST /txn} (SPEC.md section 11): reads the JSON body (at most {@link #MAX_BODY_BYTES};
 * a larger one is refused like any body over the HTTP limits, 413 and a closed connection),
 * turns it into a {@link TxnRequest} or an error body, and submits it. Checks, in SPEC.md's
 * order: unauthorized, invalid request (not a transaction: bad JSON, an unknown op, a key twice
 * in a branch, too many conditions or operations, a bad rid), key length, value length, capacity.
 */
final class TxnRoute {
    static final int MAX_BODY_BYTES = 64 * 1024;

    private TxnRoute() {}

    static void handle(HttpServerRequest req, LeaderHttp http) {
        if (req.method() != HttpMethod.POST) {
            Replies.text(req, 500, Errors.INVALID_REQUEST);
            return;
        }
        http.leader().metrics().watch(req, RequestType.TXN);
        if (!http.guard().tokenOk(req)) {
            drain(req);
            Replies.text(req, 401, Errors.UNAUTHORIZED);
            return;
        }
        String length = req.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (length != null && (length.length() > 9 || KeyRequest.parseEpoch(length) > MAX_BODY_BYTES || KeyRequest.parseEpoch(length) < 0)) {
            tooLarge(req);
            return;
        }
        Buffer body = Buffer.buffer(256);
        boolean[] refused = {false};
        req.exceptionHandler(e -> refused[0] = true);
        req.handler(chunk -> {
            if (refused[0]) return;
            if (body.length() + chunk.length() > MAX_BODY_BYTES) {
                refused[0] = true;
                tooLarge(req);
                return;
            }
            body.appendBuffer(chunk);
        });
        req.endHandler(v -> {
            if (refused[0]) return;
            run(req, http, body);
        });
    }

    private static void run(HttpServerRequest req, LeaderHttp http, Buffer body) {
        if (http.leader().standby()) {
            Replies.text(req, 503, Errors.UNABLE);
            return;
        }
        Object parsed = parse(body, http.settings().limits());
        if (parsed instanceof String error) {
            Replies.text(req, 500, error);
            return;
        }
        if (http.leader().forming()) {
            Replies.text(req, 500, Errors.CAPACITY_NOT_FULL);
            return;
        }
        http.submit(new ClientOp.Txn((TxnRequest) parsed)).onSuccess(a -> LeaderHttp.answer(req, a, null));
    }

    /** A transaction, or the error body to answer. */
    static Object parse(Buffer body, Limits limits) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(body.getBytes())).toString();
        } catch (CharacterCodingException e) {
            return Errors.INVALID_REQUEST;
        }
        JsonObject o;
        try {
            o = new JsonObject(text);
        } catch (DecodeException | ClassCastException e) {
            return Errors.INVALID_REQUEST;
        }
        for (String f : o.fieldNames()) if (!Set.of("if", "then", "else", "rid").contains(f)) return Errors.INVALID_REQUEST;
        try {
            List<TxnRequest.Condition> conds = new ArrayList<>();
            JsonArray ifs = o.containsKey("if") ? o.getJsonArray("if") : new JsonArray();
            if (ifs == null) return Errors.INVALID_REQUEST;
            for (Object c : ifs) {
                if (!(c instanceof JsonObject co) || !co.fieldNames().equals(Set.of("key", "version"))) return Errors.INVALID_REQUEST;
                Object version = co.getValue("version");
                if (!(version instanceof Number n) || n.longValue() < 0 || n.doubleValue() != n.longValue()) return Errors.INVALID_REQUEST;
                String key = co.getValue("key") instanceof String s ? s : null;
                if (key == null) return Errors.INVALID_REQUEST;
                conds.add(new TxnRequest.Condition(key, n.longValue()));
            }
            List<TxnRequest.TxnOp> then = ops(o, "then");
            List<TxnRequest.TxnOp> otherwise = ops(o, "else");
            if (then == null || otherwise == null) return Errors.INVALID_REQUEST;
            if (conds.size() > TxnRequest.MAX_CONDITIONS_AND_OPS || then.size() + otherwise.size() > TxnRequest.MAX_CONDITIONS_AND_OPS) {
                return Errors.INVALID_REQUEST;
            }
            if (!unique(then) || !unique(otherwise)) return Errors.INVALID_REQUEST;
            String rid = null;
            if (o.containsKey("rid")) {
                rid = o.getValue("rid") instanceof String s ? s : null;
                if (!RidMemory.valid(rid)) return Errors.INVALID_REQUEST;
            }
            String lengths = lengths(conds, then, otherwise, limits);
            if (lengths != null) return lengths;
            return new TxnRequest(conds, then, otherwise, rid);
        } catch (ClassCastException e) {
            return Errors.INVALID_REQUEST;
        }
    }

    private static List<TxnRequest.TxnOp> ops(JsonObject o, String field) {
        if (!o.containsKey(field)) return List.of();
        JsonArray arr = o.getJsonArray(field);
        if (arr == null) return null;
        List<TxnRequest.TxnOp> out = new ArrayList<>(arr.size());
        for (Object x : arr) {
            if (!(x instanceof JsonObject op)) return null;
            String kind = op.getValue("op") instanceof String s ? s : null;
            String key = op.getValue("key") instanceof String s ? s : null;
            if (kind == null || key == null) return null;
            switch (kind) {
                case "get", "delete" -> {
                    if (!op.fieldNames().equals(Set.of("op", "key"))) return null;
                    out.add(new TxnRequest.TxnOp(kind.equals("get") ? TxnRequest.Kind.GET : TxnRequest.Kind.DELETE, key, null));
                }
                case "put" -> {
                    String val = op.getValue("val") instanceof String s ? s : null;
                    if (val == null || val.isEmpty() || !op.fieldNames().equals(Set.of("op", "key", "val"))) return null;
                    out.add(new TxnRequest.TxnOp(TxnRequest.Kind.PUT, key, val));
                }
                default -> {
                    return null;
                }
            }
        }
        return out;
    }

    private static boolean unique(List<TxnRequest.TxnOp> ops) {
        Set<String> seen = new HashSet<>();
        for (TxnRequest.TxnOp op : ops) if (!seen.add(op.key())) return false;
        return true;
    }

    /** The single-key error strings, key lengths first, then values; NUL is an invalid request, as in a query. */
    private static String lengths(List<TxnRequest.Condition> conds, List<TxnRequest.TxnOp> then, List<TxnRequest.TxnOp> otherwise, Limits limits) {
        List<String> keys = new ArrayList<>();
        for (TxnRequest.Condition c : conds) keys.add(c.key());
        List<String> values = new ArrayList<>();
        for (List<TxnRequest.TxnOp> branch : List.of(then, otherwise)) {
            for (TxnRequest.TxnOp op : branch) {
                keys.add(op.key());
                if (op.value() != null) values.add(op.value());
            }
        }
        for (String k : keys) if (!text(k)) return Errors.INVALID_REQUEST;
        for (String v : values) if (!text(v)) return Errors.INVALID_REQUEST;
        for (String k : keys) {
            int n = KeyRequest.utf8Length(k);
            if (n == 0 || n > limits.maxKeyBytes()) return Errors.IMPROPER_KEY_LENGTH;
        }
        for (String v : values) if (KeyRequest.utf8Length(v) > limits.maxValueBytes()) return Errors.VALUE_TOO_LONG;
        return null;
    }

    /** No NUL and no lone surrogate (JSON's \\u escapes can write both; neither is UTF-8 text). */
    private static boolean text(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 0) return false;
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) return false;
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    private static void tooLarge(HttpServerRequest req) {
        req.response().setStatusCode(413).putHeader(HttpHeaders.CONNECTION, "close").end().onComplete(ar -> req.connection().close());
    }

    private static void drain(HttpServerRequest req) {
        req.handler(b -> { });
    }
}
