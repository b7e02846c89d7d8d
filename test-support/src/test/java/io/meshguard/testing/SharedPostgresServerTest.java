package io.meshguard.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.util.Map;
import org.junit.jupiter.api.Test;

@IntegrationTest
class SharedPostgresServerTest {

    @Test
    void select_jdbcUrlSet_usesThatServerWithoutProbingDocker() throws SQLException {
        PostgresServer real = SharedPostgresServer.get();
        String adminUrl = real.jdbcUrl(real.adminDatabase()) + "?ApplicationName=external-probe";
        Map<String, String> env = Map.of(
                ExternalPostgresServer.URL_VARIABLE, adminUrl,
                ExternalPostgresServer.USER_VARIABLE, real.user(),
                ExternalPostgresServer.PASSWORD_VARIABLE, real.password());

        PostgresServer external = SharedPostgresServer.select(env, () -> {
            throw new AssertionError("Docker must not be probed when a URL is given");
        });

        assertThat(external.backend()).isEqualTo("external");
        ClassDatabase db = ClassDatabase.create(external, SharedPostgresServerTest.class, true);
        try {
            assertThat(db.jdbcUrl()).endsWith("/" + db.name() + "?ApplicationName=external-probe");
            assertThat(db.dsl().fetchValue("select to_regclass('audit_event')::text"))
                    .isEqualTo("audit_event");
        } finally {
            db.close();
        }
        assertThat(ClassDatabaseTest.exists(real, db.name())).isFalse();
    }

    @Test
    void select_noUrlAndNoDocker_startsEmbeddedServer() throws SQLException {
        PostgresServer embedded = SharedPostgresServer.select(Map.of(), () -> false);
        try {
            assertThat(embedded.backend()).isEqualTo("embedded");
            ClassDatabase db = ClassDatabase.create(embedded, SharedPostgresServerTest.class, false);
            assertThat(db.dsl().fetchValue("select current_database()")).isEqualTo(db.name());
            db.close();
        } finally {
            embedded.close();
        }
    }

    @Test
    void databaseUrl_replacesDatabase_keepsHostsAndParameters() {
        assertThat(ExternalPostgresServer.databaseUrl(
                        "jdbc:postgresql://db1:5432,db2:5433/postgres?user=a&sslmode=require", "mg_x"))
                .isEqualTo("jdbc:postgresql://db1:5432,db2:5433/mg_x?user=a&sslmode=require");
        assertThat(ExternalPostgresServer.databaseUrl("jdbc:postgresql://db:5432", "mg_x"))
                .isEqualTo("jdbc:postgresql://db:5432/mg_x");
        assertThat(ExternalPostgresServer.databaseUrl("jdbc:postgresql://db/?user=a", "mg_x"))
                .isEqualTo("jdbc:postgresql://db/mg_x?user=a");
    }

    @Test
    void fromEnvironment_credentialsInUrl_used_andVariablesWin() {
        ExternalPostgresServer fromUrl = ExternalPostgresServer.fromEnvironment(
                Map.of(ExternalPostgresServer.URL_VARIABLE, "jdbc:postgresql://db:5432/admin?user=ci&password=pw"));
        assertThat(fromUrl.user()).isEqualTo("ci");
        assertThat(fromUrl.password()).isEqualTo("pw");
        assertThat(fromUrl.adminDatabase()).isEqualTo("admin");

        ExternalPostgresServer overridden = ExternalPostgresServer.fromEnvironment(Map.of(
                ExternalPostgresServer.URL_VARIABLE, "jdbc:postgresql://db:5432/?user=ci&password=pw",
                ExternalPostgresServer.USER_VARIABLE, "other",
                ExternalPostgresServer.PASSWORD_VARIABLE, "secret"));
        assertThat(overridden.user()).isEqualTo("other");
        assertThat(overridden.password()).isEqualTo("secret");
        assertThat(overridden.adminDatabase()).isEqualTo("postgres");
        assertThat(overridden.toString()).doesNotContain("pw");
    }

    @Test
    void fromEnvironment_noUser_rejectedWithHint() {
        assertThatThrownBy(() -> ExternalPostgresServer.fromEnvironment(
                        Map.of(ExternalPostgresServer.URL_VARIABLE, "jdbc:postgresql://db:5432/postgres")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ExternalPostgresServer.USER_VARIABLE);
    }

    @Test
    void fromEnvironment_notAPostgresUrl_rejectedWithoutShowingPassword() {
        assertThatThrownBy(() -> ExternalPostgresServer.fromEnvironment(
                        Map.of(ExternalPostgresServer.URL_VARIABLE, "jdbc:mysql://db/x?user=a&password=topsecret")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(ExternalPostgresServer.URL_VARIABLE)
                .hasMessageNotContaining("topsecret");
    }
}
