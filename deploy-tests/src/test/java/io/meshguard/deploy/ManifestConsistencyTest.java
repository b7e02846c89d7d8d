package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicyAction;
import io.fabric8.istio.api.networking.v1.DestinationRule;
import io.fabric8.istio.api.security.v1.AuthorizationPolicy;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The manifests agree with themselves: Services name real container ports, probes use gRPC health on the serving
 * port, the EnvoyFilter and the gateway bootstrap reach the right Service ports, NetworkPolicies and ALLOW policies
 * admit those ports, volumes refer to generated ConfigMaps or to the documented Secrets, and every pod is hardened.
 */
class ManifestConsistencyTest {
    /** The three meshguard servers: workload name → its gRPC port name. */
    static final Map<String, String> SERVERS = Map.of(
            "meshguard-extauthz", "grpc-authz",
            "meshguard-dlp", "grpc-extproc",
            "meshguard-xds", "grpc-ads");

    /** Secrets the operator creates before installing (manifests/istio/README.md); none is committed. */
    /** The Secrets docs/install.md's table "Every Secret and ConfigMap" lists (InstallInventoryTest). */
    static final Set<String> DOCUMENTED_SECRETS = InstallInventoryTest.documentedSecrets();

    private final Manifests manifests = Manifests.sources();

    private static Container container(Workload workload) {
        return workload.template().getSpec().getContainers().getFirst();
    }

    private static Optional<String> env(Container container, String name) {
        return Optional.ofNullable(container.getEnv()).orElse(List.of()).stream()
                .filter(e -> e.getName().equals(name))
                .map(EnvVar::getValue)
                .findFirst();
    }

    private Workload workloadSelectedBy(Map<String, String> selector) {
        List<Workload> matches = manifests
                .workloads()
                .filter(d -> d.template().getMetadata().getLabels().entrySet().containsAll(selector.entrySet()))
                .toList();
        assertThat(matches).as("pods selected by %s", selector).hasSize(1);
        return matches.getFirst();
    }

    private static int containerPort(Container container, String name) {
        return container.getPorts().stream()
                .filter(p -> p.getName().equals(name))
                .findFirst()
                .map(ContainerPort::getContainerPort)
                .orElseThrow(() -> new AssertionError(container.getName() + " has no port named " + name));
    }

    @Test
    void services_targetNamedContainerPortsOfExactlyOneDeployment() {
        manifests.models("Service", Service.class).forEach(service -> {
            Container container = container(workloadSelectedBy(service.getSpec().getSelector()));
            for (ServicePort port : service.getSpec().getPorts()) {
                assertThat(port.getTargetPort().getStrVal())
                        .as("%s targetPort", service.getMetadata().getName())
                        .isEqualTo(port.getName());
                containerPort(container, port.getName());
                if ("grpc".equals(port.getAppProtocol())) {
                    // Istio picks HTTP/2 by the port name prefix (and appProtocol); both say gRPC here.
                    assertThat(port.getName()).startsWith("grpc-");
                }
            }
        });
    }

    @Test
    void servers_probeGrpcHealthOnTheirServingPort() {
        SERVERS.forEach((name, grpcPort) -> {
            Container container = container(manifests.workload(name));
            int port = containerPort(container, grpcPort);
            for (Probe probe :
                    List.of(container.getReadinessProbe(), container.getLivenessProbe(), container.getStartupProbe())) {
                assertThat(probe).as("%s probes", name).isNotNull();
                assertThat(probe.getGrpc())
                        .as("%s probe uses grpc.health.v1", name)
                        .isNotNull();
                assertThat(probe.getGrpc().getPort()).as("%s probe port", name).isEqualTo(port);
            }
        });
    }

    @Test
    void everyPod_isHardened() {
        manifests.workloads().forEach(ManifestConsistencyTest::assertHardened);
    }

