import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

/**
 * The ceiling for the benchmark: a trivial Vert.x 5 HTTP server that answers 200 "ok" to
 * everything, one verticle per event loop, on the same machine in the same run.
 * Run: java -cp target/kvstore.jar bench/Ceiling.java PORT
 */
public class Ceiling {
    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        Vertx vertx = Vertx.vertx(new VertxOptions());
        int loops = Runtime.getRuntime().availableProcessors();
        for (int i = 0; i < loops; i++) {
            vertx.createHttpServer().requestHandler(req -> req.response().end("ok")).listen(port, "127.0.0.1")
                    .onFailure(e -> { e.printStackTrace(); System.exit(1); });
        }
        System.out.println("ceiling listening on " + port);
    }
}
