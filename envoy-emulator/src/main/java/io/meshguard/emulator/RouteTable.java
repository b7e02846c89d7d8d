package io.meshguard.emulator;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Virtual host and route selection as Envoy's router does it (source/common/router/config_impl.cc):
 * <ul>
 *   <li>virtual host by the lower-cased {@code :authority}, port included: exact domain, then the longest suffix
 *       wildcard ({@code *.example.com}, never matching an empty part), then the longest prefix wildcard
 *       ({@code example.com:*}), then {@code *} (RouteMatcher::findVirtualHost);</li>
 *   <li>the first route whose match holds, in order: {@code prefix} against {@code :path},
 *       {@code path_separated_prefix} (the path equals it or continues with {@code /}), {@code path} and
 *       {@code safe_regex} (a full RE2 match) against {@code :path} without query and fragment, case-sensitive; then
 *       every header matcher (values of repeated headers joined with ",", {@code string_match} exact, prefix or a
 *       full regex match; {@code present_match}).</li>
 * </ul>
 */
public final class RouteTable {
    private RouteTable() {}

    record Selected(VirtualHost virtualHost, Route route) {}

    public static Optional<VirtualHost> virtualHost(RouteConfiguration rc, String authority) {
        String host = authority.toLowerCase(Locale.ROOT);
        VirtualHost suffixBest = null;
        int suffixLen = -1;
        VirtualHost prefixBest = null;
        int prefixLen = -1;
        VirtualHost any = null;
        for (VirtualHost vh : rc.getVirtualHostsList()) {
            for (String d : vh.getDomainsList()) {
                String domain = d.toLowerCase(Locale.ROOT);
                if (domain.equals("*")) {
                    any = any == null ? vh : any;
                } else if (domain.startsWith("*")) {
                    String suffix = domain.substring(1);
                    if (host.length() > suffix.length() && host.endsWith(suffix) && suffix.length() > suffixLen) {
                        suffixBest = vh;
                        suffixLen = suffix.length();
                    }
                } else if (domain.endsWith("*")) {
                    String prefix = domain.substring(0, domain.length() - 1);
                    if (host.length() > prefix.length() && host.startsWith(prefix) && prefix.length() > prefixLen) {
                        prefixBest = vh;
                        prefixLen = prefix.length();
                    }
                } else if (domain.equals(host)) {
                    return Optional.of(vh);
                }
            }
        }
        if (suffixBest != null) {
            return Optional.of(suffixBest);
        }
        if (prefixBest != null) {
            return Optional.of(prefixBest);
        }
        return Optional.ofNullable(any);
    }

