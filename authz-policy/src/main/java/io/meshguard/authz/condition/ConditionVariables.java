package io.meshguard.authz.condition;

import com.google.protobuf.Timestamp;
import dev.cel.runtime.CelVariableResolver;
import io.meshguard.authz.mesh.Caller;
import io.meshguard.authz.mesh.SpiffeId;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.McpCall;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What a {@code when:} expression can read, resolved lazily (a header map is built only for an expression that reads
 * headers). Strings the request lacks are {@code ""}; maps ({@code request.headers}, {@code request.query},
 * {@code claims}) simply lack the key. Headers and query parameters sent more than once are joined with {@code ,}
 * (Envoy's own convention for its header map).
 */
public final class ConditionVariables implements CelVariableResolver {
    static final String HEADERS = "request.headers";
    static final String QUERY = "request.query";
    static final String NOW = "now";
    static final String ROLES = "auth.roles";
    static final String SCOPES = "auth.scopes";
    static final String CLAIMS = "claims";
    static final List<String> REQUEST_STRINGS = List.of(
            "request.method",
            "request.host",
            "request.path",
            "source.principal",
            "source.address",
            "source.trust_domain",
            "source.namespace",
            "source.service_account",
            "remote.address");
    /** An MCP request's metadata headers, decoded ({@link McpCall}); "" when not sent. */
    static final List<String> MCP_STRINGS = List.of("mcp.method", "mcp.name", "mcp.protocol_version");
    /** The tool arguments mirrored as {@code Mcp-Param-*}, keyed by the lower-case name after the prefix. */
    static final String MCP_PARAM = "mcp.param";

    static final java.util.Set<String> MCP_VARIABLES =
            java.util.Set.of("mcp.method", "mcp.name", "mcp.protocol_version", MCP_PARAM);
    static final List<String> CREDENTIAL_STRINGS =
            List.of("auth.method", "auth.issuer", "auth.subject", "auth.client_id", "auth.api_key_id", "tenant");

    private final HttpRequestView request;
    private final Caller caller;
    private final Optional<Identity> identity;
    private final Instant now;
    private Map<String, String> headers;
    private Map<String, String> query;

    /** At most this many one-value readings of a request's repeated parameters; more is an evaluation error. */
    public static final int MAX_READINGS = 64;

    public ConditionVariables(HttpRequestView request, Caller caller, Optional<Identity> identity, Instant now) {
        this.request = request;
        this.caller = caller;
        this.identity = identity;
        this.now = now;
    }

    private ConditionVariables(ConditionVariables base, Map<String, String> headers, Map<String, String> query) {
        this(base.request, base.caller, base.identity, base.now);
        this.headers = headers;
        this.query = query;
    }

    /**
     * Every reading of the request a condition must be tested against: the joined one, and one per value of each
     * header line or query parameter sent more than once ({@code ?debug=0&debug=1} is read once as {@code "0"} and
     * once as {@code "1"}), so a deny rule matches when any value matches and a route condition holds only when all
     * do — joining alone let {@code ?debug=0&debug=1} slip past {@code == "1"}.
     *
     * @throws Unreadable more than {@link #MAX_READINGS}, or a query string with a malformed percent-escape: the caller
     *     treats either as an evaluation error (deny)
     */
    public List<ConditionVariables> readings() throws Unreadable {
        List<ConditionVariables> out = new java.util.ArrayList<>();
        out.add(this);
        Map<String, List<String>> repeatedQuery;
        try {
            repeatedQuery = queryValues();
        } catch (IllegalArgumentException e) {
            // URLDecoder's own words name the bad escape; the value itself may be personal data and is not repeated
            throw new Unreadable("a malformed percent-escape in the query string");
        }
        for (Map.Entry<String, List<String>> e : repeatedQuery.entrySet()) {
            if (e.getValue().size() < 2) {
                continue;
            }
            for (String v : e.getValue()) {
                Map<String, String> q = new HashMap<>(query());
                q.put(e.getKey(), v);
                out.add(new ConditionVariables(this, headers(), q));
            }
        }
        for (Map.Entry<String, List<String>> e : request.headers().entrySet()) {
            if (e.getValue().size() < 2) {
                continue;
            }
            for (String v : e.getValue()) {
                Map<String, String> h = new HashMap<>(headers());
                h.put(e.getKey(), v);
                out.add(new ConditionVariables(this, h, query()));
            }
        }
        if (out.size() > MAX_READINGS) {
            throw new Unreadable("too many repeated parameters");
        }
        return out;
    }

    /** The request cannot be read the way conditions read it; {@link #getMessage()} says why, in a deny's words. */
    public static final class Unreadable extends Exception {
        Unreadable(String why) {
            super(why, null, false, false);
        }
    }

    @Override
    public Optional<Object> find(String name) {
        Object v =
                switch (name) {
                    case "request.method" -> request.method();
                    case "request.host" -> host();
                    case "request.path" -> request.path();
                    case HEADERS -> headers();
                    case QUERY -> query();
                    case "source.principal" -> caller.principal();
                    case "source.address" -> caller.address();
                    case "source.trust_domain" ->
                        caller.spiffe().map(SpiffeId::trustDomain).orElse("");
                    case "source.namespace" ->
                        caller.spiffe().flatMap(SpiffeId::namespace).orElse("");
                    case "source.service_account" ->
                        caller.spiffe().flatMap(SpiffeId::serviceAccount).orElse("");
                    case "remote.address" -> caller.remoteAddress().orElse("");
                    // headers that cannot be believed (repeated, badly encoded) are not there at all: a route
                    // condition on them fails, a deny rule on them fires (Condition.Outcome.Missing)
                    case "mcp.method" ->
                        mcp().problem().isPresent() ? null : mcp().method().orElse("");
                    case "mcp.name" ->
                        mcp().problem().isPresent() ? null : mcp().name().orElse("");
                    case "mcp.protocol_version" ->
                        mcp().problem().isPresent()
                                ? null
                                : mcp().protocolVersion().orElse("");
                    case MCP_PARAM -> mcp().problem().isPresent() ? null : mcp().params();
                    case NOW ->
                        Timestamp.newBuilder()
                                .setSeconds(now.getEpochSecond())
                                .setNanos(now.getNano())
                                .build();
                    case "auth.method" -> identity.map(Identity::authMethod).orElse("none");
                    case "auth.issuer" -> identity.map(Identity::issuer).orElse("");
                    case "auth.subject" -> identity.map(Identity::subject).orElse("");
                    case "auth.client_id" ->
                        identity.flatMap(Identity::clientId).orElse("");
                    case "auth.api_key_id" ->
                        identity.flatMap(Identity::credentialId).orElse("");
                    case "tenant" -> identity.flatMap(Identity::tenant).orElse("");
                    case ROLES -> identity.map(Identity::roles).orElse(List.of());
                    case SCOPES -> identity.map(Identity::scopes).orElse(List.of());
                    case CLAIMS -> identity.map(Identity::claims).orElse(Map.of());
                    default -> null;
                };
        return Optional.ofNullable(v);
    }

    private McpCall mcp() {
        return request.mcp();
    }

    private String host() {
        String h = request.host();
        int colon = h.startsWith("[") ? h.indexOf("]:") + 1 : h.lastIndexOf(':');
        return (colon > 0 ? h.substring(0, colon) : h).toLowerCase(Locale.ROOT);
    }

    private Map<String, String> headers() {
        if (headers == null) {
            Map<String, String> m = new HashMap<>();
            request.headers().forEach((k, v) -> m.put(k, String.join(",", v)));
            headers = m;
        }
        return headers;
    }

    /** Query parameters, percent-decoded, repeated ones joined with {@code ,}; a malformed escape is an evaluation error. */
    private Map<String, String> query() {
        if (query == null) {
            Map<String, String> m = new HashMap<>();
            queryValues().forEach((k, v) -> m.put(k, String.join(",", v)));
            query = m;
        }
        return query;
    }

    private Map<String, List<String>> queryValues() {
        Map<String, List<String>> m = new java.util.LinkedHashMap<>();
        String q = request.query();
        if (!q.isEmpty()) {
            for (String pair : q.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                m.computeIfAbsent(k, x -> new java.util.ArrayList<>()).add(v);
            }
        }
        return m;
    }
}
