package io.meshguard.testing;

import com.nimbusds.jose.jwk.JWKSet;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** For tests and benchmarks: a real JWKS + OIDC discovery endpoint on loopback whose keys can rotate and which can go down and come back. */
public final class JwksServer implements AutoCloseable {
    private final HttpServer server;
    private final AtomicReference<JWKSet> keys;
    private final AtomicBoolean down = new AtomicBoolean();
    private final AtomicInteger jwksRequests = new AtomicInteger();
    /** When set, the JWKS endpoint's answer instead of the key set: a broken IdP or a proxy in its place. */
    private final AtomicReference<Answer> broken = new AtomicReference<>();
    /** How long the JWKS endpoint waits before it answers: a slow IdP. */
    private final AtomicReference<java.time.Duration> delay = new AtomicReference<>(java.time.Duration.ZERO);

    private final String issuer;
    /** HttpServer.stop leaves an executor it was given running: closed here, or a benchmark's JVM never exits. */
    private final ExecutorService handlers = Executors.newFixedThreadPool(2);

    private record Answer(int status, String body) {}

    /** An issuer whose URL is this server's own, so discovery lives where the issuer says: {@code http://127.0.0.1:PORT}. */
    public static JwksServer selfIssued(JWKSet initial) throws IOException {
        return new JwksServer(null, initial);
    }

    public JwksServer(String issuer, JWKSet initial) throws IOException {
        this.keys = new AtomicReference<>(initial);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 50);
        server.setExecutor(handlers);
        server.createContext("/jwks.json", ex -> {
            jwksRequests.incrementAndGet();
            try {
                Thread.sleep(delay.get());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Answer instead = broken.get();
            if (down.get()) {
                send(ex, 503, "{\"error\":\"down\"}");
            } else if (instead != null) {
                send(ex, instead.status(), instead.body());
            } else {
                send(ex, 200, keys.get().toPublicJWKSet().toString());
            }
        });
        server.createContext("/.well-known/openid-configuration", ex -> {
            if (down.get()) {
                send(ex, 503, "{}");
            } else {
                send(ex, 200, "{\"issuer\":\"" + issuer() + "\",\"jwks_uri\":\"" + jwksUri() + "\"}");
            }
        });
        server.start();
        this.issuer = issuer != null
                ? issuer
                : "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** The issuer this server's discovery document names. */
    public String issuer() {
        return issuer;
    }

    public String jwksUri() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/jwks.json";
    }

    public String discoveryUri() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/.well-known/openid-configuration";
    }

    public void rotateTo(JWKSet next) {
        keys.set(next);
    }

    public void goDown() {
        down.set(true);
    }

    public void comeBack() {
        down.set(false);
    }

    /** From now on the JWKS endpoint answers this instead of the key set (until {@link #answerKeys}). */
    public void answerWith(int status, String body) {
        broken.set(new Answer(status, body));
    }

    /** From now on the JWKS endpoint waits this long before each answer. */
    public void answerAfter(java.time.Duration wait) {
        delay.set(wait);
    }

    /** The JWKS endpoint answers the key set again. */
    public void answerKeys() {
        broken.set(null);
    }

    public int jwksRequests() {
        return jwksRequests.get();
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        handlers.shutdownNow();
    }
}
