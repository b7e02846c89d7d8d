package io.meshguard.extauthz.exchange;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import io.meshguard.access.OidcHttp;
import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.authz.policy.McpResource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;

/**
 * One RFC 8693 exchange at the identity provider's token endpoint, as the confidential client of
 * {@code token_exchange.*} ({@code client_secret_basic}): the caller's access token in, an access token for the asked
 * audience out. What comes back is checked before anyone sends it anywhere: a signed JWT naming the audience in
 * {@code aud}, the caller's {@code sub}, an {@code exp} still ahead. Never blocks: the answer is a future that fails with
 * an {@link ExchangeFailure}.
 */
public final class TokenExchangeClient {
    static final String GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
    static final String ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What is exchanged.
     *
     * @param subject the caller's token's {@code sub}, which the issued token must carry too
     * @param expires the caller's token's {@code exp}: the issued token is not reused past it
     */
    public record Request(String token, String audience, Optional<String> scope, String subject, Instant expires) {}

    private final TokenExchangeSettings settings;
    private final SecretFiles secrets;
    private final HttpClient http;
    private final Clock clock;
    private final Timer latency;

    public TokenExchangeClient(
            TokenExchangeSettings settings,
            SecretFiles secrets,
            Optional<SSLContext> trust,
            Clock clock,
            MeterRegistry registry) {
        this.settings = settings;
        this.secrets = secrets;
        this.clock = clock;
        HttpClient.Builder b = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .connectTimeout(settings.timeout());
        trust.ifPresent(b::sslContext);
        this.http = b.build();
        this.latency = Timer.builder("meshguard_extauthz_token_exchange_duration_seconds")
                .description("Time of one token exchange at the identity provider, answered or not")
                .publishPercentileHistogram()
                .register(registry);
    }

    /** The issued token, or a future failed with an {@link ExchangeFailure}. */
    public CompletableFuture<IssuedToken> exchange(Request r) {
        if (!settings.configured()) {
            return CompletableFuture.failedFuture(new ExchangeFailure(
                    ExchangeFailure.Kind.NOT_CONFIGURED,
                    "no token exchange configured (token_exchange.token_endpoint, client_id, client_secret_file)"));
        }
        Optional<String> secret = secrets.read(settings.clientSecretFile().get());
        if (secret.isEmpty()) {
            return CompletableFuture.failedFuture(new ExchangeFailure(
                    ExchangeFailure.Kind.NOT_CONFIGURED,
                    "token_exchange.client_secret_file is missing or empty: "
                            + settings.clientSecretFile().get()));
        }
        Map<String, String> form = new LinkedHashMap<>();
        form.put("grant_type", GRANT);
        form.put("subject_token", r.token());
        form.put("subject_token_type", ACCESS_TOKEN);
        form.put("requested_token_type", ACCESS_TOKEN);
        form.put("audience", r.audience());
        r.scope().ifPresent(s -> form.put("scope", s));
        URI endpoint = settings.tokenEndpoint().get();
        HttpRequest request = HttpRequest.newBuilder(endpoint)
                .timeout(settings.timeout())
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .header("authorization", basic(settings.clientId(), secret.get()))
                .POST(HttpRequest.BodyPublishers.ofString(OidcHttp.form(form)))
                .build();
        long start = System.nanoTime();
        return http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
                // the request's own timeout covers the wait for headers; this bounds the body and a stuck connect too
                .orTimeout(settings.timeout().toMillis(), TimeUnit.MILLISECONDS)
                .handle((response, error) -> {
                    latency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                    if (error != null) {
                        throw new CompletionException(transportFailure(error));
                    }
                    return issued(response, r);
                });
    }

    private static ExchangeFailure transportFailure(Throwable error) {
        Throwable e = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (e instanceof HttpTimeoutException || e instanceof TimeoutException) {
            return new ExchangeFailure(ExchangeFailure.Kind.TIMEOUT, "the identity provider did not answer in time");
        }
        if (e instanceof ConnectException || e.getCause() instanceof ConnectException) {
            return new ExchangeFailure(
                    ExchangeFailure.Kind.UNREACHABLE, "the identity provider's token endpoint cannot be reached");
        }
        if (e instanceof IOException) {
            return new ExchangeFailure(
                    ExchangeFailure.Kind.UNREACHABLE,
                    "the connection to the identity provider failed: "
                            + e.getClass().getSimpleName());
        }
        return new ExchangeFailure(
                ExchangeFailure.Kind.IDP_ERROR,
                "the exchange failed: " + e.getClass().getSimpleName());
    }

