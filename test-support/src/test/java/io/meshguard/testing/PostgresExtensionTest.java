package io.meshguard.testing;

import static io.meshguard.testing.jooq.Tables.GATEWAY_GROUP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.db.Migrations;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.jooq.SQLDialect;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@IntegrationTest
class PostgresExtensionTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @RegisterExtension
    static final PostgresExtension EMPTY = new PostgresExtension().withoutMigrations();

    private static String outerDatabase;

    @BeforeAll
    static void rememberDatabase() {
        outerDatabase = PG.databaseName();
    }

    @Test
    void database_namedAfterTestClass_andIsWhatTheUrlPointsAt() throws SQLException {
        assertThat(PG.databaseName()).startsWith("mg_postgres_extension_test_");
        assertThat(PG.jdbcUrl()).contains("/" + PG.databaseName());
        try (Connection c = DriverManager.getConnection(PG.jdbcUrl(), PG.user(), PG.password())) {
            assertThat(single(c, "select current_database()")).isEqualTo(PG.databaseName());
        }
    }

    @Test
    void default_hasMigrationsApplied() {
        assertThat(Migrations.currentVersion(PG.dataSource())).isPresent();
        assertThat(PG.dsl().fetchCount(GATEWAY_GROUP)).isZero();
    }

    @Test
    void withoutMigrations_isEmpty() {
        assertThat(Migrations.currentVersion(EMPTY.dataSource())).isEmpty();
        assertThat(EMPTY.dsl().fetchValue("select count(*) from pg_tables where schemaname = 'public'"))
                .isEqualTo(0L);
    }

    @Test
    void twoExtensionsInOneClass_getSeparateDatabases() {
        assertThat(EMPTY.databaseName()).isNotEqualTo(PG.databaseName());
        PG.dsl()
                .insertInto(GATEWAY_GROUP, GATEWAY_GROUP.NAME, GATEWAY_GROUP.ENVIRONMENT)
                .values("only-here", "test")
                .execute();

        assertThat(PG.dsl().fetchExists(GATEWAY_GROUP, GATEWAY_GROUP.NAME.eq("only-here")))
                .isTrue();
        assertThat(EMPTY.dsl().fetchValue("select to_regclass('gateway_group')"))
                .isNull();
    }

    @Test
    void dataSourceAndDsl_arePostgresAndPooled() throws SQLException {
        assertThat(PG.dsl().dialect()).isEqualTo(SQLDialect.POSTGRES);
        assertThat(PG.dataSource().getPoolName()).isEqualTo(PostgresDatabase.APPLICATION_NAME);
        try (Connection c = PG.dataSource().getConnection()) {
            assertThat(single(c, "select application_name from pg_stat_activity where pid = pg_backend_pid()"))
                    .isEqualTo(PostgresDatabase.APPLICATION_NAME);
        }
    }

    @Test
    void dbSettings_pointAtTheClassDatabase() {
        assertThat(PG.dbSettings().jdbcUrl()).isEqualTo(PG.jdbcUrl());
        assertThat(PG.dbSettings().user()).isEqualTo(PG.user());
        assertThat(PG.dbSettings().password()).isEqualTo(PG.password());
    }

    @Test
    void backend_followsTheDocumentedOrder() {
        String url = System.getenv(ExternalPostgresServer.URL_VARIABLE);
        if (url != null && !url.isBlank()) {
            assertThat(PG.backend()).isEqualTo("external");
        } else {
            assertThat(PG.backend()).isIn("testcontainers", "embedded");
        }
    }

    @Test
    void notRegistered_accessFailsWithHowToUseIt() {
        PostgresExtension unregistered = new PostgresExtension();

        assertThatThrownBy(unregistered::jdbcUrl)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("@RegisterExtension static final PostgresExtension");
    }

    @Nested
    class NestedClass {
        @Test
        void sharesTheOuterClassDatabase() {
            assertThat(PG.databaseName()).isEqualTo(outerDatabase);
            assertThat(PG.dsl().fetchValue("select current_database()")).isEqualTo(outerDatabase);
        }
    }

    private static String single(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
