package io.meshguard.xds.validate;

import com.fasterxml.jackson.annotation.JsonValue;

/**
 * Every kind of problem the validator (and publishing) can report, each with a stable code an operator can search for,
 * look up in {@code docs/problem-codes.md} and suppress in tooling. A code is never renumbered or reused: a kind that
 * goes away keeps its number retired ({@code ProblemCodesTest} pins the list). The message says what is wrong with this
 * configuration; the code says which rule it broke.
 */
public enum ProblemCode {
    NAME_INVALID("MG-NAME-001", "a name is not lowercase letters, digits and '-' (1-63)"),
    HOSTNAME_INVALID("MG-HOST-001", "not a valid hostname"),
    HOSTNAME_BASE_PATH_CLASH("MG-HOST-002", "two APIs serve the same base path on one hostname"),
    HOSTNAME_PRODUCT_HOST_CLASH("MG-HOST-003", "a product publish's host is also an API's hostname in its group"),
    HOSTNAME_OTHER_TENANT("MG-HOST-004", "a hostname or path space another tenant serves"),

    GROUP_DUPLICATE("MG-GROUP-001", "two gateway groups have the same name"),
    GROUP_LISTENER_PORT("MG-GROUP-002", "the listener port is not 1..65535"),
    GROUP_HOSTNAME_TEMPLATE("MG-GROUP-003", "the hostname template lacks {api}"),
    GROUP_PROXYLESS_AUTHZ_OPTIONAL("MG-GROUP-004", "proxyless_authz: optional lets some clients skip authorization"),
    GROUP_API_CORS_UNKNOWN_API("MG-GROUP-005", "api_cors names an unknown API"),
    GROUP_ENVOY_GATEWAY_REFUSED(
            "MG-GROUP-006", "a group served by Envoy Gateway renders resources its Kubernetes API server would refuse"),

    UPSTREAM_DUPLICATE("MG-UPSTREAM-001", "two upstreams have the same name"),
    UPSTREAM_CONNECT_TIMEOUT("MG-UPSTREAM-002", "the connect timeout is not positive"),
    UPSTREAM_NO_ENDPOINTS("MG-UPSTREAM-003", "an upstream without endpoints answers 503"),
    UPSTREAM_ADDRESS_REQUIRED("MG-UPSTREAM-004", "an endpoint has no address"),
    UPSTREAM_ADDRESS_INVALID("MG-UPSTREAM-005", "an endpoint address is neither an IP address nor a DNS name"),
    UPSTREAM_PORT("MG-UPSTREAM-006", "an endpoint port is not 1..65535"),
    UPSTREAM_WEIGHT("MG-UPSTREAM-007", "an endpoint weight is not 1..128"),
    UPSTREAM_ADDRESS_EXCEPTION_USED("MG-UPSTREAM-008", "an address exception is in use"),
    UPSTREAM_PLATFORM_ADDRESS("MG-UPSTREAM-009", "an endpoint points at the gateway pod or the platform"),
    UPSTREAM_ADDRESS_EXCEPTION_REASON("MG-UPSTREAM-010", "an address exception has no reason"),
    UPSTREAM_ADDRESS_EXCEPTION_UNUSED("MG-UPSTREAM-011", "an address exception matches no endpoint needing one"),
    UPSTREAM_LB_POLICY_PROXYLESS("MG-UPSTREAM-012", "the load-balancing policy works on Envoy gateways only"),
    UPSTREAM_CLUSTER_KIND("MG-UPSTREAM-013", "the Envoy cluster type the upstream becomes"),
    UPSTREAM_STRICT_DNS_PROXYLESS("MG-UPSTREAM-014", "several DNS names: proxyless gRPC clients refuse the cluster"),
    UPSTREAM_MIXED_ENDPOINTS("MG-UPSTREAM-015", "IP addresses and DNS names mixed in one upstream"),
    UPSTREAM_HOST_INVALID("MG-UPSTREAM-016", "the upstream's host is not a DNS name"),
    UPSTREAM_IP_WITHOUT_HOST("MG-UPSTREAM-017", "IP-literal endpoints without a host: STRICT mesh backends reset them"),
    UPSTREAM_NAMESPACE_NOT_IN_TENANTS(
            "MG-UPSTREAM-018", "a tenant's upstream names a Service in a namespace no operator assigned to its tenant"),
    UPSTREAM_EGRESS_UNPINNED(
            "MG-UPSTREAM-019",
            "an upstream's DNS name lies outside the cluster with no addresses the gateway's NetworkPolicy could allow"),

