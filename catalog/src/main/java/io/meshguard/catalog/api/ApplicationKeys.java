package io.meshguard.catalog.api;

import io.meshguard.catalog.CatalogRefusal;
import io.meshguard.catalog.apikey.ApiKeyAdmin;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalog.service.AdmittedCall;
import io.meshguard.catalog.service.OperationRefused;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.apikey.ApiKey;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.ErrorKind;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * An application's API keys as the developer portal hands them out: a key and its catalogue credential are issued,
 * rotated (successor plus overlap) and revoked together, in one PostgreSQL transaction over the key store and the
 * credential rows, so a refusal by either leaves neither (no key exists that the portal did not hand out, no
 * credential names a key that is not there). The caller needs both surfaces' permissions ({@code credential:*} and
 * {@code apikey:*}) and both admin trails get their rows, as when the two were called one after the other. Keys made
 * here carry no roles, scopes or tier of their own: those are the bank's grant.
 */
public final class ApplicationKeys {
    /** A new key bound to its application: {@code text} is shown once (meshguard keeps only its SHA-256). */
    public record IssuedKey(ApiKey key, String text, Credential credential) {}

    /**
     * A rotation: the successor key (its text shown once) bound in the predecessor's place, the predecessor working
     * until {@code predecessorValidUntil}.
     */
    public record RotatedKey(
            ApiKey successor, String text, CatalogService.Rotation credentials, Instant predecessorValidUntil) {}

    private final CatalogService catalog;
    private final ApiKeyAdmin keys;

    public ApplicationKeys(CatalogService catalog, ApiKeyAdmin keys) {
        this.catalog = catalog;
        this.keys = keys;
    }

    /** Issues a key for one of the caller's applications and binds it, both or neither. */
    public IssuedKey issue(AdmittedCall who, String applicationId, String reason) {
        TenantScope scope = catalog.tenants(who, "credential:create");
        TenantScope keyScope = keys.tenants(who, "apikey:create");
        Application app = catalog.store().applications(scope).stream()
                .filter(a -> a.id().equals(applicationId))
                .findFirst()
                .orElseThrow(() -> new OperationRefused(404, "application " + applicationId + " not found"));
        if (!keyScope.includes(app.tenant())) {
            throw new OperationRefused(403, "tenant '" + app.tenant() + "' is not one of yours");
        }
        JdbcApiKeyStore store = keys.store();
        ApiKeyService.Minted minted = minted(() -> keys.keys()
                .mint(
                        app.name(),
                        app.id(),
                        app.tenant(),
                        List.of(),
                        List.of(),
                        ApiKey.NO_TIER,
                        Optional.empty(),
                        Optional.empty()));
        ApiKey key = minted.created().key();
        keys.requested(who, "create", "apikeys/new", app.tenant());
        Credential credential = CatalogService.refusing(() -> catalog.store().inTransaction(scope, c -> {
            keys.admitNewKey(c, app.tenant());
            store.insert(c, key, minted.secretHash());
            return catalog.store()
                    .addCredential(
                            c,
                            scope,
                            new Credential(
                                    key.keyId(),
                                    AuthMode.APIKEY,
                                    app.id(),
                                    CredentialState.ACTIVE,
                                    Optional.empty(),
                                    Optional.empty(),
                                    Set.of()));
        }));
        keys.done(who, "create", key, reason);
        catalog.recorded(
                who,
                "credential:create",
                "credential/apikey/" + key.keyId(),
                "bound to " + app.id(),
                "",
                CatalogJson.credential(credential));
        return new IssuedKey(key, minted.created().text(), credential);
    }

    /**
     * Rotates the key {@code keyId} and its credential together: the successor key (same owner, tenant and end),
     * bound with the predecessor's subscriptions, while the predecessor keeps working for {@code overlap}. A rotation
     * the catalogue refuses (the credential revoked or already rotating) leaves no successor key.
     */
    public RotatedKey rotate(AdmittedCall who, String keyId, Duration overlap, String reason) {
        TenantScope scope = catalog.tenants(who, "credential:rotate");
        TenantScope keyScope = keys.tenants(who, "apikey:rotate");
        CatalogService.checkOverlap(overlap);
        boolean bound = catalog.store().credentials(scope).stream()
                .anyMatch(c -> c.kind() == AuthMode.APIKEY && c.id().equals(keyId));
        if (!bound) {
            throw new OperationRefused(404, "credential not found");
        }
        JdbcApiKeyStore store = keys.store();
        ApiKey visible = keys.visible(keyScope, keyId);
        ApiKeyAdmin.requireGrantScope(keyScope, visible);
        keys.requested(who, "rotate", "apikeys/" + keyId, visible.tenant());
        Instant until = catalog.clock().instant().plus(overlap);
        record Written(ApiKeyService.Minted successor, CatalogService.Rotation rotation) {}
        Written written = CatalogService.refusing(() -> catalog.store().inTransaction(scope, c -> {
            ApiKeyService.Minted next;
            try {
                next = store.rotate(c, keys.keys(), keyId, until);
            } catch (java.util.NoSuchElementException e) {
                throw new CatalogRefusal(CatalogRefusal.Kind.NOT_FOUND, "no API key " + keyId);
            } catch (ApiKeyService.NotRotatable e) {
                throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT, e.getMessage());
            }
            return new Written(
                    next,
                    catalog.rotate(
                            c,
                            scope,
                            AuthMode.APIKEY,
                            keyId,
                            next.created().key().keyId(),
                            overlap));
        }));
        keys.changed(keyId);
        ApiKey successor = written.successor().created().key();
        keys.done(who, "rotate", successor, reason);
        catalog.recordRotation(who, written.rotation(), overlap);
        return new RotatedKey(successor, written.successor().created().text(), written.rotation(), until);
    }

    /**
     * Revokes the key {@code keyId} in the catalogue (extauthz refuses it from the pushed state) and in the key store,
     * in one transaction.
     */
    public Credential revoke(AdmittedCall who, String keyId, String reason) {
        TenantScope scope = catalog.tenants(who, "credential:revoke");
        TenantScope keyScope = keys.tenants(who, "apikey:revoke");
        String why = CatalogService.requiredReason(reason);
        JdbcApiKeyStore store = keys.store();
        Credential bound = catalog.store().credentials(scope).stream()
                .filter(c -> c.kind() == AuthMode.APIKEY && c.id().equals(keyId))
                .findFirst()
                .orElseThrow(() -> new OperationRefused(404, "credential " + keyId + " not found"));
        ApiKey key = keys.visible(keyScope, keyId);
        keys.requested(who, "revoke", "apikeys/" + keyId, key.tenant());
        Credential revoked = CatalogService.refusing(() -> catalog.store().inTransaction(scope, c -> {
            Credential cr = catalog.store()
                    .moveCredential(c, AuthMode.APIKEY, bound.id(), CredentialState.REVOKED, Optional.empty());
            store.revoke(c, keyId, catalog.clock().instant());
            return cr;
        }));
        keys.changed(keyId);
        catalog.recordRevocation(who, revoked, why);
        keys.done(who, "revoke", key, why);
        return revoked;
    }

    private static ApiKeyService.Minted minted(java.util.function.Supplier<ApiKeyService.Minted> mint) {
        try {
            return mint.get();
        } catch (IllegalArgumentException e) {
            throw new OperationRefused(ErrorKind.INVALID.status(), e.getMessage());
        }
    }
}
