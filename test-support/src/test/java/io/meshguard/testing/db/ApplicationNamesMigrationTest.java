package io.meshguard.testing.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.db.Migrations;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * V109: a database whose tenants have applications sharing a name (in any case) is upgraded by numbering all but the
 * oldest, then no two applications of one tenant can share a name again; two tenants still can.
 */
@IntegrationTest
class ApplicationNamesMigrationTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension().withoutMigrations();

    @BeforeAll
    static void databaseAsTheLastReleaseLeftIt() {
        Flyway.configure()
                .dataSource(PG.dataSource())
                .locations(Migrations.LOCATION)
                .target("108")
                .load()
                .migrate();
        PG.dsl().execute("insert into tenant (id) values ('acme'), ('globex')");
        PG.dsl()
                .execute("insert into application (id, tenant, name, owner, created_at) values"
                        + " ('acme-c', 'acme', 'shop', 'o', '2026-03-01T00:00:00Z'),"
                        + " ('acme-a', 'acme', 'Shop', 'o', '2026-01-01T00:00:00Z'),"
                        + " ('acme-b', 'acme', 'Shop', 'o', '2026-02-01T00:00:00Z'),"
                        // a number the renaming would otherwise give is already somebody's name
                        + " ('acme-x', 'acme', 'Shop (2)', 'o', '2026-04-01T00:00:00Z'),"
                        + " ('acme-y', 'acme', 'Batch', 'o', '2026-01-01T00:00:00Z'),"
                        + " ('globex-a', 'globex', 'Shop', 'o', '2026-05-01T00:00:00Z')");
        Migrations.apply(PG.dataSource());
    }

    private static List<String> names(String tenant) {
        return PG.dsl()
                .resultQuery("select id, name from application where tenant = ? order by id", tenant)
                .fetch()
                .map(r -> r.get(0) + "=" + r.get(1));
    }

    @Test
    void upgrade_keepsTheOldest_andNumbersTheOthersByCreation_skippingTakenNumbers() {
        assertThat(names("acme"))
                .containsExactly(
                        "acme-a=Shop", "acme-b=Shop (3)", "acme-c=shop (4)", "acme-x=Shop (2)", "acme-y=Batch");
        assertThat(names("globex")).containsExactly("globex-a=Shop");
    }

    @Test
    void afterUpgrade_aTenantsSecondApplicationOfOneName_isRefusedInAnyCase_anotherTenantsIsNot() {
        assertThatThrownBy(() -> PG.dsl()
                        .execute("insert into application (id, tenant, name, owner) values ('acme-z', 'acme', 'BATCH',"
                                + " 'o')"))
                .hasMessageContaining("application_name_uk");
        PG.dsl()
                .execute(
                        "insert into application (id, tenant, name, owner) values ('globex-b', 'globex', 'Batch', 'o')");
        assertThat(names("globex")).contains("globex-b=Batch");
    }
}
