package io.meshguard.catalog.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminEvents;
import io.meshguard.access.AdminGate;
import io.meshguard.access.KeycloakClients;
import io.meshguard.access.Scope;
import io.meshguard.catalog.CatalogRefusal;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.CatalogStore.Side;
import io.meshguard.catalog.service.AdmittedCall;
import io.meshguard.catalog.service.OperationRefused;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.catalogmodel.TransitionRefused;
import io.meshguard.db.TenantScope;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The catalogue's changes for customers and providers as Java methods: applications, subscriptions (subscribe,
 * approve, reject, suspend, resume, close, change plan) and credentials (bind, rotate, revoke). Each method checks
 * the operation's permission with the {@link AdminGate}, confines the work to the caller's tenants, lets the store
 * apply the model's rules (the lifecycles, separation of duties on approvals) and records an {@link AdminEvent} for
 * the hash-chained admin trail. {@link CatalogApi} is its REST adapter and the console calls it directly, so both
 * surfaces run the same checks. A refusal is an {@link OperationRefused} with the status the REST API answers.
 */
public final class CatalogService {
    private static final Duration MAX_OVERLAP = Duration.ofDays(30);

    /** A new application: {@code id} is generated when empty; {@code tenant} may be left out by a one-tenant caller. */
    public record NewApplication(Optional<String> id, Optional<String> tenant, String name) {}

    /** A subscription request: an application, a product publish and one of its product's plans. */
    public record NewSubscription(String application, String productPublish, String plan) {}

    /**
     * A credential to bind: an existing API key's id ({@code id} required) or a Keycloak client the catalogue creates
     * ({@code kind} oauth2); {@code subscriptions} empty means all of the application's.
     */
    public record NewCredential(
            AuthMode kind,
            String application,
            Optional<String> id,
            Set<String> subscriptions,
            Optional<Instant> expiresAt) {
        public NewCredential {
            subscriptions = Set.copyOf(subscriptions);
        }
    }

    /** A bound credential; {@code clientSecret} holds an OAuth2 client's secret, shown in this one answer. */
    public record BoundCredential(Credential credential, Optional<String> clientSecret) {}

    /** A rotation: the predecessor (rotating, valid for the overlap) and its successor (active). */
    public record Rotation(Credential predecessor, Credential successor) {}

    /** An OAuth2 client's new secret (the old one stops at once): shown in this one answer. */
    public record NewClientSecret(Credential credential, String clientSecret) {}

    /** What a provider or a customer does to a subscription, with the permission each side needs for it. */
    public enum SubscriptionChange {
        APPROVE(SubscriptionState.ACTIVE, "subscription:approve", ""),
        REJECT(SubscriptionState.REJECTED, "subscription:approve", ""),
        SUSPEND(SubscriptionState.SUSPENDED, "subscription:suspend", ""),
        RESUME(SubscriptionState.ACTIVE, "subscription:suspend", ""),
        CLOSE(SubscriptionState.CLOSED, "subscription:suspend", "subscription:close");

        private final SubscriptionState to;
        private final String providerPermission;
        private final String customerPermission;

        SubscriptionChange(SubscriptionState to, String providerPermission, String customerPermission) {
            this.to = to;
            this.providerPermission = providerPermission;
            this.customerPermission = customerPermission;
        }

        /** The verb as the API's path and the admin trail say it ({@code approve}). */
        public String verb() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        String permission(Side side) {
            String p = side == Side.PROVIDER ? providerPermission : customerPermission;
            if (p.isEmpty()) {
                throw new OperationRefused(404, "a customer cannot " + verb() + " a subscription");
            }
            return p;
        }
    }

    private final CatalogStore store;
    private final AdminGate gate;
    private final AdminEvents events;
    private final Clock clock;
    private final Optional<KeycloakClients> keycloak;

    /**
     * @param keycloak where OAuth2 credentials are created (client credentials); empty: only API keys can be bound
     */
    public CatalogService(
            CatalogStore store, AdminGate gate, AdminEvents events, Clock clock, Optional<KeycloakClients> keycloak) {
        this.store = store;
        this.gate = gate;
        this.events = events;
        this.clock = clock;
        this.keycloak = keycloak;
    }

