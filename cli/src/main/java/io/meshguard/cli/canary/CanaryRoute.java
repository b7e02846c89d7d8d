package io.meshguard.cli.canary;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * One protected route the canaries probe, as the routes file ({@code canary.routes_file}) lists it.
 *
 * @param name the route's name as the metric labels it (the gateway route's name, e.g. {@code demo.v2.accounts})
 * @param url where a client reaches it: the real path, through the gateway or the waypoint
 * @param method the method an {@code expired_token} canary uses ({@code GET} unless the route takes only another;
 *     a {@code test_card} canary always posts its body)
 * @param kinds which canaries it gets
 * @param headers sent with every canary (e.g. the tenant header the policy requires before it looks at the token)
 */
public record CanaryRoute(String name, URI url, String method, List<CanaryKind> kinds, Map<String, String> headers) {
    public CanaryRoute {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(url, "url");
        if (!List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE").contains(method)) {
            throw new IllegalArgumentException("canary route " + name + ": method " + method + " is not one of GET,"
                    + " HEAD, POST, PUT, PATCH, DELETE");
        }
        kinds = List.copyOf(kinds);
        headers = Map.copyOf(headers);
        if (name.isBlank()) {
            throw new IllegalArgumentException("a canary route needs a name");
        }
        if (kinds.isEmpty()) {
            throw new IllegalArgumentException("canary route " + name + ": kinds is empty");
        }
        String scheme = String.valueOf(url.getScheme());
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("canary route " + name + ": url must be http or https, not " + url);
        }
    }

    /**
     * Reads a routes file:
     *
     * <pre>
     * routes:
     *   - name: demo.v2.accounts
     *     url: https://api.bank.example/demo/v2/accounts/canary
     *     method: GET              # optional: the expired_token canary's method
     *     kinds: [expired_token, test_card]
     *     headers: {x-tenant-id: canary}
     * </pre>
     */
    public static List<CanaryRoute> read(Path file) throws IOException {
        return parse(Files.readString(file), file.toString());
    }

    static List<CanaryRoute> parse(String yaml, String source) {
        Object root = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
        if (!(root instanceof Map<?, ?> top) || !(top.get("routes") instanceof List<?> entries)) {
            throw new IllegalArgumentException(source + ": expected a top-level 'routes' list");
        }
        List<CanaryRoute> routes = new ArrayList<>();
        for (Object entry : entries) {
            if (!(entry instanceof Map<?, ?> m)) {
                throw new IllegalArgumentException(source + ": each route is a map with name, url and kinds");
            }
            for (Object key : m.keySet()) {
                if (!List.of("name", "url", "method", "kinds", "headers").contains(String.valueOf(key))) {
                    throw new IllegalArgumentException(
                            source + ": unknown key '" + key + "' (name, url, method, kinds, headers)");
                }
            }
            List<CanaryKind> kinds = new ArrayList<>();
            if (m.get("kinds") instanceof List<?> ks) {
                ks.forEach(k -> kinds.add(CanaryKind.of(String.valueOf(k))));
            }
            Map<String, String> headers = new LinkedHashMap<>();
            if (m.get("headers") instanceof Map<?, ?> hs) {
                hs.forEach(
                        (k, v) -> headers.put(String.valueOf(k).toLowerCase(java.util.Locale.ROOT), String.valueOf(v)));
            }
            try {
                routes.add(new CanaryRoute(
                        String.valueOf(m.get("name") == null ? "" : m.get("name")),
                        URI.create(String.valueOf(m.get("url"))),
                        String.valueOf(m.get("method") == null ? "GET" : m.get("method"))
                                .toUpperCase(java.util.Locale.ROOT),
                        kinds,
                        headers));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
            }
        }
        if (routes.isEmpty()) {
            throw new IllegalArgumentException(source + ": no routes");
        }
        return List.copyOf(routes);
    }
}
