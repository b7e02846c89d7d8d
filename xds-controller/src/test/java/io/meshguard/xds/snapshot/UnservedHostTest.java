package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExtProcPerRoute;
import io.meshguard.envoy.validation.EnvoyValidator;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.validate.ConfigValidator;
import org.junit.jupiter.api.Test;

/**
 * A Host no virtual host names is answered 404 by the route table's catch-all, before ext_authz or the DLP server see
 * it, and the catch-all never takes a served host (Envoy prefers an exact domain to {@code *}).
 */
class UnservedHostTest {
    /** One group, one API, one route to an IP upstream: only what the emulator models. */
    static final String CONFIG = """
            groups: [{name: edge, environment: prod, hostnames: [api.bank.example]}]
            upstreams:
              - {name: ledger, endpoints: [{address: 10.20.0.7, port: 8080}]}
            apis:
              - {name: ledger, base_path: /ledger, default_version: v1, versions: [{version: v1}]}
            routes:
              - {name: postings, group: edge, api: ledger, version: v1, match: {path_prefix: /v1/postings},
                 destinations: [{upstream: ledger, weight: 100}]}
            """;

    @Test
    void everyEnvoyRouteTable_endsInOneCatchAll_answering404_withCheckAndDlpOff() throws Exception {
        GatewayConfig config = GatewayYaml.read("edge.yaml", CONFIG);
        assertThat(new ConfigValidator().validate(config).errors()).isEmpty();
        GroupResources built = new SnapshotBuilder(FilterTargets.DEFAULTS).build(config, "edge");
        for (RouteConfiguration rc : built.routes()) {
            if (rc.getName().equals(EnvoyNames.PROXYLESS_ROUTES)) {
                // gRPC clients pick their virtual host by target name: no Host of a scanner reaches them
                assertThat(rc.getVirtualHostsList())
                        .noneMatch(vh -> vh.getDomainsList().contains("*"));
                continue;
            }
            assertThat(rc.getVirtualHostsList())
                    .filteredOn(vh -> vh.getDomainsList().contains("*"))
                    .singleElement()
                    .satisfies(vh -> {
                        assertThat(vh.getName()).isEqualTo(EnvoyNames.UNSERVED_HOST);
                        assertThat(vh.getDomainsList()).containsExactly("*");
                        Route only = vh.getRoutes(0);
                        assertThat(vh.getRoutesCount()).isEqualTo(1);
                        assertThat(only.getMatch().getPrefix()).isEqualTo("/");
                        assertThat(only.hasRoute()).as("reaches no upstream").isFalse();
                        assertThat(only.getDirectResponse().getStatus()).isEqualTo(404);
                        assertThat(only.getTypedPerFilterConfigOrThrow(EnvoyNames.EXT_AUTHZ_FILTER)
                                        .unpack(ExtAuthzPerRoute.class)
                                        .getDisabled())
                                .isTrue();
                        assertThat(only.getTypedPerFilterConfigOrThrow(EnvoyNames.EXT_PROC_FILTER)
                                        .unpack(ExtProcPerRoute.class)
                                        .getDisabled())
                                .isTrue();
                    });
            // the served host keeps its own virtual host, exact domains only
            assertThat(rc.getVirtualHostsList())
                    .filteredOn(vh -> vh.getDomainsList().contains("api.bank.example"))
                    .singleElement()
                    .extracting(VirtualHost::getName)
                    .isNotEqualTo(EnvoyNames.UNSERVED_HOST);
            assertThat(EnvoyValidator.validate(rc)).isEmpty();
        }
    }
}
