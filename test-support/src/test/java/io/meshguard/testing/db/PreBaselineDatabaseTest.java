package io.meshguard.testing.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.db.Migrations;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A database migrated by a build from before 1.0 (its version 1 is the old first script, not the baseline) is
 * refused with a message that says what it is and what to do, and is left as it was.
 */
@IntegrationTest
class PreBaselineDatabaseTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension().withoutMigrations();

    @Test
    void apply_onAPre10Database_refusedAndUntouched() throws SQLException {
        Flyway.configure(PreBaselineDatabaseTest.class.getClassLoader())
                .dataSource(PG.dataSource())
                .locations("classpath:io/meshguard/testing/db/pre-1.0")
                .load()
                .migrate();

        assertThatThrownBy(() -> Migrations.apply(PG.dataSource()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("from before 1.0")
                .hasMessageContaining("'audit event'")
                .hasMessageContaining("create an empty database");

        try (Connection c = PG.dataSource().getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select count(*), max(description) from flyway_schema_history")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(1);
            assertThat(rs.getString(2)).isEqualTo("audit event");
        }
        try (Connection c = PG.dataSource().getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select to_regclass('tenant') is null")) {
            rs.next();
            assertThat(rs.getBoolean(1)).as("the baseline did not run").isTrue();
        }
    }
}
