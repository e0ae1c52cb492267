package kvstore.core;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SPEC.md section 2: query decoding, the error bodies and their order of precedence. */
@Timeout(10)
class KeyRequestTest {
    private static final Limits L = Limits.DEFAULTS;

    private static String err(Op op, String query) {
        KeyRequest.Parsed p = KeyRequest.parse(op, Params.parse(query), L, false);
        return p.ok() ? null : p.error();
    }

    private static KeyRequest ok(Op op, String query) {
        KeyRequest.Parsed p = KeyRequest.parse(op, Params.parse(query), L, false);
        assertTrue(p.ok(), () -> "expected ok for " + query + " but got " + p.error());
        return p.request();
    }

    @Test
    void plusIsSpaceAndEscapesAreBytes() {
        KeyRequest r = ok(Op.PUT, "key=a+b%20c&val=%E2%82%AC%2B1");
        assertEquals("a b c", r.key());
        assertEquals("€+1", r.value());
    }

    @Test
    void rawUtf8BytesInTheQueryAreAccepted() {
        // Netty hands each byte of the request line over as one char.
        String raw = new String("key=é".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
        assertEquals("é", ok(Op.GET, raw).key());
    }

    @Test
    void invalidRequests() {
        assertEquals(Errors.INVALID_REQUEST, err(Op.PUT, "val=x"));               // missing key
        assertEquals(Errors.INVALID_REQUEST, err(Op.DELETE, ""));                 // missing key
        assertEquals(Errors.INVALID_REQUEST, err(Op.PUT, "key=a"));               // missing val
        assertEquals(Errors.INVALID_REQUEST, err(Op.PUT, "key=a&val="));          // empty val
        assertEquals(Errors.INVALID_REQUEST, err(Op.GET, "key=a&key=b"));         // key twice
        assertEquals(Errors.INVALID_REQUEST, err(Op.PUT, "key=a&val=1&val=2"));   // val twice
        assertEquals(Errors.INVALID_REQUEST, err(Op.GET, "key=%zz"));             // bad escape
        assertEquals(Errors.INVALID_REQUEST, err(Op.GET, "key=%4"));              // short escape
        assertEquals(Errors.INVALID_REQUEST, err(Op.GET, "key=%FF%FE"));          // not UTF-8
        assertEquals(Errors.INVALID_REQUEST, err(Op.GET, "key=%C0%AF"));          // overlong encoding
        assertEquals(Errors.INVALID_REQUEST, err(Op.GET, "key=%ED%A0%80"));       // a surrogate
        assertEquals(Errors.INVALID_REQUEST, err(Op.GET, "key=a%00b"));           // NUL
    }

    @Test
    void keyAndValueLengthsAreUtf8Bytes() {
        assertEquals(Errors.IMPROPER_KEY_LENGTH, err(Op.GET, "key="));
        assertNull(err(Op.GET, "key=" + "a".repeat(1024)));
        assertEquals(Errors.IMPROPER_KEY_LENGTH, err(Op.GET, "key=" + "a".repeat(1025)));
        // 512 two-byte characters are 1024 bytes; 513 are 1026.
        assertNull(err(Op.GET, "key=" + "%C3%A9".repeat(512)));
        assertEquals(Errors.IMPROPER_KEY_LENGTH, err(Op.GET, "key=" + "%C3%A9".repeat(513)));
        assertNull(err(Op.PUT, "key=k&val=" + "%F0%9F%98%80".repeat(256)));   // 256 emoji = 1024 bytes
        assertEquals(Errors.VALUE_TOO_LONG, err(Op.PUT, "key=k&val=" + "%F0%9F%98%80".repeat(257)));
    }

    @Test
    void precedenceInvalidThenKeyThenValue() {
        assertEquals(Errors.INVALID_REQUEST, err(Op.PUT, "key=&val="));                   // invalid beats key length
        assertEquals(Errors.IMPROPER_KEY_LENGTH, err(Op.PUT, "key=&val=" + "v".repeat(2000)));
        assertEquals(Errors.INVALID_REQUEST, err(Op.PUT, "key=" + "k".repeat(2000) + "&val=%zz"));
    }

    @Test
    void participantRulesForTxAndEpoch() {
        Params withTxNoEpoch = Params.parse("key=a&val=b&tx=3.1");
        assertEquals(Errors.INVALID_REQUEST, KeyRequest.parse(Op.PUT, withTxNoEpoch, L, true).error());
        assertEquals(Errors.INVALID_REQUEST, KeyRequest.parse(Op.PUT, Params.parse("key=a&val=b&tx=x.y&epoch=3"), L, true).error());
        KeyRequest r = KeyRequest.parse(Op.PUT, Params.parse("key=a&val=b&tx=3.17&epoch=4"), L, true).request();
        assertEquals(new TxId(3, 17), r.tx());
        assertEquals(4, r.epoch());
        KeyRequest g = KeyRequest.parse(Op.GET, Params.parse("key=a&epoch=4"), L, true).request();
        assertNull(g.tx());
        assertEquals(4, g.epoch());
        // The leader ignores tx and epoch: they are not its parameters.
        assertTrue(KeyRequest.parse(Op.PUT, withTxNoEpoch, L, false).ok());
    }

    @Property(tries = 500)
    void encodeThenDecodeGivesTheSameKeyAndValue(@ForAll @StringLength(min = 1, max = 200) String key,
                                                 @ForAll @StringLength(min = 1, max = 200) String val) {
        net.jqwik.api.Assume.that(key.indexOf('\0') < 0 && val.indexOf('\0') < 0 && wellFormed(key) && wellFormed(val));
        KeyRequest.Parsed p = KeyRequest.parse(Op.PUT, Params.parse("key=" + Params.encode(key) + "&val=" + Params.encode(val)), L, false);
        if (KeyRequest.utf8Length(key) <= 1024 && KeyRequest.utf8Length(val) <= 1024) {
            assertTrue(p.ok());
            assertEquals(key, p.request().key());
            assertEquals(val, p.request().value());
        } else {
            assertFalse(p.ok());
        }
    }

    /** Any byte string, percent-encoded: it decodes to exactly those bytes, or is refused as invalid. */
    @Property(tries = 1000)
    void anyBytesDecodeExactlyOrAreRefused(@ForAll byte[] bytes) {
        net.jqwik.api.Assume.that(bytes.length > 0 && bytes.length <= 1024);
        StringBuilder q = new StringBuilder("key=");
        for (byte b : bytes) q.append('%').append(String.format("%02X", b & 0xFF));
        KeyRequest.Parsed p = KeyRequest.parse(Op.GET, Params.parse(q.toString()), L, false);
        if (p.ok()) {
            assertEquals(java.util.Arrays.toString(bytes), java.util.Arrays.toString(p.request().key().getBytes(StandardCharsets.UTF_8)));
        } else {
            assertEquals(Errors.INVALID_REQUEST, p.error());
        }
    }

    /* --- Properties over hostile input (SPEC.md sections 2 and 5) --- */

    private static final java.util.Set<String> DOCUMENTED = java.util.Set.of(
            Errors.INVALID_REQUEST, Errors.IMPROPER_KEY_LENGTH, Errors.VALUE_TOO_LONG);

    /** Characters Netty can hand over from a request line: one char per byte, so 0 to 255. */
    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> wireQueries() {
        net.jqwik.api.Arbitrary<Character> interesting = net.jqwik.api.Arbitraries.of(
                '%', '&', '=', '+', '0', 'a', 'F', 'z', '\0', (char) 0x80, (char) 0xC3, (char) 0xA9, (char) 0xFF, ' ');
        net.jqwik.api.Arbitrary<Character> any = net.jqwik.api.Arbitraries.chars().range((char) 0, (char) 0xFF);
        net.jqwik.api.Arbitrary<String> noise = net.jqwik.api.Arbitraries.oneOf(interesting, any).list().ofMaxSize(40)
                .map(cs -> { StringBuilder b = new StringBuilder(); cs.forEach(b::append); return b.toString(); });
        net.jqwik.api.Arbitrary<String> shaped = net.jqwik.api.Combinators.combine(noise, noise, noise)
                .as((a, b, c) -> "key=" + a + "&val=" + b + c);
        return net.jqwik.api.Arbitraries.oneOf(noise, shaped);
    }

    /**
     * Any request line a client can send: parsing never throws, an error is always one of the
     * documented bodies, and what is accepted is a well-formed key and value within the limits
     * that our own encoder turns back into the same request.
     */
    @Property(tries = 3000)
    void anyQueryIsAcceptedFaithfullyOrRefusedWithADocumentedError(@ForAll("wireQueries") String query,
                                                                    @ForAll Op op, @ForAll boolean participant) {
        KeyRequest.Parsed p = KeyRequest.parse(op, Params.parse(query), L, participant);
        if (!p.ok()) {
            assertTrue(DOCUMENTED.contains(p.error()), () -> query + " gave " + p.error());
            return;
        }
        KeyRequest r = p.request();
        assertTrue(r.key().indexOf('\0') < 0 && wellFormed(r.key()), query);
        int kb = KeyRequest.utf8Length(r.key());
        assertTrue(kb >= 1 && kb <= L.maxKeyBytes(), query);
        if (op == Op.PUT) {
            assertTrue(r.value().indexOf('\0') < 0 && wellFormed(r.value()), query);
            int vb = KeyRequest.utf8Length(r.value());
            assertTrue(vb >= 1 && vb <= L.maxValueBytes(), query);
        }
        String again = "key=" + Params.encode(r.key()) + (op == Op.PUT ? "&val=" + Params.encode(r.value()) : "");
        KeyRequest back = KeyRequest.parse(op, Params.parse(again), L, false).request();
        assertEquals(r.key(), back.key());
        assertEquals(r.value(), back.value());
    }

    /**
     * Any bytes for the key and the value, each byte sent one of the ways a client may send it
     * (raw, {@code %xx} in either case, a space as {@code +}): the request decodes to exactly
     * those bytes, or it is refused with the first documented error in SPEC.md's order.
     */
    @Property(tries = 2000)
    void anyKeyAndValueBytesDecodeExactlyOrAreRefusedInOrder(@ForAll("fieldBytes") byte[] key, @ForAll("fieldBytes") byte[] val,
                                                            @ForAll long encodingSeed) {
        java.util.Random how = new java.util.Random(encodingSeed);
        String query = "key=" + wire(key, how) + "&val=" + wire(val, how);
        KeyRequest.Parsed p = KeyRequest.parse(Op.PUT, Params.parse(query), L, false);
        String expected;
        if (!validUtf8WithoutNul(key) || !validUtf8WithoutNul(val) || val.length == 0) expected = Errors.INVALID_REQUEST;
        else if (key.length == 0 || key.length > L.maxKeyBytes()) expected = Errors.IMPROPER_KEY_LENGTH;
        else if (val.length > L.maxValueBytes()) expected = Errors.VALUE_TOO_LONG;
        else expected = null;
        assertEquals(expected, p.error(), query);
        if (expected == null) {
            assertEquals(java.util.Arrays.toString(key), java.util.Arrays.toString(p.request().key().getBytes(StandardCharsets.UTF_8)));
            assertEquals(java.util.Arrays.toString(val), java.util.Arrays.toString(p.request().valueBytes()));
        }
    }

    /** Random bytes (mostly not UTF-8), real text (UTF-8 by construction) and text around the 1024-byte limit. */
    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<byte[]> fieldBytes() {
        net.jqwik.api.Arbitrary<byte[]> random = net.jqwik.api.Arbitraries.bytes().array(byte[].class).ofMaxSize(64);
        net.jqwik.api.Arbitrary<byte[]> text = net.jqwik.api.Arbitraries.strings().all().ofMaxLength(64)
                .filter(KeyRequestTest::wellFormed).map(t -> t.getBytes(StandardCharsets.UTF_8));
        net.jqwik.api.Arbitrary<byte[]> nearLimit = net.jqwik.api.Arbitraries.integers().between(1020, 1028)
                .flatMap(n -> net.jqwik.api.Arbitraries.of("a", "\u00e9", "\u20ac", "\ud83d\ude00").map(c -> {
                    int w = c.getBytes(StandardCharsets.UTF_8).length;
                    String s = c.repeat(n / w) + "x".repeat(n % w); // exactly n bytes
                    return s.getBytes(StandardCharsets.UTF_8);
                }));
        return net.jqwik.api.Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(3, random), net.jqwik.api.Tuple.of(5, text), net.jqwik.api.Tuple.of(2, nearLimit));
    }

