package io.meshguard.extauthz.quota;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.meshguard.access.AdminCaller;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminOperation;
import io.meshguard.access.AdminOperations;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.http.AdminEndpoint;
import io.meshguard.access.http.AdminRequest;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.QuotaPolicy;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.ErrorKind;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The quota admin endpoint on extauthz's HTTP port (docs/operate/sell-an-api.md, "Calendar quotas"), behind the admin plane's
 * {@link AdminGate} (OIDC access tokens with roles from the access file, or the token file
 * {@code quota.admin.token_file}); each operation's permission is in {@link #ROUTES}:
 * <ul>
 *   <li>{@code GET /quotas} — the running policy's quotas and their current periods;</li>
 *   <li>{@code GET /quotas/{name}?caller=...} — one caller's counter, live and durable, with its change history;</li>
 *   <li>{@code POST /quotas/{name}/adjust} {@code {"caller", "delta", "reason"}} and
 *       {@code POST /quotas/{name}/reset} {@code {"caller", "reason"}} — audited changes (actor = the token's name).</li>
 * </ul>
 * Counters are tenant-owned ({@link QuotaOwners}): a caller reads only its tenants' counters, the tenants of its grants
 * carrying {@code quota:read}; another tenant's counter answers 404 exactly as a counter of nobody does. Adjust and
 * reset need {@code quota:adjust}/{@code quota:reset} at system scope: the bank's policy limits a tenant, so the
 * tenant does not move its own counter (403 for a tenant grant). The quota definitions ({@code GET /quotas}) are the security team's policy, the same for
 * every tenant, and hold no counter.
 */
public final class QuotaAdminApi implements HttpHandler {
    public static final String PREFIX = "/quotas";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_BODY = 16 * 1024;

    private final Supplier<Optional<AuthzPolicy>> policy;
    private final Optional<QuotaOperations> operations;
    /**
     * The operations with their permissions. A tenant reads its own counters (any tenant grant admits a read); the
     * limits are the bank's policy, so changing a counter (which lifts or lowers what the tenant may still call) is
     * the bank's alone: system scope, never a grant of the tenant the counter limits.
     */
    public static final List<AdminRoute> ROUTES;

    /** An admitted call; {@code segments} are the path's below {@link #PREFIX}. */
    private record Call(QuotaOperations ops, AdminRequest request) {
        List<String> segments() {
            return request.segments().subList(1, request.segments().size());
        }

        AdminCaller caller() {
            return request.caller();
        }

        TenantScope scope() {
            return request.scope();
        }

        String requestId() {
            return request.requestId();
        }
    }

    @FunctionalInterface
    private interface Handler {
        JsonNode handle(QuotaAdminApi api, Call call)
                throws IOException, QuotaOperations.InvalidChangeException, QuotaStore.UnavailableException;
    }

    /** The operations with their permissions, summaries and handlers: admission and dispatch read this table. */
    private static final AdminOperations<Handler> OPERATIONS = AdminOperations.of(
            AdminOperation.of(
                    AdminRoute.tenant("GET", "/quotas", "quota:read"),
                    "The quotas of the authz policy",
                    (a, c) -> a.list()),
            AdminOperation.of(
                    AdminRoute.tenant("GET", "/quotas/{name}", "quota:read"),
                    "One quota's counters (?caller= for one caller's)",
                    (a, c) -> a.show(
                            c.ops(),
                            c.scope(),
                            a.quota(c.segments().get(0)),
                            a.owned(
                                    c.scope(),
                                    c.segments().get(0),
                                    c.request().requiredQuery("caller", "?caller=api_key:AbCdEf0123456789")))),
            AdminOperation.of(
                    AdminRoute.system("POST", "/quotas/{name}/adjust", "quota:adjust"),
                    "Adjust a caller's counter",
                    (a, c) -> a.change(c, "adjust")),
            AdminOperation.of(
                    AdminRoute.system("POST", "/quotas/{name}/reset", "quota:reset"),
                    "Reset a caller's counter",
                    (a, c) -> a.change(c, "reset")));

    static {
        ROUTES = OPERATIONS.routes();
    }

    /** The declared operations (route, summary, status, body): what the port's OpenAPI document lists. */
    public static List<? extends AdminOperation<?>> operations() {
        return OPERATIONS.all();
    }

    private final AdminEndpoint<QuotaAdminApi> endpoint;
    private final QuotaOwners owners;

    public QuotaAdminApi(
            Supplier<Optional<AuthzPolicy>> policy, Optional<QuotaOperations> operations, BearerTokens tokens) {
        this(policy, operations, AdminGate.local(tokens, "quota.admin.token_file"), QuotaOwners.unscoped());
    }

    /**
     * With the admin plane's gate: OIDC callers with roles from the access file, or the token file.
     *
     * @param owners whose each counter is: a tenant-scoped caller reaches only its tenants' counters
     */
    public QuotaAdminApi(
            Supplier<Optional<AuthzPolicy>> policy,
            Optional<QuotaOperations> operations,
            AdminGate gate,
            QuotaOwners owners) {
        this.policy = policy;
        this.operations = operations;
        this.owners = owners;
        this.endpoint = AdminEndpoint.of(
                        this,
                        OPERATIONS.<AdminEndpoint.Handler<QuotaAdminApi>>map(h -> (api, r) -> h.handle(
                                api,
                                new Call(
                                        api.operations.orElseThrow(() -> new AdminJson.Refusal(
                                                ErrorKind.UNAVAILABLE,
                                                "quota counters need PostgreSQL: this server has no db.url")),
                                        r))),
                        gate,
                        "extauthz",
                        MAX_BODY)
                .refusing(QuotaOperations.InvalidChangeException.class, ErrorKind.INVALID)
                .refusing(
                        QuotaStore.UnavailableException.class,
                        e -> new AdminJson.Refusal(
                                ErrorKind.UNAVAILABLE, "the quota database is unavailable; nothing was changed"))
                .indented();
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        endpoint.handle(exchange);
    }

    private JsonNode change(Call c, String action)
            throws IOException, QuotaOperations.InvalidChangeException, QuotaStore.UnavailableException {
        return change(
                c.ops(),
                c.request(),
                quota(c.segments().get(0)),
                action,
                c.caller().actor(),
                c.scope(),
                c.requestId());
    }

    private JsonNode list() {
        AuthzPolicy p = policy.get().orElseThrow(() -> new AdminJson.Refusal(503, "no authz policy is loaded"));
        ArrayNode out = JSON.createArrayNode();
        for (QuotaPolicy q : p.quotas()) {
            out.add(describe(q));
        }
        return out;
    }

    private JsonNode show(QuotaOperations ops, TenantScope scope, QuotaPolicy q, String caller)
            throws QuotaOperations.InvalidChangeException, QuotaStore.UnavailableException {
        QuotaOperations.Standing s = ops.show(scope, q, caller);
        ObjectNode n = describe(q);
        n.put("caller", caller)
                .put("period_start", s.window().start().toString())
                .put("period_ends_at", s.window().endsAt().toString())
                .put("used", s.used())
                .put("durable", s.durable());
        s.live().ifPresent(l -> n.put("live", l));
        ArrayNode changes = n.putArray("changes");
        for (QuotaStore.Change c : s.changes()) {
            changes.add(change(c));
        }
        return n;
    }

    /**
     * The counter's caller key, when the counter is one of {@code scope}'s tenants'; 404 otherwise, worded as for a
     * counter that does not exist, so a caller learns nothing of other tenants' counters.
     */
    private String owned(TenantScope scope, String quota, String caller) throws QuotaStore.UnavailableException {
        // a malformed key goes on to QuotaOperations, which refuses it (422) and names the forms that exist
        if (QuotaCallers.wellFormed(caller) && !owners.visible(scope, caller)) {
            throw new AdminJson.Refusal(
                    404, "no counter of quota '" + quota + "' for '" + caller + "' in your tenants");
        }
        return caller;
    }

    private JsonNode change(
            QuotaOperations ops,
            AdminRequest request,
            QuotaPolicy q,
            String action,
            String actor,
            TenantScope scope,
            String requestId)
            throws IOException, QuotaOperations.InvalidChangeException, QuotaStore.UnavailableException {
        JsonNode body = request.body();
        String caller = owned(scope, q.name(), AdminRequest.requiredText(body, "caller"));
        String reason = AdminRequest.requiredText(body, "reason");
        QuotaOperations.Applied applied =
                switch (action) {
                    case "adjust" -> {
                        JsonNode delta = body.path("delta");
                        if (delta.isMissingNode() || delta.isNull()) {
                            throw new AdminJson.Refusal(
                                    ErrorKind.INVALID,
                                    "'delta' is required: a whole number of requests (negative gives requests back)");
                        }
                        if (!delta.canConvertToLong() || !delta.isIntegralNumber()) {
                            throw new AdminJson.Refusal(
                                    ErrorKind.MALFORMED,
                                    "'delta' must be a whole number of requests (negative gives requests back)");
                        }
                        yield ops.adjust(scope, q, caller, delta.asLong(), actor, "admin_api", reason, requestId);
                    }
                    case "reset" -> ops.reset(scope, q, caller, actor, "admin_api", reason, requestId);
                    default ->
                        throw new AdminJson.Refusal(404, "unknown quota operation '" + action + "' (adjust, reset)");
                };
        ObjectNode out = change(applied.change());
        applied.live().ifPresent(l -> out.put("live", l));
        out.put("live_note", applied.liveNote());
        return out;
    }

    private static ObjectNode change(QuotaStore.Change c) {
        return JSON.createObjectNode()
                .put("id", c.id())
                .put("at", c.at().toString())
                .put("quota", c.key().quota())
                .put("caller", c.key().caller())
                .put("period_start", c.key().periodStart().toString())
                .put("action", c.action())
                .put("delta", c.delta())
                .put("used_before", c.usedBefore())
                .put("used_after", c.usedAfter())
                .put("actor", c.actor())
                .put("via", c.via())
                .put("reason", c.reason());
    }

    /** A quota as the policy defines it. */
    public static ObjectNode describe(QuotaPolicy q) {
        ObjectNode n = JSON.createObjectNode()
                .put("name", q.name())
                .put("per", q.per().yaml())
                .put("period", q.period().yaml())
                .put("timezone", q.zone().getId())
                .put("on_exceed", q.onExceed().yaml())
                .put("default_tier", q.defaultTier());
        ObjectNode limits = n.putObject("limits");
        for (Map.Entry<String, Long> e : new java.util.TreeMap<>(q.limits()).entrySet()) {
            if (e.getValue() == QuotaPolicy.UNLIMITED) {
                limits.put(e.getKey(), "unlimited");
            } else {
                limits.put(e.getKey(), e.getValue());
            }
        }
        ArrayNode alerts = n.putArray("alerts");
        q.alerts().forEach(alerts::add);
        return n;
    }

    private QuotaPolicy quota(String name) {
        AuthzPolicy p = policy.get().orElseThrow(() -> new AdminJson.Refusal(503, "no authz policy is loaded"));
        return p.quotas().stream()
                .filter(q -> q.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AdminJson.Refusal(404, "the running policy has no quota named '" + name + "'"));
    }
}
