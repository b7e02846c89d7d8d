package io.meshguard.testing.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.db.TenantScope;
import io.meshguard.db.TenantScopedTransactions;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
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
 * V43: the catalogue's tables. Providers see their own products, plans and publishes plus the public catalogue;
 * customers their own applications and credentials; a subscription both sides; nobody another tenant's drafts.
 */
@IntegrationTest
class CatalogSchemaTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static TenantScopedTransactions tx;
    private static final TenantScope ACME = TenantScope.of(Set.of("acme"));
    private static final TenantScope GLOBEX = TenantScope.of(Set.of("globex"));
    private static final TenantScope INITECH = TenantScope.of(Set.of("initech"));

    @BeforeAll
    static void rows() {
        tx = new TenantScopedTransactions(PG.dataSource());
        PG.dsl().execute("insert into tenant (id) values ('acme'), ('globex'), ('initech')");
        PG.dsl()
                .execute(
                        "insert into api (name, tenant) values ('acme-payments', 'acme'), ('globex-ledger', 'globex')");
        PG.dsl().execute("insert into cluster (id, region) values ('local', 'local')");
        PG.dsl()
                .execute(
                        "insert into product (id, tenant, name, updated_by) values ('payments', 'acme', 'Payments', 'a')");
        PG.dsl()
                .execute("insert into product (id, tenant, name, visibility, state, updated_by)"
                        + " values ('ledger', 'globex', 'Ledger', 'public', 'published', 'g')");
        PG.dsl()
                .execute("insert into product_operation (product_id, id, api_id, method, path)"
                        + " select 'ledger', 'list', id, 'GET', '/entries' from api where name = 'globex-ledger'");
        PG.dsl()
                .execute("insert into plan (id, product_id, name, state, auth_modes) values"
                        + " ('payments-free', 'payments', 'free', 'staging', array['apikey']),"
                        + " ('ledger-free', 'ledger', 'free', 'published', array['apikey']),"
                        + " ('ledger-secret', 'ledger', 'secret', 'staging', array['apikey'])");
        PG.dsl()
                .execute("insert into product_publish (id, product_id, cluster_id, environment, auth_mode, state, host,"
                        + " gateway_group) values ('ledger-dev', 'ledger', 'local', 'dev', 'apikey', 'published',"
                        + " 'ledger.dev.local.api.example.test', 'local'),"
                        + " ('ledger-prod', 'ledger', 'local', 'prod', 'apikey', 'draft',"
                        + " 'ledger.prod.local.api.example.test', 'local')");
        PG.dsl()
                .execute(
                        "insert into application (id, tenant, name, owner) values ('initech-app', 'initech', 'App', 'i')");
        PG.dsl()
                .execute("insert into subscription (id, application_id, publish_id, plan_id, state, provider_tenant,"
                        + " customer_tenant, requested_by) values ('sub-1', 'initech-app', 'ledger-dev', 'ledger-free',"
                        + " 'pending', 'globex', 'initech', 'i')");
        PG.dsl()
                .execute("insert into api_keys (key_id, secret_sha256, name, owner, tenant, tier) values "
                        + "('initech000000001', decode(repeat('00', 32), 'hex'), 'k', 'o', 'initech', 'free')");
        PG.dsl()
                .execute("insert into credential (id, kind, application_id, tenant, api_key_id) values"
                        + " ('initech000000001', 'apikey', 'initech-app', 'initech', 'initech000000001')");
    }

    private static List<String> query(TenantScope scope, String sql) throws SQLException {
        return tx.inScope(scope, c -> {
            List<String> out = new ArrayList<>();
            try (Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery(sql)) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        });
    }

    private static int update(TenantScope scope, String sql) throws SQLException {
        return tx.inScope(scope, c -> {
            try (Statement st = c.createStatement()) {
                return st.executeUpdate(sql);
            }
        });
    }

    @Test
    void provider_seesItsOwnDrafts_andOnlyThePublishedPublicCatalogueOfOthers() throws Exception {
        assertThat(query(ACME, "select id from product order by id")).containsExactly("ledger", "payments");
        assertThat(query(ACME, "select id from plan order by id")).containsExactly("ledger-free", "payments-free");
        assertThat(query(ACME, "select id from product_publish")).containsExactly("ledger-dev");
        assertThat(query(GLOBEX, "select id from plan order by id")).containsExactly("ledger-free", "ledger-secret");
        assertThat(query(GLOBEX, "select id from product_publish order by id"))
                .containsExactly("ledger-dev", "ledger-prod");
    }

    @Test
    void catalogue_isReadOnly_forOtherTenants() throws Exception {
        assertThat(update(ACME, "update product set name = 'Hijacked' where id = 'ledger'"))
                .isZero();
        assertThat(update(ACME, "update plan set state = 'closed' where id = 'ledger-free'"))
                .isZero();
        assertThat(update(ACME, "delete from product_operation where product_id = 'ledger'"))
                .isZero();
        assertThatThrownBy(() -> update(
                        ACME,
                        "insert into plan (id, product_id, name, auth_modes)"
                                + " values ('planted', 'ledger', 'planted', array['apikey'])"))
                .hasMessageContaining("row-level security");
        assertThat(PG.dsl().fetchValue("select name from product where id = 'ledger'"))
                .isEqualTo("Ledger");
    }

    @Test
    void subscription_isVisibleToProviderAndCustomer_only() throws Exception {
        assertThat(query(GLOBEX, "select id from subscription")).containsExactly("sub-1");
        assertThat(query(INITECH, "select id from subscription")).containsExactly("sub-1");
        assertThat(query(ACME, "select id from subscription")).isEmpty();
        assertThat(update(ACME, "update subscription set state = 'active'")).isZero();
    }

    @Test
    void applicationsAndCredentials_stayWithTheCustomer() throws Exception {
        assertThat(query(INITECH, "select id from credential")).containsExactly("initech000000001");
        assertThat(query(GLOBEX, "select id from credential")).isEmpty();
        assertThat(query(GLOBEX, "select id from application")).isEmpty();
    }

    @Test
    void oneHost_cannotBeClaimedTwice_andProductIdsAreHostLabels() {
        assertThatThrownBy(() -> PG.dsl()
                        .execute("insert into product_publish (id, product_id, cluster_id,"
                                + " environment, auth_mode, host, gateway_group) values ('dup', 'payments', 'local', 'dev', 'apikey',"
                                + " 'ledger.dev.local.api.example.test', 'local')"))
                .hasMessageContaining("product_publish_host_uk");
        assertThatThrownBy(() -> PG.dsl()
                        .execute("insert into product (id, tenant, name, updated_by)"
                                + " values ('Pay.ments', 'acme', 'x', 'a')"))
                .hasMessageContaining("product_id_check");
    }

    @Test
    void rowsHoldOnlyStatesAndShapesTheModelKnows() {
        assertThatThrownBy(() -> PG.dsl()
                        .execute("insert into plan (id, product_id, name, auth_modes)"
                                + " values ('p', 'payments', 'p', array['basic'])"))
                .hasMessageContaining("plan_auth_modes_check");
        assertThatThrownBy(() -> PG.dsl()
                        .execute("insert into plan (id, product_id, name, auth_modes)"
                                + " values ('p', 'payments', 'p', array[]::varchar[])"))
                .hasMessageContaining("plan_auth_modes_check");
        assertThatThrownBy(() -> PG.dsl()
                        .execute("insert into credential (id, kind, application_id, tenant)"
                                + " values ('x', 'apikey', 'initech-app', 'initech')"))
                .hasMessageContaining("credential_apikey_check");
        assertThatThrownBy(() -> PG.dsl()
                        .execute("insert into credential (id, kind, application_id, tenant, state)"
                                + " values ('c', 'oauth2', 'initech-app', 'initech', 'rotating')"))
                .hasMessageContaining("credential_rotating_check");
        assertThatThrownBy(() -> PG.dsl().execute("update subscription set state = 'approved' where id = 'sub-1'"))
                .hasMessageContaining("subscription_state_check");
    }
}
