package io.meshguard.authz.policy;

import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Which requests a route covers. Empty {@code hosts} or {@code methods} mean "any". Hosts compare without port,
 * case-insensitively; {@code *.example.com} matches one or more leading labels.
 */
public record RouteMatch(Set<String> hosts, PathMatch path, Set<String> methods) {
    public boolean matches(String host, String path, String method) {
        return hostMatches(host) && (methods.isEmpty() || methods.contains(method)) && this.path.matches(path);
    }

    /**
     * For a rule a gateway route names (the path was matched by the gateway): {@code "method"} or {@code "host"} when
     * the request falls outside this rule's methods or hosts, empty when both fit.
     */
    public Optional<String> outsideMethodOrHost(String host, String method) {
        if (!methods.isEmpty() && !methods.contains(method)) {
            return Optional.of("method");
        }
        return hostMatches(host) ? Optional.empty() : Optional.of("host");
    }

    /** Whether the rule covers {@code host} (any port; {@code *.} names a subdomain wildcard). */
    public boolean hostMatches(String host) {
        if (hosts.isEmpty()) {
            return true;
        }
        String bare = stripPort(host).toLowerCase(Locale.ROOT);
        for (String h : hosts) {
            if (h.startsWith("*.") ? bare.endsWith(h.substring(1)) && bare.length() > h.length() - 1 : h.equals(bare)) {
                return true;
            }
        }
        return false;
    }

    static String stripPort(String host) {
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            return end < 0 ? host : host.substring(0, end + 1);
        }
        int colon = host.lastIndexOf(':');
        return colon < 0 ? host : host.substring(0, colon);
    }
}
