package io.meshguard.catalog;

import static io.meshguard.catalog.CatalogRows.lockApplication;
import static io.meshguard.catalog.CatalogRows.lockSubscription;
import static io.meshguard.catalog.CatalogRows.lower;
import static io.meshguard.catalog.CatalogRows.readCredential;
import static io.meshguard.catalog.CatalogRows.strings;

import io.meshguard.catalog.CatalogStore.Side;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.db.TenantScope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;

/** An application's credentials (API keys and OAuth clients) and their states. */
final class CredentialStore {
    private final CatalogTransactions tx;

    CredentialStore(CatalogTransactions tx) {
        this.tx = tx;
    }

    // ------------------------------------------------------------------ credentials

    /**
     * Binds a credential (an API key's id or a Keycloak client id) to one of the scope's applications. The key and
     * the subscriptions it names must be the application's own: PostgreSQL checks the foreign keys without row-level
     * security, so another tenant's key (or a subscription of another application) would otherwise bind, and its
     * owner's calls would be decided by this application's subscriptions.
     */
    Credential addCredential(TenantScope scope, Credential credential) {
        return tx.run(scope, c -> addCredential(c, scope, credential));
    }

    /** {@link #addCredential(TenantScope, Credential)} on {@code c}, a transaction confined to {@code scope}. */
    static Credential addCredential(Connection c, TenantScope scope, Credential credential) throws SQLException {
        Application app = lockApplication(c, credential.applicationId());
        if (credential.kind() == AuthMode.APIKEY) {
            // read under the scope's row-level security: another tenant's key is as absent as a missing one
            List<String> keyTenant = strings(c, "select tenant from api_keys where key_id = ?", credential.id());
            if (keyTenant.isEmpty() || !keyTenant.get(0).equals(app.tenant())) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.NOT_FOUND,
                        "API key " + credential.id() + " not found in tenant " + app.tenant() + ", application "
                                + app.id() + "'s");
            }
        }
        try (PreparedStatement ps = c.prepareStatement("insert into credential (id, kind, application_id, tenant,"
                + " state, api_key_id, expires_at) values (?, ?, ?, ?, 'active', ?, ?)")) {
            ps.setString(1, credential.id());
            ps.setString(2, lower(credential.kind()));
            ps.setString(3, app.id());
            ps.setString(4, app.tenant());
            ps.setString(5, credential.kind() == AuthMode.APIKEY ? credential.id() : null);
            ps.setTimestamp(
                    6,
                    credential
                            .expiresAt()
                            .map(t -> Timestamp.from(t.truncatedTo(ChronoUnit.MICROS)))
                            .orElse(null));
            ps.executeUpdate();
        }
        for (String sub : credential.subscriptionIds()) {
            if (!lockSubscription(c, sub, scope, Side.CUSTOMER).applicationId().equals(app.id())) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.NOT_FOUND,
                        "subscription " + sub + " not found among application " + app.id() + "'s");
            }
            try (PreparedStatement ps = c.prepareStatement("insert into credential_subscription (kind,"
                    + " credential_id, subscription_id) values (?, ?, ?)")) {
                ps.setString(1, lower(credential.kind()));
                ps.setString(2, credential.id());
                ps.setString(3, sub);
                ps.executeUpdate();
            }
        }
        return readCredential(c, credential.kind(), credential.id()).orElseThrow();
    }

    /**
     * Rotates (the predecessor keeps working until {@code overlapEndsAt}), revokes or expires a credential.
     * {@code overlapEndsAt} is required for rotation and ignored otherwise.
     */
    Credential moveCredential(
            TenantScope scope, AuthMode kind, String id, CredentialState to, Optional<Instant> overlapEndsAt) {
        return tx.run(scope, c -> moveCredential(c, kind, id, to, overlapEndsAt));
    }

    /** {@link #moveCredential(TenantScope, AuthMode, String, CredentialState, Optional)} on {@code c}. */
    static Credential moveCredential(
            Connection c, AuthMode kind, String id, CredentialState to, Optional<Instant> overlapEndsAt)
            throws SQLException {
        Credential cr = readCredential(c, kind, id, true).orElseThrow(() -> CatalogRefusal.notFound("credential", id));
        CredentialState.LIFECYCLE.move(cr.state(), to);
        if (to == CredentialState.ROTATING && overlapEndsAt.isEmpty()) {
            throw new CatalogRefusal(CatalogRefusal.Kind.INVALID, "rotation needs the end of the overlap window");
        }
        try (PreparedStatement ps = c.prepareStatement("update credential set state = ?, overlap_ends_at = ?,"
                + " updated_at = now() where kind = ? and id = ?")) {
            ps.setString(1, lower(to));
            // PostgreSQL keeps microseconds and rounds: truncate so a window never ends later than asked
            ps.setTimestamp(
                    2,
                    to == CredentialState.ROTATING
                            ? Timestamp.from(overlapEndsAt.orElseThrow().truncatedTo(ChronoUnit.MICROS))
                            : null);
            ps.setString(3, lower(kind));
            ps.setString(4, id);
            ps.executeUpdate();
        }
        return readCredential(c, kind, id).orElseThrow();
    }

    List<Credential> credentials(TenantScope scope) {
        return tx.run(scope, CatalogRows::credentialsIn);
    }
}