    /** The identity provider's token endpoint OAuth2 clients get their tokens from; empty where none is configured. */
    public Optional<String> tokenEndpoint() {
        return keycloak.map(KeycloakClients::tokenEndpoint);
    }

    /** The store the service writes through (reads for the console's pages go there too). */
    public CatalogStore store() {
        return store;
    }

    // ------------------------------------------------------------------ admission

    /**
     * The tenants {@code who} acts for in an operation needing {@code permission}; refused (403) without it. Over
     * HTTP the gate has admitted the route already, so this agrees; for the console it is the operation's check.
     */
    public TenantScope tenants(AdmittedCall who, String permission) {
        if (!gate.permits(who.caller(), permission, Scope.ANY_TENANT)) {
            throw new OperationRefused(403, "permission " + permission + " at " + Scope.ANY_TENANT + " is required");
        }
        return gate.tenantsOf(who.caller(), permission);
    }

    // ------------------------------------------------------------------ applications

    public Application createApplication(AdmittedCall who, NewApplication command) {
        TenantScope scope = tenants(who, "application:create");
        String tenant = tenantFor(scope, command.tenant());
        Application app = refusing(() -> store.createApplication(
                scope,
                new Application(
                        command.id().orElseGet(() -> "app-" + UUID.randomUUID()),
                        tenant,
                        applicationName(command.name()),
                        ApplicationState.ACTIVE),
                who.caller().actor()));
        recorded(who, "application:create", "application/" + app.id(), "created", tenant, CatalogJson.application(app));
        return app;
    }

    /** Renames an application; the name must be free in its tenant (compared without regard to case). */
    public Application renameApplication(AdmittedCall who, String id, String name) {
        TenantScope scope = tenants(who, "application:create");
        String to = applicationName(name);
        Application app = refusing(() -> store.renameApplication(scope, id, to));
        recorded(
                who,
                "application:rename",
                "application/" + app.id(),
                "renamed to " + app.name(),
                app.tenant(),
                CatalogJson.application(app));
        return app;
    }

    // Stripped, so "Shop " is not a second "Shop" in a dropdown.
    private static String applicationName(String name) {
        return required(name, "name").strip();
    }

    /** Suspends (every call refused) or resumes an application. */
    public Application moveApplication(AdmittedCall who, String id, ApplicationState to, String reason) {
        TenantScope scope = tenants(who, "application:suspend");
        String why = requiredReason(reason);
        Application app = refusing(() -> store.moveApplication(scope, id, to));
        String verb = to == ApplicationState.SUSPENDED ? "suspend" : "resume";
        recorded(
                who,
                "application:" + verb,
                "application/" + app.id(),
                verb + ": " + why,
                app.tenant(),
                CatalogJson.application(app));
        return app;
    }

    // ------------------------------------------------------------------ subscriptions

    public Subscription subscribe(AdmittedCall who, NewSubscription command) {
        TenantScope scope = tenants(who, "subscription:create");
        Subscription s = refusing(() -> store.subscribe(
                scope,
                required(command.application(), "application"),
                required(command.productPublish(), "product_publish"),
                required(command.plan(), "plan"),
                who.caller().person()));
        recorded(
                who,
                "subscription:create",
                "subscription/" + s.id(),
                "requested, now " + CatalogJson.lower(s.state()),
                "",
                CatalogJson.subscription(s));
        return s;
    }

    /**
     * Approves, rejects, suspends, resumes or closes a subscription as its provider or its customer; the store refuses
     * a customer approving its own subscription and a move the lifecycle does not allow.
     */
    public Subscription moveSubscription(
            AdmittedCall who, Side side, String id, SubscriptionChange change, String reason) {
        TenantScope scope = tenants(who, change.permission(side));
        String why = requiredReason(reason);
        Subscription s = refusing(() ->
                store.moveSubscription(scope, side, id, change.to, who.caller().person(), why));
        recorded(
                who,
                "subscription:" + change.verb(),
                "subscription/" + s.id(),
                change.verb() + ": " + why,
                "",
                CatalogJson.subscription(s));
        return s;
    }

