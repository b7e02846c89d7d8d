package io.meshguard.cli.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.db.Migrations;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A controller told not to migrate (its role has DML only) refuses to start on a schema that lacks this release's
 * scripts, names them and what applies them, and changes nothing; once the migrate Job ran, the check passes.
 */
@IntegrationTest
class XdsStartupSchemaTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension().withoutMigrations();

    @Test
    void start_withoutMigrateOnStart_onAnOldSchema_refusesNamingThePendingScripts() throws Exception {
        var config = ConfigLoader.load(
                XdsCommand.schema(),
                Optional.empty(),
                Map.of(
                        "MESHGUARD_DB_URL", PG.jdbcUrl(),
                        "MESHGUARD_DB_USER", PG.user(),
                        "MESHGUARD_DB_PASSWORD", PG.password(),
                        "MESHGUARD_XDS_MIGRATE_ON_START", "false"));

        assertThatThrownBy(() -> XdsCommand.start(config, Map.of()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("schema is at version none")
                .hasMessageContaining("meshguard db migrate");
        assertThat(Migrations.currentVersion(PG.dataSource()))
                .as("nothing applied")
                .isEmpty();

        Migrations.apply(PG.dataSource());
        assertThat(Migrations.requireCurrent(PG.dataSource()))
                .isEqualTo(Migrations.currentVersion(PG.dataSource()).orElseThrow());
    }
}
