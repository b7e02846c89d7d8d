package io.meshguard.catalog.apikey;

import io.meshguard.access.AdminGate;
import io.meshguard.access.Scope;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.AuditSink;
import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailEntry;
import io.meshguard.catalog.service.AdmittedCall;
import io.meshguard.catalog.service.OperationRefused;
import io.meshguard.catalogmodel.apikey.ApiKey;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.ApiKeyStore;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.ErrorKind;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API keys' admin operations as Java methods (list, show, create, rotate, revoke) for an admitted caller: each
 * checks its permission with the {@link AdminGate}, confines the caller to its tenants (another tenant's key is 404),
 * keeps the bank's grants (roles, scopes, tier) to system-scope callers, and writes the admin trail ("requested"
 * before the change, the outcome after) and a {@code config_change} audit event. {@link ApiKeyAdminApi} is its REST
 * adapter. Refusals are {@link OperationRefused} with the status the REST API answers.
 */
public final class ApiKeyAdmin {
    private static final Logger LOG = LoggerFactory.getLogger(ApiKeyAdmin.class);
    /** The longest overlap a rotated key keeps working for. */
    public static final Duration MAX_GRACE = Duration.ofDays(30);

    /**
     * A key to create. {@code roles}, {@code scopes} and {@code tier} are the bank's grant: only a caller acting for
     * every tenant names them.
     */
    public record NewApiKey(
            String name,
            String owner,
            String tenant,
            List<String> roles,
            List<String> scopes,
            Optional<String> tier,
            Optional<Instant> expiresAt,
            String reason) {
        public NewApiKey {
            roles = List.copyOf(roles);
            scopes = List.copyOf(scopes);
        }
    }

    /** A rotation's successor (its text shown once) and when the predecessor stops working. */
    public record Rotated(ApiKeyService.Created successor, Instant predecessorValidUntil) {}

    /** A revocation: the key, and whether this call revoked it (false: it was revoked already). */
    public record Revoked(ApiKey key, boolean revoked) {}

    private final Optional<JdbcApiKeyStore> store;
    private final Optional<ApiKeyService> keys;
    private final Optional<AdminTrail> trail;
    private final Optional<AuditSink> audit;
    private final AdminGate gate;
    private final Consumer<String> changed;
    private final ApiKeyLimits limits;

    /** As below, with the default per-tenant limits ({@link ApiKeyLimits#DEFAULTS}). */
    public ApiKeyAdmin(
            Optional<JdbcApiKeyStore> store,
            Clock clock,
            AdminGate gate,
            Optional<AuditSink> audit,
            Consumer<String> changed) {
        this(store, clock, gate, audit, changed, ApiKeyLimits.DEFAULTS);
    }

    /**
     * @param store empty: this server has no database, and every operation is refused (503)
     * @param audit where changes are recorded; empty logs them only
     * @param changed told the key id of every revocation and rotation made here (this replica's key cache)
     * @param limits how many keys a tenant may hold and create (every caller's creations count)
     */
    public ApiKeyAdmin(
            Optional<JdbcApiKeyStore> store,
            Clock clock,
            AdminGate gate,
            Optional<AuditSink> audit,
            Consumer<String> changed,
            ApiKeyLimits limits) {
        this.limits = limits;
        this.store = store;
        this.keys = store.map(s -> new ApiKeyService(s, clock));
        this.trail = store.map(s -> new AdminTrail(s.dataSource()));
        this.audit = audit;
        this.gate = gate;
        this.changed = changed;
    }

    /** The tenants {@code who} acts for with {@code permission}; refused (403) without it. */
    public TenantScope tenants(AdmittedCall who, String permission) {
        if (!gate.permits(who.caller(), permission, Scope.ANY_TENANT)) {
            throw new OperationRefused(403, "permission " + permission + " at " + Scope.ANY_TENANT + " is required");
        }
        return gate.tenantsOf(who.caller(), permission);
    }

    /** The key store; refused (503) on a server without a database. */
    public JdbcApiKeyStore store() {
        return store.orElseThrow(
                () -> new OperationRefused(503, "API keys need PostgreSQL: this server has no db.url"));
    }