    /** Non-root, no API token, no privilege, read-only root, bounded resources: what every meshguard pod is. */
    static void assertHardened(Workload deployment) {
        String name = deployment.name();
        PodSpec pod = deployment.template().getSpec();
        assertThat(pod.getSecurityContext().getRunAsNonRoot())
                .as("%s runAsNonRoot", name)
                .isTrue();
        assertThat(pod.getSecurityContext().getRunAsUser())
                .as("%s numeric non-root user", name)
                .isPositive();
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        assertThat(pod.getAutomountServiceAccountToken())
                .as("%s needs no API token", name)
                .isFalse();
        for (Container c : pod.getContainers()) {
            var sc = c.getSecurityContext();
            assertThat(sc.getAllowPrivilegeEscalation())
                    .as("%s allowPrivilegeEscalation", name)
                    .isFalse();
            assertThat(sc.getReadOnlyRootFilesystem())
                    .as("%s readOnlyRootFilesystem", name)
                    .isTrue();
            assertThat(sc.getCapabilities().getDrop())
                    .as("%s capabilities", name)
                    .containsExactly("ALL");
            assertThat(sc.getCapabilities().getAdd())
                    .as("%s adds no capability", name)
                    .isNullOrEmpty();
            Map<String, Quantity> requests = c.getResources().getRequests();
            Map<String, Quantity> limits = c.getResources().getLimits();
            assertThat(requests).as("%s requests", name).containsKeys("cpu", "memory");
            assertThat(limits).as("%s limits", name).containsKeys("cpu", "memory");
            assertThat(Quantity.getAmountInBytes(requests.get("memory")))
                    .isLessThanOrEqualTo(Quantity.getAmountInBytes(limits.get("memory")));
            assertThat(Quantity.getAmountInBytes(requests.get("cpu")))
                    .isLessThanOrEqualTo(Quantity.getAmountInBytes(limits.get("cpu")));
        }
    }

    @Test
    void terminationGrace_outlastsPreStopDrainAndShutdown() {
        manifests.workloads().forEach(deployment -> {
            String name = deployment.name();
            Container c = container(deployment);
            long preStop = c.getLifecycle() == null || c.getLifecycle().getPreStop() == null
                    ? 0
                    : Long.parseLong(
                            c.getLifecycle().getPreStop().getExec().getCommand().get(1));
            long serverStop = 0;
            if (SERVERS.containsKey(name)) {
                serverStop = ServerContract.forDeployment(name).stopWindow(c).toSeconds();
            }
            assertThat(deployment.template().getSpec().getTerminationGracePeriodSeconds())
                    .as("%s: grace period > preStop %d s + drain and shutdown %d s", name, preStop, serverStop)
                    .isGreaterThan(preStop + serverStop);
        });
    }

    @Test
    void prometheusAnnotations_pointAtADeclaredPort() {
        manifests.workloads().forEach(deployment -> {
            Map<String, String> annotations =
                    deployment.template().getMetadata().getAnnotations();
            assertThat(annotations).containsEntry("prometheus.io/scrape", "true");
            int port = Integer.parseInt(annotations.get("prometheus.io/port"));
            Container c = container(deployment);
            boolean declared = c.getPorts().stream().anyMatch(p -> p.getContainerPort() == port);
            // The gateway's Envoy admin listens on loopback only, so it is not a declared container port.
            boolean envoyAdmin = c.getImage().startsWith("envoyproxy/") && port == 9901;
            assertThat(declared || envoyAdmin)
                    .as("%s scrape port %d", deployment.name(), port)
                    .isTrue();
        });
    }

    @Test
    void autoscaledDeployments_leaveTheReplicaCountToTheirAutoscaler() {
        Set<String> autoscaled = manifests
                .models("HorizontalPodAutoscaler", HorizontalPodAutoscaler.class)
                .map(hpa -> {
                    Workload target =
                            manifests.workload(hpa.getSpec().getScaleTargetRef().getName());
                    assertThat(hpa.getSpec().getScaleTargetRef().getKind()).isEqualTo(target.kind());
                    return target.name();
                })
                .collect(Collectors.toSet());
        manifests.workloads().forEach(d -> {
            String name = d.name();
            // A replicas field beside an HPA is reset on every apply, undoing the autoscaler.
            assertThat(d.replicas())
                    .as("%s replicas", name)
                    .matches(r -> autoscaled.contains(name) ? r == null : r != null && r >= 2);
        });
    }

    @Test
    void disruptionBudgets_leaveRoomToDrainANode() {
        manifests.models("PodDisruptionBudget", PodDisruptionBudget.class).forEach(pdb -> {
            Workload target = workloadSelectedBy(pdb.getSpec().getSelector().getMatchLabels());
            int floor = replicaFloor(manifests, target);
            assertThat(pdb.getSpec().getMinAvailable().getIntVal())
                    .as(pdb.getMetadata().getName())
                    .isLessThan(floor);
        });
    }

