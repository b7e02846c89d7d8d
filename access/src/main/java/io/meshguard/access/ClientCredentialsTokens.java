package io.meshguard.access;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * The access tokens of one confidential client by the OAuth 2.0 client-credentials grant (RFC 6749 §4.4,
 * {@code client_secret_post}): a token is reused until {@code renewBefore} its {@code expires_in} (at most half its
 * life), then the next {@link #current} signs in again. The identity provider is called with no lock held; two callers
 * that find the token due may both sign in, and the newer token is kept. A renewal that fails while the held token is
 * still valid keeps that one (the next call tries again); only without a valid token does {@link #current} fail, with
 * {@link SignInFailed}. The secret is read through {@code secret} at each sign-in, so a rotated secret file is used
 * from the next renewal on, and it never appears in a message.
 */
public final class ClientCredentialsTokens implements BearerTokenSource {

    /** The identity provider refused the client or could not be reached; the message says which, never the secret. */
    public static final class SignInFailed extends IOException {
        private static final long serialVersionUID = 1L;

        public SignInFailed(String message) {
            super(message);
        }
    }

    private record Held(String accessToken, Instant renewAt, Instant expires) {}

    /** Who signs in, where, with the secret as read at each sign-in. */
    private record Client(URI tokenEndpoint, String clientId, Supplier<Optional<String>> secret) {}

    private final Client client;
    private final Duration renewBefore;
    private final Clock clock;
    private final HttpClient http;
    private final Duration timeout;
    private final AtomicReference<Held> held = new AtomicReference<>();

    /**
     * @param tokenEndpoint the realm's token endpoint ({@code token_endpoint} of its discovery document)
     * @param secret the client's secret as read now; empty when its file is missing or empty
     * @param renewBefore how long before the token's expiry it is replaced
     * @param tls the CAs trusted for an {@code https} token endpoint; empty: the JDK trust store
     */
    public ClientCredentialsTokens(
            URI tokenEndpoint,
            String clientId,
            Supplier<Optional<String>> secret,
            Duration renewBefore,
            Duration timeout,
            Clock clock,
            Optional<SSLContext> tls) {
        this.client = new Client(tokenEndpoint, clientId, Objects.requireNonNull(secret, "secret"));
        this.renewBefore = Objects.requireNonNull(renewBefore, "renewBefore");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.timeout = timeout;
        HttpClient.Builder http =
                HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER);
        tls.ifPresent(http::sslContext);
        this.http = http.build();
    }

    /** Keycloak's token endpoint of the realm whose issuer is {@code issuer}. */
    public static URI keycloakTokenEndpoint(String issuer) {
        return URI.create(issuer.replaceAll("/+$", "") + "/protocol/openid-connect/token");
    }

    public String clientId() {
        return client.clientId();
    }

    /** A token valid now: the held one until its renewal time, else a new one (or the held one if that fails). */
    @Override
    public String current() throws IOException {
        Held now = held.get();
        Instant at = clock.instant();
        if (now != null && at.isBefore(now.renewAt())) {
            return now.accessToken();
        }
        try {
            Held fresh = signIn();
            held.accumulateAndGet(
                    fresh, (old, next) -> old != null && old.expires().isAfter(next.expires()) ? old : next);
            return fresh.accessToken();
        } catch (SignInFailed e) {
            if (now != null && at.isBefore(now.expires())) {
                return now.accessToken();
            }
            throw e;
        }
    }

    /** One grant at the token endpoint, whatever is held. */
    private Held signIn() throws SignInFailed {
        String clientSecret = client.secret()
                .get()
                .orElseThrow(() -> new SignInFailed(
                        "no client secret for client " + client.clientId() + " (its file is" + " missing or empty)"));
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", "client_credentials");
        form.put("client_id", client.clientId());
        form.put("client_secret", clientSecret);
        HttpResponse<String> r;
        try {
            r = OidcHttp.exchange(
                    http,
                    HttpRequest.newBuilder(client.tokenEndpoint())
                            .timeout(timeout)
                            .header("Content-Type", "application/x-www-form-urlencoded")
                            .header("Accept", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(OidcHttp.form(form)))
                            .build());
        } catch (IOException e) {
            throw new SignInFailed(
                    "client " + client.clientId() + " cannot sign in: the token endpoint " + client.tokenEndpoint()
                            + " cannot be reached (" + e.getClass().getSimpleName() + ")");
        }
        Map<String, Object> body;
        try {
            body = OidcHttp.json(r.body());
        } catch (IOException e) {
            throw new SignInFailed("client " + client.clientId() + " cannot sign in: the token endpoint answered "
                    + r.statusCode() + " " + e.getMessage());
        }
        if (r.statusCode() != 200) {
            // RFC 6749 §5.2: error and error_description name what was refused; they never echo the secret
            throw new SignInFailed("client " + client.clientId() + " cannot sign in: the token endpoint answered "
                    + r.statusCode() + " " + body.getOrDefault("error", "without an OAuth error")
                    + Optional.ofNullable(body.get("error_description"))
                            .map(d -> " (" + d + ")")
                            .orElse("")
                    + (r.statusCode() == 401 ? ": check the client id and its secret" : ""));
        }
        if (!(body.get("access_token") instanceof String token) || token.isEmpty()) {
            throw new SignInFailed("client " + client.clientId() + " cannot sign in: the answer has no access_token");
        }
        Instant issued = clock.instant();
        long life = body.get("expires_in") instanceof Number n ? n.longValue() : 0;
        if (life <= 0) {
            throw new SignInFailed("client " + client.clientId() + " cannot sign in: the answer has no expires_in");
        }
        Duration lifetime = Duration.ofSeconds(life);
        Duration margin = renewBefore.compareTo(lifetime.dividedBy(2)) > 0 ? lifetime.dividedBy(2) : renewBefore;
        Instant expires = issued.plus(lifetime);
        return new Held(token, expires.minus(margin), expires);
    }
}
