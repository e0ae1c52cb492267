package kvstore.app;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line of the client verbs (SPEC.md section 9), parsed without a process: the
 * default leader, both forms of {@code --leader}, options anywhere around the verb, and every
 * way to get usage (exit 2) wrong. CliIT runs the same verbs for real.
 */
@Timeout(30)
class ClientArgsTest {
    private static Config.Command parse(String... args) throws Exception {
        return Config.parse(args, Map.of());
    }

    @Test
    void theDefaultLeaderIsTheEmbeddedDefaults() throws Exception {
        Config.Command c = parse("get", "k");
        assertEquals("get", c.verb());
        assertEquals(List.of("k"), c.words());
        assertEquals("http://127.0.0.1:16200", c.leaderUrl());
    }

    @Test
    void leaderAsHostPortOrUrlAndOptionsAnywhere() throws Exception {
        for (String[] args : new String[][] {
                {"--leader", "10.0.0.5:7000", "put", "k", "v"},
                {"put", "--leader", "http://10.0.0.5:7000", "k", "v"},
                {"put", "k", "--leader=10.0.0.5:7000", "v"},
                {"put", "k", "v", "--leader", "http://10.0.0.5:7000/"}}) {
            Config.Command c = parse(args);
            assertEquals("put", c.verb(), String.join(" ", args));
            assertEquals(List.of("k", "v"), c.words(), String.join(" ", args));
            assertEquals("http://10.0.0.5:7000", c.leaderUrl(), String.join(" ", args));
        }
        assertEquals("status", parse("status", "--leader", "h:1").verb());
        assertEquals("del", parse("DEL", "k").verb());
    }

    @Test
    void doubleDashEndsTheOptions() throws Exception {
        Config.Command c = parse("put", "--leader", "h:1", "--", "--key--", "--value");
        assertEquals(List.of("--key--", "--value"), c.words());
        assertEquals(List.of("-x"), parse("get", "-x").words(), "a single dash is a word");
    }

    @Test
    void badUsageIsAUsageException() {
        for (String[] args : new String[][] {
                {"get"}, {"get", "a", "b"}, {"put", "k"}, {"put", "k", "v", "w"}, {"del"}, {"status", "x"},
                {"get", "k", "--leader", "nocolon"}, {"get", "k", "--leader", "h:99999"}, {"get", "k", "--leader"},
                {"get", "k", "--port", "5"}, {"put", "k", "v", "--secret", "s"}, {"get", "k", "--bogus"}}) {
            UsageException e = assertThrows(UsageException.class, () -> parse(args), String.join(" ", args));
            assertTrue(!e.getMessage().isBlank());
        }
    }
}
