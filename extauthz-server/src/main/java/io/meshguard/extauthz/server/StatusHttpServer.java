package io.meshguard.extauthz.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The HTTP side: {@code /metrics} (Prometheus), {@code /healthz} (process up) and {@code /readyz} (policy loaded
 * and every issuer's keys retrieved; the body names what is not ready).
 */
final class StatusHttpServer implements AutoCloseable {
    private final HttpServer server;

    StatusHttpServer(String bind, int port, PrometheusMeterRegistry registry, Supplier<List<String>> notReady) throws IOException {
        server = HttpServer.create(new InetSocketAddress(bind, port), 64);
        server.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "extauthz-status-http");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/metrics", ex -> send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
        server.createContext("/healthz", ex -> send(ex, 200, "text/plain", "ok\n"));
        server.createContext("/readyz", ex -> {
            List<String> problems = notReady.get();
            if (problems.isEmpty()) {
                send(ex, 200, "text/plain", "ready\n");
            } else {
                send(ex, 503, "text/plain", "not ready:\n" + String.join("\n", problems) + "\n");
            }
        });
    }

    void start() {
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