    TLS_SNI_REQUIRED("MG-TLS-001", "upstream TLS without a name to send and check"),
    TLS_DNS_NAME("MG-TLS-002", "an SNI or subject alt name is not a DNS name"),
    TLS_CA_FILE_PATH("MG-TLS-003", "the CA file is not an absolute path"),
    TLS_CA_FILE_PROXYLESS("MG-TLS-004", "proxyless gRPC clients refuse a cluster with a CA file"),

    API_DUPLICATE("MG-API-001", "two APIs have the same name"),
    API_BASE_PATH("MG-API-002", "the base path is not empty or '/…' without a trailing '/'"),
    API_VERSION_SYNTAX("MG-API-003", "a version name is not valid"),
    API_VERSION_DUPLICATE("MG-API-004", "a version is listed twice"),
    API_SUCCESSOR_UNKNOWN("MG-API-005", "a version's successor does not exist"),
    API_SUCCESSOR_SELF("MG-API-006", "a version succeeds itself"),
    API_DEPRECATED_AT_REQUIRED("MG-API-007", "a deprecated version has no deprecated_at"),
    API_NO_SUCCESSOR("MG-API-008", "a deprecated or retired version names no successor"),
    API_SUNSET_BEFORE_DEPRECATION("MG-API-009", "sunset_at is before deprecated_at"),
    API_NO_VERSIONS("MG-API-010", "an API has no version"),
    API_DEFAULT_VERSION_UNKNOWN("MG-API-011", "the default version does not exist"),
    API_DEFAULT_VERSION_ENDED("MG-API-012", "the default version is sunset or retired"),
    API_BASE_PATH_CHARACTERS("MG-API-013", "the base path contains '%', '?', '#' or '//'"),

