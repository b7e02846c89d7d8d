package io.meshguard.contract;

import java.util.List;

/**
 * What a gateway route hands to meshguard's servers. The xDS controller writes these keys into the resources it
 * emits; extauthz-server and extproc-dlp-server read them. Both sides use these constants and nothing else, so a
 * renamed key breaks the build instead of silently dropping a profile (documented in {@code docs/route-contract.md}).
 *
 * <p>Every value arrives on Envoy's own gRPC call to us, set by operator configuration: ext_authz
 * {@code CheckRequest.attributes.context_extensions} (per-route {@code ExtAuthzPerRoute.check_settings}, Envoy
 * {@code api/envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto}) and ext_proc gRPC initial metadata
 * (per-route {@code ExtProcPerRoute.overrides.grpc_initial_metadata}, Envoy
 * {@code api/envoy/extensions/filters/http/ext_proc/v3/ext_proc.proto}). A client cannot set either.
 */
public final class RouteContract {
    private RouteContract() {}

    /** Keys of ext_authz {@code context_extensions}. */
    public static final class AuthzContext {
        private AuthzContext() {}

        /** The authz.yaml rule (or profile) that decides the request; a name the policy lacks is denied. */
        public static final String AUTHZ_PROFILE = "meshguard.authz_profile";
        /** The gateway route's own name, for audit rows and metrics only (never selects a rule). */
        public static final String GATEWAY_ROUTE = "meshguard.gateway_route";
        /** The API and API version the gateway route belongs to, for audit rows and metrics. */
        public static final String API = "meshguard.api";
        public static final String API_VERSION = "meshguard.api_version";
        /** Narrows the credential type the rule accepts ({@code jwt | apikey | jwt_or_apikey}); never opens a route. */
        public static final String AUTH = "meshguard.auth";
        /** Forces a rate-limit tier for the route. */
        public static final String RATE_LIMIT_TIER = "meshguard.rate_limit_tier";

        /** Every key meshguard owns; any other {@code meshguard.*} key is a contract violation. */
        public static final List<String> ALL = List.of(AUTHZ_PROFILE, GATEWAY_ROUTE, API, API_VERSION, AUTH, RATE_LIMIT_TIER);
        public static final String PREFIX = "meshguard.";
    }

    /** Keys of the ext_proc stream's gRPC initial metadata (lower-case, as gRPC requires). */
    public static final class DlpMetadata {
        private DlpMetadata() {}

        /** The dlp.yaml profile that scans the stream; a name the policy lacks fails the stream closed. */
        public static final String DLP_PROFILE = "x-meshguard-dlp-profile";
        /** The gateway route's name, for audit rows and metrics. */
        public static final String GATEWAY_ROUTE = "x-meshguard-route";
        /** The API and version, for audit rows and metrics. */
        public static final String API = "x-meshguard-api";
        public static final String API_VERSION = "x-meshguard-api-version";

        public static final List<String> ALL = List.of(DLP_PROFILE, GATEWAY_ROUTE, API, API_VERSION);
    }
}
