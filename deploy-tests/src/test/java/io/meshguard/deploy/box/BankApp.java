package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
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
