package kvstore.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.NavigableMap;
import java.util.function.Predicate;

/** Key order and paging shared by the follower's key browser and the leader's merge of them. */
public final class Keys {
    private Keys() {}

    /**
     * UTF-8 byte order, which is Unicode code point order. {@link String#compareTo} compares
     * UTF-16 units instead and puts U+E000..U+FFFF after supplementary characters.
     */
    public static final Comparator<String> UTF8_ORDER = (a, b) -> {
        int n = Math.min(a.length(), b.length());
        for (int i = 0; i < n; i++) {
            char x = a.charAt(i), y = b.charAt(i);
            if (x != y) {
                boolean sx = Character.isSurrogate(x), sy = Character.isSurrogate(y);
                if (sx != sy) return sx ? 1 : -1; // a surrogate starts a code point above U+FFFF
                return x - y;
            }
        }
        return a.length() - b.length();
    };

    public static final int DEFAULT_PAGE = 100;
    public static final int MAX_PAGE = 1000;

    /** A page of keys and where the next one starts (null when this is the last). */
    public record Page(List<String> keys, String next) {}

    /** Keys with {@code prefix} strictly after {@code after}, at most {@code limit}. */
    public static Page page(NavigableMap<String, ?> map, String prefix, String after, int limit) {
        return page(map, prefix, after, limit, v -> true);
    }

    /** The same, counting only the keys whose value {@code include} accepts (a follower skips deleted keys). */
    public static <V> Page page(NavigableMap<String, V> map, String prefix, String after, int limit, Predicate<V> include) {
        String p = prefix == null ? "" : prefix;
        NavigableMap<String, V> tail;
        if (after != null && UTF8_ORDER.compare(after, p) >= 0) tail = map.tailMap(after, false);
        else tail = map.tailMap(p, true);
        List<String> out = new ArrayList<>(Math.min(limit, 128));
        String next = null;
        for (var e : tail.entrySet()) {
            String k = e.getKey();
            if (!k.startsWith(p)) break;
            if (!include.test(e.getValue())) continue;
            if (out.size() == limit) {
                next = out.get(out.size() - 1);
                break;
            }
            out.add(k);
        }
        return new Page(out, next);
    }
}
