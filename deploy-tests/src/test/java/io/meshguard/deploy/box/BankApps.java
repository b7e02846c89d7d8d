package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServiceSpecBuilder;
import java.util.List;
import java.util.Map;

/**
 * The bank's own workloads in the mesh, beside meshguard: what the proxyless and upstream journeys call and call from.
 * <ul>
 * <li>namespace {@value #NAMESPACE} (sidecar injection on), STRICT by the bank's own namespace-wide
 *     PeerAuthentication {@code default} (Istio's recommended mesh hardening), with Service {@value #PAYMENTS}:
 *     {@code http} {@value #HTTP_PORT} and {@code grpc} {@value #GRPC_PORT} ({@link BankBackend});</li>
 * <li>in the same namespace, Service {@value #ACCOUNTS_MCP} ({@value #HTTP_PORT}, {@code http}): the bank's MCP server
 *     ({@link McpNode}), which agents reach through the edge gateway only;</li>
 * <li>namespace {@value #CLIENTS_NAMESPACE}, the namespace the shipped ADS policies admit proxyless clients from
 *     (manifests/istio/README.md), with a pod of service account {@value #CLIENT}: its container is the journey's
 *     grpc-java client ({@link ProxylessClient}), run on demand in the pod's network namespace.</li>
 * </ul>
 */
final class BankApps {
    static final String NAMESPACE = "bank-apps";
    static final String CLIENTS_NAMESPACE = "meshguard-xds-clients";
    static final String PAYMENTS = "payments";
    static final String CLIENT = "orders-client";
    static final String ACCOUNTS_MCP = "accounts-mcp";
    static final int HTTP_PORT = 8080;
    static final int GRPC_PORT = 9090;
    /** The uid the bank's containers run as. */
    static final String USER = "10001:10001";
    /** The proxyless client's gateway group; its grant is the operator's edit of the controller's grant list. */
    static final String PROXYLESS_GROUP = "payments-grpc";

    private BankApps() {}

    static String paymentsHost() {
        return ServiceDirectory.fqdn(PAYMENTS, NAMESPACE);
    }

    static String clientIdentity() {
        return "spiffe://cluster.local/ns/" + CLIENTS_NAMESPACE + "/sa/" + CLIENT;
    }

    static void apply(ClusterObjects objects) {
        objects.namespace(NAMESPACE, Map.of("istio-injection", "enabled"));
        objects.namespace(CLIENTS_NAMESPACE, Map.of("istio-injection", "enabled"));
        objects.service(service(PAYMENTS, "http", "grpc"));
        objects.service(service(ACCOUNTS_MCP, "http"));
        ObjectMapper json = new ObjectMapper();
        JsonNode strict = json.valueToTree(Map.of(
                "apiVersion",
                "security.istio.io/v1",
                "kind",
                "PeerAuthentication",
                "metadata",
                Map.of("name", "default", "namespace", NAMESPACE),
                "spec",
                Map.of("mtls", Map.of("mode", "STRICT"))));
        objects.apply(List.of(strict));
    }

    /** A port of the bank's workloads by its name: {@code http} ({@value #HTTP_PORT}) or {@code grpc}. */
    private static int port(String name) {
        return name.equals("grpc") ? GRPC_PORT : HTTP_PORT;
    }

    /** A Service selecting {@code app: name} in {@link #NAMESPACE}, each port targeting the container port of its name. */
    private static Service service(String name, String... ports) {
        ServiceSpecBuilder spec = new ServiceSpecBuilder().withSelector(Map.of("app", name));
        for (String port : ports) {
            spec.addNewPort()
                    .withName(port)
                    .withPort(port(port))
                    .withNewTargetPort(port)
                    .endPort();
        }
        return new ServiceBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(NAMESPACE)
                .endMetadata()
                .withSpec(spec.build())
                .build();
    }

    /** A pod of service account {@code name} whose one container, image {@code bank/name}, declares {@code ports}. */
    private static PodSpec spec(String name, String... ports) {
        ContainerBuilder container = new ContainerBuilder().withName(name).withImage("bank/" + name);
        for (String port : ports) {
            container.addNewPort().withName(port).withContainerPort(port(port)).endPort();
        }
        PodSpec spec = new PodSpec();
        spec.setServiceAccountName(name);
        spec.setContainers(List.of(container.build()));
        return spec;
    }

    static PodSpec accountsMcpSpec() {
        return spec(ACCOUNTS_MCP, "http");
    }

    static PodSpec paymentsSpec() {
        return spec(PAYMENTS, "http", "grpc");
    }

    static PodSpec clientSpec() {
        return spec(CLIENT);
    }
}
