package io.meshguard.bench.extauthz;

import com.nimbusds.jwt.JWTClaimsSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * The authz policies the extauthz benchmarks run: the plain JWT route, a route with a mesh principal rule and a CEL
 * condition, and the same plain route behind {@code N - 1} other routes (the route is last in the file, so a linear
 * scan would try every other route first; all routes share one host, so the host bucket does not help the index).
 */
final class BenchPolicies {
    static final String ISSUER = "https://idp.bench.example";

    /** The benchmarks' caller: alice of tenant t1, role user, scope orders:read, valid for two hours from now. */
    static JWTClaimsSet alice(String issuer) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .issuer(issuer)
                .subject("alice")
                .audience("meshguard")
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(Duration.ofHours(2))))
                .claim("tenant", "t1")
                .claim("roles", List.of("user"))
                .claim("scope", "orders:read")
                .build();
    }

    static final String PRINCIPAL = "spiffe://cluster.local/ns/bench/sa/client";

    private BenchPolicies() {}

    static String policy(String jwksUri, int fillerRoutes) {
        StringBuilder routes = new StringBuilder();
        for (int i = 0; i < fillerRoutes; i++) {
            routes.append("  - {name: svc-")
                    .append(i)
                    .append(", match: {hosts: [api.bench.example], path_prefix: /v1/svc-")
                    .append(i)
                    .append(", methods: [GET]}, auth: jwt, roles: [user]}\n");
        }
        return """
                issuers:
                  - name: bench-idp
                    issuer: %s
                    jwks_uri: %s
                    audiences: [meshguard]
                    algorithms: [RS256, ES256]
                    claims: {subject: sub, tenant: tenant, roles: roles, scopes: scope}
                header_contract:
                  tenant_header: x-tenant-id
                  required: [x-tenant-id]
                  defaults: {x-dwp-source: FRONTEND}
                routes:
                %s  - name: ledger
                    match: {hosts: [api.bench.example], path_prefix: /v1/ledger, methods: [GET]}
                    auth: jwt
                    roles: [user]
                    from: {namespaces: [bench], principals: ["cluster.local/ns/bench/*"]}
                    when: '"amr" in claims && "mfa" in claims.amr'
                  - name: orders
                    match: {hosts: [api.bench.example], path_prefix: /v1/orders, methods: [GET]}
                    auth: jwt_or_apikey
                    roles: [user]
                """.formatted(ISSUER, jwksUri, routes);
    }
}
