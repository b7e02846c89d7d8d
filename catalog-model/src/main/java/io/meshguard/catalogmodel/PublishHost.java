package io.meshguard.catalogmodel;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The host a product publish is served on: {@code {product}.{environment}.{cluster-region}.api.{domain}}. Each label
 * is a lower-case DNS label (RFC 1123), so the name is one Envoy virtual host domain and one certificate SAN, and two
 * publishes cannot collide by case or by a dot smuggled into a product name.
 */
public record PublishHost(String name) {

    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

    public PublishHost {
        Objects.requireNonNull(name, "name");
    }

    /** Builds the host, refusing any part that is not a DNS label (the domain may have several labels). */
    public static PublishHost of(String product, Environment environment, String clusterRegion, String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        for (String part : new String[] {product, clusterRegion}) {
            requireLabel(part, part);
        }
        for (String label : d.split("\\.", -1)) {
            requireLabel(label, domain);
        }
        String host = product + "." + environment.label() + "." + clusterRegion + ".api." + d;
        if (host.length() > 253) {
            throw new IllegalArgumentException("publish host " + host + " is longer than 253 characters");
        }
        return new PublishHost(host);
    }

    private static void requireLabel(String label, String whole) {
        if (!LABEL.matcher(label).matches()) {
            throw new IllegalArgumentException("'" + whole + "' is not usable in a host name: each part must be"
                    + " 1-63 lower-case letters, digits or inner hyphens");
        }
    }
}
