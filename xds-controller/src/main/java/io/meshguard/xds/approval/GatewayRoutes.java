package io.meshguard.xds.approval;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.snapshot.EnvoyNames;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Which route of a gateway revision a request takes, and what that route hands extauthz: the Envoy route table the
 * controller renders for the group ({@link SnapshotBuilder}, the one renderer), walked as Envoy's router walks it
 * (envoyproxy/envoy {@code source/common/router/config_impl.cc}). The virtual host by the lower-cased host: an exact
 * domain, else the longest {@code *suffix}, else the longest {@code prefix*}, else {@code *}
 * ({@code RouteMatcher::findVirtualHost}); then the first route whose match holds: {@code prefix} against the path,
 * {@code path_separated_prefix} (the path equals it or continues with {@code /}), {@code path} and {@code safe_regex}
 * (a full RE2 match) against the path without its query, case-sensitive unless the match says otherwise, then every
 * header matcher (repeated values joined with {@code ,}). No virtual host, or no route, is Envoy's 404 before any
 * filter decides: no Check.
 *
 * <p>The route's contract is its ext_authz per-route {@code check_settings.context_extensions} as rendered; a route
 * whose ext_authz is disabled (the catch-all 404, a sunset or retired version, a CORS preflight) answers without a
 * Check. A match that reads a header the record did not keep, or a match kind the controller never renders, is
 * {@link Selection.Unknown}: the request's route cannot be told, and nothing is guessed.
 */
public final class GatewayRoutes {
    /** What the table does with one request. */
    public sealed interface Selection {}

    /** No virtual host serves the host: Envoy answers 404 itself ({@code NR}) and runs no Check. */
    public record NoVirtualHost() implements Selection {}

    /**
     * A route with ext_authz on: Envoy sends a Check carrying {@code contract}.
     *
     * @param route the Envoy route's name
     */
    public record Checked(String route, Map<String, String> contract) implements Selection {
        public Checked {
            contract = Map.copyOf(contract);
        }
    }

    /**
     * A route with ext_authz disabled: no Check is made.
     *
     * @param status the direct response's status; 0 when the route forwards without a Check
     */
    public record Unchecked(String route, int status) implements Selection {}

    /** The route cannot be told from what the record kept; {@code reason} says which fact is missing. */
    public record Unknown(String reason) implements Selection {}

    /** What the record says of one request header. */
    public sealed interface Header {}

    /** The request did not send it. */
    public record Absent() implements Header {}

    /** Sent; its values joined with {@code ,} as Envoy joins them for matching. */
    public record Value(String joined) implements Header {}

    /** Sent, but only its presence was kept. */
    public record PresentOnly() implements Header {}

    /** Not kept: whether it was sent is unknown. */
    public record NotKept() implements Header {}

    /** A request as far as route selection reads it. */
    public interface Request {
        String method();

        /** The host, without a port (the canonical spelling extauthz records). */
        String host();

        /** The path without its query. */
        String path();

        Header header(String lowerCaseName);
    }

    private final RouteConfiguration table;
    private final Map<String, Optional<Pattern>> regexes = new HashMap<>();

    public GatewayRoutes(RouteConfiguration table) {
        this.table = table;
    }

    /** The Envoy route table the controller renders for {@code group} of {@code config}. */
    public static GatewayRoutes of(GatewayConfig config, String group) {
        GatewayGroup g = config.group(group)
                .orElseThrow(() -> new IllegalArgumentException("the configuration has no group " + group));
        String name = EnvoyNames.envoyRoutes(g.listenerPort());
        RouteConfiguration rc = new SnapshotBuilder(FilterTargets.DEFAULTS)
                .build(config, group).routes().stream()
                        .filter(r -> r.getName().equals(name))
                        .findFirst()
                        .orElseThrow(() -> new IllegalStateException("no Envoy route table " + name + " rendered"));
        return new GatewayRoutes(rc);
    }

    public RouteConfiguration table() {
        return table;
    }

    /** The route {@code request} takes, and whether (with which contract) it is checked. */
    public Selection select(Request request) {
        Optional<VirtualHost> vh = virtualHost(request.host());
        // the route table's catch-all (RouteTranslator.unservedHost) answers a host no group or API names
        if (vh.isEmpty() || vh.get().getName().equals(EnvoyNames.UNSERVED_HOST)) {
            return new NoVirtualHost();
        }
        for (Route r : vh.get().getRoutesList()) {
            Match m = matches(r.getMatch(), request);
            if (m instanceof Match.Unknown u) {
                return new Unknown(u.reason());
            }
            if (m instanceof Match.Yes) {
                return selected(vh.get(), r);
            }
        }
        return new NoVirtualHost();
    }

