package io.meshguard.envoygateway.render;

import java.time.Duration;
import java.util.Objects;

/**
 * The settings of a gateway template of kind {@code envoy-gateway}: where the rendered resources live, which
 * GatewayClass serves them, and where meshguard's servers are reached from the cluster's Envoy Gateway.
 *
 * @param namespace the namespace of every rendered resource (the Gateway, its routes and policies)
 * @param gatewayClassName the GatewayClass of Envoy Gateway's controller in that cluster
 * @param extAuthz meshguard's extauthz Service ({@code envoy.service.auth.v3.Authorization}, gRPC)
 * @param dlp meshguard's DLP Service ({@code envoy.service.ext_proc.v3.ExternalProcessor}, gRPC)
 * @param filterTimeout how long a Check may take before Envoy answers the route's error status
 * @param xffNumTrustedHops the load balancers in front of the Gateway that append the client to
 *     {@code x-forwarded-for} ({@code xds.gateway.xff_num_trusted_hops}, as for meshguard's own gateway); 0: the peer
 *     is the client
 */
public record EnvoyGatewayTemplate(
        String namespace,
        String gatewayClassName,
        ServiceRef extAuthz,
        ServiceRef dlp,
        Duration filterTimeout,
        int xffNumTrustedHops) {

    public EnvoyGatewayTemplate {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(gatewayClassName, "gatewayClassName");
        Objects.requireNonNull(extAuthz, "extAuthz");
        Objects.requireNonNull(dlp, "dlp");
        Objects.requireNonNull(filterTimeout, "filterTimeout");
        if (xffNumTrustedHops < 0) {
            throw new IllegalArgumentException("xffNumTrustedHops must be 0 or more, got " + xffNumTrustedHops);
        }
    }

    /** The install's defaults: meshguard's Services in the {@code meshguard} namespace, on their default ports. */
    public static EnvoyGatewayTemplate defaults() {
        return new EnvoyGatewayTemplate(
                "meshguard",
                "envoy-gateway",
                new ServiceRef("meshguard-extauthz", "meshguard", 9001),
                new ServiceRef("meshguard-dlp", "meshguard", 9002),
                Duration.ofSeconds(2), // FilterTargets.DEFAULTS: the Check timeout of meshguard's gateway
                0);
    }

    /** The same template, trusting {@code hops} load balancers' {@code x-forwarded-for} entries. */
    public EnvoyGatewayTemplate withXffNumTrustedHops(int hops) {
        return new EnvoyGatewayTemplate(namespace, gatewayClassName, extAuthz, dlp, filterTimeout, hops);
    }

    /** A Kubernetes Service port. */
    public record ServiceRef(String name, String namespace, int port) {
        public ServiceRef {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(namespace, "namespace");
        }
    }
}
