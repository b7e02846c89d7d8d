package io.meshguard.deploy.box;

import com.google.protobuf.Timestamp;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPResponseProperties;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.meshguard.emulator.EnvoyVersion;
import io.meshguard.emulator.Sidecar;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An Istio waypoint (ambient mode) of one namespace: the Envoy istiod deploys for a {@code istio-waypoint} Gateway,
 * to which ztunnel sends the namespace's traffic (the box's nftables, {@link AmbientNamespace}). Each destination it
 * serves (a Service's ClusterIP port, a pod's address when the waypoint is for workloads too) is a listener of its
 * own, as Envoy's internal listeners are: HBONE arrives on the pod's 15008 and the waypoint's ztunnel table hands it
 * to the listener for the kind of {@code CONNECT} target the box's mark names; every connection carries the client's
 * identity as ztunnel proved it (the client pod at its source address). The HTTP filters are the ones istiod builds for the waypoint
 * from policies attached with {@code targetRefs}: the CUSTOM provider's ext_authz and the EnvoyFilter's ext_proc,
 * in the Envoy emulator's inbound chain ({@link Sidecar#listenAsWaypoint}); allowed requests go on to the
 * destination's endpoint as HBONE on its port 15008 (the box's mark), as the waypoint's inbound-vip cluster does.
 * Every request is a line of the log and, with the namespace's Telemetry, an entry of the {@code envoyHttpAls} provider's stream.
 *
 * <p>Config lines: {@code self SPIFFE}, {@code xfcc true|false}, {@code extauthz BASE64}, {@code extproc BASE64},
 * {@code route LISTEN_PORT UPSTREAM_IP UPSTREAM_PORT CLUSTER AUTHORITY}, {@code identity IP SPIFFE},
 * {@code als CLUSTER LOG_NAME HEADER,…}, {@code timeout-scale X}; every other line configures the outbound half
 * ({@link IstioOutbound}), through which the filters reach their clusters.
 */
public final class WaypointProxy {
    private record Route(int listen, String upstreamIp, int upstreamPort, String cluster, String authority) {}

    private String self = "";
    private boolean xfcc;
    private Optional<ExtAuthz> extAuthz = Optional.empty();
    private Optional<ExternalProcessor> extProc = Optional.empty();
    private final List<Route> routes = new ArrayList<>();
    private final Map<String, String> identities = new ConcurrentHashMap<>();
    private Optional<String[]> als = Optional.empty();
    private double timeoutScale = 1;
    private IstioOutbound outbound;
    private StreamObserver<StreamAccessLogsMessage> alsStream;

    private WaypointProxy() {}

