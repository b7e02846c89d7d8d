package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class EnvoyRulesTest {

    private static ClusterLoadAssignment assignment(String name, String address) {
        return ClusterLoadAssignment.newBuilder()
                .setClusterName(name)
                .addEndpoints(LocalityLbEndpoints.newBuilder()
                        .addLbEndpoints(LbEndpoint.newBuilder()
                                .setEndpoint(Endpoint.newBuilder()
                                        .setAddress(Address.newBuilder()
                                                .setSocketAddress(SocketAddress.newBuilder()
                                                        .setAddress(address)
                                                        .setPortValue(80))))))
                .build();
    }

    @Test
    void edsEndpointNamedByHostname_isRejected_ipLiteralsAreNot() {
        assertThat(EnvoyRules.endpoints(Map.of("a", assignment("a", "demo-upstream"))))
                .singleElement()
                .asString()
                .contains("malformed IP address: demo-upstream");
        assertThat(EnvoyRules.endpoints(Map.of("a", assignment("a", "10.0.0.7"), "b", assignment("b", "::1"))))
                .isEmpty();
    }

    @Test
    void staticClusterWithAHostname_isRejected_strictDnsIsNot() {
        Cluster stat = Cluster.newBuilder()
                .setName("s")
                .setType(Cluster.DiscoveryType.STATIC)
                .setLoadAssignment(assignment("s", "localhost"))
                .build();
        Cluster dns = Cluster.newBuilder()
                .setName("d")
                .setType(Cluster.DiscoveryType.STRICT_DNS)
                .setLoadAssignment(assignment("d", "localhost"))
                .build();
        assertThat(EnvoyRules.clusters(Map.of("s", stat)))
                .singleElement()
                .asString()
                .contains("malformed IP address");
        assertThat(EnvoyRules.clusters(Map.of("d", dns))).isEmpty();
    }

    @Test
    void fullDuplexStreamed_needsTrailerModeSend_andNoFailOpen() {
        ProcessingMode.Builder duplex = ProcessingMode.newBuilder()
                .setRequestBodyMode(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED)
                .setRequestTrailerMode(ProcessingMode.HeaderSendMode.SEND);
        assertThat(EnvoyRules.extProc(
                        "f",
                        ExternalProcessor.newBuilder().setProcessingMode(duplex).build()))
                .isEmpty();
        assertThat(EnvoyRules.extProc(
                        "f",
                        ExternalProcessor.newBuilder()
                                .setProcessingMode(
                                        duplex.clone().setRequestTrailerMode(ProcessingMode.HeaderSendMode.SKIP))
                                .build()))
                .singleElement()
                .asString()
                .contains("request_trailer_mode SEND");
        assertThat(EnvoyRules.extProc(
                        "f",
                        ExternalProcessor.newBuilder()
                                .setProcessingMode(duplex)
                                .setFailureModeAllow(true)
                                .build()))
                .singleElement()
                .asString()
                .contains("failure_mode_allow");
    }

    @Test
    void routeToAClusterCdsDoesNotHave_isRejectedWhenClustersAreValidated() {
        RouteConfiguration rc = RouteConfiguration.newBuilder()
                .setName("r")
                .setValidateClusters(BoolValue.of(true))
                .addVirtualHosts(VirtualHost.newBuilder()
                        .setName("v")
                        .addDomains("a.test")
                        .addRoutes(Route.newBuilder()
                                .setName("x")
                                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                                .setRoute(RouteAction.newBuilder().setCluster("missing"))))
                .build();
        assertThat(EnvoyRules.routes(Map.of("r", rc), Set.of("present")))
                .singleElement()
                .asString()
                .contains("unknown cluster 'missing'");
        assertThat(EnvoyRules.routes(Map.of("r", rc), Set.of("missing"))).isEmpty();
    }

    @Test
    void duplicateDomainsAcrossVirtualHosts_areRejected() {
        RouteConfiguration rc = RouteConfiguration.newBuilder()
                .setName("r")
                .addVirtualHosts(VirtualHost.newBuilder().setName("v1").addDomains("a.test"))
                .addVirtualHosts(VirtualHost.newBuilder().setName("v2").addDomains("A.test"))
                .build();
        assertThat(EnvoyRules.routes(Map.of("r", rc), Set.of()))
                .singleElement()
                .asString()
                .contains("Only unique values for domains are permitted");
    }

    private static RouteConfiguration regexRoute(String regex) {
        return RouteConfiguration.newBuilder()
                .setName("r")
                .addVirtualHosts(VirtualHost.newBuilder()
                        .setName("v")
                        .addDomains("a.test")
                        .addRoutes(Route.newBuilder()
                                .setName("x")
                                .setMatch(RouteMatch.newBuilder()
                                        .setSafeRegex(io.envoyproxy.envoy.type.matcher.v3.RegexMatcher.newBuilder()
                                                .setRegex(regex)))
                                .setRoute(RouteAction.newBuilder().setCluster("c"))))
                .build();
    }

    @Test
    void regexAboveTheRe2ProgramSizeLimit_rejectsTheWholeRouteConfiguration() {
        assertThat(EnvoyRules.routes(Map.of("r", regexRoute("^/v4/advisory/[0-9a-z-]{36}/clone$")), Set.of("c")))
                .isEmpty();
        assertThat(EnvoyRules.routes(Map.of("r", regexRoute("/items/[0-9a-f]{500}")), Set.of("c")))
                .singleElement()
                .asString()
                .contains("max program size");
    }

    @Test
    void pathSeparatedPrefix_endingInSlashOrCarryingAQuery_isRejected() {
        java.util.function.Function<String, RouteConfiguration> rc = p -> RouteConfiguration.newBuilder()
                .setName("r")
                .addVirtualHosts(VirtualHost.newBuilder()
                        .setName("v")
                        .addDomains("a.test")
                        .addRoutes(Route.newBuilder()
                                .setName("x")
                                .setMatch(RouteMatch.newBuilder().setPathSeparatedPrefix(p))
                                .setRoute(RouteAction.newBuilder().setCluster("c"))))
                .build();
        assertThat(EnvoyRules.routes(Map.of("r", rc.apply("/a/b")), Set.of("c")))
                .isEmpty();
        assertThat(EnvoyRules.routes(Map.of("r", rc.apply("/a/")), Set.of("c"))).isNotEmpty();
        assertThat(EnvoyRules.routes(Map.of("r", rc.apply("/a?x")), Set.of("c")))
                .isNotEmpty();
    }

    @Test
    void corsOriginRegexAboveTheLimit_rejectsTheRouteConfigurationToo() {
        java.util.function.Function<String, RouteConfiguration> rc = regex -> RouteConfiguration.newBuilder()
                .setName("r")
                .addVirtualHosts(VirtualHost.newBuilder()
                        .setName("v")
                        .addDomains("a.test")
                        .putTypedPerFilterConfig(
                                "envoy.filters.http.cors",
                                com.google.protobuf.Any.pack(
                                        io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.newBuilder()
                                                .addAllowOriginStringMatch(
                                                        io.envoyproxy.envoy.type.matcher.v3.StringMatcher.newBuilder()
                                                                .setSafeRegex(io.envoyproxy.envoy.type.matcher.v3
                                                                        .RegexMatcher.newBuilder()
                                                                        .setRegex(regex)))
                                                .build())))
                .build();
        assertThat(EnvoyRules.routes(Map.of("r", rc.apply("https://([a-z0-9]+\\.)+bank\\.example")), Set.of()))
                .isEmpty();
        assertThat(EnvoyRules.routes(Map.of("r", rc.apply("https://[a-z]{600}\\.example")), Set.of()))
                .singleElement()
                .asString()
                .startsWith("virtual host v")
                .contains("max program size");
    }
}
