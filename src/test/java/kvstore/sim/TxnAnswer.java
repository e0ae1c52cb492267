package kvstore.sim;

import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/** A transaction's JSON answer, as the simulation's clients read it: each result's key, value and version. */
final class TxnAnswer {
    private TxnAnswer() {}

    /** Each result as {key, value or null, version as text}. */
    static List<String[]> parse(String body) {
        List<String[]> out = new ArrayList<>();
        for (Object o : new JsonObject(body).getJsonArray("results")) {
            JsonObject r = (JsonObject) o;
            out.add(new String[] {r.getString("key"), r.getString("val"), String.valueOf(r.getLong("version", 0L))});
        }
        return out;
    }
}
