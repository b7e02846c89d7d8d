package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.meshguard.emulator.AdsSubscription;
import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.EnvoyNode;
import io.meshguard.emulator.Exchange;
import io.meshguard.emulator.Gateway;
import io.meshguard.emulator.Headers;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * Envoy's image in the box: the project's Envoy emulator started with the gateway container's own arguments
 * ({@code --config-path}, {@code --service-node} and the flags Envoy takes), configured from the bootstrap the pod
 * mounts: the node's cluster, the ADS cluster's address, the static health listener (its {@code /ready} is forwarded to
 * the edge listener and answered by the delivered route table's readiness route, {@code /live} 200) and the edge listener on
 * the container's port 8080, each request played through {@link Gateway}. An unknown flag exits 1, as Envoy does.
 */
public final class GatewayPod {
    private static final List<String> FLAGS_WITH_VALUE = List.of(
            "--config-path",
            "--service-node",
            "--drain-time-s",
            "--drain-strategy",
            "--log-format",
            "--log-level",
            "--service-cluster");
    private static final List<String> SWITCHES = List.of("--disable-hot-restart");

    private GatewayPod() {}

    public static void main(String[] args) throws Exception {
        String config = null;
        String serviceNode = null;
        for (int i = 0; i < args.length; i++) {
            if (SWITCHES.contains(args[i])) {
                continue;
            }
            if (!FLAGS_WITH_VALUE.contains(args[i]) || i + 1 >= args.length) {
                System.err.println("envoy: unknown or incomplete argument " + args[i]);
                System.exit(1);
            }
            switch (args[i]) {
                case "--config-path" -> config = args[i + 1];
                case "--service-node" -> serviceNode = args[i + 1];
                default -> {}
            }
            i++;
        }
        JsonNode bootstrap = new YAMLMapper().readTree(Path.of(config).toFile());
        String cluster = bootstrap.path("node").path("cluster").asText();
        String adsCluster = bootstrap
                .path("dynamic_resources")
                .path("ads_config")
                .path("grpc_services")
                .path(0)
                .path("envoy_grpc")
                .path("cluster_name")
                .asText();
        JsonNode address = null;
        for (JsonNode c : bootstrap.path("static_resources").path("clusters")) {
            if (c.path("name").asText().equals(adsCluster)) {
                address = c.path("load_assignment")
                        .path("endpoints")
                        .path(0)
                        .path("lb_endpoints")
                        .path(0)
                        .path("endpoint")
                        .path("address")
                        .path("socket_address");
            }
        }
        if (address == null) {
            throw new IllegalStateException("bootstrap has no static cluster " + adsCluster);
        }
        ReadinessRoute readiness = ReadinessRoute.of(bootstrap);
        EnvoyNode node = new EnvoyNode(serviceNode, cluster, Map.of());
        // Envoy keeps its ADS stream: one that ends (the controller not up yet, a restart) is opened again after a
        // back-off (source/common/config/grpc_stream.h); the emulator's subscription does the same by itself
        AdsSubscription ads = AdsSubscription.connect(
                address.path("address").asText(), address.path("port_value").asInt(), node);
        Gateway gateway = new Gateway(ads, node, 8080, 1L, 1.0);

        // the emulator's first request loads its classes (seconds on a loaded machine, where Envoy answers at once):
        // played once before the health listener opens, so the kubelet's first probes are not timed out by it
        try {
            gateway.send(new DownstreamRequest("GET", readiness.host(), readiness.path(), Headers.of(), List.of()));
        } catch (RuntimeException e) {
            // no configuration yet: what /ready reports
        }

        HttpServer health = HttpServer.create(new InetSocketAddress("0.0.0.0", 8081), 50);
        health.createContext("/", ex -> {
            String path = ex.getRequestURI().getPath();
            if (path.equals("/live")) {
                respond(ex, 200, "live");
            } else if (path.equals(readiness.path())) {
                // as the bootstrap's health listener: the probe is forwarded to the edge listener with the readiness
                // Host and answered by the delivered route table (404 NR without one)
                int status;
                String why;
                try {
                    Exchange answer = gateway.send(
                            new DownstreamRequest("GET", readiness.host(), readiness.path(), Headers.of(), List.of()));
                    status = answer.status();
                    why = answer.status() / 100 == 2
                            ? "ready"
                            : "not ready: the edge answered " + answer.status() + " ("
                                    + String.join("; ", answer.steps()) + ")";
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    status = 503;
                    why = "interrupted";
                } catch (RuntimeException e) {
                    // no edge listener yet (connection refused for Envoy's router: 503), or the emulator refuses to
                    // serve (a NACK or an unmodelled field)
                    status = 503;
                    why = "not ready: no delivered route table answers the readiness route (configuration missing or"
                            + " refused): " + e.getMessage() + (e.getCause() == null ? "" : " (" + e.getCause() + ")")
                            + "; accepted versions " + ads.resources().versions() + ", NACKs " + ads.nacks()
                            + ads.streamError()
                                    .map(t -> ", ADS stream ended: " + t)
                                    .orElse("");
                }
                respond(ex, status / 100 == 2 ? 200 : status, why);
            } else {
                respond(ex, 404, "");
            }
        });
        health.start();

        // Envoy's admin on the bootstrap's (loopback) address: /config_dump, what the node accepted, as an operator
        // reads it with kubectl exec
        JsonNode admin = bootstrap.path("admin").path("address").path("socket_address");
        if (!admin.isMissingNode()) {
            HttpServer adminServer = HttpServer.create(
                    new InetSocketAddress(
                            admin.path("address").asText(),
                            admin.path("port_value").asInt()),
                    10);
            adminServer.createContext("/config_dump", ex -> respond(ex, 200, configDump(ads.resources())));
            adminServer.start();
        }

        HttpServer edge = HttpServer.create(new InetSocketAddress("0.0.0.0", 8080), 200);
        edge.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        edge.createContext("/", ex -> {
            try {
                Headers headers = Headers.of();
                ex.getRequestHeaders().forEach((name, values) -> {
                    if (!name.equalsIgnoreCase("host")) {
                        values.forEach(v -> headers.add(name.toLowerCase(), v));
                    }
                });
                byte[] body = ex.getRequestBody().readAllBytes();
                DownstreamRequest request = new DownstreamRequest(
                        ex.getRequestMethod(),
                        ex.getRequestHeaders().getFirst("Host"),
                        ex.getRequestURI().getRawPath()
                                + (ex.getRequestURI().getRawQuery() == null
                                        ? ""
                                        : "?" + ex.getRequestURI().getRawQuery()),
                        headers,
                        body.length == 0 ? List.of() : List.of(body));
                Exchange answer = gateway.send(request);
                // the access log Envoy writes to stdout: what the request met, for the pod's log
                System.out.println("[access] " + request.method() + " " + request.authority() + " "
                        + ex.getRequestURI().getRawPath() + " " + answer.status() + " "
                        + String.join("; ", answer.steps()));
                System.out.flush();
                answer.headers().entries().forEach(h -> {
                    if (!h[0].startsWith(":") && !h[0].equalsIgnoreCase("content-length")) {
                        ex.getResponseHeaders().add(h[0], h[1]);
                    }
                });
                byte[] out = answer.body().getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(answer.status(), out.length == 0 ? -1 : out.length);
                try (OutputStream o = ex.getResponseBody()) {
                    o.write(out);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                respond(ex, 503, "interrupted");
            } catch (RuntimeException e) {
                respond(ex, 503, "gateway emulator: " + e.getMessage());
            }
        });
        edge.start();
        System.out.println("envoy (box emulator) node " + serviceNode + " cluster " + cluster + " ADS "
                + address.path("address").asText() + ":"
                + address.path("port_value").asInt());
        System.out.flush();
        Thread.currentThread().join();
    }

    /**
     * Where the bootstrap's health listener forwards {@code /ready}: its route's {@code host_rewrite_literal} and
     * path, through a static cluster on the edge listener (the emulator's {@link Gateway}).
     */
    record ReadinessRoute(String host, String path) {
        static ReadinessRoute of(JsonNode bootstrap) {
            for (JsonNode listener : bootstrap.path("static_resources").path("listeners")) {
                for (JsonNode route : listener.findValues("routes")) {
                    for (JsonNode r : route) {
                        String host =
                                r.path("route").path("host_rewrite_literal").asText("");
                        if (!host.isEmpty()) {
                            return new ReadinessRoute(
                                    host, r.path("match").path("path").asText());
                        }
                    }
                }
            }
            throw new IllegalStateException("bootstrap: no health route forwards the readiness probe to the edge");
        }
    }

    /** The accepted resources by type: version, then each resource by name (protobuf text), in name order. */
    static String configDump(io.meshguard.emulator.XdsResources r) {
        StringBuilder s = new StringBuilder();
        Map<String, Map<String, ? extends com.google.protobuf.Message>> byType = new java.util.LinkedHashMap<>();
        byType.put(io.meshguard.emulator.XdsResources.LDS, r.listeners());
        byType.put(io.meshguard.emulator.XdsResources.RDS, r.routes());
        byType.put(io.meshguard.emulator.XdsResources.CDS, r.clusters());
        byType.put(io.meshguard.emulator.XdsResources.EDS, r.endpoints());
        byType.forEach((type, resources) -> {
            s.append("# ")
                    .append(type)
                    .append(" version ")
                    .append(r.version(type))
                    .append('\n');
            new java.util.TreeMap<>(resources).forEach((name, resource) -> s.append("## ")
                    .append(name)
                    .append('\n')
                    .append(resource)
                    .append('\n'));
        });
        return s.toString();
    }

    private static void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(bytes);
        }
    }
}
