package io.meshguard.bench.access;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.access.AdminAccessSettings;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminRoute;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsSettings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.HdrHistogram.Histogram;

/**
 * What admitting one admin call costs with an OIDC access token (RS256 verification + role bindings) beside the
 * static token file, in the same run, interleaved rounds: {@code java -cp ... AdminAuthBench [calls-per-round]}.
 * First the gate alone (what every admin call passes before its handler); then the whole call, {@code GET /apis}
 * over HTTP against PostgreSQL, with per-call p50/p99 ({@code -DgateOnly=true} skips it).
 */
public final class AdminAuthBench {
    private static final AdminRoute ROUTE = AdminRoute.system("GET", "/fleet", "fleet:read");

    public static void main(String[] args) throws Exception {
        int calls = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        RSAKey key = new RSAKeyGenerator(2048).keyID("k1").generate();
        HttpServer idp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
        String issuer = "http://127.0.0.1:" + idp.getAddress().getPort() + "/realms/bench";
        idp.createContext(
                "/realms/bench/.well-known/openid-configuration",
                ex -> respond(ex, "{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/certs\"}"));
        idp.createContext(
                "/realms/bench/certs",
                ex -> respond(ex, new JWKSet(key).toPublicJWKSet().toString()));
        idp.start();
        Path dir = Files.createTempDirectory("admin-bench");
        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "ops:static-token-for-the-benchmark-0123\n");
        Path access = dir.resolve("access.yaml");
        Files.writeString(access, """
                claims: [groups]
                roles:
                  auditor: {permissions: [fleet:read]}
                bindings:
                  - {match: auditors, role: auditor, scope: system}
                """);
        AdminGate local = AdminGate.local(new BearerTokens(Optional.of(tokens)), "xds.admin.token_file");
        AdminGate oidc = new AdminAccessSettings(
                        Optional.of(issuer), "meshguard-admin", Duration.ofSeconds(30), Optional.of(access), false)
                .gate(new BearerTokens(Optional.of(tokens)), "xds.admin.token_file", e -> {});
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256)
                        .keyID("k1")
                        .type(JOSEObjectType.JWT)
                        .build(),
                new JWTClaimsSet.Builder()
                        .issuer(issuer)
                        .subject("bench")
                        .audience("meshguard-admin")
                        .issueTime(new Date())
                        .expirationTime(Date.from(Instant.now().plusSeconds(3600)))
                        .claim("typ", "Bearer")
                        .claim("groups", List.of("auditors"))
                        .build());
        jwt.sign(new RSASSASigner(key));
        String bearerOidc = "Bearer " + jwt.serialize();
        String bearerStatic = "Bearer static-token-for-the-benchmark-0123";

        int rounds = 7;
        double[] staticNs = new double[rounds];
        double[] oidcNs = new double[rounds];
        for (int warm = 0; warm < 2; warm++) {
            run(local, bearerStatic, calls);
            run(oidc, bearerOidc, calls);
        }
        for (int r = 0; r < rounds; r++) {
            staticNs[r] = run(local, bearerStatic, calls);
            oidcNs[r] = run(oidc, bearerOidc, calls);
        }
        Arrays.sort(staticNs);
        Arrays.sort(oidcNs);
        double s = staticNs[rounds / 2];
        double o = oidcNs[rounds / 2];
        System.out.printf("admin gate, median of %d interleaved rounds of %d calls:%n", rounds, calls);
        System.out.printf("  static token file: %8.1f us/call%n", s / 1000);
        System.out.printf("  OIDC access token: %8.1f us/call (RS256 2048, JWKS cached)%n", o / 1000);
        System.out.printf("  ratio OIDC/static: %8.1fx; added per call: %.1f us%n", o / s, (o - s) / 1000);
        if (!Boolean.getBoolean("gateOnly")) {
            httpRounds(issuer, tokens, access, bearerOidc, bearerStatic, Math.max(200, calls / 10));
        }
        idp.stop(0);
    }

    /**
     * The whole admin call, {@code GET /apis} on the xDS controller's admin API over loopback HTTP against a real
     * (embedded) PostgreSQL holding the sample configuration, once through a gate that knows only the token file and
     * once through the OIDC gate: per-call p50/p99 of each, interleaved rounds, same JVM and database.
     */
    private static void httpRounds(
            String issuer, Path tokens, Path access, String bearerOidc, String bearerStatic, int calls)
            throws Exception {
        Path pgDir = Files.createTempDirectory("meshguard-bench-pg");
        try (LocalPostgres pg = LocalPostgres.start(pgDir, 0);
                HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("meshguard-bench"))) {
            Migrations.apply(ds);
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            XdsController xds =
                    XdsController.create(XdsSettings.onLoopback("bench", Optional.of(tokens)), ds, registry, c -> {});
            // the OIDC caller is system-admin so that both see the same rows: the difference is the credential
            Path adminAccess = access.resolveSibling("access-http.yaml");
            Files.writeString(adminAccess, """
                    claims: [groups]
                    roles:
                      system-admin: {permissions: [api:read]}
                    bindings:
                      - {match: auditors, role: system-admin, scope: system}
                    """);
            StatusHttpServer viaStatic = new StatusHttpServer("bench-static", HttpServerSettings.onPort(0), registry);
            StatusHttpServer viaOidc = new StatusHttpServer("bench-oidc", HttpServerSettings.onPort(0), registry);
            xds.mountAdminApi(
                    viaStatic, AdminGate.local(new BearerTokens(Optional.of(tokens)), "xds.admin.token_file"));
            xds.mountAdminApi(
                    viaOidc,
                    new AdminAccessSettings(
                                    Optional.of(issuer),
                                    "meshguard-admin",
                                    Duration.ofSeconds(30),
                                    Optional.of(adminAccess),
                                    false)
                            .gate(new BearerTokens(Optional.empty()), "xds.admin.token_file", e -> {}));
            xds.start();
            viaStatic.start();
            viaOidc.start();
            try {
                xds.publishSampleIfEmpty();
                HttpClient client = HttpClient.newHttpClient();
                URI staticUri = URI.create("http://127.0.0.1:" + viaStatic.port() + "/apis");
                URI oidcUri = URI.create("http://127.0.0.1:" + viaOidc.port() + "/apis");
                Histogram staticH = new Histogram(3);
                Histogram oidcH = new Histogram(3);
                for (int warm = 0; warm < 2; warm++) {
                    get(client, staticUri, bearerStatic, calls, new Histogram(3));
                    get(client, oidcUri, bearerOidc, calls, new Histogram(3));
                }
                int rounds = 5;
                for (int r = 0; r < rounds; r++) {
                    get(client, staticUri, bearerStatic, calls, staticH);
                    get(client, oidcUri, bearerOidc, calls, oidcH);
                }
                double s50 = staticH.getValueAtPercentile(50) / 1000.0;
                double s99 = staticH.getValueAtPercentile(99) / 1000.0;
                double o50 = oidcH.getValueAtPercentile(50) / 1000.0;
                double o99 = oidcH.getValueAtPercentile(99) / 1000.0;
                System.out.printf(
                        "GET /apis over HTTP, %d interleaved rounds of %d calls (PostgreSQL, sample config):%n",
                        rounds, calls);
                System.out.printf("  static token file: p50 %8.1f us  p99 %8.1f us%n", s50, s99);
                System.out.printf(
                        "  OIDC access token: p50 %8.1f us  p99 %8.1f us (RS256 2048, JWKS cached)%n", o50, o99);
                System.out.printf("  ratio OIDC/static: p50 %.2fx  p99 %.2fx%n", o50 / s50, o99 / s99);
            } finally {
                viaOidc.close();
                viaStatic.close();
                xds.close();
            }
        }
    }

    private static void get(HttpClient client, URI uri, String header, int calls, Histogram into) throws Exception {
        HttpRequest request =
                HttpRequest.newBuilder(uri).header("Authorization", header).build();
        for (int i = 0; i < calls; i++) {
            long start = System.nanoTime();
            HttpResponse<byte[]> r = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
            long took = System.nanoTime() - start;
            if (r.statusCode() != 200) {
                throw new IllegalStateException("GET " + uri + " answered " + r.statusCode());
            }
            into.recordValue(took);
        }
    }

    private static double run(AdminGate gate, String header, int calls) {
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            if (!(gate.admit(header, "127.0.0.1", "bench", ROUTE, List.of("fleet")) instanceof AdminGate.Admitted)) {
                throw new IllegalStateException("the benchmark's call was refused");
            }
        }
        return (System.nanoTime() - start) / (double) calls;
    }

    private static void respond(com.sun.net.httpserver.HttpExchange ex, String body) throws java.io.IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(200, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }
}
