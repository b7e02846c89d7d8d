package io.meshguard.deploy.box;

import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The outbound half of an injected pod's {@code istio-proxy}, in the same process as the inbound half
 * ({@link IstioProxy}). The pod's nftables redirect every outbound TCP connection of the pod's containers (not the
 * proxy's own uid 1337, not loopback: Istio's {@code istio-iptables} {@code ISTIO_OUTPUT} chain) to a local port per
 * original destination (the box's stand-in for {@code SO_ORIGINAL_DST}). Each connection is then handled as Istio's
 * sidecar outbound listeners handle it (pilot {@code pilot/pkg/networking/core}):
 * <ul>
 * <li>to a port some Service declares as HTTP (port name {@code http*}, {@code grpc*}, or {@code appProtocol}; an
 *     unnamed port is sniffed): the {@code 0.0.0.0_PORT} listener routes by {@code Host}/{@code :authority} among the
 *     Services with that port (their FQDN, short names, ClusterIP, each with and without {@code :PORT});</li>
 * <li>to a TCP Service port: the {@code ClusterIP_PORT} listener, by destination;</li>
 * <li>anything else, or a Host no Service has: {@code PassthroughCluster}, plaintext to the original destination
 *     ({@code httproute.go} catch-all virtual host, {@code cluster_builder.go} buildDefaultPassthroughCluster), or
 *     {@code BlackHoleCluster} (connection closed) under {@code outboundTrafficPolicy: REGISTRY_ONLY}.</li>
 * </ul>
 * A routed connection goes to one of the Service's endpoints, with Istio mTLS where the endpoint has a sidecar (auto
 * mTLS) or a DestinationRule says {@code ISTIO_MUTUAL}, plaintext where it says {@code DISABLE}. The box's stand-in
 * for mTLS is a DSCP mark on the connection ({@link #MTLS_TOS}): the destination's nftables send marked connections
 * to its sidecar's mTLS listener, which takes the identity of the source pod, unmarked ones to its plaintext listener.
 * Routing is decided per connection on its first request (Envoy decides per request; the box's clients keep one
 * authority per connection).
 *
 * <p>Config lines: {@code capture LOCALPORT IP PORT}, {@code http PORT}, {@code vhost PORT DOMAIN ENDPOINTS},
 * {@code tcp IP PORT ENDPOINTS}, {@code outbound ALLOW_ANY|REGISTRY_ONLY}; ENDPOINTS is {@code ip:port:m|p,…}
 * ({@code m} mTLS, {@code p} plaintext) or {@code -} for none.
 */
final class IstioOutbound {
    /** DSCP CS1 in the IP TOS byte: "this connection is Istio mTLS" (nftables {@code ip dscp cs1}). */
    static final int MTLS_TOS = 0x20;

    private static final byte[] H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    record Endpoint(String ip, int port, boolean mtls) {}

    private record Destination(String ip, int port) {}

    private record Sniffed(byte[] prefix, Optional<String> host, boolean http, boolean closed) {
        Sniffed(byte[] prefix, Optional<String> host, boolean http) {
            this(prefix, host, http, false);
        }
    }

    private final Map<Integer, Destination> captures = new HashMap<>();
    private final Set<Integer> httpPorts = new HashSet<>();
    private final Map<String, List<Endpoint>> vhosts = new HashMap<>();
    private final Map<String, List<Endpoint>> tcp = new HashMap<>();
    private boolean registryOnly;
    /** istiod's EDS: endpoints whose pod failed readiness are left out of every cluster. */
    private NotReadyPods notReady = new NotReadyPods(Optional.empty());

    /** Takes the line if it is an outbound one. */
    boolean configure(String[] f) {
        switch (f[0]) {
            case "capture" -> captures.put(Integer.parseInt(f[1]), new Destination(f[2], Integer.parseInt(f[3])));
            case "http" -> httpPorts.add(Integer.parseInt(f[1]));
            case "vhost" -> vhosts.put(f[1] + " " + f[2].toLowerCase(Locale.ROOT), endpoints(f[3]));
            case "tcp" -> tcp.put(f[1] + " " + f[2], endpoints(f[3]));
            case "outbound" -> registryOnly = f[1].equals("REGISTRY_ONLY");
            case "eds" -> notReady = new NotReadyPods(Optional.of(Path.of(f[1])));
            default -> {
                return false;
            }
        }
        return true;
    }

    private static List<Endpoint> endpoints(String s) {
        if (s.equals("-")) {
            return List.of();
        }
        List<Endpoint> out = new ArrayList<>();
        for (String e : s.split(",")) {
            String[] p = e.split(":");
            out.add(new Endpoint(p[0], Integer.parseInt(p[1]), p[2].equals("m")));
        }
        return out;
    }

    /**
     * The endpoints of an Envoy cluster {@code outbound|PORT||HOST} of a Service's HTTP port (what a filter's
     * {@code envoy_grpc} names); none for a cluster the sidecar does not have.
     */
    List<Endpoint> cluster(String name) {
        String[] c = name.split("\\|");
        if (c.length != 4 || !c[0].equals("outbound")) {
            return List.of();
        }
        return notReady.ready(vhosts.getOrDefault(c[1] + " " + c[3].toLowerCase(Locale.ROOT), List.of()), Endpoint::ip);
    }

    /**
     * The {@code :authority} of the gRPC streams Envoy opens to {@code cluster}: the one a filter's {@code envoy_grpc}
     * naming the cluster sets, else the cluster's name, Envoy's default ({@code GrpcService.EnvoyGrpc.authority}).
     */
    static String grpcAuthority(String cluster, List<GrpcService> configured) {
        return configured.stream()
                .filter(GrpcService::hasEnvoyGrpc)
                .map(GrpcService::getEnvoyGrpc)
                .filter(g ->
                        g.getClusterName().equals(cluster) && !g.getAuthority().isEmpty())
                .map(GrpcService.EnvoyGrpc::getAuthority)
                .findFirst()
                .orElse(cluster);
    }

    /**
     * A gRPC channel to one of {@code cluster}'s endpoints with {@code authority}, as the pod's Envoy reaches it:
     * with Istio mTLS where the endpoint has a sidecar (the box's DSCP mark: the peer's sidecar takes this pod's
     * identity), from the proxy's uid, which the pod's capture rules leave alone.
     */
    ManagedChannel grpcChannel(String cluster, String authority) {
        List<Endpoint> endpoints = cluster(cluster);
        if (endpoints.isEmpty()) {
            throw new IllegalStateException("no healthy upstream in cluster " + cluster);
        }
        Endpoint e = endpoints.get(ThreadLocalRandom.current().nextInt(endpoints.size()));
        log("cluster " + cluster + " -> " + e.ip() + ":" + e.port() + (e.mtls() ? " (mTLS)" : " (plaintext)")
                + " authority " + authority);
        NettyChannelBuilder b =
                NettyChannelBuilder.forAddress(e.ip(), e.port()).usePlaintext().overrideAuthority(authority);
        if (e.mtls()) {
            b.withOption(ChannelOption.IP_TOS, MTLS_TOS);
        }
        return b.build();
    }

    int listeners() {
        return captures.size();
    }

    void start() throws IOException {
        InetAddress loopback = InetAddress.getLoopbackAddress();
        for (Map.Entry<Integer, Destination> c : captures.entrySet()) {
            ServerSocket listener = new ServerSocket();
            listener.setReuseAddress(true);
            listener.bind(new InetSocketAddress(loopback, c.getKey()), 200);
            Thread.ofPlatform().daemon().start(() -> {
                while (true) {
                    try {
                        Socket client = listener.accept();
                        Thread.ofVirtual().start(() -> connection(c.getValue(), client));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }
    }

    private void connection(Destination original, Socket client) {
        String dst = original.ip() + ":" + original.port();
        try (client) {
            // no timeout: a gRPC channel connects before its first call, which may come much later
            InputStream in = client.getInputStream();
            Sniffed sniffed = httpPorts.contains(original.port())
                    ? sniff(in, client.getOutputStream())
                    : new Sniffed(new byte[0], Optional.empty(), false);
            if (sniffed.http() && sniffed.host().isEmpty() && sniffed.closed()) {
                log("HTTP " + dst + " closed before its first request");
                return;
            }
            List<Endpoint> route;
            String via;
            if (sniffed.http()) {
                String host = sniffed.host().orElse("");
                route = vhosts.get(original.port() + " " + host.toLowerCase(Locale.ROOT));
                via = "HTTP " + dst + " Host " + (host.isEmpty() ? "(none)" : host);
            } else {
                route = tcp.get(original.ip() + " " + original.port());
                via = "TCP " + dst;
            }
            if (route != null) {
                route = notReady.ready(route, Endpoint::ip);
            }
            Endpoint target;
            if (route == null) {
                if (registryOnly) {
                    log(via + " -> BlackHoleCluster (REGISTRY_ONLY)");
                    return;
                }
                target = new Endpoint(original.ip(), original.port(), false);
                log(via + " -> PassthroughCluster (plaintext " + dst + ")");
            } else if (route.isEmpty()) {
                log(via + " -> no healthy upstream");
                return;
            } else {
                target = route.get(ThreadLocalRandom.current().nextInt(route.size()));
                log(via + " -> " + target.ip() + ":" + target.port() + (target.mtls() ? " (mTLS)" : " (plaintext)"));
            }
            try (Socket upstream = new Socket()) {
                if (target.mtls()) {
                    upstream.setTrafficClass(MTLS_TOS);
                }
                upstream.connect(new InetSocketAddress(target.ip(), target.port()), 3000);
                upstream.getOutputStream().write(sniffed.prefix());
                Pipe.both(in, client.getOutputStream(), upstream);
            }
        } catch (IOException e) {
            // either side went away, or the upstream refused: the client sees its connection closed, as from Envoy
        }
    }

    /**
     * Reads the connection's first request head: HTTP/2 (prior knowledge, as gRPC without TLS sends it) up to its
     * first HEADERS block, decoded for {@code :authority}; HTTP/1.x up to the end of its headers, for {@code Host}.
     * Anything else is not HTTP (the bytes read so far are kept for the upstream). An HTTP/2 client gets the proxy's
     * own SETTINGS first, as from Envoy's connection manager (grpc-java opens no stream before the server's
     * SETTINGS); its ACK of them is not passed on, the upstream's SETTINGS follow once the route is chosen.
     */
    static Sniffed sniff(InputStream in, java.io.OutputStream client) throws IOException {
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        byte[] first = in.readNBytes(4);
        seen.write(first);
        if (first.length < 4) {
            return new Sniffed(seen.toByteArray(), Optional.empty(), true, true);
        }
        if (Arrays.equals(first, Arrays.copyOf(H2_PREFACE, 4))) {
            seen.write(in.readNBytes(H2_PREFACE.length - 4));
            client.write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // SETTINGS, no parameters
            client.flush();
            boolean acked = false;
            for (int frames = 0; frames < 16; frames++) {
                byte[] header = in.readNBytes(9);
                if (header.length < 9) {
                    seen.write(header);
                    return new Sniffed(seen.toByteArray(), Optional.empty(), true, true);
                }
                int length = ((header[0] & 0xff) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
                int type = header[3] & 0xff;
                int flags = header[4] & 0xff;
                int stream = ((header[5] & 0x7f) << 24)
                        | ((header[6] & 0xff) << 16)
                        | ((header[7] & 0xff) << 8)
                        | (header[8] & 0xff);
                byte[] payload = in.readNBytes(length);
                if (type == 4 && (flags & 0x01) != 0 && !acked) {
                    acked = true; // the client's ACK of the proxy's SETTINGS: the upstream sent none yet
                    continue;
                }
                seen.write(header);
                seen.write(payload);
                if (type != 1) {
                    continue;
                }
                int from = 0;
                int to = payload.length;
                if ((flags & 0x08) != 0) { // PADDED
                    to -= payload[0] & 0xff;
                    from = 1;
                }
                if ((flags & 0x20) != 0) { // PRIORITY
                    from += 5;
                }
                ByteArrayOutputStream block = new ByteArrayOutputStream();
                block.write(payload, from, to - from);
                while ((flags & 0x04) == 0) { // CONTINUATION frames until END_HEADERS
                    byte[] h = in.readNBytes(9);
                    seen.write(h);
                    int len = ((h[0] & 0xff) << 16) | ((h[1] & 0xff) << 8) | (h[2] & 0xff);
                    flags = h[4] & 0xff;
                    byte[] p = in.readNBytes(len);
                    seen.write(p);
                    block.write(p);
                }
                try {
                    Http2Headers headers = new DefaultHttp2HeadersDecoder(false)
                            .decodeHeaders(stream, Unpooled.wrappedBuffer(block.toByteArray()));
                    CharSequence authority = headers.authority();
                    return new Sniffed(
                            seen.toByteArray(), Optional.ofNullable(authority).map(CharSequence::toString), true);
                } catch (Exception e) {
                    return new Sniffed(seen.toByteArray(), Optional.empty(), true);
                }
            }
            return new Sniffed(seen.toByteArray(), Optional.empty(), true);
        }
        String start = new String(first, StandardCharsets.US_ASCII);
        if (!start.matches("(GET |POST|PUT |HEAD|DELE|PATC|OPTI|CONN|TRAC)")) {
            return new Sniffed(seen.toByteArray(), Optional.empty(), false);
        }
        while (seen.size() < 65536) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            seen.write(b);
            byte[] s = seen.toByteArray();
            int n = s.length;
            if (n >= 4 && s[n - 4] == '\r' && s[n - 3] == '\n' && s[n - 2] == '\r' && s[n - 1] == '\n') {
                break;
            }
        }
        String head = seen.toString(StandardCharsets.ISO_8859_1);
        for (String line : head.split("\r\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && line.substring(0, colon).strip().equalsIgnoreCase("host")) {
                return new Sniffed(
                        seen.toByteArray(),
                        Optional.of(line.substring(colon + 1).strip()),
                        true);
            }
        }
        return new Sniffed(seen.toByteArray(), Optional.empty(), true);
    }

    private static void log(String line) {
        System.out.println("outbound " + line);
        System.out.flush();
    }
}