    private IssuedToken issued(HttpResponse<String> response, Request r) {
        int status = response.statusCode();
        if (status == 400 || status == 401 || status == 403) {
            Optional<String> error = oauthError(response.body());
            if (error.isEmpty()) {
                throw new ExchangeFailure(
                        ExchangeFailure.Kind.IDP_ERROR,
                        "the identity provider answered " + status + " without an OAuth error");
            }
            // RFC 6749 §5.2: a failed client authentication is invalid_client (401 with Basic); Keycloak answers 401
            // unauthorized_client for a wrong secret and 400 unauthorized_client for a client that may not exchange
            if (status == 401
                    || error.get().equals("invalid_client")
                    || error.get().equals("unauthorized_client")) {
                throw new ExchangeFailure(
                        ExchangeFailure.Kind.CLIENT_REJECTED,
                        "the identity provider refused meshguard's exchange client (" + error.get() + "): check "
                                + "token_exchange.client_id, client_secret_file and the client's token exchange setting"
                                + errorDescription(response.body())
                                        .map(d -> " (" + d + ")")
                                        .orElse(""));
            }
            throw new ExchangeFailure(
                    ExchangeFailure.Kind.REFUSED,
                    "the identity provider refused the exchange for audience " + r.audience() + ": " + error.get()
                            + errorDescription(response.body())
                                    .map(d -> " (" + d + ")")
                                    .orElse(""));
        }
        if (status != 200) {
            throw new ExchangeFailure(ExchangeFailure.Kind.IDP_ERROR, "the identity provider answered " + status);
        }
        JsonNode body;
        try {
            body = JSON.readTree(response.body());
        } catch (IOException e) {
            throw bad("the answer is not JSON");
        }
        if (body == null || !body.path("access_token").isTextual()) {
            throw bad("the answer has no access_token");
        }
        if (body.has("token_type") && !body.path("token_type").asText().equalsIgnoreCase("bearer")) {
            throw bad("the issued token is not a bearer token");
        }
        if (body.has("issued_token_type")
                && !body.path("issued_token_type").asText().equals(ACCESS_TOKEN)) {
            throw bad("the issued token is not an access token");
        }
        String token = body.path("access_token").asText();
        if (token.equals(r.token())) {
            // the caller's own token back (it may well name the server too): exactly what must never go upstream
            throw bad("the identity provider answered with the caller's own token");
        }
        JWTClaimsSet claims;
        try {
            JWT jwt = JWTParser.parse(token);
            if (!(jwt instanceof SignedJWT)) {
                throw bad("the issued token is not a signed JWT");
            }
            claims = jwt.getJWTClaimsSet();
        } catch (java.text.ParseException e) {
            throw bad("the issued token is not a JWT");
        }
        List<String> aud = claims.getAudience();
        if (aud == null || aud.stream().noneMatch(a -> sameAudience(a, r.audience()))) {
            throw bad("the issued token's aud does not name " + r.audience());
        }
        if (claims.getSubject() == null || !claims.getSubject().equals(r.subject())) {
            throw bad("the issued token's sub is not the caller's");
        }
        Instant now = clock.instant();
        if (claims.getExpirationTime() == null
                || !claims.getExpirationTime().toInstant().isAfter(now)) {
            throw bad("the issued token has no exp ahead");
        }
        if (token.indexOf('\r') >= 0 || token.indexOf('\n') >= 0) {
            throw bad("the issued token cannot stand in a header");
        }
        Instant expires = claims.getExpirationTime().toInstant();
        Instant reusable = expires.minus(settings.renewBefore());
        if (r.expires().isBefore(reusable)) {
            reusable = r.expires();
        }
        Optional<Map<String, Object>> act;
        try {
            act = Optional.ofNullable(claims.getJSONObjectClaim("act"));
        } catch (java.text.ParseException e) {
            throw bad("the issued token's act is not an object");
        }
        Optional<String> azp;
        try {
            azp = Optional.ofNullable(claims.getStringClaim("azp"));
        } catch (java.text.ParseException e) {
            azp = Optional.empty();
        }
        return new IssuedToken(token, expires, r.audience(), claims.getSubject(), azp, act, reusable);
    }

    /** Equal as strings, or naming the same resource in its canonical spelling (RFC 8707 URIs). */
    static boolean sameAudience(String aud, String asked) {
        if (aud.equals(asked)) {
            return true;
        }
        Optional<String> a = McpResource.canonical(aud);
        return a.isPresent() && a.equals(McpResource.canonical(asked));
    }

    private static ExchangeFailure bad(String why) {
        return new ExchangeFailure(ExchangeFailure.Kind.BAD_RESPONSE, why);
    }

    private static Optional<String> oauthError(String body) {
        return field(body, "error").filter(e -> e.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '"' && c != '\\'));
    }

    private static Optional<String> errorDescription(String body) {
        return field(body, "error_description").map(d -> d.length() > 200 ? d.substring(0, 200) : d);
    }

    private static Optional<String> field(String body, String name) {
        try {
            JsonNode n = JSON.readTree(body);
            return n != null && n.path(name).isTextual()
                    ? Optional.of(n.path(name).asText())
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** RFC 6749 §2.3.1: id and secret form-urlencoded before they are joined and Base64-encoded. */
    static String basic(String id, String secret) {
        String pair =
                URLEncoder.encode(id, StandardCharsets.UTF_8) + ":" + URLEncoder.encode(secret, StandardCharsets.UTF_8);
        return "Basic " + Base64.getEncoder().encodeToString(pair.getBytes(StandardCharsets.UTF_8));
    }
}
