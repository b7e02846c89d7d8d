package io.meshguard.runtime.http;

import java.net.URI;
import java.util.Locale;
import java.util.Set;

/**
 * Where signing keys may be fetched from: https, or plain http to this machine only (a local identity provider in
 * development). One rule for every key fetch: extauthz's issuers (configured or discovered {@code jwks_uri}) and the
 * admin plane's discovered {@code jwks_uri}. Over plain http to another host, anyone on the path could hand out keys
 * that sign any token.
 */
public final class KeySetLocations {
    private static final Set<String> LOOPBACK_HOSTS = Set.of("localhost", "127.0.0.1", "[::1]");

    private KeySetLocations() {}

    /** Whether keys may be fetched from {@code location}. */
    public static boolean allowed(URI location) {
        String scheme = location.getScheme() == null ? "" : location.getScheme().toLowerCase(Locale.ROOT);
        String host = location.getHost() == null ? "" : location.getHost().toLowerCase(Locale.ROOT);
        return scheme.equals("https") && !host.isEmpty() || scheme.equals("http") && LOOPBACK_HOSTS.contains(host);
    }

    /** What {@link #allowed} requires, for error messages. */
    public static final String RULE = "keys are fetched over https only (http is allowed for localhost)";
}
