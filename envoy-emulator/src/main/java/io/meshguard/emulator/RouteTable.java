package io.meshguard.emulator;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
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
 *   <li>the first route whose match holds, in order: {@code prefix} against {@code :path}, {@code path} and
 *       {@code safe_regex} (a full RE2 match) against {@code :path} without query and fragment, case-sensitive; then
 *       every header matcher (values of repeated headers joined with ",", {@code string_match} exact, prefix or a
 *       full regex match; {@code present_match}).</li>
 * </ul>
 */
final class RouteTable {
    private RouteTable() {}

    record Selected(VirtualHost virtualHost, Route route) {}

    static Optional<VirtualHost> virtualHost(RouteConfiguration rc, String authority) {
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

    static Optional<Route> route(VirtualHost vh, String path, Headers headers) {
        String pathOnly = withoutQuery(path);
        for (Route r : vh.getRoutesList()) {
            if (matches(r.getMatch(), path, pathOnly, headers)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    private static boolean matches(RouteMatch m, String path, String pathOnly, Headers headers) {
        boolean pathMatches = switch (m.getPathSpecifierCase()) {
            case PREFIX -> path.startsWith(m.getPrefix());
            case PATH -> pathOnly.equals(m.getPath());
            case SAFE_REGEX -> Pattern.compile(m.getSafeRegex().getRegex()).matches(pathOnly);
            default -> throw new UnmodelledException("route path specifier " + m.getPathSpecifierCase());
        };
        if (!pathMatches) {
            return false;
        }
        for (HeaderMatcher h : m.getHeadersList()) {
            Optional<String> value = headers.joined(h.getName());
            boolean ok = switch (h.getHeaderMatchSpecifierCase()) {
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

    static String withoutQuery(String path) {
        int q = path.indexOf('?');
        int f = path.indexOf('#');
        int cut = q < 0 ? f : f < 0 ? q : Math.min(q, f);
        return cut < 0 ? path : path.substring(0, cut);
    }

    /** Regexes that RE2 refuses (Envoy NACKs them: source/common/common/regex.cc, CompiledGoogleReMatcher). */
    static List<String> regexProblems(String where, RouteMatch m) {
        List<String> problems = new ArrayList<>();
        List<String> regexes = new ArrayList<>();
        if (m.hasSafeRegex()) {
            regexes.add(m.getSafeRegex().getRegex());
        }
        for (HeaderMatcher h : m.getHeadersList()) {
            if (h.hasStringMatch() && h.getStringMatch().hasSafeRegex()) {
                regexes.add(h.getStringMatch().getSafeRegex().getRegex());
            }
        }
        for (String regex : regexes) {
            try {
                Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                problems.add(where + ": invalid regex '" + regex + "': " + e.getMessage());
            }
        }
        return problems;
    }
}
