package io.meshguard.devstack.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Where customers' OAuth2 clients get their access tokens in a local stack: the token endpoint of the realm
 * {@code up --idp keycloak} runs, in which the catalogue creates those clients (cli {@code ProductIdp}).
 *
 * @param tokenEndpoint Keycloak's OIDC token endpoint, {@code <issuer>/protocol/openid-connect/token} (the
 *     {@code token_endpoint} of the realm's discovery document)
 */
public record CustomerTokens(URI tokenEndpoint) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** The token endpoint of the realm whose issuer is {@code issuer}. */
    public static CustomerTokens ofIssuer(String issuer) {
        return new CustomerTokens(URI.create(issuer.replaceAll("/+$", "") + "/protocol/openid-connect/token"));
    }

    /** A client-credentials grant (RFC 6749 §4.4) for a confidential client: its access token. */
    String clientCredentials(String clientId, String secret) throws IOException, InterruptedException {
        String form = "grant_type=client_credentials&client_id=" + URLEncoder.encode(clientId, StandardCharsets.UTF_8)
                + "&client_secret=" + URLEncoder.encode(secret, StandardCharsets.UTF_8);
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(tokenEndpoint)
                        .timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(form))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(
                    "the realm refused client " + clientId + " a token (" + r.statusCode() + "): " + r.body());
        }
        String token = JSON.readTree(r.body()).path("access_token").asText();
        if (token.isEmpty()) {
            throw new IllegalStateException("the realm's token answer has no access_token");
        }
        return token;
    }
}