    /** How keys are minted (checked, hashed) for a caller that stores them in its own transaction. */
    public ApiKeyService keys() {
        store();
        return keys.orElseThrow();
    }

    /** The caller's tenants' keys, revoked ones too when {@code revoked}. */
    public List<ApiKey> list(AdmittedCall who, boolean revoked) {
        TenantScope scope = tenants(who, "apikey:read");
        return available(() -> store().list(scope, revoked));
    }

    /** One key of the caller's tenants; 404 otherwise (the same answer for another tenant's key and none). */
    public ApiKey find(AdmittedCall who, String keyId) {
        return visible(tenants(who, "apikey:read"), keyId);
    }

    /** Creates a key; its text is in the answer only (meshguard keeps its SHA-256). */
    public ApiKeyService.Created create(AdmittedCall who, NewApiKey command) {
        TenantScope scope = tenants(who, "apikey:create");
        if (!scope.includes(command.tenant())) {
            throw new OperationRefused(403, "tenant '" + command.tenant() + "' is not one of yours");
        }
        if (!scope.all()) {
            refuseBankGrants(command.roles(), command.scopes(), command.tier().isPresent());
        }
        store();
        requested(who, "create", "apikeys/new", command.tenant());
        // no tier named (by anyone): the policy's tenant_tiers or default_tier set the key's limits
        ApiKeyService.Minted minted = available(() -> keys.orElseThrow()
                .mint(
                        command.name(),
                        command.owner(),
                        command.tenant(),
                        command.roles(),
                        command.scopes(),
                        command.tier().orElse(ApiKey.NO_TIER),
                        command.expiresAt(),
                        Optional.empty()));
        available(() -> {
            store().insert(minted.created().key(), minted.secretHash(), limits);
            return minted;
        });
        done(who, "create", minted.created().key(), command.reason());
        return minted.created();
    }

    /**
     * Refuses (409, 429) a new key for {@code tenant} beyond its limits, on {@code c}: for a caller that inserts the
     * key in its own transaction, which then holds the tenant's creation lock until it ends.
     */
    public void admitNewKey(java.sql.Connection c, String tenant) throws java.sql.SQLException {
        limits.admit(tenant, store().tenantKeys(c, tenant, keys().now()));
    }

    /**
     * A successor with the same owner, tenant, rights, tier and end; the old key keeps working for {@code grace} (never
     * past its own end). Refused (409) for a key that is revoked, expired or rotated out already; a key carrying the
     * bank's grant (roles, scopes, tier) is rotated only by a caller acting for every tenant, as only such a caller
     * grants one.
     */
    public Rotated rotate(AdmittedCall who, String keyId, Duration grace, String reason) {
        TenantScope scope = tenants(who, "apikey:rotate");
        ApiKey key = visible(scope, keyId);
        if (grace.isNegative() || grace.compareTo(MAX_GRACE) > 0) {
            throw new OperationRefused(
                    ErrorKind.INVALID.status(),
                    "'grace_seconds' must be between 0 and " + MAX_GRACE.toSeconds() + " (30 days)");
        }
        requireGrantScope(scope, key);
        requested(who, "rotate", "apikeys/" + key.keyId(), key.tenant());
        Instant until = keys.orElseThrow().now().plus(grace);
        ApiKeyService.Created created = available(() -> store().rotate(keys.orElseThrow(), key.keyId(), until));
        changed.accept(key.keyId());
        done(who, "rotate", created.key(), reason);
        return new Rotated(
                created, key.expiresAt().filter(e -> e.isBefore(until)).orElse(until));
    }

    /**
     * Refused (403) when {@code key} carries the bank's grant (roles, scopes or a tier of its own) and {@code scope} is
     * not every tenant's: deriving a key from it is granting it again.
     */
    public static void requireGrantScope(TenantScope scope, ApiKey key) {
        if (!scope.all()
                && (!key.roles().isEmpty()
                        || !key.scopes().isEmpty()
                        || key.ownTier().isPresent())) {
            throw new OperationRefused(
                    403,
                    "API key " + key.keyId() + " carries roles, scopes or a tier granted by the bank: only a caller "
                            + "with apikey:rotate at system scope rotates it");
        }
    }