    public static Optional<Route> route(VirtualHost vh, String path, Headers headers) {
        String pathOnly = withoutQuery(path);
        for (Route r : vh.getRoutesList()) {
            if (matches(r.getMatch(), path, pathOnly, headers)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    private static boolean matches(RouteMatch m, String path, String pathOnly, Headers headers) {
        boolean pathMatches =
                switch (m.getPathSpecifierCase()) {
                    case PREFIX -> path.startsWith(m.getPrefix());
                    // PathSeparatedPrefixRouteEntryImpl (source/common/router/config_impl.cc): the path without query
                    // equals
                    // the prefix, or starts with it followed by '/' (route_components.proto, path_separated_prefix)
                    case PATH_SEPARATED_PREFIX ->
                        pathOnly.equals(m.getPathSeparatedPrefix())
                                || pathOnly.startsWith(m.getPathSeparatedPrefix() + "/");
                    case PATH -> pathOnly.equals(m.getPath());
                    case SAFE_REGEX ->
                        Pattern.compile(m.getSafeRegex().getRegex()).matches(pathOnly);
                    default -> throw new UnmodelledException("route path specifier " + m.getPathSpecifierCase());
                };
        if (!pathMatches) {
            return false;
        }
        for (HeaderMatcher h : m.getHeadersList()) {
            Optional<String> value = headers.joined(h.getName());
            boolean ok =
                    switch (h.getHeaderMatchSpecifierCase()) {
                        case PRESENT_MATCH -> value.isPresent() == h.getPresentMatch();
                        case STRING_MATCH -> value.isPresent() && stringMatch(h.getStringMatch(), value.get());
                        default -> throw new UnmodelledException("header matcher " + h.getHeaderMatchSpecifierCase());
                    };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    static boolean stringMatch(StringMatcher sm, String value) {
        return switch (sm.getMatchPatternCase()) {
            case EXACT -> value.equals(sm.getExact());
            case PREFIX -> value.startsWith(sm.getPrefix());
            case SAFE_REGEX -> Pattern.compile(sm.getSafeRegex().getRegex()).matches(value);
            default -> throw new UnmodelledException("string matcher " + sm.getMatchPatternCase());
        };
    }

    /** Http::Utility::updateAuthority's append_xfh: the authority replaced is appended to x-forwarded-host. */
    private static void appendForwardedHost(RouteAction action, String authority, Headers headers) {
        if (action.getAppendXForwardedHost() && !authority.isEmpty()) {
            headers.set(
                    "x-forwarded-host",
                    headers.first("x-forwarded-host")
                            .map(v -> v + "," + authority)
                            .orElse(authority));
        }
    }

    /**
     * The {@code host} the router sends upstream. {@code host_rewrite_literal} replaces it with the literal, whatever
     * the cluster. {@code auto_host_rewrite} on a STRICT_DNS or LOGICAL_DNS cluster
     * replaces it with the chosen host's name: the endpoint's {@code hostname} if set, else the DNS name it resolved,
     * without the port ({@code source/extensions/clusters/dns/dns_cluster.cc}); a host without a name (EDS IPs) keeps
     * the client's. With {@code append_x_forwarded_host} the old value is appended to {@code x-forwarded-host}
     * (envoyproxy/envoy {@code source/common/router/router.cc}, {@code Http::Utility::updateAuthority};
     * {@code api/envoy/config/route/v3/route_components.proto}). Envoy does this in {@code UpstreamRequest::onPoolReady}
     * ({@code source/common/router/upstream_request.cc}), after the route's header mutations, and again on each retry
     * (appending the already rewritten Host once more); the emulator rewrites once per request.
     */
    static String upstreamAuthority(RouteAction action, Cluster cluster, String authority, Headers headers) {
        if (action.getHostRewriteSpecifierCase() == RouteAction.HostRewriteSpecifierCase.HOST_REWRITE_LITERAL) {
            // RouteEntryImplBase::finalizeRequestHeaders (source/common/router/config_impl.cc): after the route's
            // header removal, Http::Utility::updateAuthority(headers, host_rewrite_, append_xfh_)
            appendForwardedHost(action, authority, headers);
            return action.getHostRewriteLiteral();
        }
        if (!action.hasAutoHostRewrite() || !action.getAutoHostRewrite().getValue()) {
            if (action.getHostRewriteSpecifierCase()
                            != RouteAction.HostRewriteSpecifierCase.HOSTREWRITESPECIFIER_NOT_SET
                    && action.getHostRewriteSpecifierCase() != RouteAction.HostRewriteSpecifierCase.AUTO_HOST_REWRITE) {
                throw new UnmodelledException("host rewrite " + action.getHostRewriteSpecifierCase());
            }
            return authority;
        }
        if (cluster.getType() != Cluster.DiscoveryType.STRICT_DNS
                && cluster.getType() != Cluster.DiscoveryType.LOGICAL_DNS) {
            return authority;
        }
        java.util.Set<String> names = new java.util.TreeSet<>();
        cluster.getLoadAssignment().getEndpointsList().forEach(l -> l.getLbEndpointsList()
                .forEach(e -> names.add(
                        e.getEndpoint().getHostname().isEmpty()
                                ? e.getEndpoint()
                                        .getAddress()
                                        .getSocketAddress()
                                        .getAddress()
                                : e.getEndpoint().getHostname())));
        if (names.size() != 1) {
            throw new UnmodelledException("auto_host_rewrite over " + names.size() + " endpoint names " + names);
        }
        appendForwardedHost(action, authority, headers);
        return names.iterator().next();
    }

    /**
     * A custom header's value with its command operators filled in: {@code %REQ(name)%} becomes the request header's
     * value, {@code %%} a percent sign (docs/root/configuration/http/http_conn_man/headers.rst, "Custom
     * request/response headers"). Other operators are not modelled.
     */
    static HeaderValueOption formatted(HeaderValueOption o, Headers request) {
        String value = o.getHeader().getValue();
        if (value.indexOf('%') < 0) {
            return o;
        }
        StringBuilder out = new StringBuilder();
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("%%|%REQ\\(([^)]+)\\)%|%").matcher(value);
        int last = 0;
        while (m.find()) {
            out.append(value, last, m.start());
            if (m.group().equals("%%")) {
                out.append('%');
            } else if (m.group(1) != null) {
                out.append(request.first(m.group(1)).orElse(""));
            } else {
                throw new UnmodelledException("header formatter in '" + value + "'");
            }
            last = m.end();
        }
        out.append(value.substring(last));
        return o.toBuilder()
                .setHeader(o.getHeader().toBuilder().setValue(out.toString()))
                .build();
    }

    static String withoutQuery(String path) {
        int q = path.indexOf('?');
        int f = path.indexOf('#');
        int cut = q < 0 ? f : f < 0 ? q : Math.min(q, f);
        return cut < 0 ? path : path.substring(0, cut);
    }

    /**
     * {@code path_separated_prefix} must match {@code ^[^?#]+[^?#/]$} (the protoc-gen-validate rule of
     * route_components.proto; Envoy refuses the RouteConfiguration).
     */
    private static final java.util.regex.Pattern PATH_SEPARATED_PREFIX =
            java.util.regex.Pattern.compile("^[^?#]+[^?#/]$");

    /**
     * Envoy refuses a regex whose C++ RE2 program is larger than the runtime value
     * {@code re2.max_program_size.error_level} (default 100; api/envoy/type/matcher/v3/regex.proto, GoogleRE2;
     * source/common/common/regex.cc, CompiledGoogleReMatcher), and with it the whole RouteConfiguration. The emulated
     * gateway runs with meshguard's bootstraps, whose layered_runtime static layer sets 1000.
     */
    static final int RE2_MAX_PROGRAM_SIZE_ERROR_LEVEL = 1000;
    /**
     * No C++ RE2 here: its program size is estimated as RE2/J's × 2.5 (C++ is about 2× RE2/J:
     * {@code ^/v4/advisory/[0-9a-z-]{36}/clone$} is 118 in Envoy per envoyproxy/gateway#2543, 59 in RE2/J).
     */
    static final double RE2_CPP_PER_RE2J = 2.5;

    /**
     * Regexes that RE2 refuses or finds too large (Envoy NACKs them: source/common/common/regex.cc,
     * CompiledGoogleReMatcher).
     */
    static List<String> regexProblems(String where, RouteMatch m) {
        List<String> problems = new ArrayList<>();
        if (m.hasPathSeparatedPrefix()
                && !PATH_SEPARATED_PREFIX.matcher(m.getPathSeparatedPrefix()).matches()) {
            problems.add(where + ": path_separated_prefix '" + m.getPathSeparatedPrefix()
                    + "' does not match ^[^?#]+[^?#/]$");
        }
        List<String> regexes = new ArrayList<>();
        if (m.hasSafeRegex()) {
            regexes.add(m.getSafeRegex().getRegex());
        }
        for (HeaderMatcher h : m.getHeadersList()) {
            if (h.hasStringMatch() && h.getStringMatch().hasSafeRegex()) {
                regexes.add(h.getStringMatch().getSafeRegex().getRegex());
            }
        }
        return sized(where, regexes, problems);
    }

    /**
     * The origin regexes of CORS policies in {@code typed_per_filter_config} (of a virtual host or a route): compiled
     * with the route table, so a too large one NACKs it as well.
     */
    static List<String> corsRegexProblems(String where, java.util.Map<String, com.google.protobuf.Any> perFilter) {
        List<String> regexes = new ArrayList<>();
        for (com.google.protobuf.Any any : perFilter.values()) {
            if (any.is(io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.class)) {
                try {
                    any
                            .unpack(io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.class)
                            .getAllowOriginStringMatchList()
                            .stream()
                            .filter(StringMatcher::hasSafeRegex)
                            .forEach(m -> regexes.add(m.getSafeRegex().getRegex()));
                } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                    return List.of(where + ": CorsPolicy does not parse: " + e.getMessage());
                }
            }
        }
        return sized(where, regexes, new ArrayList<>());
    }

    private static List<String> sized(String where, List<String> regexes, List<String> problems) {
        for (String regex : regexes) {
            try {
                long size = (long) Math.ceil(Pattern.compile(regex).programSize() * RE2_CPP_PER_RE2J);
                if (size > RE2_MAX_PROGRAM_SIZE_ERROR_LEVEL) {
                    problems.add(where + ": regex '" + regex + "' RE2 program size " + size + " > max program size "
                            + "error level " + RE2_MAX_PROGRAM_SIZE_ERROR_LEVEL + " (estimated)");
                }
            } catch (PatternSyntaxException e) {
                problems.add(where + ": invalid regex '" + regex + "': " + e.getMessage());
            }
        }
        return problems;
    }
}
