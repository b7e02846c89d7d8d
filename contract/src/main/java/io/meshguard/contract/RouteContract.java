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
        /**
         * The product publish a route belongs to (docs/products.md): extauthz admits only credentials with a live
         * subscription to it, from the subscription state the controller pushes.
         */
        public static final String PRODUCT_PUBLISH = "meshguard.product_publish";
        /** The product's operation a route serves (set with {@link #PRODUCT_PUBLISH}): a plan's per-operation limits. */
        public static final String PRODUCT_OPERATION = "meshguard.product_operation";

        /** Every key meshguard owns; any other {@code meshguard.*} key is a contract violation. */
        public static final List<String> ALL = List.of(
                AUTHZ_PROFILE,
                GATEWAY_ROUTE,
                API,
                API_VERSION,
                AUTH,
                RATE_LIMIT_TIER,
                PRODUCT_PUBLISH,
                PRODUCT_OPERATION);

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

    /**
     * The DLP profile where the gateway cannot set {@link DlpMetadata} on the ext_proc stream (Envoy Gateway v1.9.0:
     * no per-route gRPC initial metadata, docs/envoy-gateway.md). The route's EnvoyExtensionPolicy calls the DLP
     * server through a Backend named {@code dlp-profile.<profile>.<group>}, and Envoy Gateway makes that name the
     * stream's {@code :authority} ({@code <backend name>.<policy namespace>}, {@code buildExtProc} in
     * {@code internal/gatewayapi/envoyextensionpolicy.go}, v1.9.0). Like the metadata it is operator configuration
     * carried by Envoy on its own gRPC stream: no header a client sends reaches it.
     */
    public static final class DlpAuthority {
        private DlpAuthority() {}

        /** The first label of such a Backend's name. */
        public static final String MARKER = "dlp-profile";

        private static final java.util.regex.Pattern LABEL =
                java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

        /** Whether {@code profile} can be carried this way: a DNS label (Kubernetes object names allow no other). */
        public static boolean carries(String profile) {
            return LABEL.matcher(profile).matches();
        }

        /**
         * The Backend name that carries {@code profile} for {@code group} (one per group, so that pruning one group
         * never removes another's).
         *
         * @throws IllegalArgumentException when the profile or the group is not a DNS label
         */
        public static String backendName(String profile, String group) {
            if (!carries(profile) || !carries(group)) {
                throw new IllegalArgumentException(
                        "DLP profile '" + profile + "' of group '" + group + "' is not a DNS label");
            }
            return MARKER + "." + profile + "." + group;
        }

        /**
         * The profile an ext_proc stream's {@code :authority} names: exactly {@code dlp-profile.<profile>.<group>.<
         * namespace>}, an optional port after it; anything else names none.
         */
        public static java.util.Optional<String> profileOf(String authority) {
            if (authority == null) {
                return java.util.Optional.empty();
            }
            String host = authority.strip().toLowerCase(java.util.Locale.ROOT);
            int colon = host.lastIndexOf(':');
            if (colon >= 0 && host.substring(colon + 1).chars().allMatch(Character::isDigit)) {
                host = host.substring(0, colon);
            }
            String[] labels = host.split("\\.", -1);
            if (labels.length != 4 || !labels[0].equals(MARKER)) {
                return java.util.Optional.empty();
            }
            for (String l : labels) {
                if (!LABEL.matcher(l).matches()) {
                    return java.util.Optional.empty();
                }
            }
            return java.util.Optional.of(labels[1]);
        }
    }

    /**
     * What the gateway's gRPC access log carries about the matched route and the caller, for per-version usage
     * (metrics and {@code meshguard api usage}).
     *
     * <p>The xDS controller writes the route's identity into the Envoy route's {@code metadata.filter_metadata}
     * under {@link #METADATA_NAMESPACE}, and asks the access logger for one {@code custom_tags} entry per key
     * ({@code CommonGrpcAccessLogConfig.custom_tags}, a {@code CustomTag.metadata} of kind {@code route}); Envoy
     * copies the route's value into {@code AccessLogCommon.custom_tags[tag]}
     * ({@code source/extensions/access_loggers/grpc/grpc_access_log_utils.cc},
     * {@code extractCommonAccessLogProperties}; {@code MetadataCustomTag::applyLog} in
     * {@code source/common/tracing/custom_tag_impl.cc}). A client cannot set route metadata.
     *
     * <p>The caller comes from the identity headers ext_authz sets upstream after an allowed Check, logged through
     * {@code HttpGrpcAccessLogConfig.additional_request_headers_to_log} (read from the request header map at log
     * time, after ext_authz mutated it: {@code http_grpc_access_log_impl.cc}). On a request ext_authz did not allow
     * (denied, disabled on the route, no route) those headers are whatever the client sent, so the receiver trusts
     * them only when the route says ext_authz checked it ({@link #AUTHZ} = {@link #AUTHZ_CHECKED}) and the entry
     * carries no ext_authz denial.
     */
    public static final class AccessLogTags {
        private AccessLogTags() {}

        /** The {@code filter_metadata} namespace of the route metadata (Envoy reserves {@code envoy.*}). */
        public static final String METADATA_NAMESPACE = "meshguard";

        /** Route metadata keys; each is logged as the custom tag {@link #TAG_PREFIX}{@code <key>}. */
        public static final String API = "api";

        public static final String API_VERSION = "api_version";
        public static final String GATEWAY_ROUTE = "gateway_route";
        /** The version's lifecycle when published: {@code active | deprecated | sunset | retired}. */
        public static final String LIFECYCLE = "lifecycle";
        /** The version's sunset instant (ISO-8601, UTC), when it has one. */
        public static final String SUNSET = "sunset";
        /** {@link #AUTHZ_CHECKED} when ext_authz decides the route's requests, {@code none} when it is disabled. */
        public static final String AUTHZ = "authz";

        public static final String AUTHZ_CHECKED = "checked";
        public static final String AUTHZ_NONE = "none";
        /** The gateway route name of a sunset or retired version's canned answer (it has no gateway route). */
        public static final String CLOSED_ROUTE = "_closed";

        public static final List<String> KEYS = List.of(API, API_VERSION, GATEWAY_ROUTE, LIFECYCLE, SUNSET, AUTHZ);
        public static final String TAG_PREFIX = "meshguard.";

        /** The custom tag name a metadata key is logged under. */
        public static String tag(String key) {
            return TAG_PREFIX + key;
        }

        /**
         * Request headers the access logger logs: the W3C trace context and the identity ext_authz injects (its
         * policy's default names, {@code IdentityHeaders} in extauthz-server: subject, tenant, client id).
         */
        public static final String TRACEPARENT = "traceparent";

        public static final String SUBJECT_HEADER = "x-user-id";
        public static final String TENANT_HEADER = "x-tenant-id";
        public static final String CLIENT_ID_HEADER = "x-client-id";
        /**
         * Marks a synthetic request of {@code meshguard canary}; its value is the canary's kind, one of
         * {@link #CANARY_KINDS}. Logged so that a canary's access-log row says it is one ({@code details.canary}); a
         * client can send it too, so it never takes a row out of usage or coverage.
         */
        public static final String CANARY_HEADER = "x-meshguard-canary";

        /** The canary kinds the access-log receiver records; any other value of the header is ignored. */
        public static final List<String> CANARY_KINDS = List.of("expired_token", "test_card");

        public static final List<String> REQUEST_HEADERS =
                List.of(TRACEPARENT, TENANT_HEADER, SUBJECT_HEADER, CLIENT_ID_HEADER, CANARY_HEADER);
        /** Response headers the access logger logs: {@code content-type} tells an event stream (SSE) apart. */
        public static final List<String> RESPONSE_HEADERS = List.of("content-type");

        /**
         * The dynamic-metadata namespace Envoy's ext_authz filter puts an OK CheckResponse's {@code dynamic_metadata}
         * in (source/extensions/filters/http/ext_authz/ext_authz.cc {@code onComplete}); a gRPC access logger ships
         * the stream's dynamic metadata in {@code common_properties.metadata} (grpc_access_log_utils.cc).
         */
        public static final String EXT_AUTHZ_METADATA_NAMESPACE = "envoy.filters.http.ext_authz";

        /**
         * The key of the per-decision nonce extauthz returns with every allow, in
         * {@link #EXT_AUTHZ_METADATA_NAMESPACE}: a value only the proxy that asked for the Check learns, so an
         * access-log row carrying it is the request that Check decided (a client can choose its x-request-id in the
         * mesh, not this).
         */
        public static final String AUTHZ_NONCE = "authz_nonce";
    }
}