    /** The virtual host Envoy picks for {@code host} (RouteMatcher::findVirtualHost). */
    public Optional<VirtualHost> virtualHost(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        VirtualHost suffixBest = null;
        int suffixLength = -1;
        VirtualHost prefixBest = null;
        int prefixLength = -1;
        VirtualHost fallback = null;
        for (VirtualHost vh : table.getVirtualHostsList()) {
            for (String d : vh.getDomainsList()) {
                String domain = d.toLowerCase(Locale.ROOT);
                if (domain.equals(h)) {
                    return Optional.of(vh);
                }
                if (domain.equals("*")) {
                    if (fallback == null) {
                        fallback = vh;
                    }
                } else if (domain.startsWith("*")) {
                    // a wildcard never matches an empty part: *.example.com does not serve .example.com
                    String suffix = domain.substring(1);
                    if (h.length() > suffix.length() && h.endsWith(suffix) && suffix.length() > suffixLength) {
                        suffixBest = vh;
                        suffixLength = suffix.length();
                    }
                } else if (domain.endsWith("*")) {
                    String prefix = domain.substring(0, domain.length() - 1);
                    if (h.length() > prefix.length() && h.startsWith(prefix) && prefix.length() > prefixLength) {
                        prefixBest = vh;
                        prefixLength = prefix.length();
                    }
                }
            }
        }
        if (suffixBest != null) {
            return Optional.of(suffixBest);
        }
        return Optional.ofNullable(prefixBest != null ? prefixBest : fallback);
    }

    private static Selection selected(VirtualHost vh, Route r) {
        // the most specific per-filter config wins: the route's, else its virtual host's
        Any perFilter = r.getTypedPerFilterConfigMap()
                .getOrDefault(
                        EnvoyNames.EXT_AUTHZ_FILTER,
                        vh.getTypedPerFilterConfigMap().get(EnvoyNames.EXT_AUTHZ_FILTER));
        ExtAuthzPerRoute authz = ExtAuthzPerRoute.getDefaultInstance();
        if (perFilter != null) {
            try {
                authz = perFilter.unpack(ExtAuthzPerRoute.class);
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException("route " + r.getName() + ": its ext_authz config does not parse", e);
            }
        }
        if (authz.getDisabled()) {
            return new Unchecked(
                    r.getName(), r.hasDirectResponse() ? r.getDirectResponse().getStatus() : 0);
        }
        return new Checked(r.getName(), authz.getCheckSettings().getContextExtensionsMap());
    }

    /** Whether a route's match holds: yes, no, or not to be told from the record. */
    private sealed interface Match {
        record Yes() implements Match {}

        record No() implements Match {}

        record Unknown(String reason) implements Match {}
    }

    private static final Match YES = new Match.Yes();
    private static final Match NO = new Match.No();

    private Match matches(RouteMatch m, Request request) {
        Optional<String> unmodelled = unmodelled(m);
        if (unmodelled.isPresent()) {
            return new Match.Unknown(
                    "the route table matches on " + unmodelled.get() + ", which replay does not model");
        }
        boolean caseSensitive = !m.hasCaseSensitive() || m.getCaseSensitive().getValue();
        String path = request.path();
        boolean pathMatches =
                switch (m.getPathSpecifierCase()) {
                    // Envoy's prefix reads the whole :path, query included; a prefix without '?' or '#' matches the
                    // path with a query exactly when it matches the path without one
                    case PREFIX -> startsWith(path, m.getPrefix(), caseSensitive);
                    case PATH_SEPARATED_PREFIX -> {
                        String p = m.getPathSeparatedPrefix();
                        yield equals(path, p, caseSensitive) || startsWith(path, p + "/", caseSensitive);
                    }
                    case PATH -> equals(path, m.getPath(), caseSensitive);
                    case SAFE_REGEX ->
                        regex(m.getSafeRegex().getRegex())
                                .map(x -> x.matches(path))
                                .orElse(false);
                    default -> throw new IllegalStateException("unreachable: " + m.getPathSpecifierCase());
                };
        if (!pathMatches) {
            return NO;
        }
        Optional<String> unknown = Optional.empty();
        for (HeaderMatcher h : m.getHeadersList()) {
            Match one = header(h, request);
            if (one instanceof Match.No) {
                return NO;
            }
            if (one instanceof Match.Unknown u && unknown.isEmpty()) {
                unknown = Optional.of(u.reason());
            }
        }
        return unknown.<Match>map(Match.Unknown::new).orElse(YES);
    }