    /** The fewest pods a workload runs: its HPA's minimum, or its fixed replica count. */
    static int replicaFloor(Manifests manifests, Workload deployment) {
        return manifests
                .models("HorizontalPodAutoscaler", HorizontalPodAutoscaler.class)
                .filter(hpa -> hpa.getSpec().getScaleTargetRef().getName().equals(deployment.name()))
                .map(hpa -> hpa.getSpec().getMinReplicas())
                .findFirst()
                .orElseGet(deployment::replicas);
    }

    @Test
    void extProcFilter_streamsToTheDlpServiceAndFailsClosed() throws Exception {
        SourcedDocument doc = manifests.find("EnvoyFilter", "meshguard-dlp-ext-proc");
        var patches = doc.node().path("spec").path("configPatches");
        ExternalProcessor extProc = null;
        for (int i = 0; i < patches.size(); i++) {
            HttpFilter filter = (HttpFilter) EnvoyProtos.patchValue(
                    doc.describe(), "HTTP_FILTER", patches.get(i).path("patch").path("value"));
            if (filter.getName().equals("envoy.filters.http.ext_proc")) {
                extProc = filter.getTypedConfig().unpack(ExternalProcessor.class);
                assertThat(patches.get(i).path("match").path("context").asText())
                        .isEqualTo("SIDECAR_INBOUND");
            }
        }
        assertThat(extProc).as("ext_proc filter in %s", doc.describe()).isNotNull();
        assertThat(extProc.getFailureModeAllow()).as("fail closed").isFalse();
        ProcessingMode mode = extProc.getProcessingMode();
        assertThat(mode.getRequestBodyMode()).isEqualTo(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED);
        assertThat(mode.getResponseBodyMode()).isEqualTo(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED);
        // Envoy rejects FULL_DUPLEX_STREAMED unless the trailer mode of that direction is SEND (ext_proc config.cc).
        assertThat(mode.getRequestTrailerMode()).isEqualTo(ProcessingMode.HeaderSendMode.SEND);
        assertThat(mode.getResponseTrailerMode()).isEqualTo(ProcessingMode.HeaderSendMode.SEND);
        // Dead config under FULL_DUPLEX_STREAMED: Envoy starts no message timer in that mode, header phases included
        // (source/extensions/filters/http/ext_proc/processor_state.cc), so a value here would only mislead readers.
        assertThat(extProc.hasMessageTimeout())
                .as("message_timeout is ignored with FULL_DUPLEX_STREAMED")
                .isFalse();
        assertThat(extProc.getDisableImmediateResponse())
                .as("blocks are immediate responses")
                .isFalse();

        String cluster = extProc.getGrpcService().getEnvoyGrpc().getClusterName();
        String[] parts = cluster.split("\\|", -1);
        assertThat(parts).as("Istio outbound cluster name %s", cluster).hasSize(4);
        assertThat(parts[0]).isEqualTo("outbound");
        MeshConfigTest.assertGrpcServicePort(manifests, parts[3], Integer.parseInt(parts[1]));
        assertThat(parts[3]).isEqualTo("meshguard-dlp.meshguard.svc.cluster.local");
        assertThat(doc.node()
                        .path("spec")
                        .path("workloadSelector")
                        .path("labels")
                        .path("meshguard.io/dlp")
                        .asText())
                .isEqualTo("true");
    }

    @Test
    void gatewayBootstrap_reachesTheXdsServiceGrpcPort() {
        Bootstrap bootstrap = gatewayBootstrap();
        SocketAddress address = EnvoyProtos.firstStaticEndpoint(bootstrap);
        MeshConfigTest.assertGrpcServicePort(manifests, address.getAddress(), address.getPortValue());
        assertThat(address.getAddress()).startsWith("meshguard-xds.");
        assertThat(bootstrap.getNode().getCluster()).as("gateway group").isNotBlank();
        assertThat(bootstrap.getAdmin().getAddress().getSocketAddress().getAddress())
                .isEqualTo("127.0.0.1");
    }

    private static Bootstrap gatewayBootstrap() {
        Path file = RepoPaths.manifests().resolve("base/envoy/bootstrap.yaml");
        return EnvoyProtos.bootstrap(
                file.toString(), YamlDocuments.read(file).getFirst().node());
    }

