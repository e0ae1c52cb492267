package kvstore.app;

import kvstore.node.NodeSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Vagrant lab's node configs (SPEC.md section 8; notes/LAB.md): each conf/lab-*.json is
 * read by the real parser, binds 0.0.0.0 with a secret (else the node would refuse to start),
 * advertises an address in VirtualBox's default host-only range 192.168.56.0/21 that matches
 * its VM in the Vagrantfile, and every follower points at the leader's address. `vagrant
 * validate` (test.sh) checks the Vagrantfile's syntax; this checks that its numbers agree.
 */
@Timeout(30)
class LabConfigTest {
    private static final Pattern NODE = Pattern.compile(
            "name: \"([a-z0-9-]+)\",\\s*ip: \"([0-9.]+)\",\\s*conf: \"(conf/lab-[a-z0-9-]+\\.json)\"");

    private static NodeSettings read(String conf) throws Exception {
        Config.Command c = Config.parse(new String[] {"--conf", conf}, Map.of());
        assertNotNull(c.settings(), conf);
        return c.settings();
    }

    @Test
    void theVagrantfileAndTheLabConfigsAgree() throws Exception {
        String vagrantfile = Files.readString(Path.of("Vagrantfile"));
        Matcher m = NODE.matcher(vagrantfile);
        List<String[]> nodes = new ArrayList<>();
        while (m.find()) nodes.add(new String[] {m.group(1), m.group(2), m.group(3)});
        assertEquals(4, nodes.size(), "a leader VM and three follower VMs");
        assertEquals("leader", nodes.get(0)[0]);

        NodeSettings leader = read(nodes.get(0)[2]);
        assertEquals("leader", leader.role());
        assertEquals(3, leader.followers());
        int followers = 0;
        for (String[] n : nodes) {
            NodeSettings s = read(n[2]);
            assertEquals(n[0].startsWith("leader") ? "leader" : "follower", s.role(), n[2]);
            assertEquals("0.0.0.0", s.host(), n[2] + " must be reachable from the other VMs");
            assertEquals(n[1], s.advertise(), n[2] + " advertises its VM's address");
            assertTrue(inVirtualBoxRange(s.advertise()), s.advertise() + " is outside 192.168.56.0/21");
            assertNotNull(s.secret(), n[2] + ": a node on 0.0.0.0 needs a secret");
            assertEquals(leader.secret(), s.secret(), "one lab secret");
            assertTrue(s.dataDir().isAbsolute(), "a service's data directory does not depend on its working directory");
            if (s.role().equals("follower")) {
                followers++;
                assertEquals(leader.advertise() + ":" + leader.port(), s.leaderAddress(), n[2]);
            }
        }
        assertEquals(leader.followers(), followers, "the leader waits for exactly the lab's followers");
    }

    static boolean inVirtualBoxRange(String ip) {
        String[] p = ip.split("\\.");
        int third = Integer.parseInt(p[2]);
        return p[0].equals("192") && p[1].equals("168") && third >= 56 && third <= 63;
    }
}