    /** A match kind the controller never renders, named; empty when the match is one this class decides. */
    private static Optional<String> unmodelled(RouteMatch m) {
        switch (m.getPathSpecifierCase()) {
            case PREFIX -> {
                if (m.getPrefix().contains("?") || m.getPrefix().contains("#")) {
                    return Optional.of("a prefix holding '?' or '#'");
                }
            }
            case PATH_SEPARATED_PREFIX, PATH, SAFE_REGEX -> {}
            default -> {
                return Optional.of("path specifier " + m.getPathSpecifierCase());
            }
        }
        if (m.getQueryParametersCount() > 0) {
            return Optional.of("query parameters");
        }
        if (m.hasRuntimeFraction()) {
            return Optional.of("a runtime fraction");
        }
        if (m.hasGrpc() || m.hasTlsContext() || m.getDynamicMetadataCount() > 0 || m.getFilterStateCount() > 0) {
            return Optional.of("grpc, TLS, metadata or filter state");
        }
        return Optional.empty();
    }

    private Match header(HeaderMatcher h, Request request) {
        String name = h.getName().toLowerCase(Locale.ROOT);
        Header value;
        if (name.equals(":method")) {
            value = new Value(request.method());
        } else if (name.startsWith(":")) {
            return new Match.Unknown("the route table matches on " + name + ", which replay does not model");
        } else {
            value = request.header(name);
        }
        if (value instanceof NotKept) {
            return new Match.Unknown("a route matches on header " + name + ", which was not recorded");
        }
        boolean present = !(value instanceof Absent);
        Match result;
        switch (h.getHeaderMatchSpecifierCase()) {
            case PRESENT_MATCH -> result = present == h.getPresentMatch() ? YES : NO;
            case STRING_MATCH -> {
                if (!present) {
                    result = NO;
                } else if (value instanceof Value v) {
                    result = string(h.getStringMatch(), v.joined()) ? YES : NO;
                } else {
                    return new Match.Unknown("a route matches on the value of header " + name
                            + ", of which only its presence was recorded");
                }
            }
            default -> {
                return new Match.Unknown("header matcher " + h.getHeaderMatchSpecifierCase() + " on " + name
                        + ", which replay does not model");
            }
        }
        if (h.getInvertMatch()) {
            return result instanceof Match.Yes ? NO : YES;
        }
        return result;
    }

    private boolean string(StringMatcher sm, String value) {
        boolean ignoreCase = sm.getIgnoreCase();
        return switch (sm.getMatchPatternCase()) {
            case EXACT -> equals(value, sm.getExact(), !ignoreCase);
            case PREFIX -> startsWith(value, sm.getPrefix(), !ignoreCase);
            case SUFFIX ->
                ignoreCase
                        ? value.toLowerCase(Locale.ROOT).endsWith(sm.getSuffix().toLowerCase(Locale.ROOT))
                        : value.endsWith(sm.getSuffix());
            case CONTAINS ->
                ignoreCase
                        ? value.toLowerCase(Locale.ROOT)
                                .contains(sm.getContains().toLowerCase(Locale.ROOT))
                        : value.contains(sm.getContains());
            case SAFE_REGEX ->
                regex(sm.getSafeRegex().getRegex()).map(x -> x.matches(value)).orElse(false);
            default -> throw new IllegalStateException("string matcher " + sm.getMatchPatternCase() + " not rendered");
        };
    }

    /** A regex Envoy would have refused never matches (the controller validates them before a publish). */
    private Optional<Pattern> regex(String regex) {
        return regexes.computeIfAbsent(regex, r -> {
            try {
                return Optional.of(Pattern.compile(r));
            } catch (PatternSyntaxException e) {
                return Optional.empty();
            }
        });
    }

    private static boolean startsWith(String value, String prefix, boolean caseSensitive) {
        return value.regionMatches(!caseSensitive, 0, prefix, 0, prefix.length());
    }

    private static boolean equals(String value, String other, boolean caseSensitive) {
        return caseSensitive ? value.equals(other) : value.equalsIgnoreCase(other);
    }
}
