package io.meshguard.emulator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * A real upstream service on loopback (JDK {@code HttpServer}) that records every request it receives: a plain JSON
 * service, or an LLM-style service that answers with a server-sent-event stream, one event flushed at a time.
 */
public final class UpstreamServer implements AutoCloseable {
    /** What the upstream received: the request line, headers, and the body bytes that arrived. */
    public record Received(String method, String path, Headers headers, byte[] body, boolean complete) {
        public String bodyText() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private final HttpServer server;
    private final String name;
    private final List<Received> received = new CopyOnWriteArrayList<>();

    private UpstreamServer(HttpServer server, String name) {
        this.server = server;
        this.name = name;
    }

    /** A JSON service answering {@code body} (with {@code {upstream}} replaced by its name) on every path. */
    public static UpstreamServer json(String name, int port, String body) throws IOException {
        return start(name, port, exchange -> {
            byte[] bytes = body.replace("{upstream}", name).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("content-type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
    }

    /**
     * A JSON service that waits {@code delay} before its response headers: slower than a route's timeout, it lets a
     * test see the router's deadline (504 UT) rather than the upstream's answer.
     */
    public static UpstreamServer slowJson(String name, int port, java.time.Duration delay, String body)
            throws IOException {
        return start(name, port, exchange -> {
            try {
                Thread.sleep(delay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] bytes = body.replace("{upstream}", name).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("content-type", "application/json");
            exchange.sendResponseHeaders(200, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        });
    }

    /** An SSE service streaming {@code events} (each already framed, e.g. {@code data: ...\n\n}) one flush each. */
    public static UpstreamServer sse(String name, int port, List<String> events) throws IOException {
        return start(name, port, exchange -> {
            exchange.getResponseHeaders().set("content-type", "text/event-stream");
            exchange.getResponseHeaders().set("cache-control", "no-cache");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                for (String event : events) {
                    out.write(event.getBytes(StandardCharsets.UTF_8));
                    out.flush();
                }
            }
        });
    }

    private interface Answer {
        void send(HttpExchange exchange) throws IOException;
    }

    private static UpstreamServer start(String name, int port, Answer answer) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        UpstreamServer upstream = new UpstreamServer(server, name);
        server.createContext("/", exchange -> {
            try (exchange) {
                Headers headers = new Headers();
                exchange.getRequestHeaders()
                        .forEach((k, values) -> values.forEach(v -> headers.add(k.toLowerCase(Locale.ROOT), v)));
                ByteArrayOutputStream body = new ByteArrayOutputStream();
                boolean complete = true;
                try (InputStream in = exchange.getRequestBody()) {
                    byte[] buf = new byte[8192];
                    for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                        body.write(buf, 0, n);
                    }
                } catch (IOException reset) {
                    complete = false;
                }
                upstream.received.add(new Received(
                        exchange.getRequestMethod(),
                        exchange.getRequestURI().toString(),
                        headers,
                        body.toByteArray(),
                        complete));
                if (complete) {
                    answer.send(exchange);
                }
            }
        });
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        return upstream;
    }

    public String name() {
        return name;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Every request received so far, in order. */
    public List<Received> received() {
        return new ArrayList<>(received);
    }

    public void clear() {
        received.clear();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
