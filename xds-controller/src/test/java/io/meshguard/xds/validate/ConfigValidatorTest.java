package io.meshguard.xds.validate;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.envoy.validation.EnvoyRegexBudget;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Each kind of bad input gets an error that names where it is and what is wrong. */
class ConfigValidatorTest {
    private static final String BASE = """
            {"groups": [{"name": "edge"}],
             "upstreams": [{"name": "a", "endpoints": [{"address": "10.0.0.1", "port": 80}]},
                           {"name": "b", "endpoints": [{"address": "10.0.0.2", "port": 80}]}],
             "apis": [{"name": "shop", "base_path": "/shop", "default_version": "v2",
                       "versions": [{"version": "v1", "status": "deprecated", "deprecated_at": "2026-01-01T00:00:00Z",
                                     "successor": "v2"},
                                    {"version": "v2"}]}],
             "routes": [ROUTES]}""";
    private static final String ROUTE = """
            {"name": "all", "group": "edge", "api": "shop", "version": "v2", "match": {"path_prefix": "/"},
             "destinations": [{"upstream": "a", "weight": 100}]}""";

    private static List<Problem> errors(String json) {
        return new ConfigValidator().validate(ConfigJson.readConfig(json)).errors();
    }

    private static List<Problem> errorsWithRoute(String route) {
        return errors(BASE.replace("ROUTES", route));
    }

    @Test
    void upstreamProblems_rememberedForTheSameInstance_aChangedUpstreamIsCheckedAnew() {
        ConfigValidator validator = new ConfigValidator();
        GatewayConfig good = ConfigJson.readConfig(BASE.replace("ROUTES", ROUTE));
        assertThat(validator.validate(good).errors()).isEmpty();

        // the same objects again (a draft read again keeps them), then one upstream changed: a new instance
        assertThat(validator.validate(good).errors()).isEmpty();
        GatewayConfig badPort = new GatewayConfig(
                good.groups(),
                good.upstreams().stream()
                        .map(u -> u.name().equals("b")
                                ? u.withEndpoints(
                                        List.of(new io.meshguard.xds.model.Upstream.Endpoint("10.0.0.2", 0, 1)))
                                : u)
                        .toList(),
                good.apis(),
                good.routes());

        assertThat(validator.validate(badPort).errors()).singleElement().satisfies(p -> assertThat(p.path())
                .isEqualTo("upstreams[b].endpoints[0].port"));
        // the unchanged upstream kept its (empty) verdict; the bad one keeps its own
        assertThat(validator.validate(badPort).errors()).hasSize(1);
        assertThat(validator.validate(good).errors()).isEmpty();
    }

    @Test
    void routeProblems_rememberedForTheSameInstance_checkedAnewWhenItsApiOrTheOwnedHeadersChange() {
        java.util.concurrent.atomic.AtomicReference<Set<String>> owned =
                new java.util.concurrent.atomic.AtomicReference<>(Set.of());
        ConfigValidator validator = new ConfigValidator(new ProfileReferences(() -> Optional.of(
                new ProfileCatalog(Map.of(), Set.of(), "authz.yaml", "dlp.yaml", owned.get(), Set.of(), Map.of()))));
        GatewayConfig config = ConfigJson.readConfig(
                BASE.replace(
                        "ROUTES",
                        ROUTE.replace(
                                "\"destinations\"",
                                "\"request_headers_to_add\": [{\"name\": \"x-bank-user\", \"value\": \"v\"}], \"destinations\"")));
        java.util.function.Function<GatewayConfig, List<String>> routeErrors =
                c -> validator.validate(c).errors().stream()
                        .map(Problem::path)
                        .filter(path -> path.startsWith("routes[") && !path.endsWith("_profile"))
                        .toList();
        assertThat(routeErrors.apply(config)).isEmpty();

        // the same route instance: the policies now own the header it sets
        owned.set(Set.of("x-bank-user"));
        assertThat(routeErrors.apply(config)).containsExactly("routes[edge/all].request_headers_to_add[x-bank-user]");
        owned.set(Set.of());
        assertThat(routeErrors.apply(config)).isEmpty();

        // the same route instance: its API lost the version it names
        GatewayConfig apiChanged = new GatewayConfig(
                config.groups(),
                config.upstreams(),
                config.apis().stream()
                        .map(a -> new io.meshguard.xds.model.Api(
                                a.name(),
                                a.basePath(),
                                "v1",
                                a.hostnames(),
                                List.of(a.versions().get(0))))
                        .toList(),
                config.routes());
        assertThat(routeErrors.apply(apiChanged)).containsExactly("routes[edge/all].version");
        assertThat(routeErrors.apply(config)).isEmpty();
    }