    /** Moves a subscription to another plan of its product, keeping its credentials and the quota used so far. */
    public Subscription changePlan(AdmittedCall who, Side side, String id, String plan, String reason) {
        TenantScope scope = tenants(who, "subscription:plan");
        String why = requiredReason(reason);
        Subscription s = refusing(() -> store.changePlan(
                scope, side, id, required(plan, "plan"), who.caller().actor(), why));
        // the quota already used carries over: counters are keyed by subscription, not plan (docs/products.md)
        recorded(
                who,
                "subscription:plan",
                "subscription/" + s.id(),
                "plan now " + s.planId() + " (quota used so far carries over): " + why,
                "",
                CatalogJson.subscription(s));
        return s;
    }

    // ------------------------------------------------------------------ credentials

    /**
     * Binds an existing API key, or creates a Keycloak client and binds it. The credential's own end, when given, must
     * be in the future, so a typo cannot bind a credential that never works.
     */
    public BoundCredential addCredential(AdmittedCall who, NewCredential command) {
        TenantScope scope = tenants(who, "credential:create");
        String application = required(command.application(), "application");
        command.expiresAt().ifPresent(at -> {
            if (!at.isAfter(clock.instant())) {
                throw new OperationRefused(422, "expires_at: " + at + " is not in the future");
            }
        });
        if (command.kind() == AuthMode.OAUTH2) {
            return createOAuthClient(who, scope, application, command);
        }
        Credential cr = addActive(scope, required(command.id().orElse(""), "id"), command.kind(), application, command);
        recorded(
                who,
                "credential:create",
                "credential/" + CatalogJson.lower(command.kind()) + "/" + cr.id(),
                "bound to " + cr.applicationId(),
                "",
                CatalogJson.credential(cr));
        return new BoundCredential(cr, Optional.empty());
    }

    /** Stores an active credential {@code id} of {@code application}, with the command's end and subscriptions. */
    private Credential addActive(
            TenantScope scope, String id, AuthMode kind, String application, NewCredential command) {
        return refusing(() -> store.addCredential(
                scope,
                new Credential(
                        id,
                        kind,
                        application,
                        CredentialState.ACTIVE,
                        command.expiresAt(),
                        Optional.empty(),
                        command.subscriptions())));
    }

    /**
     * An OAuth2 credential is a confidential client Keycloak creates; meshguard binds its id and shows the secret in
     * this one answer. The application is checked first, so no client is created for another tenant's application.
     */
    private BoundCredential createOAuthClient(
            AdmittedCall who, TenantScope scope, String application, NewCredential command) {
        KeycloakClients idp = keycloak.orElseThrow(() -> new OperationRefused(
                422, "OAuth2 credentials need catalog.keycloak.* (this controller provisions no clients)"));
        Application app = refusing(() -> store.applications(scope).stream()
                .filter(a -> a.id().equals(application))
                .findFirst()
                .orElseThrow(() -> new CatalogRefusal(
                        CatalogRefusal.Kind.NOT_FOUND, "application " + application + " not found")));
        String clientId = application + "-" + UUID.randomUUID().toString().substring(0, 8);
        KeycloakClients.Created created;
        try {
            created = idp.create(clientId, app.tenant(), "meshguard application " + application);
        } catch (KeycloakClients.ProvisioningFailed e) {
            throw new OperationRefused(502, "the identity provider refused the client: " + e.getMessage());
        }
        Credential cr = addActive(scope, clientId, AuthMode.OAUTH2, application, command);
        // the secret is in the answer only: not in the trail, the digest or any log
        recorded(
                who,
                "credential:create",
                "credential/oauth2/" + clientId,
                "Keycloak client created for " + application,
                "",
                CatalogJson.credential(cr));
        return new BoundCredential(cr, Optional.of(created.secret()));
    }

