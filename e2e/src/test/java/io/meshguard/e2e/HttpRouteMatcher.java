package io.meshguard.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Which HTTPRoute rule a request reaches on Envoy Gateway, from the rendered resources alone (test scope: the Envoy
 * Gateway side of the same-journey comparison).
 *
 * <p>Gateway API v1.6.1, {@code apis/v1/httproute_types.go}:
 *
 * <ul>
 *   <li>hostnames ({@code HTTPRouteSpec.Hostnames}): a request's host matches a route hostname exactly or, for
 *       {@code *.example.com}, by at least one extra label; an exact hostname is more specific than a wildcard one and
 *       a longer wildcard than a shorter (GEP-1364 and the Listener hostname rules), and routes without hostnames
 *       match every host;
 *   <li>{@code PathMatchPathPrefix}: "Matching is case-sensitive and done on a path element by element basis … the
 *       paths {@code /abc}, {@code /abc/}, and {@code /abc/def} would all match the prefix {@code /abc}, but the path
 *       {@code /abcd} would not", a trailing {@code /} of the prefix ignored; {@code Exact} is the whole path;
 *       {@code RegularExpression} is RE2 on the whole path in Envoy Gateway; the path is compared without its query;
 *   <li>{@code HTTPRouteRule.Matches}: a rule's matches are ORed, a match's conditions ANDed;
 *   <li>precedence ({@code HTTPRouteRule}): "Exact path match", then "Prefix path match with largest number of
 *       characters", then "Method match", then "Largest number of header matches"; "The precedence of
 *       RegularExpression path matches are implementation-specific": Envoy Gateway v1.9.0 ranks them between Exact
 *       and PathPrefix ({@code internal/gatewayapi/sort.go}, "Exact > RegularExpression > PathPrefix"); remaining ties
 *       go to the Route first by "{namespace}/{name}" (every rendered route has the same creation time here), then
 *       the first rule in list order.
 * </ul>
 */
final class HttpRouteMatcher {

    /** The HTTPRoute a request reached and the rule index within it. */
    record Matched(ObjectNode route, int rule) {
        String name() {
            return route.path("metadata").path("name").asText();
        }
    }

    private record Candidate(ObjectNode route, int rule, int matchIndex, JsonNode match, int hostRank) {}

    private final List<ObjectNode> routes;

    HttpRouteMatcher(List<ObjectNode> resources) {
        this.routes = resources.stream()
                .filter(r -> r.path("kind").asText().equals("HTTPRoute"))
                .toList();
    }

    Optional<Matched> match(String method, String host, String pathAndQuery, Map<String, String> headers) {
        String hostOnly = host.toLowerCase(Locale.ROOT).replaceFirst(":\\d+$", "");
        String path = pathAndQuery.split("[?#]", 2)[0];
        List<Candidate> candidates = new ArrayList<>();
        int bestHost = Integer.MIN_VALUE;
        for (ObjectNode r : routes) {
            int hostRank = hostRank(r.path("spec").path("hostnames"), hostOnly);
            if (hostRank == Integer.MIN_VALUE) {
                continue;
            }
            JsonNode rules = r.path("spec").path("rules");
            for (int i = 0; i < rules.size(); i++) {
                JsonNode matches = rules.get(i).path("matches");
                for (int m = 0; m < matches.size(); m++) {
                    if (matches(matches.get(m), method, path, headers)) {
                        candidates.add(new Candidate(r, i, m, matches.get(m), hostRank));
                        bestHost = Math.max(bestHost, hostRank);
                    }
                }
            }
        }
        int host0 = bestHost;
        return candidates.stream()
                .filter(c -> c.hostRank() == host0)
                .min(Comparator.comparingInt((Candidate c) -> pathKindRank(c.match()))
                        .thenComparing(c -> -pathLength(c.match()))
                        .thenComparing(c -> c.match().has("method") ? 0 : 1)
                        .thenComparing(c -> -c.match().path("headers").size())
                        .thenComparing(c -> c.route()
                                        .path("metadata")
                                        .path("namespace")
                                        .asText() + "/"
                                + c.route().path("metadata").path("name").asText())
                        .thenComparingInt(Candidate::rule))
                .map(c -> new Matched(c.route(), c.rule()));
    }

    /** Higher is more specific; MIN_VALUE: no hostname of the route matches. */
    private static int hostRank(JsonNode hostnames, String host) {
        if (hostnames.isMissingNode() || hostnames.isEmpty()) {
            return 0;
        }
        int best = Integer.MIN_VALUE;
        for (JsonNode h : hostnames) {
            String name = h.asText().toLowerCase(Locale.ROOT);
            if (name.equals(host)) {
                best = Math.max(best, 1_000);
            } else if (name.startsWith("*.")) {
                String suffix = name.substring(1);
                if (host.endsWith(suffix) && host.length() > suffix.length()) {
                    best = Math.max(best, suffix.length());
                }
            }
        }
        return best;
    }

    private static boolean matches(JsonNode match, String method, String path, Map<String, String> headers) {
        JsonNode p = match.path("path");
        String type = p.path("type").asText("PathPrefix");
        String value = p.path("value").asText("/");
        boolean pathOk =
                switch (type) {
                    case "Exact" -> path.equals(value);
                    case "RegularExpression" ->
                        com.google.re2j.Pattern.compile(value).matches(path);
                    default -> prefixMatches(value, path);
                };
        if (!pathOk) {
            return false;
        }
        if (match.has("method") && !match.path("method").asText().equals(method)) {
            return false;
        }
        for (JsonNode h : match.path("headers")) {
            String v = headers.entrySet().stream()
                    .filter(e -> e.getKey().equalsIgnoreCase(h.path("name").asText()))
                    .map(Map.Entry::getValue)
                    .findFirst()
                    .orElse(null);
            if (v == null) {
                return false;
            }
            boolean ok = h.path("type").asText("Exact").equals("RegularExpression")
                    ? com.google.re2j.Pattern.compile(h.path("value").asText()).matches(v)
                    : v.equals(h.path("value").asText());
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** Element-wise prefix: {@code /abc} takes {@code /abc}, {@code /abc/}, {@code /abc/def}, never {@code /abcd}. */
    static boolean prefixMatches(String prefix, String path) {
        String pre = prefix.length() > 1 && prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
        if (pre.equals("/")) {
            return path.startsWith("/");
        }
        return path.equals(pre) || path.startsWith(pre + "/");
    }

    private static int pathKindRank(JsonNode match) {
        return switch (match.path("path").path("type").asText("PathPrefix")) {
            case "Exact" -> 0;
            case "RegularExpression" -> 1;
            default -> 2;
        };
    }

    private static int pathLength(JsonNode match) {
        return match.path("path").path("value").asText("/").length();
    }
}
