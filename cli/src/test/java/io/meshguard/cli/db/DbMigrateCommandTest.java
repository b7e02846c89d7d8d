package io.meshguard.cli.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.cli.CliRun;
import io.meshguard.db.Migrations;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The migration Job's command on an empty database, as on install day, and again as on an upgrade with nothing new. */
@IntegrationTest
class DbMigrateCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension().withoutMigrations();

    private static String dbUrl() {
        String sep = PG.jdbcUrl().contains("?") ? "&" : "?";
        return PG.jdbcUrl() + sep + "user=" + PG.user() + "&password=" + PG.password();
    }

    @Test
    void migrate_onEmptyDatabase_appliesEveryScript_thenStatusIsCurrentAndASecondRunAppliesNothing() {
        CliRun before = CliRun.of("db", "status", "--db", dbUrl());
        assertThat(before.exit()).as(before.err()).isEqualTo(1);
        List<String> every = Migrations.pendingVersions(PG.dataSource());
        assertThat(every).as("the scripts the jar carries").hasSizeGreaterThan(1);
        assertThat(before.out()).contains("schema version: none").contains("pending: " + String.join(", ", every));

        CliRun migrate = CliRun.of("db", "migrate", "--db", dbUrl());
        assertThat(migrate.exit()).as(migrate.err()).isZero();
        String newest = Migrations.currentVersion(PG.dataSource()).orElseThrow();
        assertThat(migrate.out()).contains("schema migrated from version none to " + newest);

        CliRun after = CliRun.of("db", "status", "--db", dbUrl());
        assertThat(after.exit()).isZero();
        assertThat(after.out()).contains("schema version: " + newest).contains("pending: none");
        // a tool at a terminal: its answer, not the libraries' INFO lines (Flyway's database URL, once per pool)
        assertThat(after.logLines()).as("log lines of `db status`").isEmpty();
        CliRun again = CliRun.of("db", "migrate", "--db", dbUrl());
        assertThat(again.exit()).isZero();
        assertThat(again.out()).contains("schema at version " + newest + ": nothing to apply");
    }

    @Test
    void migrate_withoutSubcommandOrWithABadUrl_isAUsageError() {
        assertThat(CliRun.of("db").exit()).isEqualTo(2);
        CliRun bad = CliRun.of("db", "migrate", "--db", "postgres://x/y");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("jdbc:postgresql:");
    }
}
