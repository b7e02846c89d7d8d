package io.meshguard.access;

import io.meshguard.runtime.http.OidcDiscovery;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The browser side of signing in to the admin plane: the OAuth 2.0 authorization-code grant with PKCE (RFC 6749
 * §4.1, RFC 7636 S256) against the issuer's discovery document, for a server that keeps the tokens (the console).
 * The client may be confidential ({@code clientSecret}, sent as {@code client_secret_post}) or public.
 */
public final class CodeFlowClient {
    /** One sign-in on its way: where to send the browser, and what the callback must match. */
    public record Started(URI authorizeUri, String state, String verifier) {}

    private static final SecureRandom RANDOM = new SecureRandom();

    private final String issuer;
    private final String clientId;
    private final Optional<String> clientSecret;
    private final HttpClient http;
    private final Clock clock;
    private final OidcDiscovery discovery;

    public CodeFlowClient(String issuer, String clientId, Optional<String> clientSecret, Clock clock) {
        this(
                issuer,
                clientId,
                clientSecret,
                clock,
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build());
    }

    /** @param http the client of discovery and the code exchange (the admin plane's, with its TLS trust) */
    public CodeFlowClient(String issuer, String clientId, Optional<String> clientSecret, Clock clock, HttpClient http) {
        this.issuer = issuer;
        this.clientId = clientId;
        this.clientSecret = clientSecret;
        this.http = http;
        this.clock = clock;
        this.discovery = new OidcDiscovery(issuer, http, Duration.ofSeconds(10));
    }

    /** A fresh state and PKCE verifier, and the authorization endpoint URI that carries them. */
    public Started start(String redirectUri) throws IOException {
        String state = random(24);
        Pkce pkce = Pkce.generate();
        Map<String, String> q = new LinkedHashMap<>();
        q.put("response_type", "code");
        q.put("client_id", clientId);
        q.put("redirect_uri", redirectUri);
        q.put("scope", "openid");
        q.put("state", state);
        q.put("code_challenge_method", Pkce.METHOD);
        q.put("code_challenge", pkce.challenge());
        return new Started(
                URI.create(discovery.endpoint("authorization_endpoint") + "?" + OidcHttp.form(q)),
                state,
                pkce.verifier());
    }

    /** RFC 6749 §4.1.3 with RFC 7636 §4.5: the code and the verifier for the tokens. */
    public SignedInToken exchange(String code, String verifier, String redirectUri) throws IOException {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("grant_type", "authorization_code");
        f.put("code", code);
        f.put("redirect_uri", redirectUri);
        f.put("code_verifier", verifier);
        return token(post(f));
    }

    /** A fresh access token from the refresh token (RFC 6749 §6). */
    public SignedInToken refresh(SignedInToken stored) throws IOException {
        if (stored.refreshToken().isEmpty()) {
            throw new IOException("no refresh token: sign in again");
        }
        Map<String, String> f = new LinkedHashMap<>();
        f.put("grant_type", "refresh_token");
        f.put("refresh_token", stored.refreshToken());
        SignedInToken fresh = token(post(f));
        // an issuer may answer a refresh without a new id token (OIDC Core §12.2): the sign-in's still names the
        // session
        return fresh.idToken().isEmpty()
                ? new SignedInToken(
                        fresh.issuer(),
                        fresh.clientId(),
                        fresh.accessToken(),
                        fresh.refreshToken(),
                        fresh.expiresAt(),
                        stored.idToken())
                : fresh;
    }

    /**
     * The issuer's end-session endpoint (OpenID Connect RP-Initiated Logout 1.0 §2), when it offers one, for the
     * sign-in that gave {@code idToken}: with {@code id_token_hint} the issuer knows whose session to end and that this
     * client asks, so it ends it without a confirmation page and returns to {@code postLogoutRedirect} (Keycloak asks
     * "Do you want to log out?" without the hint, and its session otherwise outlives the console's).
     */
    public Optional<URI> endSession(String idToken, String postLogoutRedirect) {
        try {
            if (!(discovery.document().get("end_session_endpoint") instanceof String s)) {
                return Optional.empty();
            }
            Map<String, String> q = new LinkedHashMap<>();
            if (!idToken.isEmpty()) {
                q.put("id_token_hint", idToken);
            }
            q.put("client_id", clientId);
            q.put("post_logout_redirect_uri", postLogoutRedirect);
            return Optional.of(URI.create(s + "?" + OidcHttp.form(q)));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private Map<String, Object> post(Map<String, String> fields) throws IOException {
        Map<String, String> f = new LinkedHashMap<>(fields);
        f.put("client_id", clientId);
        clientSecret.ifPresent(s -> f.put("client_secret", s));
        HttpResponse<String> res = OidcHttp.exchange(
                http,
                HttpRequest.newBuilder(URI.create(discovery.endpoint("token_endpoint")))
                        .timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(OidcHttp.form(f)))
                        .build());
        if (res.statusCode() != 200) {
            // the IdP's error code only: its description may echo what was sent
            Map<String, Object> body = OidcHttp.json(res.body());
            throw new IOException("the token endpoint answered " + res.statusCode() + " "
                    + (body.get("error") instanceof String e ? e : ""));
        }
        return OidcHttp.json(res.body());
    }

    private SignedInToken token(Map<String, Object> body) throws IOException {
        if (!(body.get("access_token") instanceof String access) || access.isEmpty()) {
            throw new IOException("the token endpoint answered without an access_token");
        }
        long expiresIn = body.get("expires_in") instanceof Number n ? n.longValue() : 60;
        return new SignedInToken(
                issuer,
                clientId,
                access,
                body.get("refresh_token") instanceof String s ? s : "",
                clock.instant().plusSeconds(expiresIn),
                body.get("id_token") instanceof String id ? id : "");
    }

    /** {@code n} random bytes, base64url without padding: states, verifiers, session ids. */
    public static String random(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }
}
