package io.meshguard.cli.dev;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.meshguard.runtime.lifecycle.ServerComponent;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * Serves the development issuer's public key set over plain HTTP on 127.0.0.1 (extauthz accepts http JWKS URIs
 * only on loopback). GET {@link DevIssuer#JWKS_PATH} answers the JWKS; everything else is 404.
 */
public final class DevJwksServer implements ServerComponent {
    private final String bind;
    private final int requestedPort;
    private final byte[] jwks;
    private HttpServer server;

    /**
     * @param bind listen address (127.0.0.1)
     * @param port port; 0 picks a free one
     * @param jwks the public key set document
     */
    public DevJwksServer(String bind, int port, String jwks) {
        this.bind = bind;
        this.requestedPort = port;
        this.jwks = jwks.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public String name() {
        return "dev-jwks";
    }

    @Override
    public synchronized void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress(bind, requestedPort), 16);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            boolean found = exchange.getRequestURI().getPath().equals(DevIssuer.JWKS_PATH);
            boolean get = exchange.getRequestMethod().equals("GET")
                    || exchange.getRequestMethod().equals("HEAD");
            if (!found || !get) {
                exchange.sendResponseHeaders(found ? 405 : 404, -1);
                return;
            }
            exchange.getResponseHeaders().set("content-type", "application/json");
            exchange.getResponseHeaders().set("cache-control", "max-age=60");
            boolean head = exchange.getRequestMethod().equals("HEAD");
            exchange.sendResponseHeaders(200, head ? -1 : jwks.length);
            if (!head) {
                try (OutputStream body = exchange.getResponseBody()) {
                    body.write(jwks);
                }
            }
        }
    }

    /** The bound port (after {@link #start}). */
    public synchronized int port() {
        return server == null ? requestedPort : server.getAddress().getPort();
    }

    @Override
    public synchronized void close() {
        if (server != null) {
            server.stop(0);
        }
    }
}
