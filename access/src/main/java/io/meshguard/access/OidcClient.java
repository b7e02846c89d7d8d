package io.meshguard.access;

import io.meshguard.runtime.http.OidcDiscovery;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * The CLI side of signing in to the admin plane: the OAuth 2.0 device authorization grant (RFC 8628) against the
 * configured issuer's discovery document, and the refresh of the stored token. A public client: no secret.
 */
public final class OidcClient {
    /**
     * What the user must do: open {@code verificationUri} and enter {@code userCode}.
     *
     * @param verifier the PKCE code verifier whose S256 challenge went with the device authorization request; sent
     *     with every token poll (RFC 7636 §4.5), never shown
     */
    public record DeviceCode(
            String deviceCode,
            String userCode,
            String verificationUri,
            String verificationUriComplete,
            Duration interval,
            Duration expiresIn,
            String verifier) {
        @Override
        public String toString() {
            return "DeviceCode[userCode=" + userCode + ", verificationUri=" + verificationUri + "]";
        }
    }

    private final String issuer;
    private final String clientId;
    private final HttpClient http;
    private final Clock clock;
    private final OidcDiscovery discovery;

    public OidcClient(String issuer, String clientId, Clock clock) {
        this(
                issuer,
                clientId,
                clock,
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build());
    }

    /** With the caller's HTTP client, e.g. one that reaches the IdP through the workstation's HTTP proxy. */
    public OidcClient(String issuer, String clientId, Clock clock, HttpClient http) {
        this.issuer = issuer;
        this.clientId = clientId;
        this.http = http;
        this.clock = clock;
        this.discovery = new OidcDiscovery(issuer, http, Duration.ofSeconds(10));
    }

    /**
     * RFC 8628 §3.1–3.2: asks the IdP for a device code and a user code, with a PKCE S256 challenge (RFC 7636 §4.3):
     * a realm that requires PKCE on the CLI client refuses the request without one, and with it a device code that
     * leaks from the polling client cannot be redeemed by anyone without the verifier.
     */
    public DeviceCode startDeviceLogin() throws IOException {
        Pkce pkce = Pkce.generate();
        Map<String, Object> r = post(
                discovery.endpoint("device_authorization_endpoint"),
                Map.of(
                        "client_id",
                        clientId,
                        "scope",
                        "openid",
                        "code_challenge",
                        pkce.challenge(),
                        "code_challenge_method",
                        Pkce.METHOD),
                200);
        return new DeviceCode(
                text(r, "device_code"),
                text(r, "user_code"),
                text(r, "verification_uri"),
                r.get("verification_uri_complete") instanceof String s ? s : text(r, "verification_uri"),
                Duration.ofSeconds(r.get("interval") instanceof Number n ? n.longValue() : 5),
                Duration.ofSeconds(r.get("expires_in") instanceof Number n ? n.longValue() : 600),
                pkce.verifier());
    }

    /**
     * RFC 8628 §3.4–3.5: polls until the user approved, denied or the code expired; {@code slow_down} adds 5 s.
     */
    public SignedInToken awaitDeviceLogin(DeviceCode code) throws IOException, InterruptedException {
        String tokenEndpoint = discovery.endpoint("token_endpoint");
        long interval = code.interval().toMillis();
        long deadline = clock.millis() + code.expiresIn().toMillis();
        while (clock.millis() < deadline) {
            HttpResponse<String> res = send(
                    tokenEndpoint,
                    Map.of(
                            "grant_type",
                            "urn:ietf:params:oauth:grant-type:device_code",
                            "device_code",
                            code.deviceCode(),
                            "client_id",
                            clientId,
                            "code_verifier",
                            code.verifier()));
            Map<String, Object> body = OidcHttp.json(res.body());
            if (res.statusCode() == 200) {
                return token(body);
            }
            String error = body.get("error") instanceof String s ? s : "unknown";
            switch (error) {
                case "authorization_pending" -> {}
                case "slow_down" -> interval += 5_000;
                default -> throw new IOException("sign-in failed: " + error);
            }
            Thread.sleep(interval);
        }
        throw new IOException("sign-in failed: the code expired before it was approved");
    }

    /** A fresh access token from the refresh token (RFC 6749 §6). */
    public SignedInToken refresh(SignedInToken stored) throws IOException {
        if (stored.refreshToken().isEmpty()) {
            throw new IOException("the stored token has expired and cannot be refreshed: run meshguard login");
        }
        return token(post(
                discovery.endpoint("token_endpoint"),
                Map.of("grant_type", "refresh_token", "refresh_token", stored.refreshToken(), "client_id", clientId),
                200));
    }

    private SignedInToken token(Map<String, Object> body) throws IOException {
        long expiresIn = body.get("expires_in") instanceof Number n ? n.longValue() : 60;
        return new SignedInToken(
                issuer,
                clientId,
                text(body, "access_token"),
                body.get("refresh_token") instanceof String s ? s : "",
                clock.instant().plusSeconds(expiresIn));
    }

    private Map<String, Object> post(String url, Map<String, String> form, int expected) throws IOException {
        HttpResponse<String> res = send(url, form);
        if (res.statusCode() != expected) {
            throw new IOException(url + " answered " + res.statusCode() + ": " + res.body());
        }
        return OidcHttp.json(res.body());
    }

    private HttpResponse<String> send(String url, Map<String, String> form) throws IOException {
        String body = OidcHttp.form(form);
        return OidcHttp.exchange(
                http,
                HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build());
    }

    private static String text(Map<String, Object> body, String field) throws IOException {
        if (!(body.get(field) instanceof String s) || s.isEmpty()) {
            throw new IOException("the answer has no " + field);
        }
        return s;
    }
}
