package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
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
        objects.service(payments());
        objects.service(accountsMcp());
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

    private static Service payments() {
        return new ServiceBuilder()
                .withNewMetadata()
                .withName(PAYMENTS)
                .withNamespace(NAMESPACE)
                .endMetadata()
                .withNewSpec()
                .withSelector(Map.of("app", PAYMENTS))
                .addNewPort()
                .withName("http")
                .withPort(HTTP_PORT)
                .withNewTargetPort("http")
                .endPort()
                .addNewPort()
                .withName("grpc")
                .withPort(GRPC_PORT)
                .withNewTargetPort("grpc")
                .endPort()
                .endSpec()
                .build();
    }

    private static Service accountsMcp() {
        return new ServiceBuilder()
                .withNewMetadata()
                .withName(ACCOUNTS_MCP)
                .withNamespace(NAMESPACE)
                .endMetadata()
                .withNewSpec()
                .withSelector(Map.of("app", ACCOUNTS_MCP))
                .addNewPort()
                .withName("http")
                .withPort(HTTP_PORT)
                .withNewTargetPort("http")
                .endPort()
                .endSpec()
                .build();
    }

    static PodSpec accountsMcpSpec() {
        PodSpec spec = new PodSpec();
        spec.setServiceAccountName(ACCOUNTS_MCP);
        spec.setContainers(List.of(new ContainerBuilder()
                .withName(ACCOUNTS_MCP)
                .withImage("bank/" + ACCOUNTS_MCP)
                .addNewPort()
                .withName("http")
                .withContainerPort(HTTP_PORT)
                .endPort()
                .build()));
        return spec;
    }

    static PodSpec paymentsSpec() {
        PodSpec spec = new PodSpec();
        spec.setServiceAccountName(PAYMENTS);
        spec.setContainers(List.of(new ContainerBuilder()
                .withName(PAYMENTS)
                .withImage("bank/" + PAYMENTS)
                .addNewPort()
                .withName("http")
                .withContainerPort(HTTP_PORT)
                .endPort()
                .addNewPort()
                .withName("grpc")
                .withContainerPort(GRPC_PORT)
                .endPort()
                .build()));
        return spec;
    }

    static PodSpec clientSpec() {
        PodSpec spec = new PodSpec();
        spec.setServiceAccountName(CLIENT);
        spec.setContainers(List.of(new ContainerBuilder()
                .withName(CLIENT)
                .withImage("bank/" + CLIENT)
                .build()));
        return spec;
    }
}