    /** One byte per char as Netty hands the request line over; escapes where a raw byte would be read as syntax. */
    private static String wire(byte[] bytes, java.util.Random how) {
        StringBuilder b = new StringBuilder();
        for (byte x : bytes) {
            int v = x & 0xFF;
            boolean syntax = v == '%' || v == '&' || v == '=' || v == '+' || v == '#' || v <= ' ' || v == 0x7F;
            int way = how.nextInt(4);
            if (v == ' ' && way == 0) b.append('+');
            else if (!syntax && way <= 1) b.append((char) v);
            else b.append('%').append(String.format(way == 2 ? "%02x" : "%02X", v));
        }
        return b.toString();
    }

    private static boolean validUtf8WithoutNul(byte[] b) {
        for (byte x : b) if (x == 0) return false;
        try {
            StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(b));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }

    @Test
    void repeatedAndMissingParametersOnEveryPath() {
        // Participant parameters: tx and epoch at most once, a tx needs an epoch, a GET takes no tx.
        for (String q : new String[] {"key=a&val=b&tx=1.1&tx=1.1&epoch=1", "key=a&val=b&tx=1.1&epoch=1&epoch=1",
                "key=a&val=b&epoch=1", "key=a&val=b&tx=1.1", "key=a&val=b&tx=1.1&epoch=-1", "key=a&val=b&tx=1.1&epoch=x",
                "key=a&val=b&tx=&epoch=1", "key=a&val=b&tx=1.1&epoch=1234567890123456789"}) {
            assertEquals(Errors.INVALID_REQUEST, KeyRequest.parse(Op.PUT, Params.parse(q), L, true).error(), q);
        }
        assertEquals(Errors.INVALID_REQUEST, KeyRequest.parse(Op.GET, Params.parse("key=a&tx=1.1&epoch=1"), L, true).error());
        // A bare name is a parameter with an empty value: "key" alone is an empty key.
        assertEquals(Errors.IMPROPER_KEY_LENGTH, err(Op.GET, "key"));
        assertEquals(Errors.INVALID_REQUEST, err(Op.PUT, "key=a&val"));
        // Names are decoded too: an escaped name is the same parameter, a bad escape in a name is invalid.
        assertEquals(Errors.INVALID_REQUEST, err(Op.GET, "key=a&k%65y=b"));
        assertEquals(Errors.INVALID_REQUEST, err(Op.GET, "key=a&%zz=b"));
        assertEquals(Errors.INVALID_REQUEST, err(Op.GET, "key=a&x=%"));
        // Empty pairs are nothing.
        assertEquals("a", ok(Op.GET, "&&key=a&&").key());
    }

    private static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) return false;
                i++;
            } else if (Character.isLowSurrogate(c)) return false;
        }
        return true;
    }

    @Test
    void utf8LengthCountsBytes() {
        assertEquals(1, KeyRequest.utf8Length("a"));
        assertEquals(2, KeyRequest.utf8Length("é"));
        assertEquals(3, KeyRequest.utf8Length("€"));
        assertEquals(4, KeyRequest.utf8Length("😀"));
    }
}
