package io.meshguard.access;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.runtime.http.OidcDiscovery;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Creates, re-secrets and disables the OAuth2 clients of customers' applications in Keycloak, through its admin REST
 * API as the realm's own provisioning client (a confidential client whose service account holds only
 * {@code realm-management: manage-clients}). meshguard mints no secret itself: Keycloak generates it, meshguard shows
 * it once and keeps only the client id (the 3scale Zync / Konnect DCR pattern, control-plane-peers.md §2).
 *
 * <p>Keycloak endpoints used (server admin REST API, "Clients" resource): {@code POST /admin/realms/{realm}/clients},
 * {@code GET /admin/realms/{realm}/clients?clientId=…}, {@code GET|POST /admin/realms/{realm}/clients/{id}/client-secret},
 * {@code PUT /admin/realms/{realm}/clients/{id}}.
 */
public final class KeycloakClients {

    /** A client as created: the secret is returned here once and stored nowhere by meshguard. */
    public record Created(String clientId, String secret) {
        @Override
        public String toString() {
            return "Created[clientId=" + clientId + ", secret=<shown once>]";
        }
    }

    /** Keycloak refused or could not be reached; the message says which and never carries a secret. */
    /** The claim every customer client's tokens carry with its application's tenant (a policy's issuer reads it). */
    public static final String TENANT_CLAIM = "tenant";