    public Revoked revoke(AdmittedCall who, String keyId, String reason) {
        ApiKey key = visible(tenants(who, "apikey:revoke"), keyId);
        requested(who, "revoke", "apikeys/" + key.keyId(), key.tenant());
        boolean revoked = available(() -> keys.orElseThrow().revoke(key.keyId()));
        changed.accept(key.keyId());
        done(who, "revoke", key, reason);
        return new Revoked(key, revoked);
    }

    /** Tells this replica's key cache that {@code keyId} changed (the database tells the others). */
    public void changed(String keyId) {
        changed.accept(keyId);
    }

    /** The key, when it is one of {@code scope}'s tenants'; 404 otherwise (the same answer for both). */
    public ApiKey visible(TenantScope scope, String keyId) {
        return available(() -> store().find(scope, keyId))
                .orElseThrow(() -> new OperationRefused(404, "no API key " + keyId));
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
            throw new OperationRefused(
                    403,
                    String.join(", ", named) + ": granted by the bank, not by the tenant "
                            + "that uses the key; only a caller with apikey:create at system scope names roles, scopes or "
                            + "tier (leave them out: the key then has none, and the policy's tenant_tiers or default_tier "
                            + "set its limits)");
        }
    }

    /**
     * The trail's row before a change to the keys: when the trail cannot take it the change is refused (503) and
     * nothing is written; when it can, the change follows and its outcome is a second row ({@link #done}). A crash
     * between the two leaves "requested" without "done", never a change without a row.
     */
    public void requested(AdmittedCall who, String action, String target, String tenant) {
        if (trail.isEmpty()) {
            return;
        }
        try {
            trail.get()
                    .append(new AdminTrailEntry(
                            Instant.now(),
                            who.caller().actor(),
                            "admin-api",
                            Optional.of(tenant),
                            Optional.empty(),
                            Optional.empty(),
                            Optional.of(who.requestId()),
                            "apikey_" + action,
                            target,
                            "requested",
                            Optional.empty(),
                            Optional.empty(),
                            Map.of()));
        } catch (AdminTrail.UnavailableException e) {
            throw new OperationRefused(
                    503, "the admin trail cannot record this change, so nothing was changed: " + e.getMessage());
        }
    }

    /** The outcome of a change to {@code key}: the trail's second row, a log line and a {@code config_change} event. */
    public void done(AdmittedCall who, String action, ApiKey key, String reason) {
        LOG.info(
                "apikey_{} key_id={} tenant={} actor={} request_id={}",
                action,
                key.keyId(),
                key.tenant(),
                who.caller().actor(),
                who.requestId());
        trail.ifPresent(t -> {
            try {
                t.append(new AdminTrailEntry(
                        Instant.now(),
                        who.caller().actor(),
                        "admin-api",
                        Optional.of(key.tenant()),
                        Optional.empty(),
                        Optional.empty(),
                        Optional.of(who.requestId()),
                        "apikey_" + action,
                        "apikeys/" + key.keyId(),
                        reason.isBlank() ? "done" : reason,
                        Optional.empty(),
                        Optional.empty(),
                        Map.of(
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
                .requestId(who.requestId())
                .subject(who.caller().actor())
                .tenant(key.tenant())
                .decision("apikey_" + action)
                .reason(reason.isBlank() ? "apikey_" + action : reason)
                .detail("key_id", key.keyId())
                .detail("rotated_from", key.rotatedFrom().orElse(""))
                .detail("key_owner", key.owner())
                .detail("via", "admin_api")
                .build()));
    }

    @FunctionalInterface
    private interface KeyWork<T> {
        T run() throws ApiKeyStore.UnavailableException;
    }

    /** The key store's failures as the API says them: unavailable is 503, a refused value 422. */
    private static <T> T available(KeyWork<T> work) {
        try {
            return work.run();
        } catch (ApiKeyStore.UnavailableException e) {
            LOG.warn("API key store unavailable: {}", e.getMessage());
            throw new OperationRefused(503, "the API key database is unavailable; nothing was changed");
        } catch (ApiKeyService.NotRotatable e) {
            throw new OperationRefused(409, e.getMessage());
        } catch (java.util.NoSuchElementException e) {
            throw new OperationRefused(404, e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new OperationRefused(ErrorKind.INVALID.status(), e.getMessage());
        }
    }
}
