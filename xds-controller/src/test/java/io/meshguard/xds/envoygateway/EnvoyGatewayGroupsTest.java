package io.meshguard.xds.envoygateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.envoygateway.render.EnvoyGatewayTemplate;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.model.TemplateKind;
import io.meshguard.xds.server.LoopbackCores;
import io.meshguard.xds.server.Publisher;
import io.meshguard.xds.store.InMemoryRevisionStore;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ProblemCode;
import io.meshguard.xds.validate.ProfileReferences;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/**
 * A publish to a group whose template is of kind {@code envoy-gateway} is refused before any revision is stored when its
 * render would be refused by the cluster's API server; the same configuration publishes to a meshguard-served group.
 */
class EnvoyGatewayGroupsTest {

    /** A retry condition Envoy takes and Envoy Gateway's retryOn triggers do not. */
    private static GatewayConfig config(String kind, String retryOn) {
        return GatewayYaml.read("inline", """
                groups:
                  - {name: edge, environment: prod, region: eu, listener_port: 8080, hostnames: [api.bank.example],
                     template_kind: %s}
                upstreams:
                  - {name: payments, protocol: http1, endpoints: [{address: api.payments.svc.cluster.local, port: 8080}]}
                apis:
                  - {name: payments, base_path: /payments, default_version: v1, versions: [{version: v1, status: active}]}
                routes:
                  - {name: charges, group: edge, api: payments, version: v1, match: {path_prefix: /charges},
                     destinations: [{upstream: payments, weight: 100}], authz_profile: payments-write, dlp_profile: default,
                     retry: {attempts: 2, retry_on: "%s"}}
                """.formatted(kind, retryOn));
    }

    private static Publisher publisher(InMemoryRevisionStore store) {
        ConfigValidator validator =
                new ConfigValidator(ProfileReferences.NONE, new EnvoyGatewayGroups(EnvoyGatewayTemplate.defaults()));
        return LoopbackCores.unstarted(store, validator).publisher();
    }

    @Test
    void publish_toAnEnvoyGatewayGroup_thatItsClusterWouldRefuse_isRefused_andStoresNothing() {
        InMemoryRevisionStore store = new InMemoryRevisionStore(Clock.systemUTC());
        Publisher.Result result =
                publisher(store).publish(config("envoy-gateway", "5xx,retriable-headers"), "ops", "CHG-1");
        assertThat(result.published()).isFalse();
        assertThat(result.problems().stream()
                        .filter(p -> p.severity() == Problem.Severity.ERROR)
                        .toList())
                .singleElement()
                .satisfies(p -> {
                    assertThat(p.code()).isEqualTo(ProblemCode.GROUP_ENVOY_GATEWAY_REFUSED);
                    assertThat(p.message())
                            .contains("envoy-gateway")
                            .contains("route charges: retry condition 'retriable-headers'");
                });
        assertThat(store.latestIds()).isEmpty();
    }

    @Test
    void sameConfiguration_publishes_toAMeshguardServedGroup_andToAnEnvoyGatewayGroupOnceItMaps() {
        InMemoryRevisionStore store = new InMemoryRevisionStore(Clock.systemUTC());
        assertThat(publisher(store)
                        .publish(config("meshguard", "5xx,retriable-headers"), "ops", "CHG-2")
                        .published())
                .isTrue();
        InMemoryRevisionStore other = new InMemoryRevisionStore(Clock.systemUTC());
        assertThat(publisher(other)
                        .publish(config("envoy-gateway", "5xx,reset,connect-failure"), "ops", "CHG-3")
                        .published())
                .isTrue();
        assertThat(other.latestIds()).containsKey("edge");
        assertThat(other.latestPerGroup()
                        .get("edge")
                        .config()
                        .group("edge")
                        .orElseThrow()
                        .templateKind())
                .as("the kind is published with the revision: a rollback restores it")
                .isEqualTo(TemplateKind.ENVOY_GATEWAY);
    }

    @Test
    void publish_flippingTheGroupToEnvoyGateway_isCheckedByItsStoredKind_andTheServedRevisionStays() {
        InMemoryRevisionStore store = new InMemoryRevisionStore(Clock.systemUTC());
        Publisher publisher = publisher(store);
        assertThat(publisher
                        .publish(config("meshguard", "5xx,retriable-headers"), "ops", "CHG-4")
                        .published())
                .isTrue();
        Publisher.Result flipped = publisher.publish(config("envoy-gateway", "5xx,retriable-headers"), "ops", "CHG-5");
        assertThat(flipped.published())
                .as("the kind stored with the group, not a setting, decides the check")
                .isFalse();
        assertThat(flipped.problems())
                .anySatisfy(p -> assertThat(p.code()).isEqualTo(ProblemCode.GROUP_ENVOY_GATEWAY_REFUSED));
        assertThat(store.latestPerGroup()
                        .get("edge")
                        .config()
                        .group("edge")
                        .orElseThrow()
                        .templateKind())
                .isEqualTo(TemplateKind.MESHGUARD);
    }
}
