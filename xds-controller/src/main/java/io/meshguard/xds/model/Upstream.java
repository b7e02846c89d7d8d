package io.meshguard.xds.model;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.google.common.net.InetAddresses;
import java.util.List;
import java.util.Optional;

/**
 * A backend service, shared by every gateway group whose routes use it: one CDS cluster and one EDS load assignment
 * in each such group.
 *
 * <p>{@code host}, when set, is the Host (the backend Service's FQDN, e.g. {@code orders.shop.svc.cluster.local})
 * Envoy gateways send to this upstream, as the route's {@code host_rewrite_literal}. It is what makes an IP-literal
 * (EDS) upstream inside the mesh reachable: the gateway's own sidecar routes outbound HTTP by Host, and the client's
 * Host names no Service, so the request would leave in plaintext through Istio's PassthroughCluster and a STRICT
 * backend would reset it ({@code docs/gateway-envoy-config.md}, "IP-literal upstreams").
 */
public record Upstream(
        String name,
        Protocol protocol,
        LbPolicy lbPolicy,
        long connectTimeoutMs,
        List<Endpoint> endpoints,
        Optional<HealthCheck> healthCheck,
        Optional<CircuitBreaker> circuitBreaker,
        Optional<OutlierDetection> outlierDetection,
        Optional<Tls> tls,
        List<AddressException> addressExceptions,
        Optional<String> host) {

    public static final long DEFAULT_CONNECT_TIMEOUT_MS = 1000;

    public Upstream {
        protocol = protocol == null ? Protocol.HTTP1 : protocol;
        lbPolicy = lbPolicy == null ? LbPolicy.ROUND_ROBIN : lbPolicy;
        connectTimeoutMs = connectTimeoutMs == 0 ? DEFAULT_CONNECT_TIMEOUT_MS : connectTimeoutMs;
        endpoints = endpoints == null ? List.of() : List.copyOf(endpoints);
        healthCheck = healthCheck == null ? Optional.empty() : healthCheck;
        circuitBreaker = circuitBreaker == null ? Optional.empty() : circuitBreaker;
        outlierDetection = outlierDetection == null ? Optional.empty() : outlierDetection;
        tls = tls == null ? Optional.empty() : tls;
        addressExceptions = addressExceptions == null ? List.of() : List.copyOf(addressExceptions);
        host = host == null ? Optional.empty() : host;
    }

    /** As the canonical constructor, without a {@code host} (the Host the client sent is kept, or rewritten for DNS). */
    public Upstream(
            String name,
            Protocol protocol,
            LbPolicy lbPolicy,
            long connectTimeoutMs,
            List<Endpoint> endpoints,
            Optional<HealthCheck> healthCheck,
            Optional<CircuitBreaker> circuitBreaker,
            Optional<OutlierDetection> outlierDetection,
            Optional<Tls> tls,
            List<AddressException> addressExceptions) {
        this(
                name,
                protocol,
                lbPolicy,
                connectTimeoutMs,
                endpoints,
                healthCheck,
                circuitBreaker,
                outlierDetection,
                tls,
                addressExceptions,
                Optional.empty());
    }

    /** Same upstream with other endpoints (an endpoint-only change). */
    public Upstream withEndpoints(List<Endpoint> newEndpoints) {
        return new Upstream(
                name,
                protocol,
                lbPolicy,
                connectTimeoutMs,
                newEndpoints,
                healthCheck,
                circuitBreaker,
                outlierDetection,
                tls,
                addressExceptions,
                host);
    }

    /**
     * The name the upstream's certificate is checked against and sent as SNI: {@code sni}, or the endpoints' DNS
     * name when they all share one (empty otherwise, which validation refuses).
     */
    public Optional<String> tlsServerName() {
        if (tls.isEmpty()) {
            return Optional.empty();
        }
        if (tls.get().sni().isPresent()) {
            return tls.get().sni();
        }
        List<String> names =
                endpoints.stream().map(Endpoint::address).distinct().toList();
        return names.size() == 1 && !isIpLiteral(names.get(0)) ? Optional.of(names.get(0)) : Optional.empty();
    }

    /**
     * The kind of Envoy cluster the upstream becomes, decided by its endpoint addresses alone. Envoy refuses a DNS name
     * in an EDS or STATIC endpoint ("malformed IP address … Consider setting resolver_name or setting cluster type to
     * 'STRICT_DNS' or 'LOGICAL_DNS'", {@code source/common/upstream/upstream_impl.cc}), so names go to DNS clusters.
     * Why each kind: {@code docs/gateway-envoy-config.md} §1.
     */
    public Discovery discovery() {
        long names = endpoints.stream().filter(e -> !isIpLiteral(e.address())).count();
        if (names == 0) {
            return Discovery.EDS;
        }
        if (names < endpoints.size()) {
            return Discovery.MIXED;
        }
        return endpoints.size() == 1 ? Discovery.LOGICAL_DNS : Discovery.STRICT_DNS;
    }

    /** How the gateway finds an upstream's hosts; see {@link #discovery()}. */
    public enum Discovery {
        /** Every endpoint is an IP literal: an EDS cluster whose hosts are pushed as a load assignment. */
        EDS,
        /**
         * One endpoint, named by DNS: a LOGICAL_DNS cluster with the name in an inline load assignment. Envoy and
         * proxyless gRPC clients (grpc-java {@code XdsClusterResource}) both accept it.
         */
        LOGICAL_DNS,
        /** Several endpoints, all named by DNS: a STRICT_DNS cluster (Envoy only; grpc-java refuses the type). */
        STRICT_DNS,
        /** IP literals and DNS names in one upstream: refused by validation. */
        MIXED
    }

    /**
     * Whether {@code address} is an IPv4 or IPv6 literal, parsed as text without any DNS lookup (Envoy's
     * {@code Network::Utility::parseInternetAddress} is likewise {@code inet_pton}, no resolution). Zone ids
     * ({@code fe80::1%eth0}) are not literals Envoy's EDS accepts.
     */
    public static boolean isIpLiteral(String address) {
        return address != null && !address.contains("%") && InetAddresses.isInetAddress(address);
    }

    public enum Protocol {
        HTTP1,
        H2,
        GRPC
    }

    /**
     * TLS from the gateway to this upstream, always verified: the certificate must chain to a CA in
     * {@code caFile} and name one of {@code subjectAltNames} (DNS), by default the server name.
     *
     * @param sni server name to send; defaults to the endpoints' DNS name when they share one
     * @param subjectAltNames accepted DNS names in the certificate; empty means the server name
     * @param caFile PEM bundle on the gateway's file system; empty means {@link #SYSTEM_CA_FILE}
     */
    public record Tls(Optional<String> sni, List<String> subjectAltNames, Optional<String> caFile) {
        /** The CA bundle of the Debian/Ubuntu-based Envoy and Istio proxy images. */
        public static final String SYSTEM_CA_FILE = "/etc/ssl/certs/ca-certificates.crt";

        public Tls {
            sni = sni == null ? Optional.empty() : sni;
            subjectAltNames = subjectAltNames == null ? List.of() : List.copyOf(subjectAltNames);
            caFile = caFile == null ? Optional.empty() : caFile;
        }
    }

    public enum LbPolicy {
        ROUND_ROBIN,
        LEAST_REQUEST,
        RANDOM,
        RING_HASH,
        MAGLEV
    }

    /** One address of the upstream; {@code weight} is its share within the upstream. */
    public record Endpoint(String address, int port, int weight) {
        public Endpoint {
            weight = weight == 0 ? 1 : weight;
        }
    }

    /**
     * A reviewed permission for one endpoint that points at the gateway pod itself or the platform (loopback,
     * link-local, cloud metadata, unspecified, a sidecar or admin port): it names that exact address and port, and why.
     * Without one such an endpoint is refused; a blanket "allow loopback" does not exist.
     */
    public record AddressException(String address, int port, String reason) {
        public AddressException {
            address = address == null ? "" : address;
            reason = reason == null ? "" : reason;
        }
    }

    /** Active HTTP health check ({@code path} empty: TCP connect check). */
    public record HealthCheck(
            Optional<String> path, long intervalMs, long timeoutMs, int unhealthyThreshold, int healthyThreshold) {
        public HealthCheck {
            path = path == null ? Optional.empty() : path;
            intervalMs = intervalMs == 0 ? 10_000 : intervalMs;
            timeoutMs = timeoutMs == 0 ? 1_000 : timeoutMs;
            unhealthyThreshold = unhealthyThreshold == 0 ? 3 : unhealthyThreshold;
            healthyThreshold = healthyThreshold == 0 ? 2 : healthyThreshold;
        }
    }

    /** Envoy circuit-breaker thresholds for the default priority. */
    public record CircuitBreaker(int maxConnections, int maxPendingRequests, int maxRequests, int maxRetries) {
        public CircuitBreaker {
            maxConnections = maxConnections == 0 ? 1024 : maxConnections;
            maxPendingRequests = maxPendingRequests == 0 ? 1024 : maxPendingRequests;
            maxRequests = maxRequests == 0 ? 1024 : maxRequests;
            maxRetries = maxRetries == 0 ? 3 : maxRetries;
        }
    }

    /** Passive ejection of failing endpoints. */
    public record OutlierDetection(
            @JsonProperty("consecutive_5xx") int consecutive5xx,
            long intervalMs,
            long baseEjectionMs,
            int maxEjectionPercent) {
        public OutlierDetection {
            consecutive5xx = consecutive5xx == 0 ? 5 : consecutive5xx;
            intervalMs = intervalMs == 0 ? 10_000 : intervalMs;
            baseEjectionMs = baseEjectionMs == 0 ? 30_000 : baseEjectionMs;
            maxEjectionPercent = maxEjectionPercent == 0 ? 10 : maxEjectionPercent;
        }
    }
}
