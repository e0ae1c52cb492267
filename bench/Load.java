import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Preloads N keys (k1..kN) with 16-byte values, 64 requests at a time.
 * Run: java bench/Load.java kvstore|etcd BASE_URL N
 */
public class Load {
    public static void main(String[] args) throws Exception {
        String kind = args[0], base = args[1];
        int n = Integer.parseInt(args[2]);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        Semaphore window = new Semaphore(64);
        AtomicInteger failed = new AtomicInteger();
        CompletableFuture<?>[] all = new CompletableFuture<?>[n];
        for (int i = 1; i <= n; i++) {
            String key = "k" + i, val = String.format("v%015d", i);
            HttpRequest req;
            if (kind.equals("etcd")) {
                String body = "{\"key\":\"" + b64(key) + "\",\"value\":\"" + b64(val) + "\"}";
                req = HttpRequest.newBuilder(URI.create(base + "/v3/kv/put")).POST(HttpRequest.BodyPublishers.ofString(body)).build();
            } else {
                req = HttpRequest.newBuilder(URI.create(base + "/?key=" + key + "&val=" + val)).PUT(HttpRequest.BodyPublishers.noBody()).build();
            }
            window.acquire();
            all[i - 1] = http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((r, e) -> {
                if (e != null || r.statusCode() >= 300) failed.incrementAndGet();
                window.release();
            });
        }
        CompletableFuture.allOf(all).exceptionally(e -> null).join();
        System.out.println("preloaded " + n + " keys into " + kind + " (" + failed.get() + " failed)");
        if (failed.get() > 0) System.exit(1);
    }

    static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }
}
