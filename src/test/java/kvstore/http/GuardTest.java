package kvstore.http;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;


import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SPEC.md section 6, the browser rules and the secret comparison, on the parsing alone (the
 * whole path runs against the real jar in SecurityIT and HostileInputIT). Goal: a DNS-rebinding
 * Host or a foreign Origin is refused, and every form a legitimate client sends is accepted.
 */
@Timeout(10)
class GuardTest {
    private final Guard guard = new Guard(null, null, "127.0.0.1", "kv1.lab");

    @Test
    void hostsThatNameThisNodeAreAllowed() {
        for (String h : new String[] {"127.0.0.1", "127.0.0.1:16200", "localhost", "LOCALHOST:80", "kv1.lab", "KV1.Lab:16200",
                "10.1.2.3:1", "192.168.56.10", "[::1]", "[::1]:16200", "::1", "[fe80::1:2]:8080", "[::ffff:127.0.0.1]:9",
                " 127.0.0.1:16200 ", "001.002.003.004", "::", "[::]:80", "ABCD::EF", "[abcd:ef01:2345:6789:abcd:ef01:2345:6789]:80"}) {
            assertTrue(guard.hostAllowed(h), h);
        }
    }

    @Test
    void otherNamesAndMalformedHostsAreRefused() {
        for (String h : new String[] {"", " ", "evil.com", "evil.com:16200", "localhost.", "kv1.lab.evil.com", "127.0.0.1.evil.com",
                "1.2.3.4.5", "1.2.3", "256.1.1.1", "1.2.3.4444", "0x7f.0.0.1", "127.0.0.1:", "127.0.0.1:abc", "127.0.0.1:1234567",
                "[::1", "[::1]x", "[evil.com]", "::g", ":", "kv1.lab:80:80", "local host"}) {
            assertFalse(guard.hostAllowed(h), h);
        }
    }

    /**
     * Netty's parser ({@code NetUtil}) is stricter than the character check it replaced, which
     * took any run of hex digits, dots and two or more colons for IPv6; and a zone index, which
     * Netty takes, stays refused. No client sends any of these.
     */
    @Test
    void malformedIpv6AndZoneIndexesAreRefused() {
        for (String h : new String[] {":::", "::::::", "1::2::3", "1:2:3:4:5:6:7:8:9", "[1:2:3:4:5:6:7:8:9]", "::1.2", "[::1.2.3]",
                "1.2.3.4::", "::1:", "[1.2.3.4]", "[]", "[]:80", "fe80::1%eth0", "[fe80::1%25eth0]", "[::1%lo]:80"}) {
            assertFalse(guard.hostAllowed(h), h);
        }
    }

    @Test
    void anOriginIsTheSameSiteOnlyWithTheSameHostAndPort() {
        assertTrue(Guard.sameSite("http://127.0.0.1:16200", "127.0.0.1:16200"));
        assertTrue(Guard.sameSite("http://localhost:16200", "LOCALHOST:16200"));
        assertTrue(Guard.sameSite("http://kv1.lab", "kv1.lab"));
        assertTrue(Guard.sameSite("http://[::1]:16200", "[::1]:16200"));
        assertFalse(Guard.sameSite("http://evil.com", "127.0.0.1:16200"));
        assertFalse(Guard.sameSite("http://127.0.0.1:16201", "127.0.0.1:16200"), "another node is another site");
        assertFalse(Guard.sameSite("http://localhost:16200", "127.0.0.1:16200"));
        assertFalse(Guard.sameSite("null", "127.0.0.1:16200"), "sandboxed frames and file: pages send Origin: null");
        assertFalse(Guard.sameSite("https://127.0.0.1:16200", "127.0.0.1:16200"), "a node serves no TLS");
        assertFalse(Guard.sameSite("http://127.0.0.1:16200", null));
        assertFalse(Guard.sameSite("http://127.0.0.1:x", "127.0.0.1:16200"));
        assertFalse(Guard.sameSite("%%%", "127.0.0.1:16200"));
    }

    @Test
    void secretsCompareExactly() {
        String s = "s3cr3t-Value";
        assertTrue(Guard.equal("s3cr3t-Value", s));
        assertFalse(Guard.equal(null, s));
        assertFalse(Guard.equal("", s));
        assertFalse(Guard.equal("s3cr3t-Valu", s), "a prefix");
        assertFalse(Guard.equal("s3cr3t-Value ", s), "a longer one");
        assertFalse(Guard.equal("S3cr3t-Value", s), "case matters");
        assertFalse(Guard.equal("s3cr3t-Valuf", s), "the last char");
        assertFalse(Guard.equal("s3cr3t-Value".repeat(2), s), "twice");
        assertFalse(Guard.equal("s3cr3t-Valu\u0165", s), "a char that only matches in its low byte");
        assertFalse(Guard.equal("s3cr3t-Valu\uD800", "s3cr3t-Valu?"), "a lone surrogate is not a question mark");
        assertFalse(Guard.equal("s3cr3t-Valu\uFFFD", "s3cr3t-Valu?"));
    }
}
