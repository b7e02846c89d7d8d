package io.meshguard.cli.api;

import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code meshguard api create} asks for, as the admin API's own objects: one upstream (from a URL), one API with
 * the version, and one route per operation in the gateway group. Built and checked on the client before any call,
 * so a mistyped operation or URL costs nothing on the server.
 *
 * @param operations what each route serves, in the order given (the routes are in the same order)
 */
public record ApiSpec(
        String name, String group, Upstream upstream, Api api, List<Route> routes, List<Operation> operations) {
    /** The names the admin API accepts for groups, APIs, upstreams and routes (ConfigValidator's rule). */
    private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    private static final Set<String> METHODS =
            Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT");
    private static final Pattern PARAMETER = Pattern.compile("\\{[^/{}]+}");

    /** One operation the API serves: {@code GET /balances/{id}} (a path parameter: one segment; a trailing *: a prefix). */
    public record Operation(String method, String path) {
        /** {@code "GET /balances"}, as the command line takes it. */
        static Operation parse(String text) {
            String[] parts = text.strip().split("\\s+");
            if (parts.length != 2) {
                throw new IllegalArgumentException("--operation '" + text
                        + "': expected METHOD PATH, e.g. 'GET /balances' or 'GET /balances/{id}'");
            }
            String method = parts[0].toUpperCase(Locale.ROOT);
            if (!METHODS.contains(method)) {
                throw new IllegalArgumentException(
                        "--operation '" + text + "': " + parts[0] + " is not an HTTP method ("
                                + String.join(", ", METHODS.stream().sorted().toList()) + ")");
            }
            String path = parts[1];
            if (!path.startsWith("/")
                    || path.contains("?")
                    || path.contains("#")
                    || path.indexOf('*') != path.lastIndexOf('*')
                    || (path.contains("*") && !path.endsWith("*"))) {
                throw new IllegalArgumentException("--operation '" + text
                        + "': the path starts with / and is relative to the version root (/balances, /balances/{id},"
                        + " or a prefix /statements*); no query, at most one * at its end");
            }
            return new Operation(method, path);
        }

        /** The route's match: exact, one segment per parameter (a regex), or a prefix for a trailing {@code *}. */
        Route.Match match() {
            List<String> methods = List.of(method);
            if (path.endsWith("*")) {
                return new Route.Match(
                        Optional.of(path.substring(0, path.length() - 1)),
                        Optional.empty(),
                        Optional.empty(),
                        methods,
                        List.of());
            }
            if (PARAMETER.matcher(path).find()) {
                StringBuilder regex = new StringBuilder();
                Matcher m = PARAMETER.matcher(path);
                int at = 0;
                while (m.find()) {
                    regex.append(literal(path.substring(at, m.start()))).append("[^/]+");
                    at = m.end();
                }
                regex.append(literal(path.substring(at)));
                return new Route.Match(
                        Optional.empty(), Optional.empty(), Optional.of(regex.toString()), methods, List.of());
            }
            return new Route.Match(Optional.empty(), Optional.of(path), Optional.empty(), methods, List.of());
        }

        /** The route's name part: {@code get-balances-id}; a prefix ends in {@code -prefix}. */
        String slug() {
            String words =
                    path.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
            String s = method.toLowerCase(Locale.ROOT) + (words.isEmpty() ? "" : "-" + words);
            return path.endsWith("*") ? s + "-prefix" : s;
        }

        @Override
        public String toString() {
            return method + " " + path;
        }
    }

    /**
     * The spec of the command line's values; throws {@link IllegalArgumentException} with what to change.
     *
     * @param upstreamName the upstream's name ({@code name} when empty)
     * @param basePath {@code /name} when empty
     * @param hosts the API's own hostnames (empty: the group's, or the one its template generates)
     */
    public static ApiSpec of(
            String name,
            String group,
            String upstreamUrl,
            Optional<String> upstreamName,
            Optional<String> basePath,
            String version,
            List<String> hosts,
            List<String> operations,
            String authzProfile,
            Optional<String> dlpProfile) {
        requireName("API name", name);
        requireName("--group", group);
        String upstream = upstreamName.orElse(name);
        requireName("--upstream", upstream);
        if (authzProfile.isBlank()) {
            throw new IllegalArgumentException(
                    "--authz-profile names the authz.yaml rule that decides the routes' requests");
        }
        if (operations.isEmpty()) {
            throw new IllegalArgumentException(
                    "at least one --operation 'METHOD /path' is needed: the API serves those");
        }
        String base = basePath.orElse("/" + name);
        if (!base.isEmpty() && (!base.startsWith("/") || base.endsWith("/"))) {
            throw new IllegalArgumentException(
                    "--base-path '" + base + "': starts with / and does not end with one (e.g. /payments), or empty");
        }
        Map<String, Operation> byRoute = new LinkedHashMap<>();
        for (String text : operations) {
            Operation op = Operation.parse(text);
            String route = routeName(name, op);
            Operation before = byRoute.put(route, op);
            if (before != null) {
                throw new IllegalArgumentException("--operation '" + before + "' and '" + op + "' would both be route "
                        + route + "; give each once");
            }
        }
        List<Operation> ops = List.copyOf(byRoute.values());
        List<Route> routes = new ArrayList<>();
        byRoute.forEach((route, op) -> routes.add(new Route(
                route,
                group,
                name,
                version,
                op.match(),
                List.of(new Route.Destination(upstream, 100)),
                Optional.empty(),
                Optional.empty(),
                false,
                Optional.empty(),
                List.of(),
                List.of(),
                List.of(),
                authzProfile,
                dlpProfile.orElse(Route.DEFAULT_PROFILE),
                Optional.empty())));
        Api api = new Api(
                name,
                base,
                version,
                hosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList(),
                List.of(new Api.ApiVersion(
                        version, Api.Status.ACTIVE, Optional.empty(), Optional.empty(), Optional.empty())));
        return new ApiSpec(name, group, upstream(upstream, upstreamUrl), api, List.copyOf(routes), ops);
    }

    /**
     * The upstream as the spec sets it on top of {@code stored}: the endpoint and TLS from the URL; what the command
     * has no option for (health check, circuit breaker, address exceptions, Host, protocol…) kept as stored.
     */
    public Upstream upstreamOver(Optional<Upstream> stored) {
        if (stored.isEmpty()) {
            return upstream;
        }
        Upstream s = stored.get();
        Optional<Upstream.Tls> tls =
                upstream.tls().isEmpty() ? Optional.empty() : s.tls().or(upstream::tls);
        return new Upstream(
                s.name(),
                s.protocol(),
                s.lbPolicy(),
                s.connectTimeoutMs(),
                upstream.endpoints(),
                s.healthCheck(),
                s.circuitBreaker(),
                s.outlierDetection(),
                tls,
                s.addressExceptions(),
                s.host());
    }

    /**
     * The API as the spec sets it on top of {@code stored}: its base path, hosts when given, and the version added;
     * the stored API's other versions and default version kept (another version's routes go on serving).
     */
    public Api apiOver(Optional<Api> stored) {
        if (stored.isEmpty()) {
            return api;
        }
        Api s = stored.get();
        List<Api.ApiVersion> versions = new ArrayList<>(s.versions());
        String version = api.defaultVersion();
        if (s.version(version).isEmpty()) {
            versions.add(api.versions().get(0));
        }
        return new Api(
                s.name(),
                api.basePath(),
                s.defaultVersion().isEmpty() ? version : s.defaultVersion(),
                api.hostnames().isEmpty() ? s.hostnames() : api.hostnames(),
                versions);
    }

    /**
     * The route as the spec sets it on top of {@code stored}: what it serves, where it sends, and the profiles given;
     * the stored route's timeouts, retries, header changes and (without the option) DLP profile kept.
     */
    public Route routeOver(Route asked, Optional<Route> stored, boolean dlpGiven) {
        if (stored.isEmpty()) {
            return asked;
        }
        Route s = stored.get();
        return new Route(
                asked.name(),
                asked.group(),
                asked.api(),
                asked.version(),
                asked.match(),
                asked.destinations(),
                s.timeoutMs(),
                s.idleTimeoutMs(),
                s.streaming(),
                s.retry(),
                s.requestHeadersToAdd(),
                s.requestHeadersToRemove(),
                s.responseHeadersToAdd(),
                asked.authzProfile(),
                dlpGiven ? asked.dlpProfile() : s.dlpProfile(),
                Optional.empty());
    }

    /** The path a client calls for {@code op}: base path, version, operation. */
    public String clientPath(Operation op) {
        return api.basePath() + "/" + api.defaultVersion() + op.path();
    }

    private static Upstream upstream(String name, String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("--upstream-url '" + url + "': " + e.getMessage());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException(
                    "--upstream-url '" + url + "': http://host:port or https://host:port (the backend's address)");
        }
        if (uri.getHost() == null
                || uri.getRawUserInfo() != null
                || uri.getRawQuery() != null
                || uri.getRawFragment() != null
                || !(uri.getRawPath() == null
                        || uri.getRawPath().isEmpty()
                        || uri.getRawPath().equals("/"))) {
            throw new IllegalArgumentException(
                    "--upstream-url '" + url
                            + "': scheme, host and port only (the gateway sends the client's path as is; no path, user, query)");
        }
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        boolean tls = scheme.equals("https");
        int port = uri.getPort() > 0 ? uri.getPort() : tls ? 443 : 80;
        return new Upstream(
                name,
                Upstream.Protocol.HTTP1,
                Upstream.LbPolicy.ROUND_ROBIN,
                0,
                List.of(new Upstream.Endpoint(host.toLowerCase(Locale.ROOT), port, 1)),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                tls ? Optional.of(new Upstream.Tls(Optional.empty(), List.of(), Optional.empty())) : Optional.empty(),
                List.of(),
                Optional.empty());
    }

    /** {@code name-get-balances}; a name past the admin API's 63 characters is cut and keeps a hash of the rest. */
    static String routeName(String api, Operation op) {
        String full = api + "-" + op.slug();
        if (full.length() <= 63) {
            return full;
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(full.getBytes(StandardCharsets.UTF_8));
            String head = full.substring(0, 54).replaceAll("-+$", "");
            return head + "-" + HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static void requireName(String what, String name) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " '" + name
                    + "': lowercase letters, digits and '-', at most 63, starting and ending with a letter or digit");
        }
    }

    /** {@code text} as an RE2 literal. */
    private static String literal(String text) {
        StringBuilder out = new StringBuilder();
        for (char c : text.toCharArray()) {
            if ("\\.^$|?*+()[]{}".indexOf(c) >= 0) {
                out.append('\\');
            }
            out.append(c);
        }
        return out.toString();
    }
}