    public static void main(String[] args) throws Exception {
        WaypointProxy w = new WaypointProxy();
        w.outbound = new IstioOutbound();
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            String[] f = line.split(" ");
            if (w.outbound.configure(f)) {
                continue;
            }
            switch (f[0]) {
                case "self" -> w.self = f[1];
                case "xfcc" -> w.xfcc = Boolean.parseBoolean(f[1]);
                case "extauthz" ->
                    w.extAuthz =
                            Optional.of(ExtAuthz.parseFrom(Base64.getDecoder().decode(f[1])));
                case "extproc" ->
                    w.extProc = Optional.of(
                            ExternalProcessor.parseFrom(Base64.getDecoder().decode(f[1])));
                case "route" ->
                    w.routes.add(new Route(
                            Integer.parseInt(f[1]), f[2], Integer.parseInt(f[3]), f[4], f.length > 5 ? f[5] : ""));
                case "identity" -> w.identities.put(f[1], "spiffe://" + f[2]);
                case "als" -> w.als = Optional.of(new String[] {f[1], f[2], f.length > 3 ? f[3] : ""});
                case "timeout-scale" -> w.timeoutScale = Double.parseDouble(f[1]);
                default -> throw new IllegalArgumentException("unknown line " + line);
            }
        }
        for (Route r : w.routes) {
            w.serve(r);
        }
        w.outbound.start();
        System.out.println("waypoint (box) for " + w.self + ": ext_authz " + (w.extAuthz.isPresent() ? "on" : "off")
                + ", ext_proc " + (w.extProc.isPresent() ? "on" : "off") + ", xfcc client identity " + w.xfcc
                + ", routes "
                + w.routes.stream().map(r -> r.listen() + "->" + r.cluster()).toList());
        System.out.flush();
        Thread.currentThread().join();
    }

    private void serve(Route route) throws IOException {
        int relay = relay(route);
        Sidecar chain = new Sidecar(
                self, extAuthz, extProc, this::channel, relay, timeoutScale, EnvoyVersion.SIDECAR_1_34, line -> {
                    System.out.println(line);
                    System.out.flush();
                });
        Map<String, Integer> byClient = new ConcurrentHashMap<>();
        int[] logged = {0};
        ServerSocket listener = new ServerSocket();
        listener.bind(new InetSocketAddress("0.0.0.0", route.listen()));
        Thread.ofPlatform().daemon().start(() -> {
            while (true) {
                Socket client;
                try {
                    client = listener.accept();
                } catch (IOException e) {
                    return;
                }
                Thread.ofVirtual().start(() -> {
                    try (client) {
                        String ip = client.getInetAddress().getHostAddress();
                        String id = identities.get(ip);
                        if (id == null) {
                            System.out.println("route " + route.cluster() + ": no identity for " + ip + ", closed");
                            System.out.flush();
                            return;
                        }
                        int port = byClient.computeIfAbsent(ip, k -> {
                            try {
                                return chain.listenAsWaypoint(new Sidecar.Peer(id, ip), xfcc, extAuthz.isPresent());
                            } catch (IOException e) {
                                throw new java.io.UncheckedIOException(e);
                            }
                        });
                        try (Socket in = new Socket()) {
                            in.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                            Pipe.both(client.getInputStream(), client.getOutputStream(), in);
                        }
                    } catch (IOException | RuntimeException e) {
                        // either side went away
                    }
                    accessLog(route, chain, logged);
                });
            }
        });
    }

    /**
     * The waypoint's inbound-vip cluster: one endpoint, reached as HBONE (the box's mark) on the pod's 15008 from
     * loopback; the destination's ztunnel hands the connection to the CONNECT target, the route's upstream port.
     */
    private int relay(Route route) throws IOException {
        ServerSocket listener = new ServerSocket();
        listener.bind(new InetSocketAddress("127.0.0.1", 0));
        Thread.ofPlatform().daemon().start(() -> {
            while (true) {
                Socket from;
                try {
                    from = listener.accept();
                } catch (IOException e) {
                    return;
                }
                Thread.ofVirtual().start(() -> {
                    try (from;
                            Socket up = new Socket()) {
                        up.setTrafficClass(IstioOutbound.MTLS_TOS);
                        up.connect(new InetSocketAddress(route.upstreamIp(), AmbientNamespace.HBONE_PORT), 3000);
                        Pipe.both(from.getInputStream(), from.getOutputStream(), up);
                    } catch (IOException e) {
                        System.out.println("route " + route.cluster() + ": upstream " + route.upstreamIp() + ":"
                                + route.upstreamPort() + " failed: " + e);
                        System.out.flush();
                    }
                });
            }
        });
        return listener.getLocalPort();
    }

    /** What the chain handled since the last call, as entries of the Telemetry's access-log provider. */
    private void accessLog(Route route, Sidecar chain, int[] logged) {
        if (als.isEmpty()) {
            return;
        }
        List<Sidecar.Handled> fresh;
        synchronized (logged) {
            List<Sidecar.Handled> all = chain.handled();
            fresh = all.subList(Math.min(logged[0], all.size()), all.size());
            logged[0] = all.size();
        }
        for (Sidecar.Handled h : fresh) {
            Map<String, String> checked =
                    h.check().getAttributes().getRequest().getHttp().getHeadersMap();
            Map<String, String> sent = new java.util.HashMap<>();
            h.arrived().entries().forEach(e -> sent.putIfAbsent(e[0], e[1]));
            checked.forEach(sent::putIfAbsent);
            h.forwarded().ifPresent(f -> f.entries().forEach(e -> sent.put(e[0], e[1])));
            String requestId = sent.getOrDefault("x-request-id", "");
            HTTPRequestProperties.Builder request = HTTPRequestProperties.newBuilder()
                    .setRequestId(requestId)
                    .setAuthority(route.authority())
                    .setPath(
                            h.check()
                                            .getAttributes()
                                            .getRequest()
                                            .getHttp()
                                            .getPath()
                                            .isEmpty()
                                    ? "/"
                                    : h.check()
                                            .getAttributes()
                                            .getRequest()
                                            .getHttp()
                                            .getPath());
            for (String header : als.get()[2].split(",")) {
                if (!header.isEmpty() && sent.containsKey(header)) {
                    request.putRequestHeaders(header, sent.get(header));
                }
            }
            Instant now = Instant.now();
            AccessLogCommon.Builder common = AccessLogCommon.newBuilder()
                    .setStartTime(Timestamp.newBuilder()
                            .setSeconds(now.getEpochSecond())
                            .setNanos(now.getNano()));
            // the router ran only when the request was handed on: Envoy's %UPSTREAM_CLUSTER% stays empty otherwise
            if (h.forwarded().isPresent()) {
                common.setUpstreamCluster(route.cluster());
            }
            HTTPAccessLogEntry entry = HTTPAccessLogEntry.newBuilder()
                    .setCommonProperties(common)
                    .setRequest(request)
                    .setResponse(HTTPResponseProperties.newBuilder().setResponseCode(UInt32Value.of(h.status())))
                    .build();
            System.out.println("[access] " + route.authority() + " " + h.status() + " request-id " + requestId
                    + " upstream " + (h.forwarded().isPresent() ? route.cluster() : "-") + " ext_authz "
                    + (extAuthz.isPresent() ? "ran" : "none"));
            System.out.flush();
            send(entry);
        }
    }

    /** The gRPC access logger: one stream, the identifier on its first message (Envoy batches; this sends each). */
    private synchronized void send(HTTPAccessLogEntry entry) {
        StreamAccessLogsMessage.Builder message = StreamAccessLogsMessage.newBuilder()
                .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder()
                        .addLogEntry(entry));
        if (alsStream == null) {
            alsStream = AccessLogServiceGrpc.newStub(channel(als.get()[0]))
                    .streamAccessLogs(new StreamObserver<StreamAccessLogsResponse>() {
                        @Override
                        public void onNext(StreamAccessLogsResponse value) {}

                        @Override
                        public void onError(Throwable t) {
                            forget();
                        }

                        @Override
                        public void onCompleted() {
                            forget();
                        }
                    });
            message.setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder()
                    .setNode(Node.newBuilder().setId("waypoint~" + self))
                    .setLogName(als.get()[1]));
        }
        alsStream.onNext(message.build());
    }

    private synchronized void forget() {
        alsStream = null;
    }

    private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

    /**
     * A cluster the filters name, with the authority their config gives, or the access logger's, with the provider's
     * hostname (Istio's {@code envoyHttpAls} sets {@code authority} to it).
     */
    private ManagedChannel channel(String cluster) {
        return channels.computeIfAbsent(cluster, c -> {
            List<GrpcService> configured = new ArrayList<>();
            extAuthz.ifPresent(f -> configured.add(f.getGrpcService()));
            extProc.ifPresent(f -> configured.add(f.getGrpcService()));
            als.ifPresent(a -> configured.add(GrpcService.newBuilder()
                    .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder()
                            .setClusterName(a[0])
                            .setAuthority(a[0].split("\\|")[3]))
                    .build()));
            return outbound.grpcChannel(c, IstioOutbound.grpcAuthority(c, configured));
        });
    }
}
