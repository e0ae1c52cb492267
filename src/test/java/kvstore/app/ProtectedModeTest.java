package kvstore.app;

import kvstore.node.NodeSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SPEC.md sections 1 and 6 on the command line: protected mode (no secret: loopback only,
 * unless --insecure), where the secret and the client token come from, and that neither is
 * ever printed. The exit code 2 on the real jar is in CommandLineIT and SecurityIT.
 */
@Timeout(30)
class ProtectedModeTest {
    private static NodeSettings settings(Map<String, String> env, String... args) throws Exception {
        return Config.parse(args, env).settings();
    }

    @Test
    void withoutASecretOnlyLoopbackMayBeBound() throws Exception {
        assertEquals("127.0.0.1", settings(Map.of(), "leader").host());
        for (String ok : new String[] {"127.0.0.1", "127.0.0.2", "127.255.255.254", "localhost", "LocalHost", "::1", "[::1]",
                "0:0:0:0:0:0:0:1", "0::1", "[0:0::1]"}) {
            assertEquals(ok, settings(Map.of(), "leader", "--host", ok).host(), ok);
        }
        for (String bad : new String[] {"10.0.0.5", "192.168.56.10", "127.example.com", "127.0.0.1.nip.io", "1270.0.0.1",
                "127.0.0", "127.0.0.256", "kv1.lab", "::2", "127.1", "0127.0.0.1", "[127.0.0.1]", "::ffff:127.0.0.1", "::1%lo"}) {
            UsageException e = assertThrows(UsageException.class, () -> settings(Map.of(), "leader", "--host", bad), bad);
            assertTrue(e.getMessage().contains("--secret") && e.getMessage().contains("--insecure"),
                    "the message says how to fix it: " + e.getMessage());
        }
        UsageException w = assertThrows(UsageException.class,
                () -> settings(Map.of(), "follower", "--host", "0.0.0.0", "--advertise", "10.0.0.5"));
        assertTrue(w.getMessage().contains("refusing"), w.getMessage());
    }

    @Test
    void aSecretOrInsecureAllowsAnyAddress() throws Exception {
        assertEquals("10.0.0.5", settings(Map.of(), "leader", "--host", "10.0.0.5", "--insecure").host());
        assertEquals("10.0.0.5", settings(Map.of(), "leader", "--host", "10.0.0.5", "--secret", "abc").host());
        NodeSettings s = settings(Map.of("KVSTORE_SECRET", "from-env"), "follower", "--host", "0.0.0.0", "--advertise", "10.0.0.5");
        assertEquals("from-env", s.secret());
        assertEquals("10.0.0.5", s.advertise());
    }

    @Test
    void secretAndTokenPrecedenceOptionThenEnvironmentThenFile() throws Exception {
        Path conf = Files.createTempFile("kvstore-conf", ".json");
        try {
            Files.writeString(conf, "{\"secret\": \"from-file\", \"clientToken\": \"tok-file\"}");
            NodeSettings f = settings(Map.of(), "leader", "--conf", conf.toString());
            assertEquals("from-file", f.secret());
            assertEquals("tok-file", f.clientToken());
            NodeSettings e = settings(Map.of("KVSTORE_SECRET", "from-env", "KVSTORE_TOKEN", "tok-env"), "leader", "--conf", conf.toString());
            assertEquals("from-env", e.secret());
            assertEquals("tok-env", e.clientToken());
            NodeSettings o = settings(Map.of("KVSTORE_SECRET", "from-env"), "leader", "--conf", conf.toString(),
                    "--secret", "from-option", "--client-token", "tok-option");
            assertEquals("from-option", o.secret());
            assertEquals("tok-option", o.clientToken());
        } finally {
            Files.delete(conf);
        }
        assertNull(settings(Map.of("KVSTORE_SECRET", ""), "leader").secret(), "an empty variable is no secret");
    }

    @Test
    void aSecretThatCannotTravelInAHeaderIsABadArgument() {
        for (String bad : new String[] {"has space", "tab\there", "new\nline", "caf\u00e9", "\u20ac"}) {
            UsageException e = assertThrows(UsageException.class, () -> settings(Map.of(), "leader", "--secret", bad));
            assertFalse(e.getMessage().contains(bad), "the message does not repeat the value: " + e.getMessage());
            assertThrows(UsageException.class, () -> settings(Map.of(), "leader", "--client-token", bad));
            assertThrows(UsageException.class, () -> settings(Map.of("KVSTORE_SECRET", bad), "leader"));
        }
    }

    @Test
    void settingsNeverPrintTheSecretOrTheToken() throws Exception {
        NodeSettings s = settings(Map.of(), "leader", "--secret", "Sup3r-S3cret", "--client-token", "T0ken-Value");
        String text = s.toString();
        assertFalse(text.contains("Sup3r-S3cret"), text);
        assertFalse(text.contains("T0ken-Value"), text);
        assertTrue(text.contains("secret=(set)"), text);
    }
}
