package io.meshguard.cli.dev;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import java.io.StringReader;
import java.net.URI;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A draft copied from {@code policies/} is rehearsed against a local stack's decisions as {@code up} would serve it:
 * with the dev issuer and the demo routes of the dev policy served now, and nothing else of it.
 */
class DevPolicyServedLikeTest {
    static final String BASE = """
            issuers:
              - name: idp
                issuer: https://idp.example
                jwks_uri: https://idp.example/jwks
                audiences: [meshguard]
                claims: {subject: sub, tenant: tenant, roles: roles}
            routes:
              - {name: ledger, match: {path_prefix: /ledger}, auth: jwt, roles: [clerk]}
              - {name: books, match: {path_prefix: /books}, auth: jwt, roles: [auditor]}
            """;

    static final DevPolicy DEV = new DevPolicy();

    static String served() throws Exception {
        return DEV.compose("policies/authz.yaml", BASE, URI.create("http://127.0.0.1:4321/jwks"), Optional.empty());
    }

    static AuthzPolicy asServed(String draft) throws Exception {
        return new AuthzPolicyParser()
                .parse("t", new StringReader(DEV.servedLike("draft/authz.yaml", draft, served())));
    }

    @Test
    void servedLike_addsTheServedDevIssuerAndDemoRoutes_andKeepsTheDraftsOwnEdits() throws Exception {
        assertThat(DevPolicy.isGenerated(served())).isTrue();
        assertThat(DevPolicy.isGenerated(BASE)).isFalse();

        AuthzPolicy p = asServed(BASE.replace("roles: [auditor]", "roles: [root]"));

        assertThat(p.issuerNamed(DevIssuer.NAME).orElseThrow().jwksUri().orElseThrow())
                .hasToString("http://127.0.0.1:4321/jwks");
        assertThat(p.routeNamed(DevIssuer.DEMO_ROUTE)).isPresent();
        assertThat(p.routeNamed(DevIssuer.PRODUCTS_ROUTE)).isPresent();
        assertThat(p.routeNamed("books").orElseThrow().toString()).contains("root");
        assertThat(p.routes().get(0).name()).isEqualTo("ledger");
    }

    @Test
    void servedLike_keepsADraftsOwnRouteOfADevName() throws Exception {
        AuthzPolicy p = asServed(BASE + "  - {name: dev-demo, match: {path_prefix: /mine}, auth: none}\n");

        assertThat(p.routes().stream().filter(r -> r.name().equals(DevIssuer.DEMO_ROUTE)))
                .singleElement()
                .satisfies(r -> assertThat(r.toString()).contains("/mine"));
    }
}
