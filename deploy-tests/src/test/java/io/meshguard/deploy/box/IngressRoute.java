package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The one ingress route of the install: a {@code Gateway} server terminating TLS ({@code protocol: HTTPS},
 * {@code tls.mode: SIMPLE}) and the {@code VirtualService} bound to that Gateway, whose single HTTP route sends
 * everything under its URI prefix to one Service port. What the box's {@link IngressGateway} does with it. A field the
 * box does not model fails the install (never ignored); the route's URI match is not enforced (the gateway relays
 * the decrypted stream to the route's one destination), which deploy-tests/README.md lists.
 */
record IngressRoute(
        String gateway, int port, String host, String credentialName, String minProtocol, String destination) {
    private static final Set<String> SERVER_FIELDS = Set.of("port", "tls", "hosts");
    private static final Set<String> TLS_FIELDS = Set.of("mode", "credentialName", "minProtocolVersion");
    private static final Set<String> ROUTE_FIELDS = Set.of("name", "match", "route", "timeout");

    static IngressRoute of(List<JsonNode> istio) {
        List<JsonNode> gateways = istio.stream()
                .filter(d -> d.path("kind").asText().equals("Gateway"))
                .toList();
        if (gateways.size() != 1) {
            throw new IllegalStateException("the box models one Gateway, the install has " + gateways.size());
        }
        JsonNode gw = gateways.getFirst();
        String name = gw.path("metadata").path("namespace").asText() + "/"
                + gw.path("metadata").path("name").asText();
        JsonNode servers = gw.path("spec").path("servers");
        if (servers.size() != 1) {
            throw new IllegalStateException("Gateway " + name + ": the box models one server");
        }
        JsonNode server = servers.get(0);
        only(server, SERVER_FIELDS, "Gateway " + name + " server");
        JsonNode tls = server.path("tls");
        only(tls, TLS_FIELDS, "Gateway " + name + " tls");
        if (!server.path("port").path("protocol").asText().equals("HTTPS")
                || !tls.path("mode").asText().equals("SIMPLE")
                || server.path("hosts").size() != 1) {
            throw new IllegalStateException(
                    "Gateway " + name + ": the box models HTTPS with tls.mode SIMPLE for one" + " host");
        }
        String host = server.path("hosts").get(0).asText();
        List<JsonNode> bound = new ArrayList<>();
        for (JsonNode vs : istio) {
            if (!vs.path("kind").asText().equals("VirtualService")) {
                continue;
            }
            for (JsonNode g : vs.path("spec").path("gateways")) {
                if (g.asText().equals(name)) {
                    bound.add(vs);
                }
            }
        }
        if (bound.size() != 1 || bound.getFirst().path("spec").path("http").size() != 1) {
            throw new IllegalStateException(
                    "Gateway " + name + ": the box models one VirtualService with one HTTP" + " route bound to it");
        }
        JsonNode vsSpec = bound.getFirst().path("spec");
        boolean hostBound = false;
        for (JsonNode h : vsSpec.path("hosts")) {
            hostBound |= h.asText().equals(host);
        }
        if (!hostBound) {
            throw new IllegalStateException("VirtualService bound to " + name + " does not name host " + host
                    + ": the gateway routes nothing for it");
        }
        JsonNode route = vsSpec.path("http").get(0);
        only(route, ROUTE_FIELDS, "VirtualService http route");
        if (route.path("route").size() != 1) {
            throw new IllegalStateException("VirtualService http route: the box models one destination");
        }
        JsonNode destination = route.path("route").get(0).path("destination");
        return new IngressRoute(
                name,
                server.path("port").path("number").asInt(),
                host,
                tls.path("credentialName").asText(),
                tls.path("minProtocolVersion").asText("TLSV1_2").equals("TLSV1_3") ? "TLSv1.3" : "TLSv1.2",
                destination.path("host").asText() + ":"
                        + destination.path("port").path("number").asInt());
    }

    private static void only(JsonNode node, Set<String> fields, String where) {
        node.fieldNames().forEachRemaining(f -> {
            if (!fields.contains(f)) {
                throw new IllegalStateException(where + ": field " + f + " is not modelled by the box");
            }
        });
    }
}
