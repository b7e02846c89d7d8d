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
import org.junit.jupiter.api.Test;

@IntegrationTest
class ClassDatabaseTest {

    @Test
    void close_dropsTheDatabase_evenWithAConnectionLeftOpen() throws SQLException {
        PostgresServer server = SharedPostgresServer.get();
        ClassDatabase db = ClassDatabase.create(server, ClassDatabaseTest.class, false);
        assertThat(exists(server, db.name())).isTrue();
        Connection leaked = DriverManager.getConnection(db.jdbcUrl(), server.user(), server.password());

        db.close();

        assertThat(exists(server, db.name())).isFalse();
        assertThat(db.dataSource().isClosed()).isTrue();
        assertThat(leaked.isValid(2)).isFalse();
        leaked.close();
    }

    @Test
    void copyOf_migratedTemplate_givesIndependentMigratedDatabases() throws SQLException {
        PostgresServer server = SharedPostgresServer.get();
        String template = SharedPostgresServer.migratedTemplate();

        try (ClassDatabase a = ClassDatabase.copyOf(server, ClassDatabaseTest.class, template);
                ClassDatabase b = ClassDatabase.copyOf(server, ClassDatabaseTest.class, template)) {
            assertThat(Migrations.currentVersion(a.dataSource()))
                    .isEqualTo(Migrations.currentVersion(b.dataSource()))
                    .isPresent();
            a.dsl()
                    .insertInto(GATEWAY_GROUP, GATEWAY_GROUP.NAME, GATEWAY_GROUP.ENVIRONMENT)
                    .values("in-a", "test")
                    .execute();
            assertThat(a.dsl().fetchCount(GATEWAY_GROUP)).isEqualTo(1);
            assertThat(b.dsl().fetchCount(GATEWAY_GROUP)).isZero();
        }
        assertThat(exists(server, template)).isTrue();
        assertThatThrownBy(() -> DriverManager.getConnection(server.jdbcUrl(template), server.user(), server.password())
                        .close())
                .as("nobody may connect to the template, or copying it fails")
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("not currently accepting connections");
    }

    @Test
    void uniqueName_readableLowerCaseAndWithinPostgresLimit() {
        class AVeryLongTestClassNameThatGoesOnAndOnWellPastSixtyThreeCharactersOfIdentifierSpace {}

        String name = ClassDatabase.uniqueName(
                AVeryLongTestClassNameThatGoesOnAndOnWellPastSixtyThreeCharactersOfIdentifierSpace.class);
        String other = ClassDatabase.uniqueName(
                AVeryLongTestClassNameThatGoesOnAndOnWellPastSixtyThreeCharactersOfIdentifierSpace.class);

        assertThat(name).startsWith("mg_a_very_long_test_class").matches("[a-z0-9_]{1,63}");
        assertThat(name).isNotEqualTo(other);
        assertThat(ClassDatabase.uniqueName(ClassDatabaseTest.class)).matches("mg_class_database_test_[0-9a-f]{8}");
    }

    static boolean exists(PostgresServer server, String database) throws SQLException {
        try (Connection c = DriverManager.getConnection(
                        server.jdbcUrl(server.adminDatabase()), server.user(), server.password());
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select 1 from pg_database where datname = '" + database + "'")) {
            return rs.next();
        }
    }
}