    @Test
    void networkPolicies_admitEveryServicePort() {
        List<NetworkPolicy> policies =
                manifests.models("NetworkPolicy", NetworkPolicy.class).toList();
        assertThat(policies).anySatisfy(p -> {
            assertThat(p.getSpec().getPodSelector().getMatchLabels()).isNullOrEmpty();
            assertThat(p.getSpec().getIngress()).isNullOrEmpty();
            assertThat(p.getSpec().getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");
        });
        manifests.models("Service", Service.class).forEach(service -> {
            Map<String, String> labels = service.getSpec().getSelector();
            for (ServicePort port : service.getSpec().getPorts()) {
                if (port.getName().equals("http-status")) {
                    continue; // scraped through the sidecar's merged metrics on 15020, not directly
                }
                int containerPort = containerPort(container(workloadSelectedBy(labels)), port.getName());
                assertThat(policies)
                        .as("%s port %d admitted", service.getMetadata().getName(), containerPort)
                        .anySatisfy(p -> {
                            Map<String, String> selector = Optional.ofNullable(
                                            p.getSpec().getPodSelector().getMatchLabels())
                                    .orElse(Map.of());
                            assertThat(labels.entrySet()).containsAll(selector.entrySet());
                            assertThat(p.getSpec().getIngress()).anySatisfy(rule -> assertThat(rule.getPorts())
                                    .extracting(NetworkPolicyPort::getPort)
                                    .anySatisfy(np -> assertThat(np.getIntVal()).isEqualTo(containerPort)));
                        });
            }
        });
    }

    @Test
    void allowPolicies_admitEachServersGrpcPort() {
        Map<String, List<AuthorizationPolicy>> allowBySelector = manifests
                .models("AuthorizationPolicy", AuthorizationPolicy.class)
                .filter(p -> p.getSpec().getAction() == AuthorizationPolicyAction.ALLOW)
                .collect(Collectors.groupingBy(
                        p -> p.getSpec().getSelector().getMatchLabels().get("app.kubernetes.io/name")));
        SERVERS.forEach((name, grpcPort) -> {
            int port = containerPort(container(manifests.workload(name)), grpcPort);
            assertThat(allowBySelector.get(name))
                    .as("ALLOW policy for %s", name)
                    .isNotNull()
                    .anySatisfy(p -> assertThat(p.getSpec().getRules()).anySatisfy(rule -> assertThat(rule.getTo())
                            .anySatisfy(to ->
                                    assertThat(to.getOperation().getPorts()).contains(String.valueOf(port)))));
        });
    }

    /** Ports the pods of {@code service} exclude from the sidecar's inbound capture. */
    private Set<Integer> uncapturedPorts(Service service) {
        Workload target = workloadSelectedBy(service.getSpec().getSelector());
        String excluded = Optional.ofNullable(target.template().getMetadata().getAnnotations())
                .map(a -> a.get("traffic.sidecar.istio.io/excludeInboundPorts"))
                .orElse("");
        return java.util.Arrays.stream(excluded.split(","))
                .map(String::trim)
                .filter(p -> !p.isEmpty())
                .map(Integer::valueOf)
                .collect(Collectors.toSet());
    }

    @Test
    void destinationRules_nameExistingServicesAndMatchWhatTheirPodsAccept() {
        manifests.models("DestinationRule", DestinationRule.class).forEach(rule -> {
            String host = rule.getSpec().getHost();
            String[] parts = host.split("\\.");
            Service service = manifests.service(parts[0]);
            assertThat(service.getMetadata().getNamespace()).isEqualTo(parts[1]);
            Container c = container(workloadSelectedBy(service.getSpec().getSelector()));
            boolean plain = service.getSpec().getPorts().stream().allMatch(p -> uncapturedPorts(service)
                    .contains(containerPort(c, p.getTargetPort().getStrVal())));
            // A port the sidecar does not capture receives what the client sends: Istio mTLS would arrive as TLS
            // bytes on a plain listener (auto-mTLS ignores excludeInboundPorts, istio/istio#30311).
            assertThat(rule.getSpec().getTrafficPolicy().getTls().getMode().name())
                    .as(host)
                    .isEqualTo(plain ? "DISABLE" : "ISTIO_MUTUAL");
        });
    }

    @Test
    void everyServiceOnUncapturedPorts_hasADestinationRuleThatDisablesMtls() {
        Set<String> hosts = manifests
                .models("DestinationRule", DestinationRule.class)
                .map(r -> r.getSpec().getHost())
                .collect(Collectors.toSet());
        manifests.models("Service", Service.class).forEach(service -> {
            Container c = container(workloadSelectedBy(service.getSpec().getSelector()));
            boolean uncaptured = service.getSpec().getPorts().stream().anyMatch(p -> uncapturedPorts(service)
                    .contains(containerPort(c, p.getTargetPort().getStrVal())));
            if (uncaptured) {
                String host = service.getMetadata().getName() + "."
                        + service.getMetadata().getNamespace() + ".svc.cluster.local";
                assertThat(hosts)
                        .as("DestinationRule for %s (review item C3)", host)
                        .contains(host);
            }
        });
    }

    /**
     * VHDS (docs/gateway-envoy-config.md §11): the controller names the gateway bootstrap's own cluster to it, and a
     * gateway's ADS and VHDS streams reach one replica (the sidecar hashes the source address), which holds the
     * virtual hosts until the gateway has their clusters.
     */
    @Test
    void gatewayVirtualHosts_comeThroughTheBootstrapsControllerCluster_fromTheReplicaServingItsAds() {
        Bootstrap bootstrap = gatewayBootstrap();
        String adsCluster = EnvoyProtos.adsClusterName(bootstrap);
        assertThat(container(manifests.workload("meshguard-xds")).getEnv())
                .filteredOn(e -> e.getName().equals(io.meshguard.xds.XdsSettings.VHDS_CLUSTER.envVar()))
                .extracting(io.fabric8.kubernetes.api.model.EnvVar::getValue)
                .singleElement()
                .isEqualTo(adsCluster);
        assertThat(bootstrap.getStaticResources().getClustersList())
                .extracting(c -> c.getName())
                .contains(adsCluster);
        var balancing = manifests
                .model("DestinationRule", "meshguard-xds", DestinationRule.class)
                .getSpec()
                .getTrafficPolicy()
                .getLoadBalancer();
        assertThat(balancing).as("meshguard-xds loadBalancer").isNotNull();
        assertThat(balancing.getLbPolicy())
                .as("meshguard-xds hashes on the source address")
                .isInstanceOfSatisfying(
                        io.fabric8.istio.api.api.networking.v1alpha3.LoadBalancerSettingsConsistentHash.class,
                        h -> assertThat(h.getConsistentHash().getHashKey())
                                .isInstanceOfSatisfying(
                                        io.fabric8.istio.api.api.networking.v1alpha3
                                                .LoadBalancerSettingsConsistentHashLBUseSourceIp.class,
                                        k -> assertThat(k.getUseSourceIp()).isTrue()));
    }

    @Test
    void extProcDestinationRule_keepsTcpAlive() {
        // Envoy has no ext_proc timer under FULL_DUPLEX_STREAMED and Istio sets no stream idle timeout: only TCP
        // keepalive notices a DLP replica that vanished without a RST (review item A4).
        var tcp = manifests
                .model("DestinationRule", "meshguard-dlp", DestinationRule.class)
                .getSpec()
                .getTrafficPolicy()
                .getConnectionPool()
                .getTcp();
        assertThat(tcp.getTcpKeepalive()).as("meshguard-dlp tcpKeepalive").isNotNull();
        Duration time = ProtoDurations.parse(tcp.getTcpKeepalive().getTime());
        Duration interval = ProtoDurations.parse(tcp.getTcpKeepalive().getInterval());
        assertThat(time.plus(interval.multipliedBy(tcp.getTcpKeepalive().getProbes())))
                .as("a dead DLP peer is found within two minutes")
                .isLessThanOrEqualTo(Duration.ofMinutes(2));
    }

    @Test
    void trustedGateways_areTheEdgeGatewaysIdentity() {
        // Review item A5: at a protected workload's sidecar extauthz trusts identity headers only from these mTLS
        // peers; a principal that is not the gateway's ServiceAccount breaks every gateway request (or trusts a
        // stranger). The policy key arrives with extauthz's mesh identity rules.
        JsonNode gateways = YamlDocuments.read(RepoPaths.policies().resolve("authz.yaml"))
                .getFirst()
                .node()
                .path("mesh")
                .path("trusted_gateways");
        org.junit.jupiter.api.Assumptions.assumeTrue(
                gateways.isArray(), "policies/authz.yaml has no mesh.trusted_gateways in this checkout");
        Workload gateway = manifests.workload("meshguard-gateway");
        String principal = "cluster.local/ns/" + gateway.metadata().getNamespace() + "/sa/"
                + gateway.template().getSpec().getServiceAccountName();
        assertThat(gateways).extracting(JsonNode::asText).containsExactly(principal);
        assertThat(manifests.ofKind("ServiceAccount").map(SourcedDocument::name))
                .contains(gateway.template().getSpec().getServiceAccountName());
    }

    @Test
    void credentialFilesTheShippedPolicyNames_areMountedIntoExtauthz() throws Exception {
        // Review item A8: the backoffice-admin route read a file no manifest mounted (503 in the cluster).
        JsonNode policy = YamlDocuments.read(RepoPaths.policies().resolve("authz.yaml"))
                .getFirst()
                .node();
        List<String> files = policy.findValues("upstream_credential").stream()
                .map(u -> u.path("file").asText())
                .filter(f -> !f.isEmpty())
                .toList();
        assertThat(files).isNotEmpty();
        Workload extauthz = manifests.workload("meshguard-extauthz");
        Container c = container(extauthz);
        for (String file : files) {
            var mount = c.getVolumeMounts().stream()
                    .filter(m -> file.startsWith(m.getMountPath() + "/"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no volume mounted above " + file));
            String relative = file.substring(mount.getMountPath().length() + 1);
            var volume = extauthz.template().getSpec().getVolumes().stream()
                    .filter(v -> v.getName().equals(mount.getName()))
                    .findFirst()
                    .orElseThrow();
            var provided = SecretVolumes.files(volume);
            assertThat(provided).as("%s provides %s", volume.getName(), file).containsKey(relative);
            assertThat(DOCUMENTED_SECRETS).contains(provided.get(relative).secret());
        }
    }

    @Test
    void volumes_referToGeneratedConfigMapsAndDocumentedSecretsOnly() {
        Set<String> generated = GeneratedConfigMaps.ofBase().stream()
                .map(GeneratedConfigMaps.Generator::name)
                .collect(Collectors.toSet());
        assertThat(manifests.ofKind("Secret"))
                .as("Secrets are created by the operator, never committed")
                .isEmpty();
        manifests.workloads().forEach(deployment -> {
            PodSpec pod = deployment.template().getSpec();
            pod.getVolumes().forEach(volume -> {
                if (volume.getConfigMap() != null) {
                    assertThat(generated).contains(volume.getConfigMap().getName());
                }
                if (volume.getSecret() != null) {
                    assertThat(DOCUMENTED_SECRETS).contains(volume.getSecret().getSecretName());
                }
                if (volume.getProjected() != null) {
                    volume.getProjected().getSources().forEach(source -> {
                        assertThat(source.getConfigMap())
                                .as("projected ConfigMaps are not generated")
                                .isNull();
                        if (source.getSecret() != null) {
                            assertThat(DOCUMENTED_SECRETS)
                                    .contains(source.getSecret().getName());
                        }
                    });
                }
            });
            pod.getContainers().forEach(c -> Optional.ofNullable(c.getEnv())
                    .orElse(List.of())
                    .forEach(e -> {
                        if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
                            assertThat(DOCUMENTED_SECRETS)
                                    .contains(e.getValueFrom().getSecretKeyRef().getName());
                        }
                    }));
        });
    }

    @Test
    void hostPortSettings_nameServiceGrpcPorts() {
        // Settings like MESHGUARD_XDS_EXTAUTHZ_TARGET tell a server where another one listens.
        manifests.workloads().forEach(deployment -> {
            for (EnvVar e : Optional.ofNullable(container(deployment).getEnv()).orElse(List.of())) {
                if (e.getName().endsWith("_TARGET") && e.getValue() != null) {
                    String[] hostPort = e.getValue().split(":");
                    assertThat(hostPort).as(e.getName()).hasSize(2);
                    MeshConfigTest.assertGrpcServicePort(manifests, hostPort[0], Integer.parseInt(hostPort[1]));
                }
            }
        });
    }

    @Test
    void gatewayHeapLimit_staysBelowItsContainerMemoryLimit() throws Exception {
        Path file = RepoPaths.manifests().resolve("base/envoy/bootstrap.yaml");
        Bootstrap bootstrap = EnvoyProtos.bootstrap(
                file.toString(), YamlDocuments.read(file).getFirst().node());
        long maxHeap = bootstrap.getOverloadManager().getResourceMonitorsList().stream()
                .filter(m -> m.getName().equals("envoy.resource_monitors.fixed_heap"))
                .map(m -> unpackHeap(m.getTypedConfig()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no fixed_heap overload monitor"));
        Quantity limit = container(manifests.workload("meshguard-gateway"))
                .getResources()
                .getLimits()
                .get("memory");
        // The overload manager must act before the kernel's OOM killer does.
        assertThat(java.math.BigDecimal.valueOf(maxHeap)).isLessThan(Quantity.getAmountInBytes(limit));
    }

    private static long unpackHeap(com.google.protobuf.Any any) {
        try {
            return any.unpack(io.envoyproxy.envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig.class)
                    .getMaxHeapSizeBytes();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }
}
