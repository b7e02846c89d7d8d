package io.meshguard.devstack.idp;

import io.meshguard.access.AdminAccessSettings;
import io.meshguard.cli.idp.UpIdp;
import io.meshguard.runtime.http.OidcDiscovery;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code up --idp-issuer URL}: the admin plane of the local stack signs people in at an identity provider the bank
 * already runs (its Keycloak realm, or any OIDC issuer) instead of starting one. The same settings a cluster's
 * admin plane reads ({@code admin.oidc.issuer}, {@code admin.oidc.audience}, {@code admin.access_file}, the console's
 * client): tokens of that issuer are admitted with the roles policies/access.yaml binds to their claims, tokens of
 * any other issuer are refused. Nothing of that realm is written to up.json but its issuer and client ids; the
 * console's secret stays in the file the operator named.
 *
 * @param issuer the issuer exactly as its tokens' {@code iss} and its discovery document name it
 * @param audience the {@code aud} admin access tokens carry ({@code admin.oidc.audience})
 * @param accessFile the role bindings ({@code admin.access_file})
 * @param cliClient the public client {@code meshguard login} uses (device grant)
 * @param console the console's confidential client; empty: the console signs in with the admin token file
 */
public record ExternalIdp(
        String issuer, String audience, Path accessFile, String cliClient, Optional<ConsoleClient> console) {
    public static final String KIND = "external";
    private static final Duration DISCOVERY_TIMEOUT = Duration.ofSeconds(10);

    /**
     * Checks the issuer before anything starts: its discovery document must answer and name exactly this issuer
     * (OpenID Connect Discovery 1.0 §4.3). A trailing slash or a wrong realm would otherwise start a stack whose
     * admin plane refuses every token, which shows only at the first call as a 401.
     *
     * @throws IllegalArgumentException naming the option and what is wrong
     */
    public static ExternalIdp check(
            String issuer,
            String audience,
            Path accessFile,
            String cliClient,
            String consoleClientId,
            Optional<Path> consoleSecretFile)
            throws IOException {
        if (!Files.isRegularFile(accessFile)) {
            throw new IllegalArgumentException("--access-file " + accessFile + " does not exist: the role bindings"
                    + " (policies/access.yaml) say which of the issuer's groups and roles hold which role");
        }
        URI uri;
        try {
            uri = URI.create(issuer);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--idp-issuer '" + issuer + "' is not a URL", e);
        }
        if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) || uri.getHost() == null) {
            throw new IllegalArgumentException("--idp-issuer '" + issuer + "' is not an http(s) URL");
        }
        // the issuer's keys decide who is system-admin: fetched over plain http from another machine, anyone on the
        // path could substitute their own
        if ("http".equals(uri.getScheme()) && !isLoopback(uri.getHost())) {
            throw new IllegalArgumentException("--idp-issuer " + issuer + ": plain http is for an issuer on this"
                    + " machine (127.0.0.1, localhost) only; use its https URL");
        }
        String discovered = discoveredIssuer(issuer);
        if (!discovered.equals(issuer)) {
            throw new IllegalArgumentException("--idp-issuer " + issuer + " is not the issuer its discovery document"
                    + " names (" + discovered + "): pass it exactly as its tokens' iss claim writes it");
        }
        Optional<ConsoleClient> console = Optional.empty();
        if (consoleSecretFile.isPresent()) {
            String secret = Files.readString(consoleSecretFile.get()).strip();
            if (secret.isEmpty()) {
                throw new IllegalArgumentException(
                        "--console-client-secret-file " + consoleSecretFile.get() + " is empty");
            }
            console = Optional.of(new ConsoleClient(consoleClientId, secret));
        }
        return new ExternalIdp(issuer, audience, accessFile, cliClient, console);
    }

    private static boolean isLoopback(String host) {
        String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        return h.equals("localhost") || h.equals("::1") || h.matches("127(\\.\\d{1,3}){3}");
    }

    private static String discoveredIssuer(String issuer) {
        Map<String, Object> doc;
        try (HttpClient http = HttpClient.newBuilder()
                .connectTimeout(DISCOVERY_TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build()) {
            doc = OidcDiscovery.fetch(http, issuer, DISCOVERY_TIMEOUT);
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "--idp-issuer " + issuer + ": cannot read " + OidcDiscovery.location(issuer) + " (" + e + ")", e);
        }
        if (!(doc.get("issuer") instanceof String named)) {
            throw new IllegalArgumentException(
                    "--idp-issuer " + issuer + ": " + OidcDiscovery.location(issuer) + " names no issuer");
        }
        return named;
    }

    /** The admin plane's settings; the token file stays usable as break-glass, as under {@code --idp keycloak}. */
    public AdminAccessSettings adminAccess() {
        return new AdminAccessSettings(
                Optional.of(issuer),
                audience,
                AdminAccessSettings.CLOCK_SKEW.defaultValue(),
                Optional.of(accessFile),
                true);
    }

    /** What up.json says: issuer and client ids, no secret, no users (they are the bank's). */
    public UpIdp state() {
        return new UpIdp(
                KIND,
                "",
                0,
                issuer,
                audience,
                cliClient,
                console.map(ConsoleClient::clientId).orElse(""),
                "",
                "the bank's identity provider: sign in with" + " `meshguard login --issuer " + issuer + " --client-id "
                        + cliClient + "`",
                List.of());
    }

    /** The banner's line. */
    public String endpoint() {
        return String.format(
                "%-10s issuer %s (external; audience %s, bindings %s; console %s; admin token file =" + " break-glass)",
                "idp",
                issuer,
                audience,
                accessFile,
                console.map(c -> "client " + c.clientId())
                        .orElse("signs in with the admin token file (no --console-client-secret-file)"));
    }
}