    @Test
    void forOneOff_findsTheSameProblems_andKeepsNoVirtualHostItBuilt() {
        ConfigValidator remembering = new ConfigValidator();
        ConfigValidator oneOff = remembering.forOneOff();
        GatewayConfig config = ConfigJson.readConfig(BASE.replace(
                "ROUTES", ROUTE + ", " + ROUTE.replace("\"all\"", "\"bad\"").replace("\"v2\"", "\"v9\"")));

        assertThat(oneOff.validate(config).problems())
                .isEqualTo(remembering.validate(config).problems())
                .isNotEmpty();
        GatewayConfig valid = ConfigJson.readConfig(BASE.replace("ROUTES", ROUTE));
        remembering.validate(valid);
        long hosts = io.meshguard.xds.snapshot.SnapshotBuilder.virtualHostsBuilt();
        remembering.validate(valid);
        assertThat(io.meshguard.xds.snapshot.SnapshotBuilder.virtualHostsBuilt() - hosts)
                .as("the remembering validator builds the same instances once")
                .isZero();
        oneOff.validate(valid);
        oneOff.validate(valid);
        assertThat(io.meshguard.xds.snapshot.SnapshotBuilder.virtualHostsBuilt() - hosts)
                .as("the one-off validator builds them each time: it kept none")
                .isPositive()
                .isEven();
    }

    /** Review IC-08: a versioned gRPC path reaches a gRPC server unchanged, which answers UNIMPLEMENTED. */
    @Test
    void grpcMethodPath_underAVersionedRoot_isWarnedAbout_andAPlainPathIsNot() {
        List<Problem> warnings = new ConfigValidator()
                .validate(ConfigJson.readConfig(BASE.replace(
                        "ROUTES",
                        ROUTE.replace("\"path_prefix\": \"/\"", "\"path_prefix\": \"/helloworld.Greeter/\""))))
                .warnings();
        assertThat(warnings).extracting(Problem::message).anySatisfy(m -> assertThat(m)
                .contains("gRPC method path")
                .contains("/shop/<version>/helloworld.Greeter/")
                .contains("UNIMPLEMENTED"));
        assertThat(new ConfigValidator()
                        .validate(ConfigJson.readConfig(BASE.replace(
                                "ROUTES",
                                ROUTE.replace(
                                        "\"path_prefix\": \"/\"",
                                        "\"path_exact\": \"/helloworld.v1.Greeter/SayHello\""))))
                        .warnings())
                .extracting(Problem::message)
                .anySatisfy(m -> assertThat(m).contains("gRPC method path"));
        for (String http : new String[] {"/orders.v2/", "/index.html", "/v1.0/items"}) {
            assertThat(new ConfigValidator()
                            .validate(ConfigJson.readConfig(BASE.replace(
                                    "ROUTES",
                                    ROUTE.replace("\"path_prefix\": \"/\"", "\"path_prefix\": \"" + http + "\""))))
                            .warnings())
                    .extracting(Problem::message)
                    .as(http)
                    .noneSatisfy(m -> assertThat(m).contains("gRPC"));
        }
        assertThat(new ConfigValidator()
                        .validate(ConfigJson.readConfig(BASE.replace("ROUTES", ROUTE)))
                        .warnings())
                .extracting(Problem::message)
                .noneSatisfy(m -> assertThat(m).contains("gRPC"));
    }

    @Test
    void validConfig_hasNoErrors() {
        assertThat(errorsWithRoute(ROUTE)).isEmpty();
    }

    @Test
    void weightsNotSummingTo100_areAnError() {
        assertThat(errorsWithRoute(ROUTE.replace(
                        "[{\"upstream\": \"a\", \"weight\": 100}]",
                        "[{\"upstream\": \"a\", \"weight\": 60}, {\"upstream\": \"b\", \"weight\": 30}]")))
                .extracting(Problem::message)
                .contains("weights must sum to 100, got 90");
    }

    @Test
    void unknownReferences_areErrors() {
        assertThat(errorsWithRoute(ROUTE.replace("\"upstream\": \"a\"", "\"upstream\": \"nope\"")))
                .extracting(Problem::message)
                .contains("unknown upstream 'nope'");
        assertThat(errorsWithRoute(ROUTE.replace("\"group\": \"edge\"", "\"group\": \"nope\"")))
                .extracting(Problem::message)
                .contains("unknown group 'nope'");
        assertThat(errorsWithRoute(ROUTE.replace("\"version\": \"v2\"", "\"version\": \"v9\"")))
                .extracting(Problem::message)
                .contains("API 'shop' has no version 'v9'");
    }

    @Test
    void regexLargerThanEnvoysProgramSizeLimit_isAnError_whileARealisticOneFits() {
        // 118 in Envoy's C++ RE2 (envoyproxy/gateway#2543): NACKed at Envoy's default limit 100, fits meshguard's 1000
        String uuidish = "^/v4/advisory/[0-9a-z-]{36}/clone$";
        assertThat(EnvoyRegexBudget.estimatedEnvoySize(uuidish))
                .isGreaterThan(100)
                .isLessThan(EnvoyRegexBudget.ERROR_LEVEL);
        assertThat(errorsWithRoute(ROUTE.replace("\"path_prefix\": \"/\"", "\"path_regex\": \"" + uuidish + "\"")))
                .isEmpty();

        String huge = "/items/[0-9a-f]{500}";
        assertThat(errorsWithRoute(ROUTE.replace("\"path_prefix\": \"/\"", "\"path_regex\": \"" + huge + "\"")))
                .singleElement()
                .satisfies(p -> {
                    assertThat(p.path()).isEqualTo("routes[edge/all].match.path_regex");
                    assertThat(p.message()).contains("re2.max_program_size.error_level 1000");
                });
        // header regexes go into the same route table
        String headerRoute = ROUTE.replace(
                "\"path_prefix\": \"/\"",
                "\"path_prefix\": \"/\", \"headers\": [{\"name\": \"x-tenant-id\", \"regex\": \"t-[a-z]{400}\"}]");
        assertThat(errorsWithRoute(headerRoute))
                .extracting(Problem::message)
                .anyMatch(m -> m.contains("regex too large for Envoy"));
    }

