package kvstore.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * The web client (top-level {@code webroot/}, bundled into the jar as {@code webroot/...}),
 * loaded into memory once and served from there: a handful of small files, no temp-dir cache,
 * and no path ever touches the file system at request time. {@code GET /} is index.html.
 * Answers carry an ETag and {@code Cache-Control: no-cache}, so a browser always revalidates
 * and never runs a stale page after an upgrade.
 */
public final class StaticFiles {
    private static final Logger LOG = LoggerFactory.getLogger(StaticFiles.class);
    private static volatile StaticFiles shared;

    private record File(Buffer body, CharSequence type, String etag) {}

    private final Map<String, File> files;

    private StaticFiles(Map<String, File> files) {
        this.files = files;
    }

    /** The files of this jar (or classes directory), loaded once per JVM. */
    public static StaticFiles load() {
        StaticFiles s = shared;
        if (s == null) {
            synchronized (StaticFiles.class) {
                if (shared == null) shared = new StaticFiles(scan());
                s = shared;
            }
        }
        return s;
    }

    public boolean has(String path) {
        return files.containsKey(path);
    }

    /** Serves GET or HEAD of a known file; returns false when the path is not one. */
    public boolean serve(HttpServerRequest req, String path) {
        File f = files.get(path.equals("/") ? "/index.html" : path);
        if (f == null || (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD)) return false;
        String inm = req.getHeader(HttpHeaders.IF_NONE_MATCH);
        var resp = req.response().putHeader(HttpHeaders.ETAG, f.etag)
                .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
                .putHeader("X-Content-Type-Options", "nosniff")
                // No other site may frame a node's page and trick a click on COMMIT or DELETE.
                .putHeader("X-Frame-Options", "DENY")
                .putHeader("Content-Security-Policy", "frame-ancestors 'none'");
        if (f.etag.equals(inm)) {
            resp.setStatusCode(304).end();
        } else if (req.method() == HttpMethod.HEAD) {
            resp.putHeader(HttpHeaders.CONTENT_TYPE, f.type)
                    .putHeader(HttpHeaders.CONTENT_LENGTH, String.valueOf(f.body.length())).end();
        } else {
            resp.putHeader(HttpHeaders.CONTENT_TYPE, f.type).end(f.body);
        }
        return true;
    }

    private static Map<String, File> scan() {
        Map<String, File> out = new HashMap<>();
        URL index = StaticFiles.class.getClassLoader().getResource("webroot/index.html");
        if (index == null) {
            LOG.warn("no webroot/index.html on the classpath: the web client is not available");
            return out;
        }
        try {
            if ("jar".equals(index.getProtocol())) {
                JarURLConnection c = (JarURLConnection) index.openConnection();
                c.setUseCaches(false);
                try (JarFile jar = c.getJarFile()) {
                    Enumeration<JarEntry> en = jar.entries();
                    while (en.hasMoreElements()) {
                        JarEntry e = en.nextElement();
                        if (e.isDirectory() || !e.getName().startsWith("webroot/")) continue;
                        try (InputStream in = jar.getInputStream(e)) {
                            add(out, e.getName().substring("webroot".length()), in.readAllBytes());
                        }
                    }
                }
            } else {
                Path root = Paths.get(index.toURI()).getParent();
                try (Stream<Path> walk = Files.walk(root)) {
                    for (Path p : (Iterable<Path>) walk.filter(Files::isRegularFile)::iterator) {
                        add(out, "/" + root.relativize(p).toString().replace('\\', '/'), Files.readAllBytes(p));
                    }
                }
            }
        } catch (IOException | URISyntaxException e) {
            LOG.error("cannot load the web client: {}", e.toString());
        }
        return out;
    }

    private static void add(Map<String, File> out, String path, byte[] bytes) {
        String etag = "\"" + Integer.toHexString(java.util.Arrays.hashCode(bytes)) + "-" + bytes.length + "\"";
        out.put(path, new File(Buffer.buffer(bytes), HttpHeaders.createOptimized(type(path)), etag));
    }

    private static String type(String path) {
        String p = path.toLowerCase();
        if (p.endsWith(".html")) return "text/html; charset=utf-8";
        if (p.endsWith(".js")) return "text/javascript; charset=utf-8";
        if (p.endsWith(".css")) return "text/css; charset=utf-8";
        if (p.endsWith(".svg")) return "image/svg+xml";
        if (p.endsWith(".png")) return "image/png";
        if (p.endsWith(".ico")) return "image/x-icon";
        if (p.endsWith(".json")) return "application/json";
        return "application/octet-stream";
    }
}
