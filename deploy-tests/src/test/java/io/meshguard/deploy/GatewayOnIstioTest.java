package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.http.health_check.v3.HealthCheck;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.meshguard.envoy.validation.EnvoyRegexBudget;
import io.meshguard.envoy.validation.EnvoyValidator;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.snapshot.EnvoyJson;
import io.meshguard.xds.snapshot.EnvoyNames;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import io.meshguard.xds.validate.ConfigValidator;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The gateway's xDS config as it meets Istio and Envoy in a cluster (review 3): the controller is configured from
 * the shipped manifests (meshguard-xds's {@code *_TARGET} settings) and its output is checked against what the
 * gateway's own sidecar, the workloads' policy and Envoy's edge guide need.
 */
class GatewayOnIstioTest {
    private static final Manifests MANIFESTS = Manifests.sources();
    private static final Path GATEWAY_BOOTSTRAP = RepoPaths.manifests().resolve("base/envoy/bootstrap.yaml");

    /** A group with an in-mesh upstream named by its Service, as an operator would configure it in a cluster. */
    private static final String IN_MESH = """
            groups: [{name: edge, environment: prod, hostnames: [api.bank.example],
                      cors: {allowed_origins: [https://app.bank.example]}}]
            upstreams:
              - {name: ledger, endpoints: [{address: ledger.ledger.svc.cluster.local, port: 8080}]}
              - {name: accounts, endpoints: [{address: accounts.core.svc.cluster.local, port: 8080},
                                             {address: accounts-b.core.svc.cluster.local, port: 8080}]}
              - {name: legacy, endpoints: [{address: 10.20.0.7, port: 8080}]}
            apis:
              - name: ledger
                base_path: /ledger
                default_version: v1
                versions:
                  - {version: v0, status: sunset, deprecated_at: 2025-01-01T00:00:00Z, sunset_at: 2026-01-01T00:00:00Z, successor: v1}
                  - {version: v1}
            routes:
              - {name: postings, group: edge, api: ledger, version: v1, match: {path_prefix: /v1/postings, methods: [POST]},
                 destinations: [{upstream: ledger, weight: 100}]}
              - {name: accounts, group: edge, api: ledger, version: v1, match: {path_prefix: /accounts},
                 destinations: [{upstream: accounts, weight: 100}]}
              - {name: legacy, group: edge, api: ledger, version: v1, match: {path_prefix: /legacy},
                 destinations: [{upstream: legacy, weight: 100}]}
            """;

    private static FilterTargets targetsFromTheManifest() {
        Map<String, String> env =
                MANIFESTS.workload("meshguard-xds").template().getSpec().getContainers().getFirst().getEnv().stream()
                        .filter(e -> e.getValue() != null)
                        .collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
        return new FilterTargets(
                env.get("MESHGUARD_XDS_EXTAUTHZ_TARGET"),
                env.get("MESHGUARD_XDS_DLP_TARGET"),
                env.get("MESHGUARD_XDS_ACCESS_LOG_TARGET"),
                Duration.ofSeconds(2));
    }

    private static GroupResources emitted() {
        GatewayConfig config = GatewayYaml.read("in-mesh.yaml", IN_MESH);
        assertThat(new ConfigValidator().validate(config).errors()).isEmpty();
        return new SnapshotBuilder(targetsFromTheManifest()).build(config, "edge");
    }

    private static void collect(JsonNode node, String field, List<JsonNode> out) {
        if (node.isObject()) {
            node.fields().forEachRemaining(e -> {
                if (e.getKey().equals(field)) {
                    out.add(e.getValue());
                }
                collect(e.getValue(), field, out);
            });
        } else if (node.isArray()) {
            node.forEach(n -> collect(n, field, out));
        }
    }

    private static HttpConnectionManager envoyHcm(GroupResources r) throws Exception {
        Listener l = r.listeners().stream()
                .filter(x -> !x.hasApiListener())
                .findFirst()
                .orElseThrow();
        return l.getFilterChains(0).getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
    }

    @Test
    void everyEnvoyGrpcService_sendsAServiceFqdnAsAuthority_soTheSidecarRoutesItOverMtls() {
        // unset, :authority is the cluster name (grpc_service.proto); the gateway's sidecar routes these HTTP/2
        // ports by :authority, and a name that is no Service goes out in plaintext through PassthroughCluster
        List<JsonNode> services = new ArrayList<>();
        collect(EnvoyJson.render(emitted(), 0), "envoyGrpc", services);
        assertThat(services).hasSize(3);
        Set<String> knownServices = MANIFESTS
                .ofKind("Service")
                .map(d -> d.node().path("metadata").path("name").asText() + ".meshguard.svc.cluster.local")
                .collect(Collectors.toCollection(TreeSet::new));
        for (JsonNode s : services) {
            String authority = s.path("authority").asText(s.path("clusterName").asText());
            assertThat(authority).as("envoy_grpc %s", s).endsWith(".svc.cluster.local");
            assertThat(knownServices).as("a Service the manifests ship").contains(authority);
        }
    }

    @Test
    void everyRouteToAClusterLocalUpstream_rewritesTheHost_toTheServiceTheWorkloadPolicyNames() throws Exception {
        GroupResources r = emitted();
        // the operator's upstreams (meshguard's own filter clusters are reached by gRPC with an authority, above)
        Set<String> clusterLocal = r.clusters().stream()
                .filter(c -> !c.getName().startsWith("meshguard-"))
                .filter(c -> c.getLoadAssignment().getEndpointsList().stream()
                        .flatMap(l -> l.getLbEndpointsList().stream())
                        .anyMatch(e -> e.getEndpoint()
                                .getAddress()
                                .getSocketAddress()
                                .getAddress()
                                .endsWith(".svc.cluster.local")))
                .map(Cluster::getName)
                .collect(Collectors.toSet());
        assertThat(clusterLocal).containsExactlyInAnyOrder("ledger", "accounts");
        RouteConfiguration envoyRoutes = r.routes().stream()
                .filter(rc -> !rc.getName().equals("grpc"))
                .findFirst()
                .orElseThrow();
        List<Route> toMesh = envoyRoutes.getVirtualHostsList().stream()
                .flatMap(vh -> vh.getRoutesList().stream())
                .filter(x -> x.hasRoute() && clusterLocal.contains(x.getRoute().getCluster()))
                .toList();
        assertThat(toMesh).isNotEmpty().allSatisfy(x -> {
            assertThat(x.getRoute().getAutoHostRewrite().getValue())
                    .as(x.getName())
                    .isTrue();
            assertThat(x.getRoute().getAppendXForwardedHost()).as(x.getName()).isTrue();
        });
        // auto_host_rewrite sends the DNS cluster's endpoint name: the host the workload-side rule matches
        RepoPaths.assumePolicyFiles();
        JsonNode policy = YamlDocuments.read(RepoPaths.policies().resolve("authz.yaml"))
                .getFirst()
                .node();
        List<String> viaGatewayHosts = new ArrayList<>();
        policy.path("routes").forEach(rule -> {
            if (rule.path("via_gateway").asBoolean(false)) {
                rule.path("match").path("hosts").forEach(h -> viaGatewayHosts.add(h.asText()));
            }
        });
        assertThat(viaGatewayHosts).isNotEmpty().allMatch(h -> h.endsWith(".svc.cluster.local") && !h.contains(":"));
    }

    @Test
    void readiness_isAnsweredByTheDeliveredRouteTable_whichEnvoyAcceptsOnlyWithTheClustersItNames() throws Exception {
        Bootstrap bootstrap = EnvoyProtos.bootstrap(
                GATEWAY_BOOTSTRAP.toString(),
                YamlDocuments.read(GATEWAY_BOOTSTRAP).getFirst().node());
        HttpConnectionManager health = bootstrap.getStaticResources().getListenersList().stream()
                .filter(l -> l.getName().equals("health"))
                .findFirst()
                .orElseThrow()
                .getFilterChains(0)
                .getFilters(0)
                .getTypedConfig()
                .unpack(HttpConnectionManager.class);
        HealthCheck check = health.getHttpFiltersList().stream()
                .filter(f -> f.getName().equals("envoy.filters.http.health_check"))
                .findFirst()
                .orElseThrow()
                .getTypedConfig()
                .unpack(HealthCheck.class);
        // pass-through: a drained server (/healthcheck/fail) still answers 503, everything else goes to the route
        assertThat(check.getPassThroughMode().getValue()).isTrue();
        Route probe = health.getRouteConfig().getVirtualHosts(0).getRoutesList().stream()
                .filter(r -> r.getMatch().getPath().equals("/ready"))
                .findFirst()
                .orElseThrow();
        assertThat(probe.getRoute().getHostRewriteLiteral()).isEqualTo(EnvoyNames.READINESS_HOST);
        Cluster edge = bootstrap.getStaticResources().getClustersList().stream()
                .filter(c -> c.getName().equals(probe.getRoute().getCluster()))
                .findFirst()
                .orElseThrow();
        var address = edge.getLoadAssignment()
                .getEndpoints(0)
                .getLbEndpoints(0)
                .getEndpoint()
                .getAddress()
                .getSocketAddress();
        assertThat(address.getAddress()).as("the pod's own edge listener").isEqualTo("127.0.0.1");

        GroupResources emitted = emitted();
        Listener edgeListener = emitted.listeners().stream()
                .filter(l -> !l.hasApiListener())
                .findFirst()
                .orElseThrow();
        assertThat(edgeListener.getAddress().getSocketAddress().getPortValue()).isEqualTo(address.getPortValue());
        String routeTable = envoyHcm(emitted).getRds().getRouteConfigName();
        RouteConfiguration rc = emitted.routes().stream()
                .filter(r -> r.getName().equals(routeTable))
                .findFirst()
                .orElseThrow();
        Route ready = rc.getVirtualHostsList().stream()
                .filter(vh -> vh.getDomainsList().contains(probe.getRoute().getHostRewriteLiteral()))
                .flatMap(vh -> vh.getRoutesList().stream())
                .filter(r -> r.getMatch().getPath().equals(probe.getMatch().getPath()))
                .findFirst()
                .orElseThrow();
        assertThat(ready.getDirectResponse().getStatus()).isEqualTo(200);
        assertThat(ready.getTypedPerFilterConfigMap())
                .as("the probe needs neither extauthz nor the DLP server")
                .containsKeys(EnvoyNames.EXT_AUTHZ_FILTER, EnvoyNames.EXT_PROC_FILTER);
        // accepted only with every cluster its routes name, which arrive in the CDS response with the filter clusters
        assertThat(rc.getValidateClusters().getValue()).isTrue();
        Set<String> emittedClusters =
                emitted.clusters().stream().map(Cluster::getName).collect(Collectors.toSet());
        assertThat(emittedClusters).contains(EnvoyNames.EXT_AUTHZ_CLUSTER, EnvoyNames.DLP_CLUSTER);
        assertThat(EnvoyValidator.validate(rc))
                .as("Envoy's own rules on the route table")
                .isEmpty();
    }

    @Test
    void bothBootstraps_raiseTheRe2ProgramSizeLimit_toWhatTheValidatorAllows() throws Exception {
        for (Path file : List.of(GATEWAY_BOOTSTRAP, RepoPaths.deployLocal().resolve("envoy-bootstrap.yaml"))) {
            Bootstrap b = EnvoyProtos.bootstrap(
                    file.toString(), YamlDocuments.read(file).getFirst().node());
            double level = b.getLayeredRuntime().getLayersList().stream()
                    .filter(l -> l.hasStaticLayer())
                    .map(l -> l.getStaticLayer().getFieldsMap().get("re2.max_program_size.error_level"))
                    .filter(v -> v != null)
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(
                            file + ": no re2.max_program_size.error_level; Envoy's default 100 NACKs ordinary regexes"))
                    .getNumberValue();
            assertThat((int) level).as(file.toString()).isEqualTo(EnvoyRegexBudget.ERROR_LEVEL);
        }
    }

    /**
     * Envoy's edge recommendations, item by item (envoyproxy/envoy docs/root/configuration/best_practices/edge.rst):
     * admin restricted, overload manager, listener and cluster buffer limits 32 KiB, use_remote_address, connection
     * and stream timeouts (idle 1 h, stream idle and request 300 s), HTTP/2 at most 100 streams with 64 KiB / 1 MiB
     * windows, headers with underscores refused, a global downstream connection limit.
     */
    @Test
    void gatewayConfig_followsEnvoysEdgeGuide() throws Exception {
        GroupResources r = emitted();
        Listener listener = r.listeners().stream()
                .filter(x -> !x.hasApiListener())
                .findFirst()
                .orElseThrow();
        assertThat(listener.getPerConnectionBufferLimitBytes().getValue()).isEqualTo(32 * 1024);
        HttpConnectionManager hcm = envoyHcm(r);
        assertThat(hcm.getUseRemoteAddress().getValue()).isTrue();
        assertThat(hcm.getCommonHttpProtocolOptions().getIdleTimeout().getSeconds())
                .isEqualTo(3600);
        assertThat(hcm.getStreamIdleTimeout().getSeconds()).isEqualTo(300);
        assertThat(hcm.getRequestTimeout().getSeconds()).isEqualTo(300);
        assertThat(hcm.getHttp2ProtocolOptions().getMaxConcurrentStreams().getValue())
                .isEqualTo(100);
        assertThat(hcm.getHttp2ProtocolOptions().getInitialStreamWindowSize().getValue())
                .isEqualTo(64 * 1024);
        assertThat(hcm.getHttp2ProtocolOptions()
                        .getInitialConnectionWindowSize()
                        .getValue())
                .isEqualTo(1024 * 1024);
        assertThat(hcm.getCommonHttpProtocolOptions().getHeadersWithUnderscoresAction())
                .isEqualTo(
                        io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.HeadersWithUnderscoresAction
                                .REJECT_REQUEST);
        // every cluster that opens connections (the endpoint-less meshguard-closed opens none)
        assertThat(r.clusters())
                .filteredOn(c -> !c.getName().equals("meshguard-closed"))
                .allSatisfy(c -> assertThat(c.getPerConnectionBufferLimitBytes().getValue())
                        .as(c.getName())
                        .isEqualTo(32 * 1024));
        Bootstrap bootstrap = EnvoyProtos.bootstrap(
                GATEWAY_BOOTSTRAP.toString(),
                YamlDocuments.read(GATEWAY_BOOTSTRAP).getFirst().node());
        assertThat(bootstrap.getAdmin().getAddress().getSocketAddress().getAddress())
                .isEqualTo("127.0.0.1");
        assertThat(bootstrap.getOverloadManager().getResourceMonitorsList())
                .extracting(m -> m.getName())
                .contains(
                        "envoy.resource_monitors.fixed_heap",
                        "envoy.resource_monitors.global_downstream_max_connections");
        assertThat(bootstrap.getOverloadManager().getActionsList())
                .extracting(a -> a.getName())
                .contains("envoy.overload_actions.shrink_heap", "envoy.overload_actions.stop_accepting_requests");
    }
}
