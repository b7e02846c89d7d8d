package io.meshguard.xds.validate;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.AuthMode;
import io.meshguard.authz.policy.PathMatch;
import io.meshguard.authz.policy.RouteMatch;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.model.Route;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A product publish is checked against the authz rules its routes name before it is served: a publish host or method
 * the rule does not allow would be a product nobody can call, so the publish is refused; a rule without
 * {@code products_only} is said, because it admits its credentials on the API's own hosts without a subscription.
 */
class ProductRouteProfilesTest {
    private static final String HOST = "payments.dev.local.api.bank.example";

    /** The API route and, beside it, the route a publish compiled from it onto its host. */
    private static GatewayConfig published(String profile, String method) {
        return published(profile, method, "apikey");
    }

    private static GatewayConfig published(String profile, String method, String authMode) {
        GatewayConfig api = GatewayYaml.read("t.yaml", """
                groups: [{name: edge, domain: bank.example}]
                upstreams: [{name: svc, endpoints: [{address: 10.0.0.1, port: 8080}]}]
                apis: [{name: payments, base_path: /payments, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: charges, group: edge, api: payments, version: v1, match: {path_prefix: /charges},
                     destinations: [{upstream: svc, weight: 100}], authz_profile: %s}
                """.formatted(profile));
        Route apiRoute = api.routes().get(0);
        Route product = apiRoute.asProduct(
                "p-create-charge",
                new Route.Match(
                        Optional.empty(), Optional.of("/charges"), Optional.empty(), List.of(method), List.of()),
                new Route.ProductBinding("payments-dev-local", "create-charge", HOST, authMode));
        return new GatewayConfig(api.groups(), api.upstreams(), api.apis(), List.of(apiRoute, product));
    }

    private static ProfileCatalog catalog(Set<String> productsOnly) {
        RouteMatch products =
                new RouteMatch(Set.of("*.api.bank.example"), new PathMatch.Prefix("/payments"), Set.of("GET", "POST"));
        RouteMatch apiHostOnly =
                new RouteMatch(Set.of("payments.bank.example"), new PathMatch.Prefix("/payments"), Set.of());
        return new ProfileCatalog(
                Map.of("sold", products, "own-host", apiHostOnly),
                Set.of("default"),
                "authz.yaml",
                "dlp.yaml",
                Set.of(),
                productsOnly,
                Map.of("sold", AuthMode.APIKEY, "own-host", AuthMode.JWT_OR_APIKEY));
    }

    private static List<Problem> productProblems(GatewayConfig config, ProfileCatalog catalog) {
        return ProfileReferences.missing(config, catalog).stream()
                .filter(p -> p.message().contains("product publish"))
                .toList();
    }

    @Test
    void ruleCoveringThePublishHost_andProductsOnly_passesSilently() {
        assertThat(productProblems(published("sold", "POST"), catalog(Set.of("sold"))))
                .isEmpty();
    }

    @Test
    void publishHostOutsideTheRule_isAnError_namingHostRuleAndOperation() {
        List<Problem> problems = productProblems(published("own-host", "POST"), catalog(Set.of("own-host")));

        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.severity()).isEqualTo(Problem.Severity.ERROR);
            assertThat(p.message())
                    .contains("payments-dev-local", "host " + HOST, "'own-host'", "create-charge", "outside_profile");
        });
    }

    @Test
    void methodOutsideTheRule_isAnError() {
        assertThat(productProblems(published("sold", "DELETE"), catalog(Set.of("sold"))))
                .singleElement()
                .satisfies(p -> {
                    assertThat(p.severity()).isEqualTo(Problem.Severity.ERROR);
                    assertThat(p.message()).contains("method DELETE");
                });
    }

    @Test
    void oauth2Publish_onARuleForApiKeysOnly_isAnError_andAnApiKeyPublishOnIt_isNot() {
        assertThat(productProblems(published("sold", "POST", "oauth2"), catalog(Set.of("sold"))))
                .singleElement()
                .satisfies(p -> {
                    assertThat(p.severity()).isEqualTo(Problem.Severity.ERROR);
                    assertThat(p.message()).contains("takes oauth2 credentials", "auth: apikey", "401");
                });
        assertThat(productProblems(published("sold", "POST", "apikey"), catalog(Set.of("sold"))))
                .isEmpty();
    }

    @Test
    void ruleWithoutProductsOnly_isAWarning_thatTheApiHostStaysOpen() {
        assertThat(productProblems(published("sold", "POST"), catalog(Set.of())))
                .singleElement()
                .satisfies(p -> {
                    assertThat(p.severity()).isEqualTo(Problem.Severity.WARNING);
                    assertThat(p.message()).contains("not products_only", "without a subscription");
                });
    }
}