    @Test
    void regexThatRe2Rejects_isAnError() {
        assertThat(errorsWithRoute(ROUTE.replace("\"path_prefix\": \"/\"", "\"path_regex\": \"(a+\"")))
                .extracting(Problem::path)
                .contains("routes[edge/all].match.path_regex");
        // backreferences need backtracking: RE2 refuses them
        assertThat(errorsWithRoute(ROUTE.replace("\"path_prefix\": \"/\"", "\"path_regex\": \"/(a)\\\\1\"")))
                .isNotEmpty();
    }

    @Test
    void twoPathKinds_unknownMethod_reservedHeader_areErrors() {
        assertThat(errorsWithRoute(
                        ROUTE.replace("\"path_prefix\": \"/\"", "\"path_prefix\": \"/\", \"path_exact\": \"/x\"")))
                .extracting(Problem::message)
                .contains("exactly one of path_prefix, path_exact, path_regex is required");
        assertThat(errorsWithRoute(
                        ROUTE.replace("\"path_prefix\": \"/\"", "\"path_prefix\": \"/\", \"methods\": [\"FETCH\"]")))
                .extracting(Problem::message)
                .contains("unknown HTTP method 'FETCH'");
        assertThat(errorsWithRoute(ROUTE.replace(
                        "\"match\"",
                        "\"request_headers_to_add\": [{\"name\": \"host\", \"value\": \"x\"}], \"match\"")))
                .extracting(Problem::message)
                .contains("'host' cannot be changed by a route");
    }

    @Test
    void lifecycleRules_areChecked() {
        String sunsetDefault = BASE.replace("ROUTES", ROUTE)
                .replace("{\"version\": \"v2\"}", "{\"version\": \"v2\", \"status\": \"sunset\"}");
        assertThat(errors(sunsetDefault))
                .extracting(Problem::message)
                .contains("the default version must be active or deprecated, 'v2' is sunset");
        String noDate = BASE.replace("ROUTES", ROUTE).replace(", \"deprecated_at\": \"2026-01-01T00:00:00Z\"", "");
        assertThat(errors(noDate)).extracting(Problem::path).contains("apis[shop].versions[v1].deprecated_at");
        String badSuccessor = BASE.replace("ROUTES", ROUTE).replace("\"successor\": \"v2\"", "\"successor\": \"v7\"");
        assertThat(errors(badSuccessor)).extracting(Problem::message).contains("unknown version 'v7'");
    }

    @Test
    void namesAndPortsOutOfRange_areErrors() {
        String json = BASE.replace("ROUTES", ROUTE)
                .replace(
                        "{\"name\": \"edge\"}",
                        "{\"name\": \"edge\", \"listener_port\": 70000}, {\"name\": \"Bad_Name\"}");
        assertThat(errors(json))
                .extracting(Problem::path)
                .contains("groups[edge].listener_port", "groups[Bad_Name].name");
    }

    @Test
    void identicalMatches_areWarnedNotRefused() {
        ValidationResult r = new ConfigValidator()
                .validate(ConfigJson.readConfig(
                        BASE.replace("ROUTES", ROUTE + "," + ROUTE.replace("\"all\"", "\"again\""))));
        assertThat(r.valid()).isTrue();
        assertThat(r.warnings())
                .extracting(Problem::message)
                .contains("same match as route 'all': only one of them is reachable");
    }

    @Test
    void twoApisOnTheSameHostAndBasePath_areAnError() {
        GatewayConfig c = ConfigJson.readConfig(BASE.replace(
                        "ROUTES",
                        ROUTE + "," + ROUTE.replace("\"all\"", "\"other\"").replace("\"shop\"", "\"shop2\""))
                .replace("\"apis\": [", """
                        "apis": [{"name": "shop2", "base_path": "/shop", "default_version": "v2", "hostnames": ["shop.edge.local"],
                                  "versions": [{"version": "v2"}]},"""));
        GatewayConfig sameHost = new GatewayConfig(
                c.groups(),
                c.upstreams(),
                c.apis().stream()
                        .map(a -> new io.meshguard.xds.model.Api(
                                a.name(), a.basePath(), a.defaultVersion(), List.of("shop.edge.local"), a.versions()))
                        .toList(),
                c.routes());
        assertThat(new ConfigValidator().validate(sameHost).errors())
                .extracting(Problem::message)
                .anySatisfy(m -> assertThat(m).contains("already serves '/shop' on shop.edge.local"));
    }
}