    public static final class ProvisioningFailed extends RuntimeException {
        public ProvisioningFailed(String message) {
            super(message);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration DISCOVERY_RETRY = Duration.ofMinutes(1);

    private final String baseUrl;
    private final String realm;
    private final String provisionerId;
    private final String provisionerSecret;
    private final String audience;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private volatile String publicTokenEndpoint;
    private volatile long discoverAgainAt = System.nanoTime();

    /**
     * @param baseUrl    Keycloak's base URL ({@code https://sso.bank.example})
     * @param audience   the audience mapped into the clients' access tokens (what extauthz's issuer expects)
     */
    public KeycloakClients(
            String baseUrl, String realm, String provisionerId, String provisionerSecret, String audience) {
        this.baseUrl = Objects.requireNonNull(baseUrl, "baseUrl").replaceAll("/+$", "");
        this.realm = Objects.requireNonNull(realm, "realm");
        this.provisionerId = Objects.requireNonNull(provisionerId, "provisionerId");
        this.provisionerSecret = Objects.requireNonNull(provisionerSecret, "provisionerSecret");
        this.audience = Objects.requireNonNull(audience, "audience");
    }

    /**
     * Creates a confidential client for the client-credentials grant only (no browser flows, no direct grants), with
     * the audience mapper and a {@code tenant} claim naming the application's tenant, and returns its generated secret.
     * The tenant is fixed in the client, never taken from the caller: a header contract that compares
     * {@code x-tenant-id} with the token's tenant then holds for applications as it does for users.
     */
    public Created create(String clientId, String tenant, String description) {
        ObjectNode client = JSON.createObjectNode()
                .put("clientId", clientId)
                .put("enabled", true)
                .put("description", description)
                .put("protocol", "openid-connect")
                .put("publicClient", false)
                .put("serviceAccountsEnabled", true)
                .put("standardFlowEnabled", false)
                .put("implicitFlowEnabled", false)
                .put("directAccessGrantsEnabled", false)
                .put("clientAuthenticatorType", "client-secret");
        var mappers = client.putArray("protocolMappers");
        mappers.addObject()
                .put("name", "meshguard-audience")
                .put("protocol", "openid-connect")
                .put("protocolMapper", "oidc-audience-mapper")
                .putObject("config")
                .put("included.custom.audience", audience)
                .put("access.token.claim", "true");
        // Keycloak's HardcodedClaim mapper (oidc-hardcoded-claim-mapper): the same value in every token of the client
        mappers.addObject()
                .put("name", "meshguard-tenant")
                .put("protocol", "openid-connect")
                .put("protocolMapper", "oidc-hardcoded-claim-mapper")
                .putObject("config")
                .put("claim.name", TENANT_CLAIM)
                .put("claim.value", Objects.requireNonNull(tenant))
                .put("jsonType.label", "String")
                .put("access.token.claim", "true")
                .put("id.token.claim", "false");
        HttpResponse<String> r = call("POST", "/clients", client.toString());
        if (r.statusCode() == 409) {
            throw new ProvisioningFailed("client " + clientId + " already exists in realm " + realm);
        }
        expect(r, 201, "create client " + clientId);
        return new Created(clientId, secret(internalId(clientId), "GET"));
    }

    /**
     * Where a client created here gets its access tokens, as the realm's discovery document names it: Keycloak answers
     * with the address its customers reach (its hostname, or the realm's frontend URL), where {@code baseUrl} may be
     * the address only the controller reaches it by. While discovery does not answer, the endpoint at {@code baseUrl},
     * and discovery is asked again a minute later, not by every page that names the endpoint meanwhile.
     */
    public String tokenEndpoint() {
        String known = publicTokenEndpoint;
        if (known != null) {
            return known;
        }
        long now = System.nanoTime();
        if (now - discoverAgainAt >= 0) {
            try {
                if (OidcDiscovery.fetch(http, baseUrl + "/realms/" + realm, Duration.ofSeconds(5))
                                .get("token_endpoint")
                        instanceof String discovered) {
                    publicTokenEndpoint = discovered;
                    return discovered;
                }
            } catch (IOException e) {
                // the fallback below until the next attempt
            }
            discoverAgainAt = now + DISCOVERY_RETRY.toNanos();
        }
        return baseUrl + "/realms/" + realm + "/protocol/openid-connect/token";
    }

    /** Replaces the client's secret; the old one stops working at once (Keycloak keeps no overlap for secrets). */
    public Created regenerateSecret(String clientId) {
        return new Created(clientId, secret(internalId(clientId), "POST"));
    }

    /** Disables the client: Keycloak issues no new token; extauthz refuses tokens already issued (revoked list). */
    public void disable(String clientId) {
        String id = internalId(clientId);
        HttpResponse<String> r = call("GET", "/clients/" + id, null);
        expect(r, 200, "read client " + clientId);
        ObjectNode rep = (ObjectNode) parse(r.body());
        rep.put("enabled", false);
        expect(call("PUT", "/clients/" + id, rep.toString()), 204, "disable client " + clientId);
    }

    /** Whether Keycloak has the client and it is enabled. */
    public boolean enabled(String clientId) {
        HttpResponse<String> r =
                call("GET", "/clients?clientId=" + URLEncoder.encode(clientId, StandardCharsets.UTF_8), null);
        expect(r, 200, "find client " + clientId);
        JsonNode list = parse(r.body());
        return list.isArray() && !list.isEmpty() && list.get(0).path("enabled").asBoolean(false);
    }

    private String secret(String internalId, String method) {
        HttpResponse<String> r = call(method, "/clients/" + internalId + "/client-secret", null);
        expect(r, 200, "read the client secret");
        String secret = parse(r.body()).path("value").asText("");
        if (secret.isEmpty()) {
            throw new ProvisioningFailed("Keycloak returned no client secret");
        }
        return secret;
    }

    private String internalId(String clientId) {
        HttpResponse<String> r =
                call("GET", "/clients?clientId=" + URLEncoder.encode(clientId, StandardCharsets.UTF_8), null);
        expect(r, 200, "find client " + clientId);
        JsonNode list = parse(r.body());
        // the query is a search; only an exact clientId is this client
        for (JsonNode c : list) {
            if (clientId.equals(c.path("clientId").asText())) {
                return c.path("id").asText();
            }
        }
        throw new ProvisioningFailed("client " + clientId + " not found in realm " + realm);
    }

    private HttpResponse<String> call(String method, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + "/admin/realms/" + realm + path))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + provisionerToken())
                .header("Content-Type", "application/json")
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        return send(b.build());
    }

    private String provisionerToken() {
        try {
            return new ClientCredentialsTokens(
                            URI.create(baseUrl + "/realms/" + realm + "/protocol/openid-connect/token"),
                            provisionerId,
                            () -> Optional.of(provisionerSecret),
                            Duration.ZERO,
                            Duration.ofSeconds(10),
                            Clock.systemUTC(),
                            Optional.empty())
                    .current();
        } catch (IOException e) {
            throw new ProvisioningFailed("Keycloak at " + baseUrl + ": cannot sign in as the provisioning client "
                    + provisionerId + ": " + e.getMessage());
        }
    }

    private HttpResponse<String> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new ProvisioningFailed("Keycloak at " + baseUrl + " cannot be reached: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ProvisioningFailed("interrupted while calling Keycloak");
        }
    }

    private static void expect(HttpResponse<String> r, int status, String what) {
        if (r.statusCode() != status) {
            // Keycloak's error bodies are short JSON errors; they never echo the secret we sent
            String body = r.body() == null ? "" : r.body();
            throw new ProvisioningFailed(what + ": Keycloak answered " + r.statusCode() + " "
                    + (body.length() > 300 ? body.substring(0, 300) : body));
        }
    }

    private static JsonNode parse(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new ProvisioningFailed("Keycloak answered something that is not JSON");
        }
    }
}
