package io.meshguard.runtime.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP listener every server has next to its gRPC port, on the JDK's built-in HTTP server:
 * <ul>
 *   <li>{@code GET /metrics}: Prometheus text format 0.0.4;</li>
 *   <li>{@code GET /healthz}: 200 {@code {"status":"alive"}} while the process runs (liveness);</li>
 *   <li>{@code GET /readyz}: 200 when every {@link ReadinessCheck} is ready, 503 otherwise, with a JSON body
 *       listing each check: {@code {"ready":false,"checks":[{"name":"policy","ready":false,"detail":"…"}]}};</li>
 *   <li>further handlers added with {@link #addHandler(String, HttpHandler)} (e.g. the xDS admin API).</li>
 * </ul>
 * Requests run on virtual threads.
 */
public final class StatusHttpServer implements ServerComponent {
    /** Content type of the Prometheus text exposition format. */
    public static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final Logger log = LoggerFactory.getLogger(StatusHttpServer.class);
    /** The JDK server's switch for TCP_NODELAY on accepted connections (off unless set). */
    static final String NODELAY = "sun.net.httpserver.nodelay";

    static {
        // JDK sun.net.httpserver.ServerConfig reads this property once, in its static initializer, when the first
        // HttpServer of the process is created, and ServerImpl then sets TCP_NODELAY on every accepted socket.
        // Without it a response written in two segments waits for the client's delayed ACK (Nagle): ~40 ms per
        // console page on Linux. An operator's own -D setting wins.
        if (System.getProperty(NODELAY) == null) {
            System.setProperty(NODELAY, "true");
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final HttpServerSettings settings;
    private final PrometheusMeterRegistry registry;
    private final List<ReadinessCheck> checks = new CopyOnWriteArrayList<>();
    private final Map<String, HttpHandler> extraHandlers = new LinkedHashMap<>();
    private HttpServer server;
    private ExecutorService executor;
    private boolean closed;

    /**
     * @param name component name for logs, e.g. {@code extauthz-http}
     * @param settings bind address and port
     * @param registry the registry {@code /metrics} scrapes
     */
    public StatusHttpServer(String name, HttpServerSettings settings, PrometheusMeterRegistry registry) {
        this.name = name;
        this.settings = settings;
        this.registry = registry;
    }

    @Override
    public String name() {
        return name;
    }

    /** Adds a check that {@code /readyz} evaluates on every request; may be called after start. */
    public synchronized void addReadinessCheck(ReadinessCheck check) {
        // two checks of one name make /readyz ambiguous: an operator cannot tell which one is failing
        if (checks.stream().anyMatch(c -> c.name().equals(check.name()))) {
            throw new IllegalArgumentException(
                    "a readiness check named '" + check.name() + "' is already on " + "this status port");
        }
        checks.add(check);
    }

    /** Adds several checks. */
    public void addReadinessChecks(List<ReadinessCheck> more) {
        more.forEach(this::addReadinessCheck);
    }

    /**
     * Serves {@code path} (and everything below it) with {@code handler}; call before {@link #start()}.
     *
     * @throws IllegalArgumentException when the path is one of the built-in ones or already taken
     */
    public synchronized void addHandler(String path, HttpHandler handler) {
        if (server != null) {
            throw new IllegalStateException("add handlers before starting " + name);
        }
        if (List.of("/metrics", "/healthz", "/readyz").contains(path) || extraHandlers.containsKey(path)) {
            throw new IllegalArgumentException("path already served: " + path);
        }
        extraHandlers.put(path, handler);
    }

    /** Binds and starts serving. */
    @Override
    public synchronized void start() throws IOException {
        if (server != null || closed) {
            throw new IllegalStateException(name + " already started or closed");
        }
        HttpServer http = HttpServer.create(new InetSocketAddress(settings.bind(), settings.port()), 0);
        http.createContext("/metrics", readOnly("/metrics", this::metrics));
        http.createContext("/healthz", readOnly("/healthz", this::healthz));
        http.createContext("/readyz", readOnly("/readyz", this::readyz));
        extraHandlers.forEach(http::createContext);
        executor = Executors.newVirtualThreadPerTaskExecutor();
        http.setExecutor(executor);
        http.start();
        server = http;
        log.atInfo().addKeyValue("port", port()).log("{} listening on {}:{}", name, settings.bind(), port());
    }

    /** The bound port (the real one when configured as 0). */
    public synchronized int port() {
        if (server == null) {
            throw new IllegalStateException(name + " is not started");
        }
        return server.getAddress().getPort();
    }

    /** Evaluates every readiness check now. */
    public ReadinessReport readiness() {
        List<ReadinessReport.Entry> entries = new ArrayList<>();
        for (ReadinessCheck check : checks) {
            ReadinessCheck.Result result;
            try {
                result = check.check();
            } catch (RuntimeException e) {
                result = ReadinessCheck.Result.notReady("check failed: " + e);
            }
            entries.add(new ReadinessReport.Entry(check.name(), result.ready(), result.detail()));
        }
        return new ReadinessReport(entries);
    }

    /** Stops listening; requests in progress are cut (the status port carries no user traffic). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (server != null) {
            server.stop(0);
            executor.close();
        }
    }

    private void metrics(HttpExchange exchange) throws IOException {
        byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
        respond(exchange, 200, PROMETHEUS_CONTENT_TYPE, body);
    }

    private void healthz(HttpExchange exchange) throws IOException {
        respond(exchange, 200, "application/json", "{\"status\":\"alive\"}".getBytes(StandardCharsets.UTF_8));
    }

    private void readyz(HttpExchange exchange) throws IOException {
        ReadinessReport report = readiness();
        ObjectNode body = JSON.createObjectNode();
        body.put("ready", report.ready());
        ArrayNode list = body.putArray("checks");
        for (ReadinessReport.Entry entry : report.checks()) {
            list.addObject()
                    .put("name", entry.name())
                    .put("ready", entry.ready())
                    .put("detail", entry.detail());
        }
        respond(exchange, report.ready() ? 200 : 503, "application/json", JSON.writeValueAsBytes(body));
    }

    private static HttpHandler readOnly(String path, HttpHandler handler) {
        return exchange -> {
            try (exchange) {
                // The JDK matches contexts by prefix; /readyzzz is not /readyz.
                if (!exchange.getRequestURI().getPath().equals(path)) {
                    respond(exchange, 404, "text/plain; charset=utf-8", "not found\n".getBytes(StandardCharsets.UTF_8));
                    return;
                }
                String method = exchange.getRequestMethod();
                if (!method.equals("GET") && !method.equals("HEAD")) {
                    exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                    respond(
                            exchange,
                            405,
                            "text/plain; charset=utf-8",
                            "method not allowed\n".getBytes(StandardCharsets.UTF_8));
                    return;
                }
                handler.handle(exchange);
            } catch (IOException | UncheckedIOException e) {
                // The client went away mid-response; nothing to tell it.
                log.debug("status request {} failed: {}", exchange.getRequestURI(), e.toString());
            }
        };
    }

    private static void respond(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", contentType);
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
