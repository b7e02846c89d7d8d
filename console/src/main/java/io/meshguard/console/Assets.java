package io.meshguard.console;

import com.sun.net.httpserver.HttpExchange;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.http.ErrorKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The console's static files, all from the jar: htmx from its WebJar (org.webjars.npm:htmx.org), our stylesheet and
 * our one script. A fixed list, read once: no path from a request ever reaches the class loader.
 */
public final class Assets {
    /** The htmx version the WebJar on the classpath carries (the root pom's htmx.version). */
    static final String HTMX = "/META-INF/resources/webjars/htmx.org/2.0.10/dist/htmx.min.js";

    private record Asset(String contentType, byte[] body) {}

    private final Map<String, Asset> files = Map.of(
            "htmx.min.js", new Asset("text/javascript; charset=utf-8", read(HTMX)),
            "console.js", new Asset("text/javascript; charset=utf-8", read("/io/meshguard/console/console.js")),
            "console.css", new Asset("text/css; charset=utf-8", read("/io/meshguard/console/console.css")),
            "favicon.svg", new Asset("image/svg+xml", read("/io/meshguard/console/favicon.svg")));

    void serve(HttpExchange ex, String name) throws IOException {
        Asset a = files.get(name);
        if (a == null) {
            throw new AdminJson.Refusal(ErrorKind.NOT_FOUND, "the console has no file " + name);
        }
        ex.getResponseHeaders().set("Content-Type", a.contentType());
        ex.sendResponseHeaders(200, a.body().length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(a.body());
        }
    }

    private static byte[] read(String resource) {
        try (InputStream in = Assets.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
