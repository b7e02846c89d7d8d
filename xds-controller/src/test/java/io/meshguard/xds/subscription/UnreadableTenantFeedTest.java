package io.meshguard.xds.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.SnapshotMessage;
import io.meshguard.catalogmodel.AccessDecision;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.DenyReason;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.db.TenantScope;
import io.meshguard.testing.ApiKeyRows;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One tenant whose catalogue row this release cannot read (a state a newer release's migration added) does not stop
 * the controller's feed for the others: a later change of another tenant is handed on at once, the unreadable tenant's
 * calls are refused as {@code subscription_state_unavailable}, and what replicas and zones receive says the same.
 * Before, every refresh failed ("subscription state not refreshed") until the replicas' staleness bound refused every
 * tenant's product routes.
 */
@IntegrationTest
class UnreadableTenantFeedTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final TenantScope GLOBEX = TenantScope.of(Set.of("globex"));

    @Test
    void unreadableTenant_isRefusedAlone_andAnotherTenantsChangeIsStillHandedOn() {
        CatalogStore store = new CatalogStore(PG.dataSource());
        String publish = PaymentsCatalogue.seed(PG.dsl(), store, "local", "local", "local");
        PG.dsl().execute("insert into tenant (id) values ('globex')");
        ApiKeyRows.insert(PG.dsl(), "globex", "globex0000000001");
        PaymentsCatalogue.initechApiKey(PG.dsl(), "initech000000001");
        store.createApplication(GLOBEX, new Application("gapp", "globex", "App", ApplicationState.ACTIVE), "gus");
        String globexSubscription = store.subscribe(GLOBEX, "gapp", publish, PaymentsCatalogue.PLAN, "gus")
                .id();
        store.addCredential(GLOBEX, key("globex0000000001", "gapp", globexSubscription));

        List<SubscriptionSnapshot> handed = new CopyOnWriteArrayList<>();
        try (CatalogSnapshotFeed feed =
                new CatalogSnapshotFeed(PG.dataSource(), store, handed::add, Duration.ofSeconds(30)).start()) {
            assertThat(decide(handed.getLast(), publish, "globex0000000001"))
                    .isInstanceOf(AccessDecision.Granted.class);

            // a newer release's migration allows a state this release does not know, and a row takes it
            PG.dsl().execute("alter table application drop constraint application_state_check");
            PG.dsl().execute("update application set state = 'frozen' where id = 'gapp'");
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> handed.getLast().unreadableTenants().containsKey("globex"));

            // another tenant's change arrives after it and is handed on
            String initechSubscription = store.subscribe(
                            PaymentsCatalogue.INITECH, "app", publish, PaymentsCatalogue.PLAN, "ina")
                    .id();
            store.addCredential(PaymentsCatalogue.INITECH, key("initech000000001", "app", initechSubscription));
            await().atMost(Duration.ofSeconds(10))
                    .until(() ->
                            decide(handed.getLast(), publish, "initech000000001") instanceof AccessDecision.Granted);

            SubscriptionSnapshot last = handed.getLast();
            assertRefused(decide(last, publish, "globex0000000001"));
            // what a replica or a zone decides from says the same
            SubscriptionSnapshot received = SnapshotMessage.read(SnapshotMessage.write(last));
            assertRefused(decide(received, publish, "globex0000000001"));
            assertThat(decide(received, publish, "initech000000001")).isInstanceOf(AccessDecision.Granted.class);

            // repaired: served again
            PG.dsl().execute("update application set state = 'active' where id = 'gapp'");
            await().atMost(Duration.ofSeconds(10))
                    .until(() ->
                            decide(handed.getLast(), publish, "globex0000000001") instanceof AccessDecision.Granted);
            assertThat(handed.getLast().unreadableTenants()).isEmpty();
        }
    }

    private static void assertRefused(AccessDecision d) {
        assertThat(d).isInstanceOfSatisfying(AccessDecision.Denied.class, denied -> assertThat(denied.reason())
                .isEqualTo(DenyReason.SUBSCRIPTION_STATE_UNAVAILABLE));
    }

    private static AccessDecision decide(SubscriptionSnapshot s, String publish, String key) {
        return s.decide(publish, AuthMode.APIKEY, key, Instant.now());
    }

    private static Credential key(String id, String application, String subscription) {
        return new Credential(
                id,
                AuthMode.APIKEY,
                application,
                CredentialState.ACTIVE,
                Optional.empty(),
                Optional.empty(),
                Set.of(subscription));
    }
}
