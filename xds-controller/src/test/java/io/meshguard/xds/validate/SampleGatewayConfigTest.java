package io.meshguard.xds.validate;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.AuthMode;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.policy.RoutePolicy;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.HostnamePlan;
import io.meshguard.xds.model.Route;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The sample configuration {@code meshguard up} publishes and the shipped policies ({@code policies/}) agree: every
 * profile a route names exists, every route's methods and hosts fit the authz rule it names, and the sample shows
 * every kind of route the model has.
 */
class SampleGatewayConfigTest {
    private static final Path POLICIES = io.meshguard.testing.FixturePolicies.directory();
    private static final GatewayConfig SAMPLE = XdsController.sampleConfig();

    @Test
    void sample_isValid_andNamesOnlyProfilesTheShippedPoliciesDefine() throws Exception {
        ProfileCatalog shipped = ProfileCatalog.read(POLICIES);
        assertThat(new ConfigValidator().validate(SAMPLE).errors()).isEmpty();
        // errors and warnings: a warning here means requests the sample routes would all be denied
        assertThat(ProfileReferences.missing(SAMPLE, shipped)).isEmpty();
        ValidationResult checked =
                new ConfigValidator(new ProfileReferences(() -> java.util.Optional.of(shipped))).validate(SAMPLE);
        assertThat(checked.errors()).isEmpty();
        assertThat(checked.warnings()).isEmpty();
    }

    /** Review IC-06: no shipped rule is called "default"; a route without authz_profile is told the field is required. */
    @Test
    void routeWithoutAuthzProfile_isRefused_sayingTheFieldIsRequired() throws Exception {
        ProfileCatalog shipped = ProfileCatalog.read(POLICIES);
        assertThat(shipped.authzProfiles()).doesNotContain(io.meshguard.xds.model.Route.DEFAULT_PROFILE);
        io.meshguard.xds.model.Route first = SAMPLE.routes().getFirst();
        io.meshguard.xds.model.Route unnamed = new io.meshguard.xds.model.Route(
                first.name(),
                first.group(),
                first.api(),
                first.version(),
                first.match(),
                first.destinations(),
                first.timeoutMs(),
                first.idleTimeoutMs(),
                first.streaming(),
                first.retry(),
                first.requestHeadersToAdd(),
                first.requestHeadersToRemove(),
                first.responseHeadersToAdd(),
                null,
                first.dlpProfile(),
                first.product());
        java.util.List<io.meshguard.xds.model.Route> routes = new java.util.ArrayList<>(SAMPLE.routes());
        routes.set(0, unnamed);
        GatewayConfig config = new GatewayConfig(SAMPLE.groups(), SAMPLE.upstreams(), SAMPLE.apis(), routes);

        assertThat(ProfileReferences.missing(config, shipped)).singleElement().satisfies(p -> {
            assertThat(p.path()).endsWith(".authz_profile");
            assertThat(p.message())
                    .contains("has no authz_profile")
                    .contains("required")
                    .contains("payments-write");
        });
    }

    @Test
    void everyServedRoute_namesARuleThatAdmitsItsMethodsAndHosts_andTheStatusRouteIsPublic() throws Exception {
        AuthzPolicy authz = new AuthzPolicyParser().parse(POLICIES.resolve("authz.yaml"));
        for (Route r : SAMPLE.routes()) {
            RoutePolicy rule = authz.routeNamed(r.authzProfile()).orElseThrow(() -> new AssertionError(r.name()));
            Api api = SAMPLE.api(r.api()).orElseThrow();
            for (String host : HostnamePlan.hostnames(SAMPLE.group(r.group()).orElseThrow(), api)) {
                for (String method : r.match().methods()) {
                    assertThat(rule.match().outsideMethodOrHost(host + ":8080", method))
                            .as(r.name() + " " + method)
                            .isEmpty();
                }
            }
        }
        Route status = SAMPLE.routes().stream()
                .filter(r -> r.name().equals("status-health"))
                .findFirst()
                .orElseThrow();
        assertThat(authz.routeNamed(status.authzProfile()).orElseThrow().auth()).isEqualTo(AuthMode.NONE);
    }

    @Test
    void sample_exercisesEveryRouteKind() {
        List<Route> routes = SAMPLE.routes();
        assertThat(routes).as("SSE / LLM").anyMatch(Route::streaming);
        assertThat(routes).as("canary weights").anyMatch(r -> r.destinations().size() > 1);
        assertThat(routes).as("retries").anyMatch(r -> r.retry().isPresent());
        assertThat(routes)
                .as("path prefix")
                .anyMatch(r -> r.match().pathPrefix().isPresent());
        assertThat(routes).as("exact path").anyMatch(r -> r.match().pathExact().isPresent());
        assertThat(routes).as("regex path").anyMatch(r -> r.match().pathRegex().isPresent());
        assertThat(routes).as("response headers").anyMatch(r -> !r.responseHeadersToAdd()
                .isEmpty());
        List<Api.Status> statuses = SAMPLE.apis().stream()
                .flatMap(a -> a.versions().stream())
                .map(Api.ApiVersion::status)
                .toList();
        assertThat(statuses).contains(Api.Status.ACTIVE, Api.Status.DEPRECATED, Api.Status.SUNSET, Api.Status.RETIRED);
        assertThat(routes)
                .as("a route of a deprecated version")
                .anyMatch(r -> SAMPLE.api(r.api())
                                .flatMap(a -> a.version(r.version()))
                                .orElseThrow()
                                .status()
                        == Api.Status.DEPRECATED);
        assertThat(routes.stream().map(Route::dlpProfile).distinct())
                .as("more than one DLP profile")
                .hasSizeGreaterThan(1);
    }
}
