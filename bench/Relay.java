import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

/**
 * The relay ceiling for the benchmark: a Vert.x 5 server that relays each request over one
 * WebClient keep-alive hop to a backend (the trivial server) and answers with its body. Our
 * GET is such a relay (client to leader to follower), so this is what it can at best approach.
 * Run: java -cp target/kvstore.jar bench/Relay.java PORT BACKEND_PORT
 */
public class Relay {
    public static void main(String[] args) {
        int port = Integer.parseInt(args[0]);
        int backend = Integer.parseInt(args[1]);
        Vertx vertx = Vertx.vertx(new VertxOptions());
        int loops = Runtime.getRuntime().availableProcessors();
        for (int i = 0; i < loops; i++) {
            vertx.deployVerticle(new io.vertx.core.VerticleBase() {
                @Override
                public io.vertx.core.Future<?> start() {
                    WebClient client = WebClient.create(vertx, new WebClientOptions().setKeepAlive(true).setTcpNoDelay(true),
                            new PoolOptions().setHttp1MaxSize(64));
                    return vertx.createHttpServer().requestHandler(req -> client.get(backend, "127.0.0.1", "/").send()
                            .onComplete(ar -> {
                                if (ar.succeeded()) req.response().end(ar.result().body());
                                else req.response().setStatusCode(502).end();
                            })).listen(port, "127.0.0.1");
                }
            });
        }
        System.out.println("relay listening on " + port + " -> " + backend);
    }
}
