package io.meshguard.xds.model;

import java.util.List;

/** Which hostnames an API is served on: its own, else its group's, else the one the group's template generates. */
public final class HostnamePlan {
    private HostnamePlan() {}

    /**
     * Whether two hostnames can name one request's host: equal (case aside), or one a wildcard ({@code *.x}) that
     * covers the other ({@code a.x}, or a narrower wildcard {@code *.a.x}).
     */
    public static boolean overlap(String a, String b) {
        String x = a.toLowerCase(java.util.Locale.ROOT);
        String y = b.toLowerCase(java.util.Locale.ROOT);
        return x.equals(y) || covers(x, y) || covers(y, x);
    }

    private static boolean covers(String wildcard, String host) {
        return wildcard.startsWith("*.") && host.endsWith(wildcard.substring(1));
    }

    public static List<String> hostnames(GatewayGroup group, Api api) {
        if (!api.hostnames().isEmpty()) {
            return api.hostnames();
        }
        if (!group.hostnames().isEmpty()) {
            return group.hostnames();
        }
        return List.of(group.generatedHostname(api.name()));
    }
}
