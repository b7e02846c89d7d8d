package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * What Istio's ingress gateway serves for the install: every server of the {@code Gateway}s that select it
 * ({@code istio: ingressgateway}), each with the {@code VirtualService} routes bound to its Gateway. A server is HTTPS
 * with {@code tls.mode: SIMPLE} (TLS terminated with the Secret {@code credentialName}, chosen by SNI among the port's
 * servers) or HTTP with {@code tls.httpsRedirect} (a 301 to https, nothing else); a route has one destination Service
 * port, may set response headers ({@code headers.response.set}) and may carry a timeout. The DestinationRule of a
 * destination's port may hash requests to an endpoint by a cookie ({@code consistentHash.httpCookie}), which the
 * gateway generates when a request has none. Any other field fails the install (never ignored); a route's URI match is
 * not enforced (each server's routes differ by host), which deploy-tests/README.md lists.
 *
 * @param servers every server, in the Gateways' order
 */
record IngressRoutes(List<Server> servers) {
    private static final Set<String> SERVER_FIELDS = Set.of("port", "tls", "hosts");
    private static final Set<String> TLS_FIELDS =
            Set.of("mode", "credentialName", "minProtocolVersion", "httpsRedirect");
    private static final Set<String> ROUTE_FIELDS = Set.of("name", "match", "route", "timeout", "headers");

    /**
     * One Gateway server.
     *
     * @param https TLS terminated here; otherwise the server only redirects to https
     * @param minProtocol {@code TLSv1.2} or {@code TLSv1.3}
     */
    record Server(
            String gateway,
            int port,
            boolean https,
            List<String> hosts,
            String credentialName,
            String minProtocol,
            List<Route> routes) {
        /** Whether this server answers for {@code host} (a wildcard {@code *.suffix} covers one or more labels). */
        boolean serves(String host) {
            return hosts.stream().anyMatch(h -> matches(h, host));
        }
    }

    /**
     * One VirtualService HTTP route.
     *
     * @param destination {@code host:port} of the Service port
     * @param affinityCookie the cookie a DestinationRule hashes this port's requests by, empty for none
     * @param grpc the Service port is gRPC (the gateway negotiates h2 and relays the stream as it is)
     * @param endpoints {@code ip:targetPort} of the destination's pods, filled by {@link #resolve}
     */
    record Route(
            List<String> hosts,
            String destination,
            Map<String, String> responseHeaders,
            String affinityCookie,
            boolean grpc,
            List<String> endpoints) {
        boolean serves(String host) {
            return hosts.stream().anyMatch(h -> matches(h, host));
        }
    }

    /** Istio's host match: exact, or {@code *.suffix} for any name ending in {@code .suffix}. */
    static boolean matches(String pattern, String host) {
        String h = host.toLowerCase(java.util.Locale.ROOT);
        return pattern.startsWith("*.") ? h.endsWith(pattern.substring(1)) : pattern.equals(h);
    }

    static IngressRoutes of(List<JsonNode> istio) {
        List<Server> servers = new ArrayList<>();
        for (JsonNode gw : kind(istio, "Gateway")) {
            String name = gw.path("metadata").path("namespace").asText() + "/"
                    + gw.path("metadata").path("name").asText();
            if (!gw.path("spec").path("selector").path("istio").asText().equals("ingressgateway")) {
                throw new IllegalStateException(
                        "Gateway " + name + ": the box models the selector istio=ingressgateway");
            }
            for (JsonNode server : gw.path("spec").path("servers")) {
                only(server, SERVER_FIELDS, "Gateway " + name + " server");
                JsonNode tls = server.path("tls");
                only(tls, TLS_FIELDS, "Gateway " + name + " tls");
                String protocol = server.path("port").path("protocol").asText();
                boolean https =
                        protocol.equals("HTTPS") && tls.path("mode").asText().equals("SIMPLE");
                boolean redirect =
                        protocol.equals("HTTP") && tls.path("httpsRedirect").asBoolean(false);
                if (!https && !redirect) {
                    throw new IllegalStateException("Gateway " + name
                            + ": the box models HTTPS with tls.mode SIMPLE, and HTTP with tls.httpsRedirect");
                }
                List<String> hosts = new ArrayList<>();
                server.path("hosts").forEach(h -> hosts.add(h.asText()));
                servers.add(new Server(
                        name,
                        server.path("port").path("number").asInt(),
                        https,
                        List.copyOf(hosts),
                        tls.path("credentialName").asText(),
                        tls.path("minProtocolVersion").asText("TLSV1_2").equals("TLSV1_3") ? "TLSv1.3" : "TLSv1.2",
                        https ? routes(istio, name, hosts) : List.of()));
            }
        }
        if (servers.isEmpty()) {
            throw new IllegalStateException("the install has no Gateway for the ingress gateway");
        }
        for (Server a : servers) {
            for (Server b : servers) {
                if (a != b && a.port() == b.port() && a.https() != b.https()) {
                    throw new IllegalStateException("port " + a.port() + " is HTTPS for " + a.gateway()
                            + " and HTTP for " + b.gateway() + ": Istio merges them into one listener");
                }
            }
        }
        return new IngressRoutes(List.copyOf(servers));
    }

    private static List<Route> routes(List<JsonNode> istio, String gateway, List<String> serverHosts) {
        List<Route> routes = new ArrayList<>();
        for (JsonNode vs : kind(istio, "VirtualService")) {
            boolean bound = false;
            for (JsonNode g : vs.path("spec").path("gateways")) {
                bound |= g.asText().equals(gateway);
            }
            if (!bound) {
                continue;
            }
            String name = vs.path("metadata").path("name").asText();
            List<String> hosts = new ArrayList<>();
            for (JsonNode h : vs.path("spec").path("hosts")) {
                if (serverHosts.stream().anyMatch(s -> s.equals(h.asText()) || matches(s, h.asText()))) {
                    hosts.add(h.asText());
                }
            }
            if (hosts.isEmpty()) {
                throw new IllegalStateException("VirtualService " + name + " bound to " + gateway
                        + " names none of its hosts " + serverHosts + ": the gateway routes nothing for it");
            }
            if (vs.path("spec").path("http").size() != 1) {
                throw new IllegalStateException("VirtualService " + name + ": the box models one HTTP route");
            }
            JsonNode route = vs.path("spec").path("http").get(0);
            only(route, ROUTE_FIELDS, "VirtualService " + name + " http route");
            only(route.path("headers"), Set.of("response"), "VirtualService " + name + " headers");
            only(route.path("headers").path("response"), Set.of("set"), "VirtualService " + name + " headers");
            if (route.path("route").size() != 1) {
                throw new IllegalStateException("VirtualService " + name + ": the box models one destination");
            }
            JsonNode destination = route.path("route").get(0).path("destination");
            only(destination, Set.of("host", "port"), "VirtualService " + name + " destination");
            Map<String, String> set = new LinkedHashMap<>();
            route.path("headers")
                    .path("response")
                    .path("set")
                    .fields()
                    .forEachRemaining(e -> set.put(
                            e.getKey().toLowerCase(java.util.Locale.ROOT),
                            e.getValue().asText()));
            String host = destination.path("host").asText();
            int port = destination.path("port").path("number").asInt();
            routes.add(new Route(
                    List.copyOf(hosts),
                    host + ":" + port,
                    Map.copyOf(set),
                    affinityCookie(istio, host, port),
                    false,
                    List.of()));
        }
        if (routes.isEmpty()) {
            throw new IllegalStateException("Gateway " + gateway + ": no VirtualService is bound to it");
        }
        return List.copyOf(routes);
    }

    /** The cookie of a DestinationRule's {@code consistentHash.httpCookie} for the port, empty for none. */
    private static String affinityCookie(List<JsonNode> istio, String host, int port) {
        for (JsonNode dr : kind(istio, "DestinationRule")) {
            if (!dr.path("spec").path("host").asText().equals(host)) {
                continue;
            }
            for (JsonNode settings : dr.path("spec").path("trafficPolicy").path("portLevelSettings")) {
                JsonNode cookie =
                        settings.path("loadBalancer").path("consistentHash").path("httpCookie");
                if (settings.path("port").path("number").asInt() == port && !cookie.isMissingNode()) {
                    if (!cookie.path("ttl").asText("0s").equals("0s")) {
                        throw new IllegalStateException(
                                "DestinationRule for " + host + ": the box models a session cookie (ttl 0s) only");
                    }
                    return cookie.path("name").asText();
                }
            }
        }
        return "";
    }

    /** The routes with their destinations' endpoints and protocols, as the gateway's EDS and CDS give them. */
    IngressRoutes resolve(ServiceDirectory services) {
        List<Server> resolved = new ArrayList<>();
        for (Server s : servers) {
            List<Route> routes = new ArrayList<>();
            for (Route r : s.routes()) {
                String host = r.destination().substring(0, r.destination().lastIndexOf(':'));
                int port = Integer.parseInt(
                        r.destination().substring(r.destination().lastIndexOf(':') + 1));
                ServiceDirectory.Entry entry = services.entries().stream()
                        .filter(e ->
                                ServiceDirectory.fqdn(e.name(), e.namespace()).equals(host))
                        .findFirst()
                        .orElseThrow(() -> new IllegalStateException(
                                "a VirtualService routes to " + host + ", which is no Service of the install"));
                ServicePort sp = entry.service().getSpec().getPorts().stream()
                        .filter(p -> p.getPort() == port)
                        .findFirst()
                        .orElseThrow(() -> new IllegalStateException("Service " + host + " has no port " + port));
                boolean grpc = "grpc".equals(sp.getAppProtocol())
                        || (sp.getName() != null && sp.getName().startsWith("grpc"));
                List<String> endpoints = new ArrayList<>();
                for (BoxPod p : entry.endpoints()) {
                    OptionalInt target =
                            sp.getTargetPort() == null ? OptionalInt.of(sp.getPort()) : p.port(sp.getTargetPort());
                    target.ifPresent(t -> endpoints.add(p.ip() + ":" + t));
                }
                routes.add(new Route(
                        r.hosts(),
                        r.destination(),
                        r.responseHeaders(),
                        r.affinityCookie(),
                        grpc,
                        List.copyOf(endpoints)));
            }
            resolved.add(new Server(
                    s.gateway(),
                    s.port(),
                    s.https(),
                    s.hosts(),
                    s.credentialName(),
                    s.minProtocol(),
                    List.copyOf(routes)));
        }
        return new IngressRoutes(List.copyOf(resolved));
    }

    /** The HTTPS server of {@code gateway} ({@code namespace/name}). */
    Server https(String gateway) {
        return servers.stream()
                .filter(s -> s.https() && s.gateway().equals(gateway))
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no HTTPS server of Gateway " + gateway));
    }

    /** The ports the gateway listens on. */
    List<Integer> ports() {
        return servers.stream().map(Server::port).distinct().toList();
    }

    private static List<JsonNode> kind(List<JsonNode> istio, String kind) {
        return istio.stream()
                .filter(d -> d.path("kind").asText().equals(kind)
                        && d.path("apiVersion").asText().startsWith("networking.istio.io/"))
                .toList();
    }

    private static void only(JsonNode node, Set<String> fields, String where) {
        node.fieldNames().forEachRemaining(f -> {
            if (!fields.contains(f)) {
                throw new IllegalStateException(where + ": field " + f + " is not modelled by the box");
            }
        });
    }
}
