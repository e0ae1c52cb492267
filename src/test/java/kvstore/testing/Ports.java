package kvstore.testing;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free loopback ports for tests, never the defaults (16200-16203) and never the same twice. They
 * come from below Linux's ephemeral range (32768 up): a port picked there can be taken by some
 * process's outgoing connection before the test's server binds it.
 */
public final class Ports {
    private Ports() {}

    private static final Set<Integer> handedOut = new HashSet<>();
    private static final int LOW = 20_000, HIGH = 32_700;

    public static synchronized int free() {
        for (int i = 0; i < 1000; i++) {
            int p = LOW + ThreadLocalRandom.current().nextInt(HIGH - LOW);
            if (!handedOut.contains(p) && isFree(p)) {
                handedOut.add(p);
                return p;
            }
        }
        throw new IllegalStateException("no free port");
    }

    /** A base port P with P..P+n-1 all free (the embedded default needs consecutive ports). */
    public static synchronized int freeRange(int n) {
        for (int i = 0; i < 1000; i++) {
            int p = LOW + ThreadLocalRandom.current().nextInt(HIGH - LOW);
            boolean ok = true;
            for (int k = 0; k < n && ok; k++) ok = !handedOut.contains(p + k) && isFree(p + k);
            if (ok) {
                for (int k = 0; k < n; k++) handedOut.add(p + k);
                return p;
            }
        }
        throw new IllegalStateException("no free port range");
    }

    public static boolean isFree(int port) {
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            s.setReuseAddress(true);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
