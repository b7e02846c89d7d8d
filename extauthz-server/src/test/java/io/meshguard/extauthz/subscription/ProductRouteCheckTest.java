package io.meshguard.extauthz.subscription;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Reason;
import io.meshguard.authz.subscription.SubscriptionGate;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.Limit;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.InMemoryApiKeyStore;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.TestPipeline;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.testing.CatalogSamples;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A product route as Envoy asks about it (a Check whose context extensions name the product publish): the API key is
 * authenticated as for any route, then only a live subscription in the pushed state admits it, with a distinct reason
 * for each refusal; without state the route is refused 503, and routes outside products never consult it.
 */
class ProductRouteCheckTest {
    private final InMemoryApiKeyStore keys = new InMemoryApiKeyStore();
    private final AtomicReference<Optional<SubscriptionSnapshot>> state = new AtomicReference<>(Optional.empty());
    private AuthzPipeline pipeline;
    private ApiKeyService.Created key;
    private ApiKeyService.Created stranger;
    private ApiKeyService.Created second;

    @BeforeEach
    void setUp() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        pipeline = TestPipeline.build(registry, p -> {
            p.apiKeys = Optional.of(new ApiKeyAuthenticator(keys, Clock.systemUTC(), Duration.ZERO));
            p.subscriptions = new SubscriptionGate(state::get, Clock.systemUTC());
        });
        pipeline.use(Fixtures.parse("""
                rate_limits:
                  default_tier: free
                  tiers:
                    free: {requests_per_second: 1000}
                routes:
                  - name: payments
                    match: {path_prefix: /charges}
                    auth: apikey
                """));
        ApiKeyService service = new ApiKeyService(keys, Clock.systemUTC());
        key = service.create("web", "initech-web", "initech", List.of(), List.of(), "free", Optional.empty());
        stranger = service.create("other", "umbrella", "umbrella", List.of(), List.of(), "free", Optional.empty());
        second = service.create("web-2", "initech-web", "initech", List.of(), List.of(), "free", Optional.empty());
    }

    @AfterEach
    void close() {
        pipeline.close();
    }

    private SubscriptionSnapshot snapshot(SubscriptionState subscription, CredentialState credential) {
        return snapshot(subscription, credential, PlanLimits.NONE);
    }

    private SubscriptionSnapshot snapshot(SubscriptionState subscription, CredentialState credential, PlanLimits plan) {
        return new SubscriptionSnapshot(
                3,
                List.of(CatalogSamples.paymentsDevPublish()),
                List.of(new Plan(
                        "free",
                        "payments",
                        "free",
                        PlanState.PUBLISHED,
                        plan,
                        Map.of(),
                        Plan.Approval.AUTO,
                        Set.of(AuthMode.APIKEY))),
                List.of(new Application("web", "initech", "Web", ApplicationState.ACTIVE)),
                List.of(
                        new Credential(
                                key.key().keyId(),
                                AuthMode.APIKEY,
                                "web",
                                credential,
                                Optional.empty(),
                                Optional.empty(),
                                Set.of()),
                        new Credential(
                                second.key().keyId(),
                                AuthMode.APIKEY,
                                "web",
                                CredentialState.ACTIVE,
                                Optional.empty(),
                                Optional.empty(),
                                Set.of())),
                List.of(new Subscription("s1", "web", "payments-dev-local", "free", subscription)));
    }

    private Decision check(String apiKey, boolean productRoute) {
        return pipeline.decide(request(apiKey, productRoute));
    }

    private static HttpRequestView request(String apiKey, boolean productRoute) {
        Map<String, String> context = productRoute
                ? Map.of(
                        RouteContract.AuthzContext.AUTHZ_PROFILE,
                        "payments",
                        RouteContract.AuthzContext.PRODUCT_PUBLISH,
                        "payments-dev-local")
                : Map.of(RouteContract.AuthzContext.AUTHZ_PROFILE, "payments");
        return HttpRequestView.of(CheckRequests.of(
                "POST",
                "payments.dev.local.api.example.test",
                "/charges",
                Fixtures.headers("x-api-key", apiKey),
                context,
                CheckRequests.Encoding.HEADERS));
    }

    @Test
    void liveSubscription_admits_andEveryOtherStateRefusesWithItsOwnReason() {
        state.set(Optional.of(snapshot(SubscriptionState.ACTIVE, CredentialState.ACTIVE)));
        assertThat(check(key.text(), true).allowed()).isTrue();

        state.set(Optional.of(snapshot(SubscriptionState.SUSPENDED, CredentialState.ACTIVE)));
        Decision suspended = check(key.text(), true);
        assertThat(suspended.reason()).isEqualTo(Reason.SUBSCRIPTION_SUSPENDED);
        assertThat(suspended.status()).isEqualTo(403);

        state.set(Optional.of(snapshot(SubscriptionState.PENDING, CredentialState.ACTIVE)));
        assertThat(check(key.text(), true).reason()).isEqualTo(Reason.SUBSCRIPTION_PENDING);

        state.set(Optional.of(snapshot(SubscriptionState.ACTIVE, CredentialState.REVOKED)));
        Decision revoked = check(key.text(), true);
        assertThat(revoked.reason()).isEqualTo(Reason.CREDENTIAL_REVOKED);
        assertThat(revoked.status()).isEqualTo(401);

        state.set(Optional.of(snapshot(SubscriptionState.ACTIVE, CredentialState.ACTIVE)));
        assertThat(check(stranger.text(), true).reason())
                .as("a valid key of no subscriber")
                .isEqualTo(Reason.NO_SUBSCRIPTION);
    }

    @Test
    void everyDecisionOnASubscription_namesIt_inTheDecisionAndItsAuditRow_andOthersNameNone() {
        state.set(Optional.of(snapshot(SubscriptionState.ACTIVE, CredentialState.ACTIVE)));
        Decision admitted = check(key.text(), true);
        assertThat(admitted.subscription()).contains("s1");
        assertThat(io.meshguard.extauthz.audit.DecisionEvents.of(
                                request(key.text(), true), admitted, java.time.Instant.now(), 1)
                        .details())
                .containsEntry("subscription", "s1");

        state.set(Optional.of(snapshot(SubscriptionState.SUSPENDED, CredentialState.ACTIVE)));
        assertThat(check(key.text(), true).subscription())
                .as("refused on its subscription")
                .contains("s1");

        state.set(Optional.of(snapshot(SubscriptionState.ACTIVE, CredentialState.REVOKED)));
        assertThat(check(key.text(), true).subscription())
                .as("refused before any subscription")
                .isEmpty();
        state.set(Optional.of(snapshot(SubscriptionState.ACTIVE, CredentialState.ACTIVE)));
        Decision stray = check(stranger.text(), true);
        assertThat(stray.subscription()).isEmpty();
        assertThat(io.meshguard.extauthz.audit.DecisionEvents.of(
                                request(stranger.text(), true), stray, java.time.Instant.now(), 1)
                        .details())
                .doesNotContainKey("subscription");
        assertThat(check(key.text(), false).subscription())
                .as("not a product route")
                .isEmpty();
    }

    @Test
    void noState_refusesProductRoutes503_andLeavesOtherRoutesAlone() {
        Decision refused = check(key.text(), true);
        assertThat(refused.reason()).isEqualTo(Reason.SUBSCRIPTION_STATE_UNAVAILABLE);
        assertThat(refused.status()).isEqualTo(503);
        assertThat(check(key.text(), false).allowed()).isTrue();
        assertThat(check(stranger.text(), false).allowed()).isTrue();
    }

    @Test
    void productsOnlyRule_refusesTheApiRouteOnItsOwnHost_andAdmitsTheProductRoute() throws Exception {
        pipeline.use(Fixtures.parse("""
                routes:
                  - name: payments
                    match: {path_prefix: /charges}
                    auth: apikey
                    products_only: true
                """));
        state.set(Optional.of(snapshot(SubscriptionState.ACTIVE, CredentialState.ACTIVE)));
        Decision direct = check(key.text(), false);
        assertThat(direct.allowed()).as("a valid key, no product route").isFalse();
        assertThat(direct.reason()).isEqualTo(Reason.NO_SUBSCRIPTION);
        assertThat(check(key.text(), true).allowed()).isTrue();
    }

    @Test
    void badKey_isRefusedByAuthentication_beforeSubscriptionsAreConsulted() {
        state.set(Optional.of(snapshot(SubscriptionState.ACTIVE, CredentialState.ACTIVE)));
        assertThat(check("mg_live_not_a_key", true).reason()).isEqualTo(Reason.INVALID_API_KEY);
    }

    @Test
    void planLimits_countPerSubscription_acrossTheApplicationsCredentials_andNameThePlan() {
        PlanLimits twoPerMinute = new PlanLimits(List.of(new Limit(2, Duration.ofMinutes(1))), Optional.empty());
        state.set(Optional.of(snapshot(SubscriptionState.ACTIVE, CredentialState.ACTIVE, twoPerMinute)));
        Decision first = check(key.text(), true);
        assertThat(first.allowed()).isTrue();
        assertThat(first.responseHeaders()).containsKey("ratelimit-policy");
        assertThat(first.responseHeaders().get("ratelimit-policy")).contains("plan_free");
        assertThat(check(second.text(), true).allowed())
                .as("the second key of the same application")
                .isTrue();
        Decision third = check(key.text(), true);
        assertThat(third.allowed()).isFalse();
        assertThat(third.status()).isEqualTo(429);
        assertThat(third.reason()).isEqualTo(Reason.RATE_LIMITED);
        assertThat(third.responseHeaders()).containsKey("retry-after");
        // a route outside the product is not charged to the subscription
        assertThat(check(key.text(), false).allowed()).isTrue();
    }

    @Test
    void everyPlanLimitField_changesADecision() {
        // requests: 1 refuses the second call where 2 admits it; per: 1m holds where 1s would refill (not waited for)
        PlanLimits one = new PlanLimits(List.of(new Limit(1, Duration.ofMinutes(1))), Optional.empty());
        state.set(Optional.of(snapshot(SubscriptionState.ACTIVE, CredentialState.ACTIVE, one)));
        assertThat(check(key.text(), true).allowed()).isTrue();
        assertThat(check(key.text(), true).allowed()).isFalse();
        PlanLimits none = PlanLimits.NONE;
        state.set(Optional.of(snapshot(SubscriptionState.ACTIVE, CredentialState.ACTIVE, none)));
        assertThat(check(key.text(), true).allowed())
                .as("the plan's limits went away")
                .isTrue();
    }
}
