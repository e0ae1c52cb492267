package kvstore.testing;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One scrape of a node's {@code /metrics}, parsed from Prometheus text: each sample line
 * {@code name{label="v",...} value} becomes an entry keyed by its name and labels (labels in
 * name order, as Micrometer writes them). A series that is absent reads as 0.
 */
public final class Scrape {
    public final String text;
    private final Map<String, Double> samples = new HashMap<>();

    private Scrape(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            int sp = line.lastIndexOf(' ');
            samples.put(line.substring(0, sp), Double.parseDouble(line.substring(sp + 1)));
        }
    }

    public static Scrape of(String text) {
        return new Scrape(text);
    }

    /** GET {@code baseUrl}/metrics (with optional header pairs); fails unless it answers 200. */
    public static Scrape get(String baseUrl, String... headers) {
        Http.Response r = Http.get(baseUrl + "/metrics", headers);
        if (r.status() != 200) throw new AssertionError("GET " + baseUrl + "/metrics answered " + r.status() + " " + r.body());
        return new Scrape(r.body());
    }

    /** The value of {@code name} with the given label pairs ({@code "type", "put", ...}); 0 when absent. */
    public double value(String name, String... labelPairs) {
        return samples.getOrDefault(series(name, labelPairs), 0.0);
    }

    public boolean has(String name, String... labelPairs) {
        return samples.containsKey(series(name, labelPairs));
    }

    static String series(String name, String... labelPairs) {
        if (labelPairs.length == 0) return name;
        TreeMap<String, String> labels = new TreeMap<>();
        for (int i = 0; i + 1 < labelPairs.length; i += 2) labels.put(labelPairs[i], labelPairs[i + 1]);
        StringBuilder sb = new StringBuilder(name).append('{');
        boolean first = true;
        for (var e : labels.entrySet()) {
            if (!first) sb.append(',');
            first = false;
            sb.append(e.getKey()).append("=\"").append(e.getValue()).append('"');
        }
        return sb.append('}').toString();
    }
}