    /**
     * Rotates an API-key credential to {@code successor} (a key of the same tenant): the predecessor works for
     * {@code overlap} (at most 30 days) and the successor keeps the predecessor's end and subscriptions. To mint the
     * successor key and rotate in one transaction, see {@link ApplicationKeys#rotate}.
     */
    public Rotation rotateCredential(AdmittedCall who, AuthMode kind, String id, String successor, Duration overlap) {
        TenantScope scope = tenants(who, "credential:rotate");
        if (kind == AuthMode.OAUTH2) {
            throw new OperationRefused(422, "an OAuth2 client keeps its id: renew its secret instead");
        }
        String next = required(successor, "successor");
        checkOverlap(overlap);
        Rotation rotation = refusing(() -> store.inTransaction(scope, c -> rotate(c, scope, kind, id, next, overlap)));
        recordRotation(who, rotation, overlap);
        return rotation;
    }

    /** The rotation's writes on {@code c}: the successor bound, the predecessor rotating for {@code overlap}. */
    Rotation rotate(
            java.sql.Connection c, TenantScope scope, AuthMode kind, String id, String successor, Duration overlap)
            throws java.sql.SQLException {
        Credential old = store.credential(c, kind, id)
                .orElseThrow(() -> new CatalogRefusal(CatalogRefusal.Kind.NOT_FOUND, "credential not found"));
        if (old.expiresAt().isPresent() && !old.expiresAt().get().isAfter(clock.instant())) {
            // an ended term is not renewed by a rotation (revoked and rotating ones the lifecycle refuses)
            throw new CatalogRefusal(
                    CatalogRefusal.Kind.CONFLICT,
                    "credential " + old.id() + " expired at " + old.expiresAt().get() + ": it cannot be rotated");
        }
        // the successor keeps the predecessor's end: a rotation renews the secret, not the term it was granted for
        Credential next = store.addCredential(
                c,
                scope,
                new Credential(
                        successor,
                        kind,
                        old.applicationId(),
                        CredentialState.ACTIVE,
                        old.expiresAt(),
                        Optional.empty(),
                        old.subscriptionIds()));
        Credential moved = store.moveCredential(
                c,
                kind,
                old.id(),
                CredentialState.ROTATING,
                Optional.of(clock.instant().plus(overlap)));
        return new Rotation(moved, next);
    }

    void recordRotation(AdmittedCall who, Rotation rotation, Duration overlap) {
        Credential old = rotation.predecessor();
        recorded(
                who,
                "credential:rotate",
                "credential/" + CatalogJson.lower(old.kind()) + "/" + old.id(),
                "rotating to " + rotation.successor().id() + ", predecessor valid for " + overlap,
                "",
                rotationJson(rotation));
    }

    static JsonNode rotationJson(Rotation rotation) {
        ObjectNode out = CatalogJson.MAPPER.createObjectNode();
        out.set("predecessor", CatalogJson.credential(rotation.predecessor()));
        out.set("successor", CatalogJson.credential(rotation.successor()));
        return out;
    }

    /**
     * An OAuth2 client keeps its id (so its subscriptions and counters) and gets a new secret from Keycloak; the old
     * secret stops at once, because Keycloak keeps one secret per client. Tokens already issued stay valid to their
     * expiry; revoke the credential to cut those too.
     */
    public NewClientSecret renewClientSecret(AdmittedCall who, String id) {
        TenantScope scope = tenants(who, "credential:rotate");
        KeycloakClients idp =
                keycloak.orElseThrow(() -> new OperationRefused(422, "OAuth2 credentials need catalog.keycloak.*"));
        Credential cr = refusing(() -> store.credentials(scope).stream()
                .filter(x -> x.kind() == AuthMode.OAUTH2 && x.id().equals(id))
                .findFirst()
                .orElseThrow(() -> new CatalogRefusal(CatalogRefusal.Kind.NOT_FOUND, "credential not found")));
        KeycloakClients.Created fresh = idp.regenerateSecret(cr.id());
        recorded(
                who,
                "credential:rotate",
                "credential/oauth2/" + cr.id(),
                "new client secret; the old one no longer" + " signs in",
                "",
                CatalogJson.credential(cr));
        return new NewClientSecret(cr, fresh.secret());
    }

