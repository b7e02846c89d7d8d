package io.meshguard.extauthz.apikey;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.meshguard.access.AdminAnswer;
import io.meshguard.access.AdminCaller;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminOperation;
import io.meshguard.access.AdminOperations;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.AdminRouter;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.AuditSink;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailEntry;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.AdminJson;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    private static final Logger LOG = LoggerFactory.getLogger(ApiKeyAdminApi.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 16 * 1024;
    /** The longest overlap a rotated key keeps working for. */
    static final Duration MAX_GRACE = Duration.ofDays(30);

    private final Optional<ApiKeyService> service;
    private final Optional<JdbcApiKeyStore> store;
    private final AdminRouter router;
    private final Optional<AuditSink> audit;
    /** The hash-chained admin trail in the keys' database: every create, rotate and revoke is a row. */
    private final Optional<AdminTrail> trail;
    /** Told the key id of every revocation and rotation made here: this replica's cache drops it at once. */
    private final java.util.function.Consumer<String> changed;

    /** An admitted call; {@code segments} are the path's below {@link #PREFIX}. */
    @FunctionalInterface
    private interface Handler {
        JsonNode handle(ApiKeyAdminApi api, Call call, List<String> segments, JsonNode body)
                throws IOException, ApiKeyStore.UnavailableException;
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
                    (a, c, s, b) -> describe(a.visible(c, s.get(0)))),
            AdminOperation.created(
                    AdminRoute.tenant("POST", "/apikeys", "apikey:create"),
                    "Create an API key; its secret is shown once",
                    (a, c, s, b) -> a.create(c, b)),
            AdminOperation.of(
                    AdminRoute.tenant("POST", "/apikeys/{id}/rotate", "apikey:rotate"),
                    "Rotate a key to a successor; the predecessor works for the overlap window",
                    (a, c, s, b) -> a.change(c, a.visible(c, s.get(0)), "rotate", b)),
            AdminOperation.of(
                    AdminRoute.tenant("POST", "/apikeys/{id}/revoke", "apikey:revoke"),
                    "Revoke a key",
                    (a, c, s, b) -> a.change(c, a.visible(c, s.get(0)), "revoke", b)));

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
        this.changed = changed;
        this.store = store;
        this.trail = store.map(s -> new AdminTrail(s.dataSource()));
        this.service = store.map(s -> new ApiKeyService(s, clock));
        this.router = new AdminRouter(ROUTES, gate);
        this.audit = audit;
    }

    private record Call(HttpExchange exchange, String actor, TenantScope scope, String requestId) {}

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        String requestId = AdminRouter.requestId(exchange);
        try {
            List<String> segments =
                    AdminJson.segmentsBelow(PREFIX, exchange.getRequestURI().getRawPath());
            List<String> full = new ArrayList<>();
            full.add("apikeys");
            full.addAll(segments);
            AdminRouter.Admitted admitted = router.admitOrRefuse(
                    exchange,
                    requestId,
                    full,
                    () -> new AdminJson.Refusal(
                            404,
                            "no such API key operation: " + exchange.getRequestMethod() + " "
                                    + exchange.getRequestURI().getRawPath()));
            AdminCaller caller = admitted.caller();
            Call call = new Call(exchange, caller.actor(), router.tenantsOf(admitted), requestId);
            String method = exchange.getRequestMethod();
            AdminOperation<Handler> operation = OPERATIONS.operation(admitted.route());
            JsonNode body = operation
                    .handler()
                    .handle(
                            this,
                            call,
                            segments,
                            method.equals("POST") ? AdminJson.readObject(exchange, MAX_BODY) : null);
            send(exchange, operation.status(), body);
        } catch (AdminJson.Refusal e) {
            send(exchange, e.status(), AdminJson.error(e.getMessage()));
        } catch (IllegalArgumentException e) {
            send(exchange, 400, AdminJson.error(e.getMessage()));
        } catch (ApiKeyStore.UnavailableException e) {
            LOG.warn("API key admin request {} failed: {}", requestId, e.getMessage());
            send(exchange, 503, AdminJson.error("the API key database is unavailable; nothing was changed"));
        } catch (RuntimeException e) {
            LOG.error("API key admin request {} failed", requestId, e);
            send(exchange, 500, AdminJson.error("internal error, see the extauthz log for request " + requestId));
        } finally {
            exchange.close();
        }
    }

    /**
     * Runs the operation {@code method path} ({@code path} below {@link #PREFIX}, e.g. {@code /apikeys/k1/rotate})
     * for a caller another surface's gate admission authenticated (the console's): the operation's permission is
     * checked again, then the same code runs with the same tenant scoping, trail rows and audit events as over HTTP.
     * {@code exchange} is the caller's request (its query is read by the list).
     */
    public AdminAnswer invokeAdmitted(
            HttpExchange exchange,
            String method,
            String path,
            AdminGate.Admitted admitted,
            JsonNode body,
            String requestId) {
        try {
            List<String> segments = AdminJson.segmentsBelow(PREFIX, path);
            List<String> full = new ArrayList<>();
            full.add("apikeys");
            full.addAll(segments);
            AdminRouter.Admitted readmitted =
                    switch (router.readmit(method, full, admitted)) {
                        case AdminRouter.Admitted a -> a;
                        case AdminRouter.Refused r -> throw new AdminJson.Refusal(r.status(), r.message());
                        case AdminRouter.Unrouted u -> throw new AdminJson.Refusal(404, "no such API key operation");
                    };
            Call call = new Call(exchange, admitted.caller().actor(), router.tenantsOf(readmitted), requestId);
            AdminOperation<Handler> operation = OPERATIONS.operation(readmitted.route());
            JsonNode out =
                    operation.handler().handle(this, call, segments, body == null ? JSON.createObjectNode() : body);
            return new AdminAnswer(operation.status(), out);
        } catch (AdminJson.Refusal e) {
            return new AdminAnswer(e.status(), AdminJson.error(e.getMessage()));
        } catch (IllegalArgumentException e) {
            return new AdminAnswer(400, AdminJson.error(e.getMessage()));
        } catch (ApiKeyStore.UnavailableException | IOException e) {
            LOG.warn("API key request {} failed: {}", requestId, e.getMessage());
            return new AdminAnswer(503, AdminJson.error("the API key database is unavailable; nothing was changed"));
        }
    }

    private JdbcApiKeyStore store() {
        return store.orElseThrow(
                () -> new AdminJson.Refusal(503, "API keys need PostgreSQL: this server has no db.url"));
    }

    private JsonNode list(Call call) throws ApiKeyStore.UnavailableException {
        boolean revoked = "true".equals(queryParameter(call.exchange(), "revoked"));
        ArrayNode out = JSON.createArrayNode();
        for (ApiKey k : store().list(call.scope(), revoked)) {
            out.add(describe(k));
        }
        return out;
    }

    /** The key, when it exists and belongs to one of the caller's tenants; 404 otherwise (the same answer for both). */
    private ApiKey visible(Call call, String keyId) throws ApiKeyStore.UnavailableException {
        return store().find(call.scope(), keyId).orElseThrow(() -> new AdminJson.Refusal(404, "no API key " + keyId));
    }

    private JsonNode create(Call call, JsonNode body) throws IOException, ApiKeyStore.UnavailableException {
        String tenant = text(body, "tenant");
        if (!call.scope().includes(tenant)) {
            throw new AdminJson.Refusal(403, "tenant '" + tenant + "' is not one of yours");
        }
        Optional<Instant> expires = Optional.empty();
        if (body.hasNonNull("expires_at")) {
            try {
                expires = Optional.of(Instant.parse(text(body, "expires_at")));
            } catch (DateTimeParseException e) {
                throw new AdminJson.Refusal(400, "'expires_at' must be an ISO-8601 instant, e.g. 2027-01-01T00:00:00Z");
            }
        }
        List<String> roles = strings(body, "roles");
        List<String> scopes = strings(body, "scopes");
        // no tier named (by anyone): the policy's tenant_tiers or default_tier set the key's limits
        String tier = body.hasNonNull("tier") ? text(body, "tier") : ApiKey.NO_TIER;
        if (!call.scope().all()) {
            refuseBankGrants(roles, scopes, body.hasNonNull("tier"));
        }
        requested(call, "create", "apikeys/new", tenant);
        ApiKeyService.Created created = service.orElseThrow()
                .create(text(body, "name"), text(body, "owner"), tenant, roles, scopes, tier, expires);
        record(call, "create", created.key(), body.path("reason").asText(""));
        ObjectNode out = describe(created.key());
        out.put("key", created.text());
        out.put("key_note", "shown once: meshguard keeps only its SHA-256");
        return out;
    }

    /**
     * What a key may do toward the bank's rules (roles, scopes) and the limits it counts under (tier) are the bank's
     * grant: a tenant-scoped caller names none of them (a key it made with {@code roles: [payments-writer]} would
     * be trusted by the bank's policy exactly as one an operator made).
     */
    private static void refuseBankGrants(List<String> roles, List<String> scopes, boolean namesTier) {
        List<String> named = new ArrayList<>();
        if (!roles.isEmpty()) {
            named.add("roles");
        }
        if (!scopes.isEmpty()) {
            named.add("scopes");
        }
        if (namesTier) {
            named.add("tier");
        }
        if (!named.isEmpty()) {
            throw new AdminJson.Refusal(
                    403,
                    String.join(", ", named) + ": granted by the bank, not by the tenant "
                            + "that uses the key; only a caller with apikey:create at system scope names roles, scopes or "
                            + "tier (leave them out: the key then has none, and the policy's tenant_tiers or default_tier "
                            + "set its limits)");
        }
    }

    private JsonNode change(Call call, ApiKey key, String action, JsonNode body)
            throws IOException, ApiKeyStore.UnavailableException {
        String reason = body.path("reason").asText("");
        if (action.equals("rotate") || action.equals("revoke")) {
            requested(call, action, "apikeys/" + key.keyId(), key.tenant());
        }
        switch (action) {
            case "rotate" -> {
                long graceSeconds =
                        body.path("grace_seconds").asLong(Duration.ofHours(24).toSeconds());
                if (graceSeconds < 0 || graceSeconds > MAX_GRACE.toSeconds()) {
                    throw new AdminJson.Refusal(
                            400, "'grace_seconds' must be between 0 and " + MAX_GRACE.toSeconds() + " (30 days)");
                }
                ApiKeyService.Created created =
                        service.orElseThrow().rotate(key.keyId(), Duration.ofSeconds(graceSeconds));
                changed.accept(key.keyId());
                record(call, "rotate", created.key(), reason);
                ObjectNode out = describe(created.key());
                out.put("key", created.text());
                out.put(
                        "predecessor_valid_until",
                        Instant.now().plusSeconds(graceSeconds).toString());
                return out;
            }
            case "revoke" -> {
                boolean revoked = service.orElseThrow().revoke(key.keyId());
                changed.accept(key.keyId());
                record(call, "revoke", key, reason);
                return JSON.createObjectNode().put("key_id", key.keyId()).put("revoked", revoked);
            }
            default -> throw new AdminJson.Refusal(404, "unknown API key operation '" + action + "' (rotate, revoke)");
        }
    }

    /**
     * The key store's writes are not in a transaction this class can join, so the trail gets its row first: when the
     * trail cannot take it the change is refused (503) and nothing is written; when it can, the change follows and
     * its outcome is a second row ({@link #record}). A crash between the two leaves "requested" without "done", never
     * a change without a row.
     */
    private void requested(Call call, String action, String target, String tenant) {
        if (trail.isEmpty()) {
            return;
        }
        try {
            trail.get()
                    .append(new AdminTrailEntry(
                            java.time.Instant.now(),
                            call.actor(),
                            "admin-api",
                            Optional.of(tenant),
                            Optional.empty(),
                            Optional.empty(),
                            Optional.of(call.requestId()),
                            "apikey_" + action,
                            target,
                            "requested",
                            Optional.empty(),
                            Optional.empty(),
                            java.util.Map.of()));
        } catch (AdminTrail.UnavailableException e) {
            throw new AdminJson.Refusal(
                    503, "the admin trail cannot record this change, so nothing was changed: " + e.getMessage());
        }
    }

    private void record(Call call, String action, ApiKey key, String reason) {
        LOG.info(
                "apikey_{} key_id={} tenant={} actor={} request_id={}",
                action,
                key.keyId(),
                key.tenant(),
                call.actor(),
                call.requestId());
        trail.ifPresent(t -> {
            try {
                t.append(new AdminTrailEntry(
                        java.time.Instant.now(),
                        call.actor(),
                        "admin-api",
                        Optional.of(key.tenant()),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.of(call.requestId()),
                        "apikey_" + action,
                        "apikeys/" + key.keyId(),
                        reason.isBlank() ? "done" : reason,
                        Optional.empty(),
                        Optional.empty(),
                        java.util.Map.of(
                                "key_owner",
                                key.owner(),
                                "rotated_from",
                                key.rotatedFrom().orElse(""))));
            } catch (AdminTrail.UnavailableException e) {
                LOG.error(
                        "admin trail unavailable, apikey_{} of {} kept only in the audit log and this line: {}",
                        action,
                        key.keyId(),
                        e.getMessage());
            }
        });
        audit.ifPresent(sink -> sink.record(AuditEvent.builder(AuditKind.CONFIG_CHANGE)
                .source("extauthz")
                .requestId(call.requestId())
                .subject(call.actor())
                .tenant(key.tenant())
                .decision("apikey_" + action)
                .reason(reason.isBlank() ? "apikey_" + action : reason)
                .detail("key_id", key.keyId())
                .detail("rotated_from", key.rotatedFrom().orElse(""))
                .detail("key_owner", key.owner())
                .detail("via", "admin_api")
                .build()));
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

    private static String text(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || !n.isTextual() || n.asText().isBlank()) {
            throw new AdminJson.Refusal(400, "'" + field + "' is required (a string)");
        }
        return n.asText();
    }

    private static List<String> strings(JsonNode body, String field) {
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            return List.of();
        }
        if (!n.isArray()) {
            throw new AdminJson.Refusal(400, "'" + field + "' must be a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw new AdminJson.Refusal(400, "'" + field + "' must be a list of strings");
            }
            out.add(e.asText());
        }
        return out;
    }

    private static String queryParameter(HttpExchange exchange, String name) {
        String raw = exchange.getRequestURI().getRawQuery();
        if (raw != null) {
            for (String part : raw.split("&")) {
                int eq = part.indexOf('=');
                if (eq > 0 && part.substring(0, eq).equals(name)) {
                    return part.substring(eq + 1);
                }
            }
        }
        return "";
    }

    private static void send(HttpExchange exchange, int status, JsonNode body) throws IOException {
        AdminJson.send(exchange, status, body);
    }
}
