package io.meshguard.xds.validate;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.model.Route;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A hostname belongs to whoever publishes on it: across tenants, no API may serve a hostname another names (equal or
 * by wildcard), nor a base path overlapping another's (equal or prefix) on a hostname they share; a product host is
 * never also an API's hostname; and what is refused names nothing of the other side.
 */
class HostOwnershipTest {
    private static final String ACME_HOST = "accounts.acme.example";

    /** acme's accounts API on its own host and its cards API on the group's shared host, each with a route. */
    private static final String BASE = """
            groups: [{name: edge, hostnames: [api.bank.example]}]
            upstreams:
              - {name: acme-up, endpoints: [{address: 10.0.0.1, port: 8080}]}
              - {name: globex-up, endpoints: [{address: 10.0.0.2, port: 8080}]}
            apis:
              - {name: acme-accounts, base_path: /accounts, default_version: v1, hostnames: [accounts.acme.example],
                 versions: [{version: v1}]}
              - {name: acme-cards, base_path: /cards, default_version: v1, versions: [{version: v1}]}
            %s
            routes:
              - {name: acme-accounts, group: edge, api: acme-accounts, version: v1, match: {path_prefix: /},
                 destinations: [{upstream: acme-up, weight: 100}]}
              - {name: acme-cards, group: edge, api: acme-cards, version: v1, match: {path_prefix: /},
                 destinations: [{upstream: acme-up, weight: 100}]}
            %s
            """;

    private static final Map<String, String> TENANTS = Map.of(
            "acme-accounts", "acme",
            "acme-cards", "acme",
            "acme-accounts-v2", "acme",
            "globex-api", "globex");

    private static GatewayConfig config(String moreApis, String moreRoutes) {
        return GatewayYaml.read("t.yaml", BASE.formatted(moreApis, moreRoutes));
    }

    private static GatewayConfig withGlobex(String api) {
        return config(
                "  - " + api,
                "  - {name: globex-api, group: edge, api: globex-api, version: v1, match: {path_prefix: /},"
                        + " destinations: [{upstream: globex-up, weight: 100}]}");
    }

    private static List<Problem> newClashes(GatewayConfig after) {
        return HostOwnership.newClashes(config("", ""), after, TENANTS::get);
    }

    /** What globex's side of a refusal shows: the problems on its own API. */
    private static List<Problem> globexSide(List<Problem> problems) {
        return problems.stream()
                .filter(p -> p.path().startsWith("apis[globex-api]"))
                .toList();
    }

    @Test
    void anotherTenant_onAHostnameAnApiNames_withADeeperBasePath_isRefused() {
        List<Problem> problems = newClashes(withGlobex(
                "{name: globex-api, base_path: /accounts/v1, default_version: v1, hostnames: [accounts.acme.example],"
                        + " versions: [{version: v1}]}"));

        assertThat(problems).extracting(Problem::code).containsOnly(ProblemCode.HOSTNAME_OTHER_TENANT);
        assertThat(globexSide(problems)).singleElement().satisfies(p -> {
            assertThat(p.message()).contains(ACME_HOST, "/accounts/v1", "another tenant");
            // nothing of acme's: not its API, not its base path
            assertThat(p.message()).doesNotContain("acme-accounts", "'/accounts'");
        });
    }

    @Test
    void anotherTenant_onAnyBasePath_ofANamedHostname_isRefused_alsoByWildcard() {
        assertThat(newClashes(withGlobex(
                        "{name: globex-api, base_path: /loans, default_version: v1, hostnames: [accounts.acme.example],"
                                + " versions: [{version: v1}]}")))
                .isNotEmpty();
        assertThat(newClashes(withGlobex(
                        "{name: globex-api, base_path: /loans, default_version: v1, hostnames: ['*.acme.example'],"
                                + " versions: [{version: v1}]}")))
                .isNotEmpty();
        assertThat(newClashes(withGlobex(
                        "{name: globex-api, base_path: /loans, default_version: v1, hostnames: [loans.globex.example],"
                                + " versions: [{version: v1}]}")))
                .isEmpty();
    }

