package io.meshguard.console;

import com.sun.net.httpserver.HttpExchange;
import gg.jte.ContentType;
import gg.jte.TemplateEngine;
import gg.jte.output.Utf8ByteOutput;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Map;

/**
 * Renders the console's templates: JTE classes compiled from {@code src/main/jte} at build time (content type Html,
 * so every {@code ${}} is escaped for the place it stands in), no template compiler at run time.
 */
public final class Pages {
    /** The exchange attribute holding when the console began to handle it ({@link System#nanoTime()}). */
    static final String STARTED = "meshguard.console.started";

    private final TemplateEngine engine = TemplateEngine.createPrecompiled(ContentType.Html);

    /** The page {@code template} shows for {@code page}, as UTF-8 bytes. */
    public byte[] bytes(String template, Object page) {
        Utf8ByteOutput out = new Utf8ByteOutput();
        engine.render(template, page, out);
        return out.toByteArray();
    }

    /** A template with named parameters (the fleet's rows). */
    public String text(String template, Map<String, Object> params) {
        gg.jte.output.StringOutput out = new gg.jte.output.StringOutput();
        engine.render(template, params, out);
        return out.toString();
    }

    public void render(HttpExchange ex, String template, Object page) throws IOException {
        send(ex, 200, bytes(template, page));
    }

    public void message(HttpExchange ex, int status, Views.Message page) throws IOException {
        send(ex, status, bytes("message.jte", page));
    }

    void send(HttpExchange ex, int status, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
        // W3C Server Timing: what the page cost the server, for the benchmark and the browser's dev tools
        if (ex.getAttribute(STARTED) instanceof Long started) {
            ex.getResponseHeaders()
                    .set(
                            "Server-Timing",
                            String.format(java.util.Locale.ROOT, "app;dur=%.1f", (System.nanoTime() - started) / 1e6));
        }
        ex.sendResponseHeaders(status, body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }
}
