package kvstore.core;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SPEC.md section 2: query decoding, the error bodies and their order of precedence. */
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
