package io.meshguard.xds.snapshot;

import java.time.Duration;

/**
 * Where the filters the controller configures send their calls: meshguard's ext_authz server, ext_proc DLP server
 * and audit access-log receiver, as {@code host:port}.
 *
 * @param filterTimeout timeout of one Check call (gateway and proxyless); ext_proc streams have no per-message timer
 *     under FULL_DUPLEX_STREAMED, see {@code docs/gateway-envoy-config.md} §5
 * @param xffNumTrustedHops the load balancers in front of the gateway that append {@code x-forwarded-for} honestly:
 *     the gateway HCM's {@code xff_num_trusted_hops}, the one place the client address is decided (extauthz reads
 *     Envoy's verdict, {@code x-envoy-external-address}; policies/README.md "Who the client is")
 */
public record FilterTargets(
        String extAuthz, String dlp, String accessLog, Duration filterTimeout, int xffNumTrustedHops) {

    /** Without load balancers in front of the gateway: the socket peer is the client. */
    public FilterTargets(String extAuthz, String dlp, String accessLog, Duration filterTimeout) {
        this(extAuthz, dlp, accessLog, filterTimeout, 0);
    }

    public static final FilterTargets DEFAULTS =
            new FilterTargets("127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9002", Duration.ofSeconds(2));

    /** Host part of a {@code host:port} target. */
    static String host(String target) {
        int colon = target.lastIndexOf(':');
        return colon < 0 ? target : target.substring(0, colon);
    }

    /** Port part of a {@code host:port} target. */
    static int port(String target) {
        int colon = target.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("target must be host:port, got '" + target + "'");
        }
        return Integer.parseInt(target.substring(colon + 1));
    }
}
