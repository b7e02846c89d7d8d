package io.meshguard.xds.validate;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.IdentityHeaders;
import io.meshguard.contract.OwnedHeaderNames;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** No route may set or remove a header meshguard's security policy owns, in any spelling. */
class OwnedHeadersValidationTest {
    private static final Path POLICIES = io.meshguard.testing.FixturePolicies.directory();

    private static GatewayConfig routeChanging(String field, String header) {
        String change = field.equals("request_headers_to_remove")
                ? "[\"" + header + "\"]"
                : "[{name: \"" + header + "\", value: v}]";
        return GatewayYaml.read("t.yaml", """
                groups: [{name: edge, domain: bank.example}]
                upstreams: [{name: svc, endpoints: [{address: 10.0.0.1, port: 8080}]}]
                apis: [{name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: all, group: edge, api: shop, version: v1, match: {path_prefix: /},
                     destinations: [{upstream: svc, weight: 100}], %s: %s}
                """.formatted(field, change));
    }

    private static List<String> errors(ConfigValidator v, GatewayConfig c) {
        return v.validate(c).errors().stream()
                .map(p -> p.path() + ": " + p.message())
                .toList();
    }

    @Test
    void route_settingOrRemovingAnOwnedHeader_isRefused_namingTheHeaderAndWhy() {
        ConfigValidator v = new ConfigValidator();
        for (String field : List.of("request_headers_to_add", "request_headers_to_remove", "response_headers_to_add")) {
            for (String header : List.of(
                    "x-user-id",
                    "X-User-Id",
                    " x-tenant-id",
                    "x_user_roles",
                    "X_TENANT_ID",
                    "authorization",
                    "Authorization",
                    "cookie",
                    "proxy-authorization",
                    "x-api-key",
                    "x-meshguard-dlp-profile",
                    "X-Meshguard-Route",
                    "x_meshguard_anything",
                    "x-forwarded-client-cert",
                    "x-caller-principal")) {
                assertThat(errors(v, routeChanging(field, header)))
                        .as("%s %s", field, header)
                        .anySatisfy(e -> assertThat(e)
                                .contains(field)
                                .contains(header.strip())
                                .contains("owned by meshguard's security policy"));
            }
        }
    }

    @Test
    void route_changingPseudoOrFramingHeaders_isRefused() {
        ConfigValidator v = new ConfigValidator();
        for (String header : List.of(
                ":authority",
                ":path",
                ":method",
                ":scheme",
                "Host",
                "host",
                "content-length",
                "Transfer-Encoding",
                "connection",
                "upgrade",
                "te")) {
            assertThat(errors(v, routeChanging("request_headers_to_add", header)))
                    .as(header)
                    .anySatisfy(e -> assertThat(e).contains("cannot be changed by a route"));
        }
    }

    @Test
    void loadedPolicy_addsItsContractDefaultsAndRenamedHeaders() throws Exception {
        ProfileCatalog shipped = ProfileCatalog.read(POLICIES);
        ConfigValidator v = new ConfigValidator(new ProfileReferences(() -> Optional.of(shipped)));
        // x-dwp-source is a header-contract default of the shipped authz.yaml: extauthz decides it
        assertThat(shipped.ownedHeaders()).contains("x-dwp-source");
        assertThat(errors(v, routeChanging("request_headers_to_add", "X_DWP_Source")))
                .anySatisfy(e -> assertThat(e).contains("X_DWP_Source").contains("loaded authz policy"));
        assertThat(errors(new ConfigValidator(), routeChanging("request_headers_to_add", "x-dwp-source")))
                .noneSatisfy(e -> assertThat(e).contains("owned"));
    }

    @Test
    void ordinaryHeaders_mayStillBeSet() {
        assertThat(errors(new ConfigValidator(), routeChanging("request_headers_to_add", "x-request-source")))
                .isEmpty();
    }

    @Test
    void contractDefaults_matchExtauthzsDefaultIdentityHeaders() {
        // IdentityHeaders' short constructor fills the same defaults AuthzPolicyParser uses for an authz.yaml
        // that renames nothing
        IdentityHeaders defaults = new IdentityHeaders(
                "x-user-id", "x-tenant-id", "x-user-roles", "x-user-scopes", "x-client-id", "x-auth-method");
        assertThat(OwnedHeaderNames.DEFAULT_IDENTITY).containsExactlyInAnyOrderElementsOf(defaults.all());
    }
}
