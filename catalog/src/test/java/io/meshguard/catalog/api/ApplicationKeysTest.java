package io.meshguard.catalog.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminTokenVerifier;
import io.meshguard.access.RoleBindings;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.apikey.ApiKeyAdmin;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalog.service.AdmittedCall;
import io.meshguard.catalog.service.OperationRefused;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.db.TenantScope;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An application's API key and its catalogue credential are written in one PostgreSQL transaction: against a real
 * database, a failure of the second write (a constraint PostgreSQL itself enforces, a transition the catalogue
 * refuses) leaves neither row, and no successor key survives a refused rotation.
 */
@IntegrationTest
class ApplicationKeysTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String BINDINGS = """
            claims: [groups]
            roles:
              customer:
                permissions: [application:read, application:create, credential:read, credential:create,
                              credential:rotate, credential:revoke, apikey:read, apikey:create, apikey:rotate,
                              apikey:revoke]
              no-keys:
                permissions: [application:read, credential:read, credential:create]
            bindings:
              - {match: globex-customers, role: customer, scope: "tenant:globex"}
              - {match: globex-binders, role: no-keys, scope: "tenant:globex"}
            """;

    static TestIssuer issuer;
    static AdminGate gate;
    static CatalogStore store;
    static ApplicationKeys keys;
    static final List<AdminEvent> EVENTS = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        issuer = new TestIssuer();
        PG.dsl().execute("insert into tenant (id) values ('globex')");
        gate = AdminGate.people(
                new AdminTokenVerifier(
                        new AdminTokenVerifier.Settings(issuer.issuer(), "meshguard-admin", Duration.ofSeconds(30))),
                RoleBindings.parse("bindings", BINDINGS),
                EVENTS::add,
                "admin.token_file");
        store = new CatalogStore(PG.dataSource());
        CatalogService catalog = new CatalogService(store, gate, EVENTS::add, Clock.systemUTC(), Optional.empty());
        ApiKeyAdmin admin = new ApiKeyAdmin(
                Optional.of(new JdbcApiKeyStore(PG.dataSource())),
                Clock.systemUTC(),
                gate,
                Optional.empty(),
                keyId -> {});
        keys = new ApplicationKeys(catalog, admin);
    }

    @AfterAll
    static void stop() {
        issuer.close();
    }

    static AdmittedCall as(String who, String group) {
        String token = issuer.accessToken(who, "meshguard-admin", List.of(group));
        return switch (gate.authenticate("Bearer " + token, "127.0.0.1", "req-" + who, "/test")) {
            case AdminGate.Admitted a -> new AdmittedCall(a, "req-" + who);
            case AdminGate.Refused r -> throw new AssertionError("not signed in: " + r.message());
        };
    }

    static AdmittedCall cora() {
        return as("cora", "globex-customers");
    }

    static String application(String id) {
        return store.createApplication(
                        TenantScope.of(java.util.Set.of("globex")),
                        new Application(id, "globex", "App " + id, ApplicationState.ACTIVE),
                        "cora")
                .id();
    }

    static long count(String sql) {
        return PG.dsl().fetchOne(sql).get(0, Long.class);
    }

    @Test
    void issue_whenTheCredentialInsertViolatesAConstraint_leavesNeitherTheKeyNorTheCredential() {
        String app = application("doomed");
        // a real constraint, enforced by PostgreSQL on the second insert (the credential row) only
        PG.dsl()
                .execute(
                        "alter table credential add constraint credential_not_doomed check (application_id <> 'doomed')");
        try {
            assertThatThrownBy(() -> keys.issue(cora(), app, "test"))
                    .isInstanceOfSatisfying(
                            OperationRefused.class, e -> assertThat(e.status()).isEqualTo(422));
        } finally {
            PG.dsl().execute("alter table credential drop constraint credential_not_doomed");
        }
        assertThat(count("select count(*) from api_keys where owner = 'doomed'"))
                .as("the key inserted first is rolled back with the credential")
                .isZero();
        assertThat(count("select count(*) from credential where application_id = 'doomed'"))
                .isZero();
        assertThat(EVENTS)
                .noneMatch(e -> e.target().startsWith("credential/apikey/")
                        && e.outcome().contains("doomed"));
    }

    @Test
    void issue_writesTheKeyAndItsCredentialTogether_andTheTextOnlyInTheAnswer() {
        String app = application("web");
        ApplicationKeys.IssuedKey issued = keys.issue(cora(), app, "test");
        assertThat(issued.credential().applicationId()).isEqualTo(app);
        assertThat(issued.credential().state()).isEqualTo(CredentialState.ACTIVE);
        assertThat(issued.key().tenant()).isEqualTo("globex");
        assertThat(issued.text()).startsWith("mgk_" + issued.key().keyId());
        assertThat(count("select count(*) from credential where kind = 'apikey' and api_key_id = '"
                        + issued.key().keyId() + "'"))
                .isEqualTo(1);
        assertThat(EVENTS)
                .anyMatch(e -> e.action().equals("credential:create")
                        && e.target().equals("credential/apikey/" + issued.key().keyId()));
    }

    @Test
    void issue_withoutTheApiKeyPermission_isRefused403_andWritesNothing() {
        String app = application("nokeys");
        assertThatThrownBy(() -> keys.issue(as("bert", "globex-binders"), app, "test"))
                .isInstanceOfSatisfying(
                        OperationRefused.class, e -> assertThat(e.status()).isEqualTo(403));
        assertThat(count("select count(*) from api_keys where owner = 'nokeys'"))
                .isZero();
    }

    @Test
    void rotate_refusedByTheCatalogue_leavesNoSuccessorKey_andThePredecessorUntouched() {
        String app = application("revoked-in-catalogue");
        String keyId = keys.issue(cora(), app, "test").key().keyId();
        // the catalogue says revoked, the key store does not: the catalogue refuses revoked -> rotating
        store.moveCredential(TenantScope.ALL, AuthMode.APIKEY, keyId, CredentialState.REVOKED, Optional.empty());

        assertThatThrownBy(() -> keys.rotate(cora(), keyId, Duration.ofHours(1), "test"))
                .isInstanceOfSatisfying(
                        OperationRefused.class, e -> assertThat(e.status()).isEqualTo(409));

        assertThat(count("select count(*) from api_keys where rotated_from = '" + keyId + "'"))
                .as("the successor inserted first is rolled back")
                .isZero();
        assertThat(count("select count(*) from api_keys where key_id = '" + keyId + "' and expires_at is null"))
                .as("the predecessor's expiry is not moved")
                .isEqualTo(1);
    }

    @Test
    void rotate_ofAKeyExpiredInTheKeyStore_refused409_andNoSuccessorKey() {
        String app = application("expired-key");
        String keyId = keys.issue(cora(), app, "test").key().keyId();
        PG.dsl().execute("update api_keys set expires_at = now() - interval '1 minute' where key_id = ?", keyId);

        assertThatThrownBy(() -> keys.rotate(cora(), keyId, Duration.ofHours(1), "test"))
                .isInstanceOfSatisfying(
                        OperationRefused.class, e -> assertThat(e.status()).isEqualTo(409));
        assertThat(count("select count(*) from api_keys where rotated_from = '" + keyId + "'"))
                .isZero();
    }

    @Test
    void rotate_ofAnExpiredCredential_refused409_andNoSuccessorKey() {
        String app = application("expired-credential");
        String keyId = keys.issue(cora(), app, "test").key().keyId();
        PG.dsl()
                .execute(
                        "update credential set expires_at = now() - interval '1 minute' where kind = 'apikey' and id = ?",
                        keyId);

        assertThatThrownBy(() -> keys.rotate(cora(), keyId, Duration.ofHours(1), "test"))
                .isInstanceOfSatisfying(
                        OperationRefused.class, e -> assertThat(e.status()).isEqualTo(409));
        assertThat(count("select count(*) from api_keys where rotated_from = '" + keyId + "'"))
                .isZero();
    }

    @Test
    void rotate_bindsTheSuccessor_andKeepsThePredecessorForTheOverlap() {
        String app = application("rotating");
        String keyId = keys.issue(cora(), app, "test").key().keyId();

        ApplicationKeys.RotatedKey rotated = keys.rotate(cora(), keyId, Duration.ofHours(1), "test");

        assertThat(rotated.successor().rotatedFrom()).contains(keyId);
        assertThat(rotated.credentials().predecessor().state()).isEqualTo(CredentialState.ROTATING);
        assertThat(rotated.credentials().successor().id())
                .isEqualTo(rotated.successor().keyId());
        assertThat(count("select count(*) from api_keys where key_id = '" + keyId + "' and expires_at is not null"))
                .isEqualTo(1);
        assertThat(rotated.predecessorValidUntil())
                .isAfter(java.time.Instant.now().plus(Duration.ofMinutes(59)));
    }

    @Test
    void revoke_revokesTheCredentialAndTheKeyTogether_orNeither() {
        String app = application("revoking");
        String keyId = keys.issue(cora(), app, "test").key().keyId();

        Credential revoked = keys.revoke(cora(), keyId, "leaked");
        assertThat(revoked.state()).isEqualTo(CredentialState.REVOKED);
        assertThat(count("select count(*) from api_keys where key_id = '" + keyId + "' and revoked_at is not null"))
                .isEqualTo(1);

        String other =
                keys.issue(cora(), application("revoked-twice"), "test").key().keyId();
        store.moveCredential(TenantScope.ALL, AuthMode.APIKEY, other, CredentialState.REVOKED, Optional.empty());
        assertThatThrownBy(() -> keys.revoke(cora(), other, "again"))
                .isInstanceOfSatisfying(
                        OperationRefused.class, e -> assertThat(e.status()).isEqualTo(409));
        assertThat(count("select count(*) from api_keys where key_id = '" + other + "' and revoked_at is null"))
                .as("the key store's revocation rolls back with the refused credential move")
                .isEqualTo(1);
    }
}
