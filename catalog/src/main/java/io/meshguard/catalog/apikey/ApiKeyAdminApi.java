package io.meshguard.catalog.apikey;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminOperation;
import io.meshguard.access.AdminOperations;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.http.AdminEndpoint;
import io.meshguard.access.http.AdminRequest;
import io.meshguard.audit.AuditSink;
import io.meshguard.catalog.service.AdmittedCall;
import io.meshguard.catalogmodel.apikey.ApiKey;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.http.ErrorKind;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The API-key admin endpoint on extauthz's HTTP port, beside {@code /quotas} and behind the same gate, so that
 * {@code meshguard apikey} acts as its caller instead of with the database's credentials:
 * <ul>
 *   <li>{@code GET /apikeys[?revoked=true]} — the caller's tenants' keys (never a secret);</li>
 *   <li>{@code GET /apikeys/{id}} — one key;</li>
 *   <li>{@code POST /apikeys} {@code {"name", "owner", "tenant", "tier", "roles", "scopes", "expires_at"}} — 201 with
 *       the key text, shown this once. {@code roles}, {@code scopes} and {@code tier} are what the bank's authz rules
 *       and limits trust, so only a caller with {@code apikey:create} at system scope (the bank's operators) names
 *       them; a tenant-scoped caller who names one is refused (403) and its keys carry none: no roles, no scopes
 *       and no tier of their own, so the policy's {@code tenant_tiers}, else {@code default_tier}, decide;</li>
 *   <li>{@code POST /apikeys/{id}/rotate} {@code {"grace_seconds", "reason"}} — a successor, the old key valid for the
 *       grace;</li>
 *   <li>{@code POST /apikeys/{id}/revoke} {@code {"reason"}}.</li>
 * </ul>
 * A caller acts for tenants: another tenant's key answers 404, and the keys' reads run in a transaction PostgreSQL
 * confines to the caller's tenants. Every change is a {@code config_change} audit event with the actor, the key id,
 * its tenant and the reason (never the secret).
 */
public final class ApiKeyAdminApi implements HttpHandler {
    public static final String PREFIX = "/apikeys";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 16 * 1024;

    private final ApiKeyAdmin admin;
    private final AdminEndpoint<ApiKeyAdminApi> endpoint;

    /** An admitted call: {@code segments} are the path's below {@link #PREFIX}; {@code body} a POST's JSON object. */
    @FunctionalInterface
    private interface Handler {
        JsonNode handle(ApiKeyAdminApi api, Call call, List<String> segments, JsonNode body);
    }

    /**
     * The operations with their permissions, summaries, statuses and handlers (admission and dispatch read this
     * table): API keys are tenant-owned, so any tenant grant may admit a call.
     */
    private static final AdminOperations<Handler> OPERATIONS = AdminOperations.of(
            AdminOperation.of(
                    AdminRoute.tenant("GET", "/apikeys", "apikey:read"),
                    "The caller's tenants' API keys (?revoked=true lists revoked ones)",
                    (a, c, s, b) -> a.list(c)),
            AdminOperation.of(
                    AdminRoute.tenant("GET", "/apikeys/{id}", "apikey:read"),
                    "One API key",
                    (a, c, s, b) -> describe(a.admin.find(c.who(), s.get(0)))),
            AdminOperation.created(
                    AdminRoute.tenant("POST", "/apikeys", "apikey:create"),
                    "Create an API key; its secret is shown once",
                    (a, c, s, b) -> a.create(c, b)),
            AdminOperation.of(
                    AdminRoute.tenant("POST", "/apikeys/{id}/rotate", "apikey:rotate"),
                    "Rotate a key to a successor; the predecessor works for the overlap window",
                    (a, c, s, b) -> a.rotate(c, s.get(0), b)),
            AdminOperation.of(
                    AdminRoute.tenant("POST", "/apikeys/{id}/revoke", "apikey:revoke"),
                    "Revoke a key",
                    (a, c, s, b) -> a.revoke(c, s.get(0), b)));

    /** The declared operations (route, summary, status, body): what the port's OpenAPI document lists. */
    public static List<? extends AdminOperation<?>> operations() {
        return OPERATIONS.all();
    }

    /** The operations' routes with their permissions. */
    public static final List<AdminRoute> ROUTES = OPERATIONS.routes();

    /**
     * @param gate who calls and what it may do (the one permission check); a caller's keys are those of the tenants
     *     whose grants carry the operation's permission
     * @param audit where changes are recorded; empty logs them only
     */
    public ApiKeyAdminApi(
            Optional<JdbcApiKeyStore> store, java.time.Clock clock, AdminGate gate, Optional<AuditSink> audit) {
        this(store, clock, gate, audit, keyId -> {});
    }

    /** As above; {@code changed} is told each key id revoked or rotated here (the server's own key cache). */
    public ApiKeyAdminApi(
            Optional<JdbcApiKeyStore> store,
            java.time.Clock clock,
            AdminGate gate,
            Optional<AuditSink> audit,
            java.util.function.Consumer<String> changed) {
        this(store, clock, gate, audit, changed, ApiKeyLimits.DEFAULTS);
    }

    /** As above; {@code limits} bound how many keys each tenant holds and creates. */
    public ApiKeyAdminApi(
            Optional<JdbcApiKeyStore> store,
            java.time.Clock clock,
            AdminGate gate,
            Optional<AuditSink> audit,
            java.util.function.Consumer<String> changed,
            ApiKeyLimits limits) {
        this.admin = new ApiKeyAdmin(store, clock, gate, audit, changed, limits);
        this.endpoint = AdminEndpoint.of(
                        this,
                        OPERATIONS.<AdminEndpoint.Handler<ApiKeyAdminApi>>map(h -> (api, r) -> h.handle(
                                api,
                                new Call(r),
                                r.segments().subList(1, r.segments().size()),
                                r.route().method().equals("POST") ? r.body() : JSON.nullNode())),
                        gate,
                        "extauthz",
                        MAX_BODY)
                .indented();
    }

    /** The typed operations this API adapts (the developer portal's way to the same checks and trail rows). */
    public ApiKeyAdmin admin() {
        return admin;
    }

    private record Call(AdminRequest request) {
        AdmittedCall who() {
            return new AdmittedCall(request.admission(), request.requestId());
        }
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        endpoint.handle(exchange);
    }

    private JsonNode list(Call call) {
        boolean revoked = call.request().query("revoked").filter("true"::equals).isPresent();
        ArrayNode out = JSON.createArrayNode();
        for (ApiKey k : admin.list(call.who(), revoked)) {
            out.add(describe(k));
        }
        return out;
    }

    private JsonNode create(Call call, JsonNode body) {
        String tenant = AdminRequest.requiredText(body, "tenant");
        if (!admin.tenants(call.who(), "apikey:create").includes(tenant)) {
            // before the body's other fields, as ever: a tenant not the caller's is 403 whatever else it says
            throw new AdminJson.Refusal(403, "tenant '" + tenant + "' is not one of yours");
        }
        Optional<Instant> expires = Optional.empty();
        if (body.hasNonNull("expires_at")) {
            try {
                expires = Optional.of(Instant.parse(AdminRequest.requiredText(body, "expires_at")));
            } catch (DateTimeParseException e) {
                throw new AdminJson.Refusal(
                        ErrorKind.MALFORMED, "'expires_at' must be an ISO-8601 instant, e.g. 2027-01-01T00:00:00Z");
            }
        }
        List<String> roles = AdminRequest.strings(body, "roles");
        List<String> scopes = AdminRequest.strings(body, "scopes");
        Optional<String> tier =
                body.hasNonNull("tier") ? Optional.of(AdminRequest.requiredText(body, "tier")) : Optional.empty();
        ApiKeyService.Created created = admin.create(
                call.who(),
                new ApiKeyAdmin.NewApiKey(
                        AdminRequest.requiredText(body, "name"),
                        AdminRequest.requiredText(body, "owner"),
                        tenant,
                        roles,
                        scopes,
                        tier,
                        expires,
                        body.path("reason").asText("")));
        ObjectNode out = describe(created.key());
        out.put("key", created.text());
        out.put("key_note", "shown once: meshguard keeps only its SHA-256");
        return out;
    }

    private JsonNode rotate(Call call, String keyId, JsonNode body) {
        long graceSeconds =
                body.path("grace_seconds").asLong(Duration.ofHours(24).toSeconds());
        if (graceSeconds < 0 || graceSeconds > ApiKeyAdmin.MAX_GRACE.toSeconds()) {
            // the key's visibility is said first: another tenant's key is 404 whatever the body says
            admin.find(call.who(), keyId);
            throw new AdminJson.Refusal(
                    ErrorKind.INVALID,
                    "'grace_seconds' must be between 0 and " + ApiKeyAdmin.MAX_GRACE.toSeconds() + " (30 days)");
        }
        ApiKeyAdmin.Rotated rotated = admin.rotate(
                call.who(),
                keyId,
                Duration.ofSeconds(graceSeconds),
                body.path("reason").asText(""));
        ObjectNode out = describe(rotated.successor().key());
        out.put("key", rotated.successor().text());
        out.put("predecessor_valid_until", rotated.predecessorValidUntil().toString());
        return out;
    }

    private JsonNode revoke(Call call, String keyId, JsonNode body) {
        ApiKeyAdmin.Revoked revoked =
                admin.revoke(call.who(), keyId, body.path("reason").asText(""));
        return JSON.createObjectNode().put("key_id", revoked.key().keyId()).put("revoked", revoked.revoked());
    }

    /** A key as {@link #describe} wrote it (the CLI reads the endpoint's answers with this). */
    public static ApiKey parse(JsonNode n) {
        List<String> roles = new ArrayList<>();
        n.path("roles").forEach(r -> roles.add(r.asText()));
        List<String> scopes = new ArrayList<>();
        n.path("scopes").forEach(r -> scopes.add(r.asText()));
        return new ApiKey(
                n.path("key_id").asText(),
                n.path("name").asText(),
                n.path("owner").asText(),
                n.path("tenant").asText(),
                roles,
                scopes,
                n.path("tier").asText(),
                Instant.parse(n.path("created_at").asText()),
                instant(n, "expires_at"),
                instant(n, "revoked_at"),
                Optional.ofNullable(n.get("rotated_from")).map(JsonNode::asText),
                instant(n, "last_used_at"),
                n.path("use_count").asLong());
    }

    private static Optional<Instant> instant(JsonNode n, String field) {
        return Optional.ofNullable(n.get(field)).filter(JsonNode::isTextual).map(v -> Instant.parse(v.asText()));
    }

    public static ObjectNode describe(ApiKey k) {
        ObjectNode n = JSON.createObjectNode()
                .put("key_id", k.keyId())
                .put("name", k.name())
                .put("owner", k.owner())
                .put("tenant", k.tenant())
                .put("tier", k.tier())
                .put("created_at", k.createdAt().toString());
        ArrayNode roles = n.putArray("roles");
        k.roles().forEach(roles::add);
        ArrayNode scopes = n.putArray("scopes");
        k.scopes().forEach(scopes::add);
        k.expiresAt().ifPresent(t -> n.put("expires_at", t.toString()));
        k.revokedAt().ifPresent(t -> n.put("revoked_at", t.toString()));
        k.rotatedFrom().ifPresent(t -> n.put("rotated_from", t));
        k.lastUsedAt().ifPresent(t -> n.put("last_used_at", t.toString()));
        n.put("use_count", k.useCount());
        return n;
    }
}
