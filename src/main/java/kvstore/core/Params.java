package kvstore.core;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A query string decoded by our own rules, once (SPEC.md section 2): {@code +} is a space,
 * {@code %XY} is a byte, and the bytes of every name and value must be valid UTF-8 with no NUL.
 *
 * <p>We do not use Vert.x's decoder because it throws on a bad escape and silently turns invalid
 * UTF-8 into U+FFFD, which would change a stored key. Decoding never throws here: a query that
 * breaks a rule is {@link #malformed()}, and the caller answers {@code error: invalid request}.
 *
 * <p>Characters of the raw query above U+007F (a client that sent raw UTF-8 rather than escapes;
 * Netty hands those bytes over one char per byte) are taken as the bytes they came from.
 */
public final class Params {
    private static final Params EMPTY = new Params(List.of(), false);
    private static final ThreadLocal<CharsetDecoder> UTF8 = ThreadLocal.withInitial(() ->
            StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT));

    private final List<String[]> pairs; // {name, value}
    private final boolean malformed;

    private Params(List<String[]> pairs, boolean malformed) {
        this.pairs = pairs;
        this.malformed = malformed;
    }

    public static Params parse(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) return EMPTY;
        List<String[]> pairs = new ArrayList<>(4);
        int n = rawQuery.length();
        int start = 0;
        while (start <= n) {
            int amp = rawQuery.indexOf('&', start);
            int end = amp < 0 ? n : amp;
            if (end > start) {
                int eq = rawQuery.indexOf('=', start);
                String name, value;
                if (eq < 0 || eq > end) {
                    name = decode(rawQuery, start, end);
                    value = "";
                } else {
                    name = decode(rawQuery, start, eq);
                    value = decode(rawQuery, eq + 1, end);
                }
                if (name == null || value == null) return new Params(List.of(), true);
                pairs.add(new String[] {name, value});
            }
            if (amp < 0) break;
            start = amp + 1;
        }
        return new Params(pairs, false);
    }

    /** True when some escape, byte sequence or NUL broke the rules: the whole query is refused. */
    public boolean malformed() {
        return malformed;
    }

    /** How many times the parameter appears. */
    public int count(String name) {
        int c = 0;
        for (String[] p : pairs) if (p[0].equals(name)) c++;
        return c;
    }

    /** The first value of the parameter, or null when it is absent. */
    public String get(String name) {
        for (String[] p : pairs) if (p[0].equals(name)) return p[1];
        return null;
    }

    /** Decodes s[from, to) or returns null when it breaks a rule. */
    public static String decode(String s, int from, int to) {
        boolean plain = true;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c == '%' || c == '+' || c >= 0x80 || c == 0) {
                plain = false;
                break;
            }
        }
        if (plain) return s.substring(from, to);
        byte[] bytes = new byte[to - from];
        int len = 0;
        boolean ascii = true;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            int b;
            if (c == '+') {
                b = ' ';
            } else if (c == '%') {
                if (i + 2 >= to) return null;
                int hi = hex(s.charAt(i + 1)), lo = hex(s.charAt(i + 2));
                if (hi < 0 || lo < 0) return null;
                b = (hi << 4) | lo;
                i += 2;
            } else if (c > 0xFF) {
                return null; // cannot come from a byte on the wire
            } else {
                b = c;
            }
            if (b == 0) return null;
            if (b >= 0x80) ascii = false;
            bytes[len++] = (byte) b;
        }
        if (ascii) return new String(bytes, 0, len, StandardCharsets.ISO_8859_1);
        try {
            return UTF8.get().decode(ByteBuffer.wrap(bytes, 0, len)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static int hex(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    /** Percent-encodes every byte except unreserved ASCII, for queries we send ourselves. */
    public static void encodeTo(StringBuilder out, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == '~') {
                out.append(c);
            } else if (c < 0x80) {
                appendEscape(out, c);
            } else {
                int cp = s.codePointAt(i);
                if (Character.charCount(cp) == 2) i++;
                byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                for (byte x : b) appendEscape(out, x & 0xFF);
            }
        }
    }

    private static void appendEscape(StringBuilder out, int b) {
        out.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
                .append(Character.toUpperCase(Character.forDigit(b & 0xF, 16)));
    }

    public static String encode(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 8);
        encodeTo(sb, s);
        return sb.toString();
    }
}
