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
import io.meshguard.catalogmodel.CalendarQuota;
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
import io.meshguard.extauthz.quota.QuotaCounter;
import io.meshguard.extauthz.quota.QuotaTestSupport;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.testing.CatalogSamples;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.RecordComponent;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * No plan field is declared but ignored (Apigee's pitfall): for every field of a plan, its limits, its calendar quota
 * and its rate limits, one change of that field alone changes what extauthz answers to the same three calls of a
 * subscriber, through the real pipeline, subscription gate, limiter and quota counter (on PostgreSQL). A field added
 * to any of these records without a row here fails {@link #everyPlanField_hasAVariation}.
 */
@IntegrationTest
class PlanFieldsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    /** Names a plan by; a subscription points at them, so changing one alone changes which plan, not how it limits. */
    private static final Set<String> IDENTIFIERS = Set.of("Plan.id", "Plan.productId");

    private static final Limit PRODUCT_RATE = new Limit(3, Duration.ofMinutes(1));
    private static final CalendarQuota DAILY_TWO =
            new CalendarQuota(CalendarQuota.Period.DAY, 2, ZoneId.of("UTC"), true);
    private static final PlanLimits OPERATION =
            new PlanLimits(List.of(new Limit(5, Duration.ofMinutes(1))), Optional.empty());
    /** Three calls: the third is over the daily quota of two, nothing else is reached. */
    private static final Plan BASE = new Plan(
            "gold",
            "payments",
            "gold",
            PlanState.PUBLISHED,
            new PlanLimits(List.of(PRODUCT_RATE), Optional.of(DAILY_TWO)),
            Map.of("charge", OPERATION),
            Plan.Approval.AUTO,
            Set.of(AuthMode.APIKEY));

    /** One change per field, named "Record.component". */
    private static final Map<String, UnaryOperator<Plan>> VARIATIONS = new LinkedHashMap<>();

    static {
        VARIATIONS.put(
                "Plan.name",
                p -> new Plan(
                        p.id(),
                        p.productId(),
                        "platinum",
                        p.state(),
                        p.limits(),
                        p.operationLimits(),
                        p.approval(),
                        p.authModes()));
        VARIATIONS.put(
                "Plan.state",
                p -> new Plan(
                        p.id(),
                        p.productId(),
                        p.name(),
                        PlanState.CLOSED,
                        p.limits(),
                        p.operationLimits(),
                        p.approval(),
                        p.authModes()));
        VARIATIONS.put("Plan.limits", p -> withLimits(p, PlanLimits.NONE));
        VARIATIONS.put(
                "Plan.operationLimits",
                p -> new Plan(
                        p.id(),
                        p.productId(),
                        p.name(),
                        p.state(),
                        p.limits(),
                        Map.of(
                                "charge",
                                new PlanLimits(List.of(new Limit(1, Duration.ofMinutes(1))), Optional.empty())),
                        p.approval(),
                        p.authModes()));
        VARIATIONS.put(
                "Plan.approval",
                p -> new Plan(
                        p.id(),
                        p.productId(),
                        p.name(),
                        p.state(),
                        p.limits(),
                        p.operationLimits(),
                        Plan.Approval.MANUAL,
                        p.authModes()));
        VARIATIONS.put(
                "Plan.authModes",
                p -> new Plan(
                        p.id(),
                        p.productId(),
                        p.name(),
                        p.state(),
                        p.limits(),
                        p.operationLimits(),
                        p.approval(),
                        Set.of(AuthMode.OAUTH2)));
        VARIATIONS.put(
                "PlanLimits.rates",
                p -> withLimits(
                        p,
                        new PlanLimits(
                                List.of(new Limit(2, Duration.ofMinutes(1))),
                                p.limits().quota())));
        VARIATIONS.put(
                "PlanLimits.quota", p -> withLimits(p, new PlanLimits(p.limits().rates(), Optional.empty())));
        VARIATIONS.put(
                "CalendarQuota.period",
                p -> withQuota(p, new CalendarQuota(CalendarQuota.Period.MONTH, 2, ZoneId.of("UTC"), true)));
        VARIATIONS.put(
                "CalendarQuota.limit",
                p -> withQuota(p, new CalendarQuota(CalendarQuota.Period.DAY, 3, ZoneId.of("UTC"), true)));
        VARIATIONS.put(
                "CalendarQuota.zone",
                p -> withQuota(
                        p, new CalendarQuota(CalendarQuota.Period.DAY, 2, ZoneId.of("Pacific/Kiritimati"), true)));
        VARIATIONS.put(
                "CalendarQuota.blockWhenUsedUp",
                p -> withQuota(p, new CalendarQuota(CalendarQuota.Period.DAY, 2, ZoneId.of("UTC"), false)));
        VARIATIONS.put(
                "Limit.requests",
                p -> withLimits(
                        p,
                        new PlanLimits(
                                List.of(new Limit(1, Duration.ofMinutes(1))),
                                p.limits().quota())));
        VARIATIONS.put(
                "Limit.per",
                p -> withLimits(
                        p,
                        new PlanLimits(
                                List.of(new Limit(3, Duration.ofSeconds(10))),
                                p.limits().quota())));
    }

    private static Plan withLimits(Plan p, PlanLimits limits) {
        return new Plan(
                p.id(), p.productId(), p.name(), p.state(), limits, p.operationLimits(), p.approval(), p.authModes());
    }

    private static Plan withQuota(Plan p, CalendarQuota quota) {
        return withLimits(p, new PlanLimits(p.limits().rates(), Optional.of(quota)));
    }

    /** A fixed instant: a quota's reset (retry-after) is the same on every run. */
    private final Clock clock = Clock.fixed(Instant.parse("2026-11-22T14:00:00Z"), ZoneOffset.UTC);

    private final InMemoryApiKeyStore keys = new InMemoryApiKeyStore();
    private final AtomicReference<Optional<SubscriptionSnapshot>> state = new AtomicReference<>(Optional.empty());
    private AuthzPipeline pipeline;
    private ApiKeyService.Created key;

    @BeforeEach
    void setUp() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        QuotaCounter counter = QuotaTestSupport.postgresOnly(
                PG.dataSource(),
                clock,
                new QuotaCounter.Settings(
                        Duration.ofMillis(50),
                        10_000,
                        1_000,
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(2),
                        Duration.ofSeconds(1)),
                registry);
        pipeline = TestPipeline.build(registry, p -> {
            p.apiKeys = Optional.of(new ApiKeyAuthenticator(keys, clock, Duration.ZERO));
            p.clock = clock;
            p.quotas = counter;
            p.subscriptions = new SubscriptionGate(state::get, clock);
        });
        pipeline.use(Fixtures.parse("""
                routes:
                  - name: payments
                    match: {path_prefix: /charges}
                    auth: apikey
                """));
        key = new ApiKeyService(keys, clock)
                .create("web", "initech-web", "initech", List.of(), List.of(), "free", Optional.empty());
    }

    @AfterEach
    void close() {
        pipeline.close();
    }

    /**
     * What a subscriber to {@code plan} gets for three calls: a fresh application (quotas count per application and
     * publish), so no counter is shared.
     */
    private List<String> threeCalls(Plan plan) {
        String app = "web-" + UUID.randomUUID();
        subscribe(
                plan,
                app,
                List.of(new Subscription(
                        "s-" + UUID.randomUUID(),
                        app,
                        "payments-dev-local",
                        plan.id(),
                        plan.initialSubscriptionState())));
        return calls(3);
    }

    /** The catalogue as extauthz receives it: {@code app} with the test's key, and {@code subscriptions}. */
    private void subscribe(Plan plan, String app, List<Subscription> subscriptions) {
        state.set(Optional.of(new SubscriptionSnapshot(
                1,
                List.of(CatalogSamples.paymentsDevPublish()),
                List.of(plan),
                List.of(new Application(app, "initech", "Web", ApplicationState.ACTIVE)),
                List.of(CatalogSamples.activeApiKey(key.key().keyId(), app)),
                // a new subscription starts as its plan's approval says, as the catalogue creates it
                subscriptions)));
    }

    private List<String> calls(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Decision d = pipeline.decide(HttpRequestView.of(CheckRequests.of(
                    "POST",
                    "payments.dev.local.api.example.test",
                    "/charges",
                    Fixtures.headers("x-api-key", key.text()),
                    Map.of(
                            RouteContract.AuthzContext.AUTHZ_PROFILE,
                            "payments",
                            RouteContract.AuthzContext.PRODUCT_PUBLISH,
                            "payments-dev-local",
                            RouteContract.AuthzContext.PRODUCT_OPERATION,
                            "charge"),
                    CheckRequests.Encoding.HEADERS)));
            out.add(signature(d));
        }
        return out;
    }

    /** What a client or upstream can tell apart: outcome, reason, the named policy, a quota's reset, the flag. */
    private static String signature(Decision d) {
        StringBuilder s = new StringBuilder().append(d.status()).append(' ').append(d.reason());
        s.append(" policy=").append(d.responseHeaders().getOrDefault("ratelimit-policy", "-"));
        if (d.reason() == Reason.QUOTA_EXCEEDED) {
            s.append(" retry-after=").append(d.responseHeaders().get("retry-after"));
        }
        d.headersSet().stream()
                .filter(h -> h.name().equals("x-meshguard-quota-exceeded"))
                .forEach(h -> s.append(" flagged=").append(h.value()));
        return s.toString();
    }

    @Test
    void basePlan_admitsTwoCalls_andItsDailyQuotaRefusesTheThird() {
        List<String> base = threeCalls(BASE);
        assertThat(base.get(0)).startsWith("200 ALLOWED");
        assertThat(base.get(1)).startsWith("200 ALLOWED");
        assertThat(base.get(2)).startsWith("429 QUOTA_EXCEEDED");
    }

    @Test
    void closedSubscription_subscribedAgain_keepsThePeriodsCount() {
        String app = "web-" + UUID.randomUUID();
        String first = "s-" + UUID.randomUUID();
        subscribe(
                BASE,
                app,
                List.of(new Subscription(first, app, "payments-dev-local", BASE.id(), SubscriptionState.ACTIVE)));
        assertThat(calls(2)).allMatch(d -> d.startsWith("200 ALLOWED"));
        // the customer closes it and subscribes again to the same plan: the day's two calls are still used
        subscribe(
                BASE,
                app,
                List.of(
                        new Subscription(first, app, "payments-dev-local", BASE.id(), SubscriptionState.CLOSED),
                        new Subscription(
                                "s-" + UUID.randomUUID(),
                                app,
                                "payments-dev-local",
                                BASE.id(),
                                SubscriptionState.ACTIVE)));
        assertThat(calls(1).get(0)).startsWith("429 QUOTA_EXCEEDED");
    }

    @Test
    void everyPlanField_changesADecision() {
        List<String> base = threeCalls(BASE);
        Map<String, List<String>> unchanged = new LinkedHashMap<>();
        VARIATIONS.forEach((field, change) -> {
            List<String> varied = threeCalls(change.apply(BASE));
            if (varied.equals(base)) {
                unchanged.put(field, varied);
            }
        });
        assertThat(unchanged)
                .as("fields whose change left every decision as it was")
                .isEmpty();
    }

    @Test
    void everyPlanField_hasAVariation() {
        Set<String> fields = new TreeSet<>();
        for (Class<?> type : List.of(Plan.class, PlanLimits.class, CalendarQuota.class, Limit.class)) {
            Arrays.stream(type.getRecordComponents())
                    .map(RecordComponent::getName)
                    .forEach(name -> fields.add(type.getSimpleName() + "." + name));
        }
        fields.removeAll(IDENTIFIERS);
        assertThat(VARIATIONS.keySet()).containsExactlyInAnyOrderElementsOf(fields);
    }
}