    @Test
    void onASharedHostname_anotherTenantsOverlappingBasePath_isRefused_andADisjointOneIsNot() {
        for (String basePath : List.of("/cards", "/cards/v2", "/car", "/")) {
            assertThat(newClashes(withGlobex("{name: globex-api, base_path: '" + basePath
                            + "', default_version: v1, versions: [{version: v1}]}")))
                    .as(basePath)
                    .isNotEmpty();
        }
        assertThat(newClashes(withGlobex(
                        "{name: globex-api, base_path: /loans, default_version: v1, versions: [{version: v1}]}")))
                .isEmpty();
    }

    @Test
    void sameTenant_deeperBasePathOnItsOwnHostname_isNotAnOwnershipClash() {
        GatewayConfig deeper = config(
                "  - {name: acme-accounts-v2, base_path: /accounts/v2, default_version: v1,"
                        + " hostnames: [accounts.acme.example], versions: [{version: v1}]}",
                "  - {name: acme-accounts-v2, group: edge, api: acme-accounts-v2, version: v1,"
                        + " match: {path_prefix: /}, destinations: [{upstream: acme-up, weight: 100}]}");
        assertThat(newClashes(deeper)).isEmpty();
        assertThat(new ConfigValidator().validate(deeper).errors())
                .extracting(Problem::code)
                .doesNotContain(ProblemCode.HOSTNAME_BASE_PATH_CLASH, ProblemCode.HOSTNAME_OTHER_TENANT);
    }

    @Test
    void aClashMadeBefore_isNotEveryLaterWritersToAnswerFor() {
        GatewayConfig clashing =
                withGlobex("{name: globex-api, base_path: /cards, default_version: v1, versions: [{version: v1}]}");
        assertThat(HostOwnership.newClashes(clashing, clashing, TENANTS::get)).isEmpty();
    }

    @Test
    void anApiOfUnknownOwner_clashesWithEveryone() {
        GatewayConfig clashing =
                withGlobex("{name: globex-api, base_path: /cards, default_version: v1, versions: [{version: v1}]}");
        assertThat(HostOwnership.newClashes(
                        config("", ""),
                        clashing,
                        api -> TENANTS.containsKey(api)
                                ? (api.equals("globex-api") ? "\u0000unknown" : TENANTS.get(api))
                                : "\u0000unknown:" + api))
                .isNotEmpty();
    }

    @Test
    void equalBasePathOnOneHostname_isRefused_withoutNamingTheOtherApi() {
        List<Problem> errors = new ConfigValidator()
                .validate(withGlobex(
                        "{name: globex-api, base_path: /cards, default_version: v1, versions: [{version: v1}]}"))
                .errors();
        assertThat(errors)
                .filteredOn(p -> p.code() == ProblemCode.HOSTNAME_BASE_PATH_CLASH)
                .isNotEmpty()
                .allSatisfy(p -> assertThat(p.message()).doesNotContain("acme-cards", "globex-api"));
    }

    @Test
    void aProductHost_equalToAnApiHostname_isRefused() {
        // R5-02: two virtual hosts with one domain; Envoy NACKs the table under RDS, and under VHDS the product's
        // virtual host silently replaces the API's
        GatewayConfig api = config("", "");
        Route apiRoute = api.routes().get(0);
        Route product = apiRoute.asProduct(
                "p-balances",
                new Route.Match(
                        Optional.empty(), Optional.of("/balances"), Optional.empty(), List.of("GET"), List.of()),
                new Route.ProductBinding("accounts-prod-eu", "balances", ACME_HOST, "apikey"));
        GatewayConfig both = new GatewayConfig(
                api.groups(),
                api.upstreams(),
                api.apis(),
                List.of(apiRoute, api.routes().get(1), product));

        List<Problem> errors = new ConfigValidator().validate(both).errors();

        assertThat(errors)
                .filteredOn(p -> p.code() == ProblemCode.HOSTNAME_PRODUCT_HOST_CLASH)
                .extracting(Problem::path)
                .contains("apis[acme-accounts].hostnames", "routes[edge/p-balances].product.host");
    }
}
