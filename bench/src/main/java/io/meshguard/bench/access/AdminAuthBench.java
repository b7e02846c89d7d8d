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
import io.meshguard.access.AdminAccessSettings;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminRoute;
import io.meshguard.runtime.http.BearerTokens;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Optional;

/**
 * What admitting one admin call costs with an OIDC access token (RS256 verification + role bindings) beside the
 * static token file, in the same run, interleaved rounds: {@code java -cp ... AdminAuthBench [calls-per-round]}.
 * The gate is what every admin call passes before its handler; the HTTP exchange and the handler are the same for
 * both and are left out.
 */
public final class AdminAuthBench {
    private static final AdminRoute ROUTE = AdminRoute.system("GET", "/fleet", "fleet:read");

    public static void main(String[] args) throws Exception {
        int calls = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        RSAKey key = new RSAKeyGenerator(2048).keyID("k1").generate();
        HttpServer idp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
        String issuer = "http://127.0.0.1:" + idp.getAddress().getPort() + "/realms/bench";
        idp.createContext("/realms/bench/.well-known/openid-configuration", ex -> respond(ex,
                "{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/certs\"}"));
        idp.createContext("/realms/bench/certs", ex -> respond(ex, new JWKSet(key).toPublicJWKSet().toString()));
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
        AdminGate oidc = new AdminAccessSettings(Optional.of(issuer), "meshguard-admin", Duration.ofSeconds(30),
                Optional.of(access), false).gate(new BearerTokens(Optional.of(tokens)), "xds.admin.token_file",
                e -> { });
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k1").type(JOSEObjectType.JWT)
                .build(), new JWTClaimsSet.Builder().issuer(issuer).subject("bench").audience("meshguard-admin")
                .issueTime(new Date()).expirationTime(Date.from(Instant.now().plusSeconds(3600)))
                .claim("typ", "Bearer").claim("groups", List.of("auditors")).build());
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
        idp.stop(0);
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
