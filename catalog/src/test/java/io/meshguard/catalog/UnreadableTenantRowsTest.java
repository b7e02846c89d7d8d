package io.meshguard.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.catalogmodel.AccessDecision;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.DenyReason;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.SharedCatalog;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.TenantCatalog;
import io.meshguard.db.TenantScope;
import io.meshguard.testing.ApiKeyRows;
import io.meshguard.testing.CatalogSamples;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A catalogue row this release cannot read (a value a newer release's migration allows, a limits column a broken
 * write left) fails closed for its own tenant alone: that tenant's product calls are refused as
 * {@code subscription_state_unavailable}, every other tenant is read and decided as before. Before, the one
 * repeatable-read transaction failed and no tenant's state was refreshed at all.
 */
@IntegrationTest
class UnreadableTenantRowsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final RecordingGateway GATEWAY = new RecordingGateway();
    private static CatalogStore store;

    @BeforeAll
    static void catalogue() {
        store = new CatalogStore(PG.dataSource());
        PG.dsl().execute("insert into tenant (id) values ('acme'), ('umbrella'), ('initech'), ('globex'), ('hooli')");
        PG.dsl().execute("insert into api (name, tenant) values ('payments-api', 'acme'), ('loans-api', 'umbrella')");
        ApiKeyRows.insert(PG.dsl(), "initech", "initech000000001");
        ApiKeyRows.insert(PG.dsl(), "globex", "globex0000000001");
        ApiKeyRows.insert(PG.dsl(), "hooli", "hooli00000000001");
        store.putCluster(
                new Cluster("local", "local", Optional.empty(), Set.of()), Map.of("local", Set.of("acme", "umbrella")));
        provider("acme", "payments", "payments-api", "pay.example.test");
        provider("umbrella", "loans", "loans-api", "loans.example.test");
        customer("initech", "payments", "initech000000001");
        customer("globex", "loans", "globex0000000001");
        customer("hooli", "payments", "hooli00000000001");
        // what a newer release's migration would have done: its new values pass the database, not this release
        PG.dsl()
                .execute("alter table plan drop constraint plan_state_check;"
                        + " alter table product_publish drop constraint product_publish_environment_check;"
                        + " alter table application drop constraint application_state_check;"
                        + " alter table subscription drop constraint subscription_state_check;"
                        + " alter table credential drop constraint credential_state_check");
    }

    /** Each row a newer release or a broken write could leave, the statement that puts it back, and its tenant. */
    static Stream<Arguments> unreadableRows() {
        return Stream.of(
                row(
                        "a plan state a newer release added",
                        "update plan set state = 'archived' where id = 'loans-free'",
                        "update plan set state = 'published' where id = 'loans-free'",
                        "umbrella"),
                row(
                        "plan limits a broken write left",
                        "update plan set limits = '{\"rates\": \"lots\"}' where id = 'loans-free'",
                        "update plan set limits = '{}' where id = 'loans-free'",
                        "umbrella"),
                row(
                        "operation limits that are not an object",
                        "update plan set operation_limits = '[1]' where id = 'loans-free'",
                        "update plan set operation_limits = '{}' where id = 'loans-free'",
                        "umbrella"),
                row(
                        "a publish environment a newer release added",
                        "update product_publish set environment = 'perf' where id = 'loans-dev-local'",
                        "update product_publish set environment = 'dev' where id = 'loans-dev-local'",
                        "umbrella"),
                row(
                        "an application state a newer release added",
                        "update application set state = 'frozen' where id = 'hooli-app'",
                        "update application set state = 'active' where id = 'hooli-app'",
                        "hooli"),
                row(
                        "a subscription state a newer release added",
                        "update subscription set state = 'paused' where customer_tenant = 'hooli'",
                        "update subscription set state = 'active' where customer_tenant = 'hooli'",
                        "hooli"),
                row(
                        "a credential state a newer release added",
                        "update credential set state = 'quarantined' where tenant = 'hooli'",
                        "update credential set state = 'active' where tenant = 'hooli'",
                        "hooli"));
    }

    private static Arguments row(String what, String breaks, String repairs, String tenant) {
        return Arguments.of(what, breaks, repairs, tenant);
    }

    private String repair = "select 1";

    @AfterEach
    void putTheRowBack() {
        PG.dsl().execute(repair);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("unreadableRows")
    void unreadableRow_refusesItsTenantAlone_everyOtherTenantIsRead(
            String what, String breaks, String repairs, String tenant) {
        repair = repairs;
        PG.dsl().execute(breaks);

        SubscriptionSnapshot whole = store.snapshot(1);

        assertUnreadableAlone(whole, tenant);
        assertThat(whole.unreadableTenants()).containsOnlyKeys(tenant);
        assertThat(whole.unreadableTenants().get(tenant))
                .as("names the row for the operator")
                .isNotBlank();
        // the per-tenant reread a notification triggers gives the same answer
        Map<String, TenantCatalog> reread = store.tenantCatalogs(Optional.of(Set.of(tenant, "initech")));
        assertThat(reread.get(tenant).unreadable()).isPresent();
        assertThat(reread.get(tenant).isEmpty())
                .as("an unreadable tenant is not a tenant that holds nothing")
                .isFalse();
        assertThat(reread.get("initech").unreadable()).isEmpty();
        assertThat(reread.get("initech").applications()).isNotEmpty();

        // the state of the world a replica or a zone receives
        assertUnreadableAlone(SnapshotMessage.read(SnapshotMessage.write(whole)), tenant);
        // the delta stream's resources: the shared one and one per tenant
        SubscriptionSnapshot delta = new SubscriptionSnapshot(
                2,
                SnapshotMessage.readShared(SnapshotMessage.sharedResource(2, whole.shared())),
                whole.tenants().values().stream()
                        .map(h -> SnapshotMessage.readTenant(h.tenant(), SnapshotMessage.tenantResource(2, h)))
                        .toList());
        assertUnreadableAlone(delta, tenant);
    }

    @Test
    void repairedRow_servesTheTenantAgain() {
        PG.dsl().execute("update subscription set state = 'paused' where customer_tenant = 'hooli'");
        assertThat(store.snapshot(1).unreadableTenants()).containsOnlyKeys("hooli");

        PG.dsl().execute("update subscription set state = 'active' where customer_tenant = 'hooli'");

        SubscriptionSnapshot after = store.snapshot(2);
        assertThat(after.unreadableTenants()).isEmpty();
        assertThat(decide(after, "payments-dev-local", "hooli00000000001")).isInstanceOf(AccessDecision.Granted.class);
    }

    @Test
    void unreadableTenant_isOneChangeForTheParts_andUnchangedReadsStayEqual() {
        PG.dsl().execute("update plan set state = 'archived' where id = 'loans-free'");
        repair = "update plan set state = 'published' where id = 'loans-free'";

        TenantCatalog once =
                store.tenantCatalogs(Optional.of(Set.of("umbrella"))).get("umbrella");
        TenantCatalog twice =
                store.tenantCatalogs(Optional.of(Set.of("umbrella"))).get("umbrella");

        assertThat(once)
                .as("two reads of the same broken rows are equal: the feed keeps the version")
                .isEqualTo(twice);
        SubscriptionSnapshot parts = SubscriptionSnapshot.empty(0)
                .with(
                        1,
                        Optional.of(SharedCatalog.of(
                                store.tenantCatalogs(Optional.empty()).values())),
                        Map.of("umbrella", Optional.of(SubscriptionSnapshot.holdings(once))));
        assertThat(parts.unreadableTenants()).containsOnlyKeys("umbrella");
        assertThat(decide(parts, "loans-dev-local", "globex0000000001"))
                .isInstanceOfSatisfying(AccessDecision.Denied.class, d -> assertThat(d.reason())
                        .isEqualTo(DenyReason.SUBSCRIPTION_STATE_UNAVAILABLE));
    }

    private static void assertUnreadableAlone(SubscriptionSnapshot s, String tenant) {
        Map<String, String> calls = Map.of(
                "initech", "payments-dev-local",
                "globex", "loans-dev-local",
                "hooli", "payments-dev-local");
        Map<String, String> keys = Map.of(
                "initech", "initech000000001",
                "globex", "globex0000000001",
                "hooli", "hooli00000000001");
        for (String customer : calls.keySet()) {
            AccessDecision d = decide(s, calls.get(customer), keys.get(customer));
            boolean touches = customer.equals(tenant)
                    || (tenant.equals("umbrella") && calls.get(customer).startsWith("loans"))
                    || (tenant.equals("acme") && calls.get(customer).startsWith("payments"));
            if (touches) {
                assertThat(d)
                        .as(customer + " calls through unreadable " + tenant)
                        .isInstanceOfSatisfying(AccessDecision.Denied.class, denied -> {
                            assertThat(denied.reason()).isEqualTo(DenyReason.SUBSCRIPTION_STATE_UNAVAILABLE);
                            assertThat(denied.detail()).contains("cannot be read");
                        });
            } else {
                assertThat(d).as(customer + " is served").isInstanceOf(AccessDecision.Granted.class);
            }
        }
    }

    private static AccessDecision decide(SubscriptionSnapshot s, String publish, String key) {
        return s.decide(publish, AuthMode.APIKEY, key, Instant.now());
    }

    private static void provider(String tenant, String product, String api, String host) {
        TenantScope scope = TenantScope.of(Set.of(tenant));
        store.createProduct(
                scope,
                CatalogSamples.draftProduct(
                        product, tenant, product, "1", List.of(new Product.Operation("call", api, "POST", "/calls"))),
                "alice");
        store.moveProduct(scope, product, ProductState.PUBLISHED, "alice");
        store.createPlan(scope, CatalogSamples.freePlan(product + "-free", product, PlanState.STAGING));
        store.movePlan(scope, product + "-free", PlanState.PUBLISHED, "alice");
        store.createPublish(scope, product, "local", Environment.DEV, AuthMode.APIKEY, host, "local");
        store.movePublish(
                scope, product + "-dev-local", PublishState.PUBLISHED, GATEWAY, RecordingGateway.change("alice"));
    }

    private static void customer(String tenant, String product, String key) {
        TenantScope scope = TenantScope.of(Set.of(tenant));
        String app = tenant + "-app";
        store.createApplication(scope, new Application(app, tenant, "App", ApplicationState.ACTIVE), "ina");
        String sub = store.subscribe(scope, app, product + "-dev-local", product + "-free", "ina")
                .id();
        store.addCredential(
                scope,
                new Credential(
                        key,
                        AuthMode.APIKEY,
                        app,
                        CredentialState.ACTIVE,
                        Optional.empty(),
                        Optional.empty(),
                        Set.of(sub)));
    }
}
