package io.meshguard.deploy.box;

import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Grpc;
import io.grpc.HandlerRegistry;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.meshguard.emulator.EnvoyVersion;
import io.meshguard.emulator.Sidecar;
import io.meshguard.runtime.grpc.RawBytesMarshaller;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The inbound half of an injected pod's {@code istio-proxy} container: a process in the pod's network namespace to
 * which the pod's nftables redirect every inbound connection from another pod ({@value #OFFSET} above its port, as
 * Istio's iptables redirect inbound traffic to Envoy). It enforces the decisions {@link IstioAuthorization} computed
 * for each peer address, and forwards what is allowed to the application from {@code 127.0.0.6}, the source Istio's
 * inbound clusters bind. gRPC ports are proxied call by call (a denied call ends PERMISSION_DENIED "RBAC: access
 * denied", a STRICT reset UNAVAILABLE) and, with {@code forwardedClientCert: SANITIZE_SET}, carry the
 * {@code x-forwarded-client-cert} Envoy writes (the peer's URI SAN); other ports are proxied as TCP, a denied
 * connection closed.
 *
 * <p>mTLS and plaintext arrive apart: the pod's nftables send a connection a peer's sidecar marked as mTLS
 * ({@link IstioOutbound#MTLS_TOS}) to {@code port + OFFSET}, where the peer is its pod's identity, and any other
 * connection to {@code port + PLAINTEXT_OFFSET}, where it has none (a pod without sidecar, or a sidecar's
 * {@code PassthroughCluster}): STRICT resets it, as Istio's inbound listener refuses a connection without TLS.
 *
 * <p>Config file lines: {@code self SPIFFE}, {@code xfcc SANITIZE_SET|NONE}, {@code port N grpc|tcp},
 * {@code allow N PEER_IP PRINCIPAL|-}, {@code deny N PEER_IP REASON…} (mTLS peers), {@code plain-allow N PEER_IP}
 * and {@code plain-deny N PEER_IP REASON…} (plaintext peers); an unlisted peer is denied. An HTTP port
 * ({@code port N http}) of a labelled workload adds {@code custom N PEER_IP} / {@code plain-custom N PEER_IP} (a CUSTOM
 * policy matches that peer), {@code identity PEER_IP SPIFFE}, {@code extauthz BASE64} and {@code extproc BASE64} (the
 * filters' protos, {@link IstioExtensions}) and {@code timeout-scale X}. Every other line configures the outbound
 * half ({@link IstioOutbound}).
 */
public final class IstioProxy {
    /** The mTLS listener of an inbound port: {@code port + OFFSET}. */
    static final int OFFSET = 20000;
    /** The plaintext listener of an inbound port: {@code port + PLAINTEXT_OFFSET}. */
    static final int PLAINTEXT_OFFSET = 30000;

    private static final Metadata.Key<String> XFCC =
            Metadata.Key.of("x-forwarded-client-cert", Metadata.ASCII_STRING_MARSHALLER);

    private record Verdict(boolean allowed, String principal, String reason) {}

    private String self = "";
    private boolean sanitizeSet;
    private final Map<Integer, String> ports = new HashMap<>();
    private final Map<String, Verdict> verdicts = new HashMap<>();
    /** "m|p PORT PEER_IP" of the peers a CUSTOM policy matches: their requests go through ext_authz. */
    private final java.util.Set<String> checked = new java.util.HashSet<>();

    private java.util.Optional<ExtAuthz> extAuthz = java.util.Optional.empty();
    private java.util.Optional<ExternalProcessor> extProc = java.util.Optional.empty();
    private double timeoutScale = 1;
    private IstioOutbound outbound;
    /** The Envoy emulator's inbound HTTP chain per HTTP port, and its listener per peer and transport. */
    private final Map<Integer, Sidecar> httpChains = new java.util.concurrent.ConcurrentHashMap<>();

    private final Map<String, Integer> httpListeners = new java.util.concurrent.ConcurrentHashMap<>();

    private IstioProxy() {}

    public static void main(String[] args) throws Exception {
        IstioProxy proxy = new IstioProxy();
        IstioOutbound outbound = new IstioOutbound();
        proxy.outbound = outbound;
        for (String line : Files.readAllLines(Path.of(args[0]))) {
            String[] f = line.split(" ", 4);
            if (outbound.configure(line.split(" "))) {
                continue;
            }
            switch (f[0]) {
                case "self" -> proxy.self = f[1];
                case "xfcc" -> proxy.sanitizeSet = f[1].equals("SANITIZE_SET");
                case "port" -> proxy.ports.put(Integer.parseInt(f[1]), f[2]);
                case "allow" -> proxy.verdicts.put("m " + f[1] + " " + f[2], new Verdict(true, f[3], "allowed"));
                case "deny" -> proxy.verdicts.put("m " + f[1] + " " + f[2], new Verdict(false, "-", f[3]));
                case "plain-allow" -> proxy.verdicts.put("p " + f[1] + " " + f[2], new Verdict(true, "-", "allowed"));
                case "plain-deny" -> proxy.verdicts.put("p " + f[1] + " " + f[2], new Verdict(false, "-", f[3]));
                case "identity" -> proxy.identities.put(f[1], "spiffe://" + f[2]);
                case "custom" -> proxy.checked.add("m " + f[1] + " " + f[2]);
                case "plain-custom" -> proxy.checked.add("p " + f[1] + " " + f[2]);
                case "extauthz" ->
                    proxy.extAuthz = java.util.Optional.of(
                            ExtAuthz.parseFrom(java.util.Base64.getDecoder().decode(f[1])));
                case "extproc" ->
                    proxy.extProc = java.util.Optional.of(ExternalProcessor.parseFrom(
                            java.util.Base64.getDecoder().decode(f[1])));
                case "timeout-scale" -> proxy.timeoutScale = Double.parseDouble(f[1]);
                default -> throw new IllegalArgumentException("unknown line " + line);
            }
        }
        List<Object> running = new ArrayList<>();
        for (Map.Entry<Integer, String> p : proxy.ports.entrySet()) {
            for (boolean mtls : new boolean[] {true, false}) {
                running.add(
                        p.getValue().equals("grpc")
                                ? proxy.grpc(p.getKey(), mtls)
                                : proxy.tcp(p.getKey(), mtls, p.getValue().equals("http")));
            }
        }
        outbound.start();
        System.out.println("istio-proxy (box) for " + proxy.self + " listening for " + proxy.ports + ", "
                + outbound.listeners() + " outbound destinations");
        System.out.flush();
        Thread.currentThread().join();
    }

    private Verdict verdict(int port, boolean mtls, SocketAddress remote) {
        String ip = remote instanceof InetSocketAddress s ? s.getAddress().getHostAddress() : "?";
        return verdicts.getOrDefault(
                (mtls ? "m " : "p ") + port + " " + ip,
                new Verdict(false, "-", "no decision for " + (mtls ? "mTLS" : "plaintext") + " peer " + ip));
    }

    private static int listenPort(int port, boolean mtls) {
        return port + (mtls ? OFFSET : PLAINTEXT_OFFSET);
    }

    private Server grpc(int port, boolean mtls) throws IOException {
        ManagedChannel app = NettyChannelBuilder.forAddress("127.0.0.1", port)
                .usePlaintext()
                .localSocketPicker(new NettyChannelBuilder.LocalSocketPicker() {
                    @Override
                    public SocketAddress createSocketAddress(SocketAddress remote, Attributes attrs) {
                        return new InetSocketAddress(loopback6(), 0);
                    }
                })
                .build();
        ServerCallHandler<byte[], byte[]> handler = (call, headers) -> forward(port, mtls, app, call, headers);
        return NettyServerBuilder.forAddress(new InetSocketAddress("0.0.0.0", listenPort(port, mtls)))
                .fallbackHandlerRegistry(new HandlerRegistry() {
                    @Override
                    public ServerMethodDefinition<?, ?> lookupMethod(String method, String authority) {
                        return ServerMethodDefinition.create(
                                MethodDescriptor.<byte[], byte[]>newBuilder()
                                        .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                                        .setFullMethodName(method)
                                        .setRequestMarshaller(RawBytesMarshaller.INSTANCE)
                                        .setResponseMarshaller(RawBytesMarshaller.INSTANCE)
                                        .build(),
                                handler);
                    }
                })
                .build()
                .start();
    }

    private ServerCall.Listener<byte[]> forward(
            int port, boolean mtls, ManagedChannel app, ServerCall<byte[], byte[]> call, Metadata headers) {
        Verdict v = verdict(port, mtls, call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        if (!v.allowed()) {
            System.out.println(
                    "inbound " + port + " " + call.getMethodDescriptor().getFullMethodName() + " from "
                            + call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR) + " refused: " + v.reason());
            System.out.flush();
            Status status = v.reason().startsWith("STRICT") ? Status.UNAVAILABLE : Status.PERMISSION_DENIED;
            call.close(status.withDescription(v.reason()), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        Metadata out = new Metadata();
        out.merge(headers);
        if (sanitizeSet) {
            out.removeAll(XFCC);
            if (!v.principal().equals("-")) {
                out.put(XFCC, "By=" + self + ";URI=spiffe://" + v.principal());
            }
        }
        ClientCall<byte[], byte[]> upstream = app.newCall(
                MethodDescriptor.<byte[], byte[]>newBuilder()
                        .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
                        .setFullMethodName(call.getMethodDescriptor().getFullMethodName())
                        .setRequestMarshaller(RawBytesMarshaller.INSTANCE)
                        .setResponseMarshaller(RawBytesMarshaller.INSTANCE)
                        .build(),
                // Envoy keeps the request's :authority towards the application
                call.getAuthority() == null
                        ? CallOptions.DEFAULT
                        : CallOptions.DEFAULT.withAuthority(call.getAuthority()));
        Object lock = new Object();
        upstream.start(
                new ClientCall.Listener<>() {
                    private boolean headersSent;

                    @Override
                    public void onHeaders(Metadata h) {
                        synchronized (lock) {
                            call.sendHeaders(h);
                            headersSent = true;
                        }
                    }

                    @Override
                    public void onMessage(byte[] message) {
                        synchronized (lock) {
                            if (!headersSent) {
                                call.sendHeaders(new Metadata());
                                headersSent = true;
                            }
                            call.sendMessage(message);
                        }
                        upstream.request(1);
                    }

                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        synchronized (lock) {
                            call.close(status, trailers);
                        }
                    }
                },
                out);
        upstream.request(1);
        call.request(1);
        return new ServerCall.Listener<>() {
            @Override
            public void onMessage(byte[] message) {
                synchronized (lock) {
                    upstream.sendMessage(message);
                }
                call.request(1);
            }

            @Override
            public void onHalfClose() {
                synchronized (lock) {
                    upstream.halfClose();
                }
            }

            @Override
            public void onCancel() {
                upstream.cancel("downstream cancelled", null);
            }
        };
    }

    private ServerSocket tcp(int port, boolean mtls, boolean http) throws IOException {
        ServerSocket listener = new ServerSocket();
        listener.bind(new InetSocketAddress("0.0.0.0", listenPort(port, mtls)));
        Thread.ofPlatform().daemon().start(() -> {
            while (true) {
                try {
                    Socket client = listener.accept();
                    Thread.ofVirtual().start(() -> {
                        if (http) {
                            httpConnection(port, mtls, client);
                        } else {
                            tcpConnection(port, mtls, client);
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        return listener;
    }

    private void tcpConnection(int port, boolean mtls, Socket client) {
        try (client) {
            Verdict v = verdict(port, mtls, client.getRemoteSocketAddress());
            if (!v.allowed()) {
                System.out.println(
                        "inbound " + port + " from " + client.getRemoteSocketAddress() + " closed: " + v.reason());
                System.out.flush();
                return;
            }
            try (Socket app = new Socket()) {
                app.bind(new InetSocketAddress(loopback6(), 0));
                app.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                Pipe.both(client.getInputStream(), client.getOutputStream(), app);
            }
        } catch (IOException e) {
            // either side went away
        }
    }

    /**
     * An HTTP port with Istio's HTTP filters (CUSTOM ext_authz, an EnvoyFilter's ext_proc): the connection-level part
     * (STRICT refuses a plaintext peer: closed) here, then the connection is handed to the Envoy emulator's inbound
     * chain ({@link Sidecar}) on a loopback listener that stands for this peer's verified identity: ext_authz when a
     * CUSTOM policy matches the peer, then the DENY/ALLOW verdict, then ext_proc, then the app.
     */
    private void httpConnection(int port, boolean mtls, Socket client) {
        try (client) {
            String ip = client.getInetAddress().getHostAddress();
            Verdict v = verdict(port, mtls, client.getRemoteSocketAddress());
            if (!v.allowed() && (v.reason().startsWith("STRICT") || v.reason().startsWith("no decision"))) {
                System.out.println(
                        "inbound " + port + " from " + client.getRemoteSocketAddress() + " closed: " + v.reason());
                System.out.flush();
                return;
            }
            String key = (mtls ? "m " : "p ") + port + " " + ip;
            int listener = httpListener(port, key, mtls ? identities.getOrDefault(ip, "") : "", ip, v);
            try (Socket chain = new Socket()) {
                chain.connect(new InetSocketAddress("127.0.0.1", listener), 2000);
                Pipe.both(client.getInputStream(), client.getOutputStream(), chain);
            }
        } catch (IOException e) {
            // either side went away
        }
    }

    /** Each mTLS peer's SPIFFE ID by pod address, as its certificate's URI SAN carries it ({@code identity} lines). */
    private final Map<String, String> identities = new java.util.concurrent.ConcurrentHashMap<>();

    private synchronized int httpListener(int port, String key, String principal, String ip, Verdict v)
            throws IOException {
        Integer existing = httpListeners.get(key);
        if (existing != null) {
            return existing;
        }
        Sidecar chain = httpChains.computeIfAbsent(
                port,
                p -> new Sidecar(
                        self, extAuthz, extProc, this::channel, p, timeoutScale, EnvoyVersion.SIDECAR_1_34, line -> {
                            System.out.println(line);
                            System.out.flush();
                        }));
        int listener = chain.listen(
                new Sidecar.Peer(principal, ip),
                checked.contains(key),
                v.allowed() ? java.util.Optional.empty() : java.util.Optional.of(v.reason()));
        httpListeners.put(key, listener);
        return listener;
    }

    /** A cluster the HTTP filters name ({@code outbound|PORT||HOST}), with the authority their config gives. */
    private io.grpc.ManagedChannel channel(String cluster) {
        List<io.envoyproxy.envoy.config.core.v3.GrpcService> configured = new java.util.ArrayList<>();
        extAuthz.ifPresent(c -> configured.add(c.getGrpcService()));
        extProc.ifPresent(c -> configured.add(c.getGrpcService()));
        return outbound.grpcChannel(cluster, IstioOutbound.grpcAuthority(cluster, configured));
    }

    private static InetAddress loopback6() {
        try {
            return InetAddress.getByAddress(new byte[] {127, 0, 0, 6});
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
