package io.meshguard.emulator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * An Istio sidecar's inbound HTTP path in front of one workload, emulated: a request that arrives over mTLS from a
 * peer (the edge gateway, or another pod) goes through the inbound HTTP connection manager, the {@code ext_authz}
 * filter of meshguard's CUSTOM authorization provider, and on to the workload (a real HTTP/1.1 upstream on loopback).
 *
 * <p>mTLS is not performed: each {@link #listen(Peer) listener} stands for connections whose handshake verified one
 * peer, so what the sidecar's Envoy knows about the connection — the peer's SPIFFE ID (the certificate's URI SAN) and
 * its pod address — is exactly what that listener reports. A gateway's cluster endpoint pointing at such a listener is
 * the gateway pod reaching the workload through its own sidecar's mTLS.
 *
 * <p>What is modelled, each from its source:
 * <ul>
 *   <li><b>The inbound connection manager</b> as Istio builds it (istio/istio pilot/pkg/networking/core/listener_inbound.go
 *       {@code buildSidecarInboundHTTPOpts}): {@code use_remote_address: false}, no trusted hops, no original-IP
 *       detection extension, {@code forward_client_cert_details} APPEND_FORWARD (Istio's sidecar default,
 *       pilot/pkg/networking/util {@code GetProxyHeaders}). Envoy's {@code mutateRequestHeaders}
 *       (envoyproxy/envoy source/common/http/conn_manager_utility.cc) then: does not append the peer to
 *       {@code x-forwarded-for} (only a {@code use_remote_address} HCM appends); finds the request neither internal
 *       (no detection extension allows trusted-address checks) nor edge ({@code edge_request} needs
 *       {@code use_remote_address}), so {@code x-envoy-external-address} is neither set nor removed — what the peer
 *       sent passes; removes the fixed list of internal {@code x-envoy-*} headers ({@code cleanInternalHeaders});
 *       keeps the peer's {@code x-request-id} (a new one only when absent: not an edge request); sets
 *       {@code x-forwarded-proto} when absent; appends the peer's certificate details to
 *       {@code x-forwarded-client-cert} ({@code mutateXfccRequestHeader}, {@code By=} our URI SAN, {@code URI=} the
 *       peer's; no {@code Hash=}: there is no certificate).</li>
 *   <li><b>The ext_authz filter</b> Istio generates for an {@code envoyExtAuthzGrpc} provider (istio/istio
 *       pilot/pkg/security/authz/builder/extauthz.go; its testdata custom-grpc-provider-out2.yaml), with meshguard's
 *       provider settings (manifests/istio/mesh/istiod-values.yaml: {@code timeout: 1s}, {@code failOpen: false},
 *       {@code statusOnError: 503}). The namespace's CUSTOM policy matches every request, so every request is
 *       checked. The Check (envoyproxy/envoy source/extensions/filters/common/ext_authz/check_request_utils.cc
 *       {@code setAttrContextPeer}): {@code source.address} the connection's peer, {@code source.principal} the peer
 *       certificate's URI SAN, {@code destination.principal} our own; no context extensions (Istio's inbound routes
 *       carry none of meshguard's). The answer is applied as the gateway's is ({@link ExtAuthzCall}).</li>
 *   <li><b>The workload</b>: the request with the allow's header mutations, over HTTP/1.1 to loopback.</li>
 * </ul>
 */
public final class Sidecar implements AutoCloseable {
    /** meshguard's provider timeout (manifests/istio/mesh/istiod-values.yaml). */
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(1);

    /**
     * The other end of an mTLS connection: the SPIFFE ID its certificate carries (verified by the handshake) and its
     * address as the sidecar's socket sees it (the pod's IP).
     */
    public record Peer(String principal, String address) {}

    /**
     * One request the sidecar handled: the peer, what arrived, the Check it sent, the status it answered and, when
     * allowed, the headers the workload received (empty when denied).
     */
    public record Handled(Peer peer, Headers arrived, CheckRequest check, int status, Optional<Headers> forwarded) {}

    private final String identity;
    private final ManagedChannel extAuthz;
    private final ExtAuthz config;
    private final int workloadPort;
    private final double timeoutScale;
    private final EnvoyVersion version;
    private final List<HttpServer> listeners = new CopyOnWriteArrayList<>();
    private final List<Handled> handled = new CopyOnWriteArrayList<>();
    private final AtomicLong streamIds = new AtomicLong(1);

    /**
     * @param identity this sidecar's SPIFFE ID (the workload's service account)
     * @param extAuthzTarget host:port of extauthz-server (meshguard-extauthz in the mesh)
     * @param workloadPort the workload's loopback port
     * @param timeoutScale the Check deadline is 1 s times this (a loaded test machine)
     * @param version the sidecar's Envoy release ({@link EnvoyVersion}: how an unset {@code append} is applied)
     */
    public Sidecar(String identity, String extAuthzTarget, int workloadPort, double timeoutScale, EnvoyVersion version) {
        this.identity = identity;
        this.workloadPort = workloadPort;
        this.timeoutScale = timeoutScale;
        this.version = version;
        this.extAuthz = NettyChannelBuilder.forTarget(extAuthzTarget).usePlaintext().build();
        this.config = ExtAuthz.newBuilder()
                .setGrpcService(GrpcService.newBuilder()
                        .setEnvoyGrpc(GrpcService.EnvoyGrpc.newBuilder().setClusterName("outbound|9001||meshguard-extauthz"))
                        .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(CHECK_TIMEOUT.toSeconds())))
                .setTransportApiVersion(ApiVersion.V3)
                .setFailureModeAllow(false)
                .setStatusOnError(HttpStatus.newBuilder().setCode(StatusCode.ServiceUnavailable))
                .setClearRouteCache(true)
                .build();
    }

    /** A listener whose every connection comes from {@code peer} (as its mTLS handshake verified it); its port. */
    public int listen(Peer peer) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", exchange -> {
            try (exchange) {
                handle(exchange, peer, server.getAddress().getPort());
            }
        });
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.start();
        listeners.add(server);
        return server.getAddress().getPort();
    }

    /** Every request handled so far, in order. */
    public List<Handled> handled() {
        return List.copyOf(handled);
    }

    public void clear() {
        handled.clear();
    }

    private void handle(HttpExchange exchange, Peer peer, int listenerPort) throws IOException {
        Headers headers = new Headers();
        exchange.getRequestHeaders().forEach((k, values) -> values.forEach(v -> headers.add(k.toLowerCase(Locale.ROOT), v)));
        String authority = headers.first("host").orElse("");
        headers.remove("host"); // HTTP/1.1's Host is :authority to Envoy
        Headers arrived = headers.copy();
        byte[] body;
        try (InputStream in = exchange.getRequestBody()) {
            body = in.readAllBytes();
        }
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getRawPath()
                + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery());

        inboundConnectionManager(headers, peer);

        long streamId = streamIds.getAndIncrement();
        CheckRequest built = ExtAuthzCall.build(config, streamId, method, path, authority, headers, Map.of(),
                peer.address(), 40000 + (int) (streamId % 20000), listenerPort, body.length);
        // setAttrContextPeer: the source's principal is the peer certificate's URI SAN, the destination's our own
        CheckRequest check = built.toBuilder().setAttributes(built.getAttributes().toBuilder()
                .setSource(built.getAttributes().getSource().toBuilder().setPrincipal(peer.principal()))
                .setDestination(built.getAttributes().getDestination().toBuilder().setPrincipal(identity)))
                .build();
        ExtAuthzCall.Result result = ExtAuthzCall.call(config, extAuthz, check, headers, timeoutScale, version);
        switch (result.outcome()) {
            case ALLOWED, ERROR_ALLOWED -> {
                Headers forwarded = headers.copy();
                // recorded before the peer gets its answer, so a caller that has its answer sees the record
                forward(exchange, method, result.path(), authority, headers, body,
                        status -> handled.add(new Handled(peer, arrived, check, status, Optional.of(forwarded))));
            }
            case DENIED, ERROR_DENIED -> {
                result.responseHeaders().entries().forEach(h -> exchange.getResponseHeaders().add(h[0], h[1]));
                byte[] denial = result.body().getBytes(StandardCharsets.UTF_8);
                handled.add(new Handled(peer, arrived, check, result.status(), Optional.empty()));
                exchange.sendResponseHeaders(result.status(), denial.length == 0 ? -1 : denial.length);
                if (denial.length > 0) {
                    try (OutputStream out = exchange.getResponseBody()) {
                        out.write(denial);
                    }
                }
            }
        }
    }

    /** What Istio's inbound HCM does to the request headers (see the class comment for the sources). */
    private void inboundConnectionManager(Headers headers, Peer peer) {
        // use_remote_address false: x-forwarded-for is not appended, x-envoy-external-address is not touched
        Gateway.INTERNAL_ENVOY_HEADERS.forEach(headers::remove);
        Gateway.HOP_BY_HOP.forEach(headers::remove);
        if (!headers.has("x-request-id")) {
            headers.set("x-request-id", UUID.randomUUID().toString());
        }
        if (!headers.has("x-forwarded-proto")) {
            headers.set("x-forwarded-proto", "https"); // the connection is TLS
        }
        String details = "By=" + identity + ";Subject=\"\";URI=" + peer.principal();
        headers.set("x-forwarded-client-cert", headers.first("x-forwarded-client-cert")
                .map(v -> v + "," + details).orElse(details));
    }

    /** The request on to the workload; its answer back to the peer, its status told to {@code answered} first. */
    private void forward(HttpExchange exchange, String method, String path, String authority, Headers headers,
            byte[] body, IntConsumer answered) throws IOException {
        Duration timeout = Duration.ofMillis((long) (15_000 * timeoutScale));
        try (UpstreamConnection workload = UpstreamConnection.open(new InetSocketAddress("127.0.0.1", workloadPort),
                timeout, timeout)) {
            Headers sent = headers.copy();
            if (body.length > 0) {
                sent.set("content-length", Integer.toString(body.length));
            }
            workload.sendHead(method, path, authority, sent, body.length > 0);
            if (body.length > 0) {
                workload.sendBody(body);
                workload.endBody();
            }
            UpstreamConnection.Head head = workload.readHead();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            for (byte[] piece = workload.readBody(); piece != null; piece = workload.readBody()) {
                answer.writeBytes(piece);
            }
            head.headers().entries().stream()
                    .filter(h -> !h[0].equals("content-length") && !h[0].equals("transfer-encoding")
                            && !h[0].equals("connection"))
                    .forEach(h -> exchange.getResponseHeaders().add(h[0], h[1]));
            answered.accept(head.status());
            exchange.sendResponseHeaders(head.status(), answer.size() == 0 ? -1 : answer.size());
            if (answer.size() > 0) {
                try (OutputStream out = exchange.getResponseBody()) {
                    answer.writeTo(out);
                }
            }
        }
    }

    @Override
    public void close() {
        listeners.forEach(s -> s.stop(0));
        extAuthz.shutdownNow();
        try {
            extAuthz.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
