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
              - name: orders
                match: {path_prefix: /orders}
                auth: jwt
                roles: [user]
              - name: admin
                match: {path_prefix: /admin}
                auth: jwt
                roles: [admin]
            """;

    static AuthzPolicy parse(String text) throws Exception {
        return new AuthzPolicyParser().parse("t", new StringReader(text));
    }

    @Test
    void servedLike_addsTheServedDevIssuerAndDemoRoutes_andKeepsTheDraftsOwnEdits() throws Exception {
        DevPolicy dev = new DevPolicy();
        String served =
                dev.compose("policies/authz.yaml", BASE, URI.create("http://127.0.0.1:4321/jwks"), Optional.empty());
        assertThat(DevPolicy.isGenerated(served)).isTrue();
        assertThat(DevPolicy.isGenerated(BASE)).isFalse();
        String draft = BASE.replace("    roles: [admin]\n", "    roles: [root]\n");

        AuthzPolicy asServed = parse(dev.servedLike("draft/authz.yaml", draft, served));

        assertThat(asServed.issuerNamed(DevIssuer.NAME).orElseThrow().jwksUri().orElseThrow())
                .hasToString("http://127.0.0.1:4321/jwks");
        assertThat(asServed.routeNamed(DevIssuer.DEMO_ROUTE)).isPresent();
        assertThat(asServed.routeNamed(DevIssuer.PRODUCTS_ROUTE)).isPresent();
        assertThat(asServed.routeNamed("admin").orElseThrow().toString()).contains("root");
        assertThat(asServed.routes().get(0).name()).isEqualTo("orders");
    }

    @Test
    void servedLike_keepsADraftsOwnRouteOfADevName() throws Exception {
        DevPolicy dev = new DevPolicy();
        String served =
                dev.compose("policies/authz.yaml", BASE, URI.create("http://127.0.0.1:4321/jwks"), Optional.empty());
        String draft = BASE + """
                  - name: dev-demo
                    match: {path_prefix: /mine}
                    auth: none
                """;

        AuthzPolicy asServed = parse(dev.servedLike("draft/authz.yaml", draft, served));

        assertThat(asServed.routes().stream().filter(r -> r.name().equals(DevIssuer.DEMO_ROUTE)))
                .singleElement()
                .satisfies(r -> assertThat(r.toString()).contains("/mine"));
    }
}