    ROUTE_DUPLICATE("MG-ROUTE-001", "two routes of a group have the same name"),
    ROUTE_UNKNOWN_GROUP("MG-ROUTE-002", "a route names an unknown gateway group"),
    ROUTE_UNKNOWN_API("MG-ROUTE-003", "a route names an unknown API"),
    ROUTE_UNKNOWN_VERSION("MG-ROUTE-004", "a route names a version its API lacks"),
    ROUTE_MATCH_REQUIRED("MG-ROUTE-005", "a route has no match"),
    ROUTE_ONE_PATH_MATCH("MG-ROUTE-006", "not exactly one of path_prefix, path_exact, path_regex"),
    ROUTE_PATH_FORM("MG-ROUTE-007", "a match path does not start with '/'"),
    ROUTE_PATH_CHARACTERS("MG-ROUTE-008", "a match path contains '%', '?', '#' or '//'"),
    ROUTE_GRPC_PATH_VERSIONED("MG-ROUTE-009", "a gRPC method path served under a versioned prefix"),
    ROUTE_REGEX_INVALID("MG-ROUTE-010", "a regex RE2 does not compile"),
    ROUTE_REGEX_TOO_LARGE("MG-ROUTE-011", "a regex exceeds Envoy's program-size limit"),
    ROUTE_METHOD_UNKNOWN("MG-ROUTE-012", "an unknown HTTP method"),
    ROUTE_HEADER_NAME("MG-ROUTE-013", "a header name is not a lowercase token"),
    ROUTE_HEADER_MATCH_KINDS("MG-ROUTE-014", "a header match sets more than one of exact, prefix, regex"),
    ROUTE_NO_DESTINATION("MG-ROUTE-015", "a route has no destination"),
    ROUTE_DESTINATION_WEIGHT("MG-ROUTE-016", "a destination weight is not 0..100"),
    ROUTE_DESTINATION_TWICE("MG-ROUTE-017", "an upstream is listed twice in the destinations"),
    ROUTE_UNKNOWN_UPSTREAM("MG-ROUTE-018", "a destination names an unknown upstream"),
    ROUTE_WEIGHT_SUM("MG-ROUTE-019", "destination weights do not sum to 100"),
    ROUTE_TIMEOUT("MG-ROUTE-020", "timeout_ms is negative"),
    ROUTE_IDLE_TIMEOUT("MG-ROUTE-021", "idle_timeout_ms is not positive"),
    ROUTE_RETRY_ATTEMPTS("MG-ROUTE-022", "retry attempts are not 0..10"),
    ROUTE_RETRY_BACKOFF("MG-ROUTE-023", "backoff_max_ms is below backoff_base_ms"),
    ROUTE_HEADER_POLICY_OWNED("MG-ROUTE-024", "a route changes a header meshguard's security policy owns"),
    ROUTE_HEADER_PROXY_OWNED("MG-ROUTE-025", "a route changes a pseudo-header, host or framing header"),
    ROUTE_LAST_EVENT_ID("MG-ROUTE-026", "a route changes last-event-id, which SSE clients resume with"),
    ROUTE_STREAMING_OWNED_HEADER("MG-ROUTE-027", "a streaming route sets x-accel-buffering or content-type"),
    ROUTE_STREAMING_CACHED("MG-ROUTE-028", "a streaming route's cache-control allows storing"),
    ROUTE_STREAMING_TIMEOUT_IGNORED("MG-ROUTE-029", "timeout_ms on a streaming route is ignored"),
    ROUTE_SHADOWED("MG-ROUTE-030", "two routes have the same match: only one is reachable"),
    ROUTE_API_NOT_IN_TENANTS("MG-ROUTE-031", "a route names an API the caller's tenants do not own"),
    ROUTE_UPSTREAM_NOT_IN_TENANTS("MG-ROUTE-032", "a route names an upstream the caller's tenants do not own"),
    ROUTE_SERVICE_HOSTNAME_OTHER_UPSTREAM(
            "MG-ROUTE-033",
            "a Service-name hostname routed to another upstream: proxyless clients' sidecars ignore it"),
    ROUTE_GROUP_NOT_IN_TENANTS("MG-ROUTE-034", "a route is placed in a gateway group not assigned to its tenant"),

    CORS_NO_ORIGINS("MG-CORS-001", "CORS without an allowed origin"),
    CORS_WILDCARD_AND_ORIGINS("MG-CORS-002", "'*' listed beside origins"),
    CORS_METHOD_UNKNOWN("MG-CORS-003", "an unknown HTTP method in allowed_methods"),
    CORS_MAX_AGE("MG-CORS-004", "max_age_seconds out of range"),
    CORS_WILDCARD_CREDENTIALS("MG-CORS-005", "'*' with allow_credentials"),
    CORS_WILDCARD_PRODUCTION("MG-CORS-006", "'*' in a production group"),
    CORS_WILDCARD("MG-CORS-007", "'*': any web site may call from a browser"),
    CORS_NULL_ORIGIN("MG-CORS-008", "'null' as an allowed origin"),
    CORS_NOT_AN_ORIGIN("MG-CORS-009", "an allowed origin is not scheme://host[:port]"),
    CORS_SUFFIX_TOO_LARGE("MG-CORS-010", "a suffix origin's regex exceeds Envoy's program-size limit"),
    CORS_SUFFIX_PRODUCTION("MG-CORS-011", "a suffix origin in a production group"),
    CORS_SUFFIX_TOP_LEVEL("MG-CORS-012", "a suffix origin on a top-level domain"),
    CORS_HTTP_PRODUCTION("MG-CORS-013", "an http origin in a production group"),
    CORS_HEADER_WILDCARD("MG-CORS-014", "'*' as a header name"),
    CORS_HEADER_NAME("MG-CORS-015", "a CORS header name is not a lowercase token"),

