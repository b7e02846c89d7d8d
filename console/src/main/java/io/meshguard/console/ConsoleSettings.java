package io.meshguard.console;

import java.time.Duration;
import java.util.Optional;

/**
 * How people sign in to the console and how long a session lives.
 *
 * @param issuer the OIDC issuer (the admin plane's, {@code admin.oidc.issuer}); empty: no sign-in, the console
 *        answers with a page saying how to configure one
 * @param clientId the console's client at the issuer ({@code meshguard-console})
 * @param clientSecret its secret when the client is confidential
 * @param publicUrl the console's origin as browsers reach it ({@code http://127.0.0.1:9103}), for the redirect URI
 * @param idle a session unused this long ends
 * @param absolute a session ends this long after sign-in, used or not
 */
public record ConsoleSettings(
        Optional<String> issuer,
        String clientId,
        Optional<String> clientSecret,
        String publicUrl,
        Duration idle,
        Duration absolute) {

    public ConsoleSettings {
        if (publicUrl.endsWith("/")) {
            publicUrl = publicUrl.substring(0, publicUrl.length() - 1);
        }
        if (idle.isNegative() || idle.isZero() || absolute.compareTo(idle) < 0) {
            throw new IllegalArgumentException(
                    "console sessions need 0 < idle <= absolute, got " + idle + " and " + absolute);
        }
    }

    /** Defaults: 30 minutes idle, 8 hours absolute (a working day; OWASP session management cheat sheet). */
    public static ConsoleSettings of(
            Optional<String> issuer, String clientId, Optional<String> clientSecret, String publicUrl) {
        return new ConsoleSettings(
                issuer, clientId, clientSecret, publicUrl, Duration.ofMinutes(30), Duration.ofHours(8));
    }

    /** Whether the cookie must be {@code Secure}: the console is reached over TLS. */
    public boolean secure() {
        return publicUrl.startsWith("https://");
    }

    public String redirectUri() {
        return publicUrl + "/console/callback";
    }
}
