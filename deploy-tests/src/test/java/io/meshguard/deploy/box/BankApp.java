package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.meshguard.deploy.RenderedManifests;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;

/**
 * An application of the bank behind the gateway (namespace {@code payments}, README step 4): it answers every request
 * with the headers it received (what the gateway let through and added) and a customer's card number, as a statement
 * would carry it, so a journey can see the identity headers, the missing credential and the DLP mask.
 */
public final class BankApp {
    /** A card number the response carries (Luhn-valid, not on dlp.yaml's allow list of test numbers). */
    static final String CARD = "4539 1488 0343 6467";

    static final String NAMESPACE = "payments";
    static final String NAME = "api";
    static final int PORT = 8080;
    /** README step 4's labels on the app's pod template: ext_authz (CUSTOM) and DLP (EnvoyFilter) in its sidecar. */
    static final String PROTECTED_LABEL = "meshguard.io/protected";

    static final String DLP_LABEL = "meshguard.io/dlp";
    /** The rule the bank's security team adds for this app to policies/authz.yaml (its sidecar's Check names it). */
    static final String RULE = "payments-api";

    /**
     * The shipped authz.yaml with the bank's rule for this app first among the routes: the sidecar's Check carries
     * the Service's host, which no shipped rule names, so without it every request to the labelled app is denied
     * (no route). Callers in the mesh bring a customer's token or an API key; what the edge gateway allowed is
     * decided again on the identity it handed over (policies/README.md, "The gateway hop").
     */
    static String withItsRules(String authzYaml) {
        String marker = "\nroutes:\n";
        int at = authzYaml.indexOf(marker);
        if (at < 0) {
            throw new AssertionError("the shipped authz.yaml has no routes: section");
        }
        String rule = """
                  # the bank's own app in namespace payments (labelled meshguard.io/protected, README step 4)
                  - name: %s
                    match: {hosts: [%s], path_prefix: /}
                    auth: jwt_or_apikey
                """.formatted(RULE, ServiceDirectory.fqdn(NAME, NAMESPACE));
        int end = at + marker.length();
        return authzYaml.substring(0, end) + rule + authzYaml.substring(end);
    }

    private BankApp() {}

    /**
     * manifests/istio/README.md step 4 for the bank's application namespace {@value #NAMESPACE} in a cluster:
     * sidecar injection on, the app-namespace kit applied in it ({@code kubectl apply -k manifests/istio/app-namespace
     * -n payments}), the bank's own namespace-wide STRICT PeerAuthentication, and the Service {@value #NAME} (port
     * {@value #PORT}, {@code http}) of its Deployment; returns the Deployment's pod spec. The pod's labels are the
     * caller's: central labels it {@value #PROTECTED_LABEL} and {@value #DLP_LABEL}; a zone's cluster, whose sidecars
     * model no ext_authz or ext_proc filter, leaves it reached through its gateway only.
     */
    static PodSpec install(ClusterObjects objects) throws IOException, InterruptedException {
        objects.namespace(NAMESPACE, Map.of("istio-injection", "enabled"));
        List<JsonNode> kit = RenderedManifests.render("app-namespace");
        kit.forEach(d -> ((ObjectNode) d.path("metadata")).put("namespace", NAMESPACE));
        objects.apply(kit);
        objects.apply(List.of(new ObjectMapper()
                .readTree("{\"apiVersion\": \"security.istio.io/v1\", \"kind\": "
                        + "\"PeerAuthentication\", \"metadata\": {\"name\": \"default\", \"namespace\": \"" + NAMESPACE
                        + "\"}, "
                        + "\"spec\": {\"mtls\": {\"mode\": \"STRICT\"}}}")));
        objects.service(new ServiceBuilder()
                .withNewMetadata()
                .withName(NAME)
                .withNamespace(NAMESPACE)
                .endMetadata()
                .withNewSpec()
                .withSelector(Map.of("app", NAME))
                .addNewPort()
                .withName("http")
                .withPort(PORT)
                .withNewTargetPort(PORT)
                .endPort()
                .endSpec()
                .build());
        PodSpec spec = new PodSpec();
        spec.setServiceAccountName(NAME);
        spec.setContainers(List.of(new ContainerBuilder()
                .withName(NAME)
                .withImage("bank/" + NAME)
                .addNewPort()
                .withName("http")
                .withContainerPort(PORT)
                .endPort()
                .build()));
        return spec;
    }

    /** The app's container in {@code pod}: this class on the test's class path. */
    static Launch launch(BoxPod pod, String hosts, String classpath, Path boxDir) {
        return new Launch(
                pod.name(),
                pod.netns(),
                List.of(),
                hosts,
                false,
                Optional.empty(),
                Map.of(),
                List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx64m",
                        "-XX:TieredStopAtLevel=1",
                        "-cp",
                        classpath,
                        BankApp.class.getName(),
                        Integer.toString(PORT)),
                boxDir.resolve(NAMESPACE + "_" + pod.name()));
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        ObjectMapper json = new ObjectMapper();
        HttpServer server = HttpServer.create(new InetSocketAddress("0.0.0.0", port), 100);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            ObjectNode answer = json.createObjectNode();
            answer.put("path", ex.getRequestURI().getRawPath());
            ObjectNode headers = answer.putObject("headers");
            ex.getRequestHeaders().forEach((name, values) -> headers.put(name.toLowerCase(), String.join(",", values)));
            answer.put("statement", "card " + CARD + " charged 12.00");
            byte[] body = json.writeValueAsBytes(answer);
            ex.getResponseHeaders().add("content-type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        System.out.println("bank app listening on " + port);
        System.out.flush();
        Thread.currentThread().join();
    }
}
