package io.meshguard.testing.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.db.Migrations;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A 1.0 database starts from one script, the baseline, then the scripts written after it, and holds the rows the
 * servers expect from the start.
 */
@IntegrationTest
class MigrationsBaselineTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @Test
    void migratedDatabase_historyIsTheBaselineThenTheScriptsAfterIt() throws SQLException {
        List<String> history = history();
        assertThat(history).first().isEqualTo("1 baseline");
        assertThat(history).contains("95 server role");
        List<Integer> versions = history.stream()
                .map(h -> Integer.parseInt(h.substring(0, h.indexOf(' '))))
                .toList();
        assertThat(versions)
                .as("applied in version order, each once")
                .isSorted()
                .doesNotHaveDuplicates();
        assertThat(Migrations.currentVersion(PG.dataSource())).contains(String.valueOf(versions.getLast()));
        assertThat(Migrations.pendingVersions(PG.dataSource())).isEmpty();
    }

    @Test
    void baseline_createsTheRowsTheServersExpect() throws SQLException {
        try (Connection c = PG.dataSource().getConnection();
                Statement s = c.createStatement()) {
            assertThat(count(s, "select count(*) from tenant where id = 'default'"))
                    .isEqualTo(1);
            assertThat(count(s, "select count(*) from admin_trail_head")).isEqualTo(1);
            assertThat(count(s, "select count(*) from draft_generation")).isEqualTo(1);
        }
    }

    private static long count(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<String> history() throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Connection c = PG.dataSource().getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select version, description from flyway_schema_history"
                        + " where success order by installed_rank")) {
            while (rs.next()) {
                rows.add(rs.getString(1) + " " + rs.getString(2));
            }
        }
        return rows;
    }
}