    PROFILE_POLICIES_NOT_LOADED("MG-PROFILE-001", "the policy files are not loaded"),
    PROFILE_ROUTE_OUTSIDE_RULE("MG-PROFILE-002", "a route serves what its authz rule does not allow"),
    PROFILE_AUTHZ_MISSING("MG-PROFILE-003", "a route has no authz_profile"),
    PROFILE_AUTHZ_UNKNOWN("MG-PROFILE-004", "a route names an authz rule the policies lack"),
    PROFILE_DLP_UNKNOWN("MG-PROFILE-005", "a route names a DLP profile the policies lack"),
    PROFILE_PRODUCT_OUTSIDE_RULE("MG-PROFILE-006", "a product publish serves what its authz rule does not allow"),
    PROFILE_PRODUCT_AUTH_MODE("MG-PROFILE-007", "a product publish's credentials are refused by its authz rule"),
    PROFILE_PRODUCT_NOT_PRODUCTS_ONLY("MG-PROFILE-008", "a product route's authz rule is not products_only"),

    HOP_QUOTA_NOT_AT_GATEWAY("MG-HOP-001", "a quota counts a backend but not the gateway's rule in front of it"),
    HOP_RATE_LIMIT_OFF_AT_GATEWAY("MG-HOP-002", "a backend is rate-limited but the gateway's rule is not"),

    PRODUCT_UNKNOWN_GROUP("MG-PRODUCT-001", "a product publish names an unknown gateway group"),
    PRODUCT_UNKNOWN_API("MG-PRODUCT-002", "a product operation names an API the configuration lacks"),
    PRODUCT_NO_ROUTE("MG-PRODUCT-003", "no route serves a product operation"),

    PUBLISH_SNAPSHOT("MG-PUBLISH-001", "the configuration could not be turned into xDS resources"),
    PUBLISH_APPROVED_GROUP_MISSING("MG-PUBLISH-002", "the approved content has no such group"),
    PUBLISH_NO_REVISION("MG-PUBLISH-003", "no such revision"),
    PUBLISH_DRAFT_DIFFERS("MG-PUBLISH-004", "after a rollback the draft still differs from the served revision"),
    PUBLISH_REVISION_UNREADABLE(
            "MG-PUBLISH-005", "the group's newest revision cannot be read here; the group was left as it is"),
    PUBLISH_ALREADY_SERVED("MG-PUBLISH-006", "the group already serves that revision's content"),

    ENVOY_REFUSES("MG-ENVOY-001", "Envoy would refuse a resource the configuration becomes"),

    // the catalogue answers it (409) and cannot see this enum, so the code string is the catalogue's
    APPLICATION_NAME_TAKEN(
            io.meshguard.catalog.CatalogRefusal.APPLICATION_NAME_TAKEN,
            "another application of the tenant has that name"),

    // every admin API answers it (503) from the request loop, which cannot see this enum
    DATABASE_UNAVAILABLE(io.meshguard.db.DatabaseOutage.PROBLEM_CODE, "the database cannot be reached; retry later");

    private final String code;
    private final String title;

    ProblemCode(String code, String title) {
        this.code = code;
        this.title = title;
    }

    /** The stable code, e.g. {@code MG-ROUTE-003}; it is what the JSON and the CLI show. */
    @JsonValue
    public String code() {
        return code;
    }

    /** One line saying which rule this is, for lists and the docs' headings. */
    public String title() {
        return title;
    }

    /** The anchor of this code's entry in {@code docs/problem-codes.md} (GitHub's heading slug). */
    public String anchor() {
        return code.toLowerCase(java.util.Locale.ROOT);
    }
}
