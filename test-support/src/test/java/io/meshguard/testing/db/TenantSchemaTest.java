package io.meshguard.testing.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.db.TenantScope;
import io.meshguard.db.TenantScopedTransactions;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * V35: tenant rows and row-level security. The admin plane's scoped transactions see and change only their tenants'
 * rows, whatever their queries say; the servers' own role sees every row.
 */
@IntegrationTest
class TenantSchemaTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static TenantScopedTransactions tx;

    @BeforeAll
    static void rows() {
        tx = new TenantScopedTransactions(PG.dataSource());
        PG.dsl().execute("insert into tenant (id) values ('acme'), ('globex')");
        PG.dsl().execute("insert into api (name) values ('legacy')");
        PG.dsl()
                .execute(
                        "insert into api (name, tenant) values ('acme-payments', 'acme'), ('globex-ledger', 'globex')");
        PG.dsl().execute("insert into api_version (api_id, version) select id, 'v1' from api");
        PG.dsl()
                .execute(
                        "insert into upstream (name, tenant) values ('acme-backend', 'acme'), ('globex-backend', 'globex')");
        PG.dsl()
                .execute(
                        "insert into upstream_endpoint (upstream_id, host, port) select id, 'backend', 8080 from upstream");
        PG.dsl()
                .execute("insert into api_keys (key_id, secret_sha256, name, owner, tenant, tier) values "
                        + "('acme000000000001', decode(repeat('00', 32), 'hex'), 'k', 'o', 'acme', 'free'), "
                        + "('globex0000000001', decode(repeat('00', 32), 'hex'), 'k', 'o', 'globex', 'free')");
    }

    private static List<String> names(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static List<String> query(TenantScope scope, String sql) throws SQLException {
        return tx.inScope(scope, c -> names(c, sql));
    }

    @Test
    void existingRows_moveIntoTheDefaultTenant() {
        assertThat(PG.dsl().fetchValue("select tenant from api where name = 'legacy'"))
                .isEqualTo("default");
    }

    @Test
    void scopedTransaction_seesOnlyItsTenantsRows_andTheirChildren_evenWithoutAFilter() throws Exception {
        TenantScope acme = TenantScope.of(Set.of("acme"));
        assertThat(query(acme, "select name from api order by name")).containsExactly("acme-payments");
        assertThat(query(acme, "select a.name from api_version v join api a on a.id = v.api_id"))
                .containsExactly("acme-payments");
        assertThat(query(acme, "select count(*) from api_version")).containsExactly("1");
        assertThat(query(acme, "select count(*) from upstream_endpoint")).containsExactly("1");
        assertThat(query(acme, "select key_id from api_keys")).containsExactly("acme000000000001");
        assertThat(query(TenantScope.of(Set.of("acme", "globex")), "select name from api order by name"))
                .containsExactly("acme-payments", "globex-ledger");
    }

    @Test
    void scopeWithoutTenants_seesNoTenantRow() throws Exception {
        assertThat(query(TenantScope.NONE, "select name from api")).isEmpty();
        assertThat(query(TenantScope.NONE, "select key_id from api_keys")).isEmpty();
        // operators' rows stay readable: tenants route through gateway groups they do not own
        assertThat(query(TenantScope.NONE, "select count(*) from gateway_group"))
                .hasSize(1);
    }

    @Test
    void scopedTransaction_cannotChangeOrCreateAnotherTenantsRows() throws Exception {
        TenantScope acme = TenantScope.of(Set.of("acme"));
        Integer updated = tx.inScope(acme, c -> {
            try (Statement st = c.createStatement()) {
                return st.executeUpdate("update api set description = 'x' where name = 'globex-ledger'");
            }
        });
        assertThat(updated).isZero();
        Integer deleted = tx.inScope(acme, c -> {
            try (Statement st = c.createStatement()) {
                return st.executeUpdate("delete from api_keys where key_id = 'globex0000000001'");
            }
        });
        assertThat(deleted).isZero();
        assertThatThrownBy(() -> tx.inScope(acme, c -> {
                    try (Statement st = c.createStatement()) {
                        return st.executeUpdate("insert into api (name, tenant) values ('planted', 'globex')");
                    }
                }))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("row-level security");
        assertThatThrownBy(() -> tx.inScope(acme, c -> {
                    try (Statement st = c.createStatement()) {
                        return st.executeUpdate("update api set tenant = 'globex' where name = 'acme-payments'");
                    }
                }))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("row-level security");
        assertThat(PG.dsl().fetchValue("select tenant from api where name = 'acme-payments'"))
                .isEqualTo("acme");
    }

    @Test
    void scopeEndsWithItsTransaction_aPooledConnectionSeesEverythingAfterwards() throws Exception {
        query(TenantScope.of(Set.of("acme")), "select name from api");
        assertThat(query(TenantScope.ALL, "select name from api order by name"))
                .containsExactly("acme-payments", "globex-ledger", "legacy");
        try (Connection c = PG.dataSource().getConnection()) {
            assertThat(names(c, "select current_user")).doesNotContain(TenantScopedTransactions.SCOPED_ROLE);
            assertThat(names(c, "select coalesce(current_setting('meshguard.tenants', true), '')"))
                    .containsExactly("");
        }
    }

    @Test
    void tenantIds_cannotSmuggleASecondTenantIntoTheSetting() {
        assertThatThrownBy(() -> TenantScope.of(Set.of("acme,globex"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TenantScope.of(Set.of("Acme"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PG.dsl().execute("insert into tenant (id) values ('a,b')"))
                .hasMessageContaining("tenant_id_check");
    }
}
