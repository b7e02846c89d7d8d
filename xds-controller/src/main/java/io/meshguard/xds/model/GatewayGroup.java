package io.meshguard.xds.model;

import java.util.List;
import java.util.Optional;

/**
 * One set of gateways that share a configuration: an environment in a cluster or region. Envoy nodes and proxyless
 * gRPC clients join a group through {@code node.cluster} or the node metadata key {@code meshguard.group}.
 *
 * @param hostnames virtual hosts served; when empty each API gets one from {@code hostnameTemplate}
 * @param hostnameTemplate placeholders {@code {api} {env} {region} {domain}}
 * @param listenerPort the port of the Envoy HTTP listener
 * @param proxylessAuthz whether proxyless gRPC clients must run the ext_authz filter
 * @param cors the group's cross-origin policy for every API it serves; empty: no CORS (browsers refuse cross-origin
 *     calls)
 * @param apiCors per-API policies that replace {@code cors} for that API's routes (keyed by API name)
 * @param templateKind which data plane serves the group's revisions (meshguard's gateway unless set)
 */
public record GatewayGroup(
        String name,
        String environment,
        String region,
        Optional<String> domain,
        List<String> hostnames,
        String hostnameTemplate,
        int listenerPort,
        ProxylessAuthz proxylessAuthz,
        Optional<Cors> cors,
        java.util.Map<String, Cors> apiCors,
        TemplateKind templateKind) {

    public static final String DEFAULT_HOSTNAME_TEMPLATE = "{api}.{env}.{region}.{domain}";
    public static final int DEFAULT_LISTENER_PORT = 8080;

    public GatewayGroup {
        domain = domain == null ? Optional.empty() : domain;
        hostnames = hostnames == null ? List.of() : List.copyOf(hostnames);
        hostnameTemplate =
                hostnameTemplate == null || hostnameTemplate.isBlank() ? DEFAULT_HOSTNAME_TEMPLATE : hostnameTemplate;
        listenerPort = listenerPort == 0 ? DEFAULT_LISTENER_PORT : listenerPort;
        proxylessAuthz = proxylessAuthz == null ? ProxylessAuthz.REQUIRED : proxylessAuthz;
        environment = environment == null ? "" : environment;
        region = region == null ? "" : region;
        cors = cors == null ? Optional.empty() : cors;
        apiCors = apiCors == null ? java.util.Map.of() : java.util.Map.copyOf(apiCors);
        templateKind = templateKind == null ? TemplateKind.MESHGUARD : templateKind;
    }

    /** A group served by meshguard's own gateway. */
    public GatewayGroup(
            String name,
            String environment,
            String region,
            Optional<String> domain,
            List<String> hostnames,
            String hostnameTemplate,
            int listenerPort,
            ProxylessAuthz proxylessAuthz,
            Optional<Cors> cors,
            java.util.Map<String, Cors> apiCors) {
        this(
                name,
                environment,
                region,
                domain,
                hostnames,
                hostnameTemplate,
                listenerPort,
                proxylessAuthz,
                cors,
                apiCors,
                TemplateKind.MESHGUARD);
    }

    /** This group served by {@code kind}; everything else as it is. */
    public GatewayGroup withTemplateKind(TemplateKind kind) {
        return new GatewayGroup(
                name,
                environment,
                region,
                domain,
                hostnames,
                hostnameTemplate,
                listenerPort,
                proxylessAuthz,
                cors,
                apiCors,
                kind);
    }

    /** The policy of one API's routes in this group: its own, else the group's, else none. */
    public Optional<Cors> corsFor(String api) {
        Cors own = apiCors.get(api);
        return own != null ? Optional.of(own) : cors;
    }

    /**
     * Whether the group is a production environment ({@code prod}, {@code production}, {@code prd}, any case), where
     * CORS accepts exact origins only.
     */
    public boolean production() {
        String e = environment.toLowerCase(java.util.Locale.ROOT);
        return e.equals("prod") || e.equals("production") || e.equals("prd");
    }

    /** The hostname an API gets from the template when the group lists none. */
    public String generatedHostname(String api) {
        return hostnameTemplate
                .replace("{api}", api)
                .replace("{env}", environment)
                .replace("{region}", region)
                .replace("{domain}", domain.orElse("local"));
    }

    /**
     * How proxyless gRPC clients treat the ext_authz filter. grpc-java only runs it when the client sets
     * {@code GRPC_EXPERIMENTAL_XDS_EXT_AUTHZ_ON_CLIENT=true}.
     */
    public enum ProxylessAuthz {
        /** Filter is mandatory: a client without ext_authz support rejects the listener (fail closed). */
        REQUIRED,
        /** Filter is marked optional: clients without support skip it. */
        OPTIONAL,
        /** No ext_authz filter on proxyless listeners (the backends authorize themselves). */
        OFF
    }
}