    /**
     * Revokes a credential in the catalogue (extauthz refuses it from the pushed state); an OAuth2 client is disabled
     * in Keycloak too. To revoke an API key in the key store in the same transaction, see {@link ApplicationKeys}.
     */
    public Credential revokeCredential(AdmittedCall who, AuthMode kind, String id, String reason) {
        TenantScope scope = tenants(who, "credential:revoke");
        String why = requiredReason(reason);
        Credential cr =
                refusing(() -> store.moveCredential(scope, kind, id, CredentialState.REVOKED, Optional.empty()));
        if (kind == AuthMode.OAUTH2) {
            // extauthz already refuses the client's live tokens (the pushed state says revoked); Keycloak issues none
            keycloak.ifPresent(idp -> idp.disable(cr.id()));
        }
        recordRevocation(who, cr, why);
        return cr;
    }

    void recordRevocation(AdmittedCall who, Credential cr, String why) {
        recorded(
                who,
                "credential:revoke",
                "credential/" + CatalogJson.lower(cr.kind()) + "/" + cr.id(),
                "revoked: " + why,
                "",
                CatalogJson.credential(cr));
    }

    // ------------------------------------------------------------------ shared

    /** The change as a row of the admin trail, with a digest of the object's JSON as the API answers it. */
    void recorded(AdmittedCall who, String action, String target, String outcome, String tenant, JsonNode after) {
        events.record(new AdminEvent(
                clock.instant(),
                who.caller().actor(),
                who.caller().method().label(),
                who.roleUsed(),
                tenant,
                who.caller().source(),
                who.requestId(),
                action,
                target,
                "changed: " + outcome,
                "",
                digest(after)));
    }

    Clock clock() {
        return clock;
    }

    /** The store's and the model's refusals said with the status the REST API answers them with. */
    static <T> T refusing(Supplier<T> work) {
        try {
            return work.get();
        } catch (CatalogRefusal e) {
            throw refusal(e);
        } catch (TransitionRefused e) {
            throw new OperationRefused(409, e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new OperationRefused(422, e.getMessage());
        }
    }

    static OperationRefused refusal(CatalogRefusal e) {
        int status =
                switch (e.kind()) {
                    case NOT_FOUND -> 404;
                    case CONFLICT -> 409;
                    case INVALID -> 422;
                    case FORBIDDEN -> 403;
                };
        return new OperationRefused(status, e.code(), e.getMessage());
    }

    /** The tenant a new object belongs to: the one named (it must be the caller's), or the caller's only tenant. */
    static String tenantFor(TenantScope scope, Optional<String> named) {
        if (named.isPresent()) {
            if (!scope.includes(named.get())) {
                throw new OperationRefused(404, "tenant " + named.get() + " not found");
            }
            return named.get();
        }
        if (!scope.all() && scope.tenants().size() == 1) {
            return scope.tenants().iterator().next();
        }
        throw new OperationRefused(
                422,
                "tenant: required, the caller acts for "
                        + (scope.all()
                                ? "every tenant"
                                : "tenants " + scope.tenants().stream().sorted().toList()));
    }

    /**
     * An overlap as the API and the console write it: hours or days ({@code 24h}, {@code 7d}), at most 30 days.
     */
    public static Duration overlap(String text) {
        if (!text.matches("[0-9]{1,4}[hd]")) {
            throw new OperationRefused(422, "overlap: hours or days, e.g. 24h or 7d, at most 30d");
        }
        long n = Long.parseLong(text.substring(0, text.length() - 1));
        Duration d = text.endsWith("h") ? Duration.ofHours(n) : Duration.ofDays(n);
        if (d.compareTo(MAX_OVERLAP) > 0) {
            throw new OperationRefused(422, "overlap: at most 30d, got " + text);
        }
        return d;
    }

    static void checkOverlap(Duration overlap) {
        if (overlap.isNegative() || overlap.compareTo(MAX_OVERLAP) > 0) {
            throw new OperationRefused(422, "overlap: at most 30d, got " + overlap);
        }
    }

    static String required(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new OperationRefused(422, field + ": required");
        }
        return value;
    }

    static String requiredReason(String reason) {
        String why = reason.strip();
        if (why.isEmpty()) {
            throw new OperationRefused(
                    422, "reason: required; it is kept with the subscription and in the admin trail");
        }
        return why.length() > 1000 ? why.substring(0, 1000) : why;
    }

    private static String digest(JsonNode value) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256")
                            .digest(value.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }
}
