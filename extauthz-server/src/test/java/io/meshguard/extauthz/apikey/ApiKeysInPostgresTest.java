package io.meshguard.extauthz.apikey;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.request.AuthResult;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.apikey.ApiKey;
import io.meshguard.catalogmodel.apikey.ApiKeySecret;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.MovableClock;
import io.meshguard.testing.PostgresExtension;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** API keys in a real PostgreSQL: stored hashed, checked, rotated, revoked, counted. */
@IntegrationTest
class ApiKeysInPostgresTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private final MovableClock clock = new MovableClock(Instant.parse("2026-11-21T10:00:00Z"));
    private final JdbcApiKeyStore store = new JdbcApiKeyStore(PG.dataSource());
    private final ApiKeyService service = new ApiKeyService(store, clock);

    private ApiKeyAuthenticator authenticator() {
        return new ApiKeyAuthenticator(store, clock, Duration.ZERO);
    }

    @Test
    void create_storesOnlyAHash_andTheKeyAuthenticatesWithItsIdentity() throws Exception {
        ApiKeyService.Created created = service.create(
                "ci",
                "team-payments",
                "acme",
                List.of("deployer"),
                List.of("deploy:write"),
                "premium",
                Optional.empty());
        assertThat(created.text())
                .startsWith("mgk_" + created.key().keyId() + "_")
                .hasSize(4 + 16 + 1 + 43);
        try (Connection c = PG.dataSource().getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT * FROM api_keys")) {
            assertThat(rs.next()).isTrue();
            String secret = created.text().substring(21);
            for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                Object v = rs.getObject(i);
                String text = v instanceof byte[] b ? new String(b, StandardCharsets.ISO_8859_1) : String.valueOf(v);
                assertThat(text).as(rs.getMetaData().getColumnName(i)).doesNotContain(secret);
            }
            assertThat(rs.getBytes("secret_sha256")).hasSize(32);
        }
        AuthResult r = authenticator().authenticate(created.text());
        assertThat(r).isInstanceOfSatisfying(AuthResult.Authenticated.class, a -> {
            assertThat(a.identity().subject()).isEqualTo("team-payments");
            assertThat(a.identity().tenant()).contains("acme");
            assertThat(a.identity().roles()).containsExactly("deployer");
            assertThat(a.identity().tier()).contains("premium");
            assertThat(a.identity().credentialId()).contains(created.key().keyId());
        });
    }

    @Test
    void wrongSecretForARealKeyId_isRejected() throws Exception {
        ApiKeyService.Created created =
                service.create("ci", "o", "acme", List.of(), List.of(), "free", Optional.empty());
        String forged = created.text().substring(0, 21) + "A".repeat(43);
        assertThat(authenticator().authenticate(forged))
                .isInstanceOfSatisfying(
                        AuthResult.Rejected.class,
                        rj -> assertThat(rj.reason().code()).isEqualTo("invalid_api_key"));
        assertThat(authenticator().authenticate("not-a-key"))
                .isInstanceOfSatisfying(
                        AuthResult.Rejected.class,
                        rj -> assertThat(rj.reason().code()).isEqualTo("invalid_api_key"));
    }

    @Test
    void rotate_newKeyWorks_oldKeyWorksDuringGraceThenExpires() throws Exception {
        ApiKeyService.Created old =
                service.create("batch", "o", "acme", List.of("r"), List.of(), "free", Optional.empty());
        ApiKeyService.Created next = service.rotate(old.key().keyId(), Duration.ofHours(1));
        assertThat(next.key().rotatedFrom()).contains(old.key().keyId());
        assertThat(next.key().tenant()).isEqualTo("acme");
        assertThat(authenticator().authenticate(next.text())).isInstanceOf(AuthResult.Authenticated.class);
        assertThat(authenticator().authenticate(old.text())).isInstanceOf(AuthResult.Authenticated.class);
        clock.advance(Duration.ofHours(2));
        assertThat(authenticator().authenticate(old.text()))
                .isInstanceOfSatisfying(
                        AuthResult.Rejected.class,
                        rj -> assertThat(rj.reason().code()).isEqualTo("api_key_expired"));
        assertThat(authenticator().authenticate(next.text())).isInstanceOf(AuthResult.Authenticated.class);
    }

    @Test
    void revoke_isImmediateWithoutCache_andListHidesRevokedUnlessAsked() throws Exception {
        ApiKeyService.Created k = service.create("old", "o", "acme", List.of(), List.of(), "free", Optional.empty());
        assertThat(service.revoke(k.key().keyId())).isTrue();
        assertThat(service.revoke(k.key().keyId())).isFalse();
        assertThat(authenticator().authenticate(k.text()))
                .isInstanceOfSatisfying(
                        AuthResult.Rejected.class,
                        rj -> assertThat(rj.reason().code()).isEqualTo("api_key_revoked"));
        assertThat(service.list(false))
                .extracting(ApiKey::keyId)
                .doesNotContain(k.key().keyId());
        assertThat(service.list(true))
                .extracting(ApiKey::keyId)
                .contains(k.key().keyId());
        assertThatThrownBy(() -> service.rotate(k.key().keyId(), Duration.ofHours(1)))
                .hasMessageContaining("revoked");
    }

    @Test
    void usage_isCountedAndFlushed() throws Exception {
        ApiKeyService.Created k = service.create("u", "o", "acme", List.of(), List.of(), "free", Optional.empty());
        ApiKeyAuthenticator auth = authenticator();
        for (int i = 0; i < 5; i++) {
            auth.authenticate(k.text());
        }
        auth.flushUsage();
        auth.authenticate(k.text());
        auth.flushUsage();
        ApiKey stored = store.find(k.key().keyId()).orElseThrow().key();
        assertThat(stored.useCount()).isEqualTo(6);
        assertThat(stored.lastUsedAt()).contains(clock.instant());
    }

    @Test
    void lastUsed_isWhenTheKeyWasUsed_notWhenTheUsesWereWritten() throws Exception {
        ApiKeyService.Created k = service.create("u", "o", "acme", List.of(), List.of(), "free", Optional.empty());
        ApiKeyAuthenticator auth = authenticator();
        auth.authenticate(k.text());
        java.time.Instant usedAt = clock.instant();
        clock.advance(Duration.ofMinutes(5));
        auth.flushUsage();
        ApiKey stored = store.find(k.key().keyId()).orElseThrow().key();
        assertThat(stored.useCount()).isEqualTo(1);
        assertThat(stored.lastUsedAt()).contains(usedAt);
    }

    @Test
    void badInput_isRefusedClearly() {
        assertThatThrownBy(() -> service.create("n", "", "acme", List.of(), List.of(), "free", Optional.empty()))
                .hasMessageContaining("owner must not be empty");
        assertThatThrownBy(() ->
                        service.create("n", "o", "acme", List.of(), List.of(), "free", Optional.of(clock.instant())))
                .hasMessageContaining("not in the future");
        assertThatThrownBy(() -> service.rotate("0000000000000000", Duration.ofHours(1)))
                .hasMessageContaining("no API key");
    }

    @Test
    void storeDown_deniesWith503_notAnAllow() throws Exception {
        com.zaxxer.hikari.HikariDataSource closed = new com.zaxxer.hikari.HikariDataSource();
        closed.setJdbcUrl("jdbc:postgresql://127.0.0.1:1/none");
        closed.setInitializationFailTimeout(-1);
        closed.setConnectionTimeout(250);
        try (closed) {
            ApiKeyAuthenticator auth = new ApiKeyAuthenticator(new JdbcApiKeyStore(closed), clock, Duration.ZERO);
            String someKey = ApiKeySecret.mint().text();
            assertThat(auth.authenticate(someKey)).isInstanceOfSatisfying(AuthResult.Rejected.class, rj -> assertThat(
                            rj.reason().status())
                    .isEqualTo(503));
        }
    }
}
