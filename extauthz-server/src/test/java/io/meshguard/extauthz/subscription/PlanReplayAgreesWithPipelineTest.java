package io.meshguard.extauthz.subscription;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.replay.KeptFacts;
import io.meshguard.authz.replay.PlanReplay;
import io.meshguard.authz.replay.RecordedDecision;
import io.meshguard.authz.replay.ReplayOutcome;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.PlanUse;
import io.meshguard.authz.subscription.SubscriptionGate;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Credential;
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
import io.meshguard.extauthz.ratelimit.TokenBucketLimiter;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.testing.CatalogSamples;
import io.meshguard.testing.MovableClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The plan replay decides as extauthz decides: the same calls go through the real pipeline (subscription gate, the
 * local GCRA limiter on a clock the test moves) once under the plan in force, recorded as extauthz records them, and
 * once under the requested limits. Replaying the first run's records under the limits in force flips nothing, and
 * under the requested limits it flips exactly the calls the second run decided otherwise.
 */
class PlanReplayAgreesWithPipelineTest {
    private static final Instant T0 = Instant.parse("2026-11-20T10:00:00Z");
    private static final String POLICY = """
            rate_limits:
              default_tier: free
              tiers:
                free: {requests_per_second: 1000}
            routes:
              - name: payments
                match: {path_prefix: /charges}
                auth: apikey
            """;

    private static final PlanLimits IN_FORCE_PRODUCT =
            new PlanLimits(List.of(new Limit(10, Duration.ofMinutes(1))), Optional.empty());
    private static final Map<String, PlanLimits> IN_FORCE_OPERATIONS =
            Map.of("refund", new PlanLimits(List.of(new Limit(3, Duration.ofMinutes(1))), Optional.empty()));
    /** Tighter on the product, looser on refunds: both directions of flips. */
    private static final PlanLimits REQUESTED_PRODUCT = new PlanLimits(
            List.of(new Limit(6, Duration.ofMinutes(1)), new Limit(20, Duration.ofHours(1))), Optional.empty());

    private static final Map<String, PlanLimits> REQUESTED_OPERATIONS =
            Map.of("refund", new PlanLimits(List.of(new Limit(5, Duration.ofMinutes(1))), Optional.empty()));

    /** One call of the script: when, with which of the application's two keys, on which operation. */
    private record Call(String id, Instant at, boolean secondKey, String operation) {}

    /** One run of the pipeline over the script under {@code product} and {@code operations}. */
    private static final class Run {
        final MovableClock clock = new MovableClock(T0);
        final InMemoryApiKeyStore keys = new InMemoryApiKeyStore();
        final AuthzPipeline pipeline;
        final ApiKeyService.Created first;
        final ApiKeyService.Created second;
        final AuthzPolicy policy = Fixtures.parse(POLICY);

        Run(PlanLimits product, Map<String, PlanLimits> operations) throws Exception {
            ApiKeyService service = new ApiKeyService(keys, Clock.systemUTC());
            first = service.create("web", "initech-web", "initech", List.of(), List.of(), "free", Optional.empty());
            second = service.create("web-2", "initech-web", "initech", List.of(), List.of(), "free", Optional.empty());
            SubscriptionSnapshot snapshot = snapshot(product, operations, first, second);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            pipeline = TestPipeline.build(registry, p -> {
                p.apiKeys = Optional.of(new ApiKeyAuthenticator(keys, Clock.systemUTC(), Duration.ZERO));
                // the limiter's monotonic clock is the recorded time, as extauthz's is the moment of the Check
                p.limiter = new TokenBucketLimiter(
                        1000, Duration.ofMinutes(1), () -> Duration.between(Instant.EPOCH, clock.instant())
                                .toNanos());
                p.clock = clock;
                p.subscriptions = new SubscriptionGate(() -> Optional.of(snapshot), clock);
            });
            pipeline.use(policy);
        }

        Map<String, RecordedDecision> play(List<Call> script) {
            KeptFacts kept = KeptFacts.of(policy);
            Map<String, RecordedDecision> out = new LinkedHashMap<>();
            for (Call c : script) {
                clock.set(c.at());
                HttpRequestView request = request(c, (c.secondKey() ? second : first).text());
                Decision d = pipeline.decide(request);
                out.put(
                        c.id(),
                        RecordedDecision.fromJson(
                                RecordedDecision.of(request, d, c.at(), kept).toJson(),
                                c.id(),
                                c.at(),
                                d.subscription()));
            }
            pipeline.close();
            return out;
        }
    }

    private static SubscriptionSnapshot snapshot(
            PlanLimits product,
            Map<String, PlanLimits> operations,
            ApiKeyService.Created first,
            ApiKeyService.Created second) {
        return new SubscriptionSnapshot(
                3,
                List.of(CatalogSamples.paymentsDevPublish()),
                List.of(new Plan(
                        "payments-gold",
                        "payments",
                        "gold",
                        PlanState.PUBLISHED,
                        product,
                        operations,
                        Plan.Approval.AUTO,
                        Set.of(AuthMode.APIKEY))),
                List.of(new Application("web", "initech", "Web", ApplicationState.ACTIVE)),
                List.of(credential(first.key().keyId()), credential(second.key().keyId())),
                List.of(new Subscription(
                        "s1", "web", "payments-dev-local", "payments-gold", SubscriptionState.ACTIVE)));
    }

    private static Credential credential(String keyId) {
        return CatalogSamples.activeApiKey(keyId, "web");
    }

    private static HttpRequestView request(Call c, String apiKey) {
        return HttpRequestView.of(CheckRequests.of(
                "POST",
                "payments.dev.local.api.example.test",
                "/charges",
                Fixtures.headers("x-api-key", apiKey, "x-request-id", c.id()),
                Map.of(
                        RouteContract.AuthzContext.AUTHZ_PROFILE, "payments",
                        RouteContract.AuthzContext.PRODUCT_PUBLISH, "payments-dev-local",
                        RouteContract.AuthzContext.PRODUCT_OPERATION, c.operation()),
                CheckRequests.Encoding.HEADERS));
    }

    /** Bursts and pauses over two hours: each limit of both plans refuses somewhere. */
    private static List<Call> script() {
        List<Call> calls = new ArrayList<>();
        Instant t = T0;
        int n = 0;
        // about twenty calls a minute, each cycle opening with a burst of four refunds
        long[] gapsMillis = {300, 200, 400, 250, 150, 300, 200, 4000, 30_000, 500, 200, 100};
        for (int i = 0; i < 120; i++) {
            t = t.plusMillis(gapsMillis[i % gapsMillis.length]);
            String op = i % gapsMillis.length < 4 ? "refund" : "charge";
            calls.add(new Call("call-" + (++n), t, i % 2 == 1, op));
        }
        return calls;
    }

    private static Map<String, ReplayOutcome> replay(
            Map<String, RecordedDecision> recorded, PlanLimits product, Map<String, PlanLimits> operations) {
        Plan inForce = new Plan(
                "payments-gold",
                "payments",
                "gold",
                PlanState.PUBLISHED,
                IN_FORCE_PRODUCT,
                IN_FORCE_OPERATIONS,
                Plan.Approval.AUTO,
                Set.of(AuthMode.APIKEY));
        PlanReplay replay = new PlanReplay(inForce, product, operations, Set.of("s1"));
        Map<String, ReplayOutcome> out = new LinkedHashMap<>();
        recorded.forEach((id, r) -> out.put(id, replay.replay(r).orElseThrow()));
        return out;
    }

    @Test
    void replay_ofTheLimitsInForce_flipsNothing_overDecisionsThePipelineMade() throws Exception {
        Map<String, RecordedDecision> recorded = new Run(IN_FORCE_PRODUCT, IN_FORCE_OPERATIONS).play(script());
        assertThat(recorded.values())
                .as("the script makes the plan refuse, and the records name the plan limit that refused")
                .anySatisfy(
                        r -> assertThat(r.plan().flatMap(PlanUse::refusedBy)).contains("plan:gold"))
                .anySatisfy(
                        r -> assertThat(r.plan().flatMap(PlanUse::refusedBy)).contains("plan:gold/refund"));

        Map<String, ReplayOutcome> outcomes = replay(recorded, IN_FORCE_PRODUCT, IN_FORCE_OPERATIONS);

        assertThat(outcomes.values()).allSatisfy(o -> assertThat(o).isInstanceOf(ReplayOutcome.Unchanged.class));
    }

    @Test
    void replay_ofRequestedLimits_flipsExactlyTheCallsThePipelineDecidesOtherwiseUnderThem() throws Exception {
        Map<String, RecordedDecision> inForce = new Run(IN_FORCE_PRODUCT, IN_FORCE_OPERATIONS).play(script());
        Map<String, RecordedDecision> requested = new Run(REQUESTED_PRODUCT, REQUESTED_OPERATIONS).play(script());
        Set<String> decidedOtherwise = new TreeSet<>();
        inForce.forEach((id, r) -> {
            if (r.status() != requested.get(id).status()) {
                decidedOtherwise.add(id);
            }
        });
        assertThat(decidedOtherwise).as("the script tells the two plans apart").isNotEmpty();

        Map<String, ReplayOutcome> outcomes = replay(inForce, REQUESTED_PRODUCT, REQUESTED_OPERATIONS);

        Set<String> flipped = new TreeSet<>();
        outcomes.forEach((id, o) -> {
            assertThat(o).as(id).isNotInstanceOf(ReplayOutcome.NotReplayable.class);
            if (o instanceof ReplayOutcome.Flip f) {
                flipped.add(id);
                assertThat(f.to())
                        .as(id)
                        .endsWith(Integer.toString(requested.get(id).status()));
            }
        });
        assertThat(flipped).isEqualTo(decidedOtherwise);
        assertThat(outcomes.values())
                .as("both directions")
                .anySatisfy(o -> assertThat(o).isInstanceOfSatisfying(ReplayOutcome.Flip.class, f -> assertThat(f.to())
                        .isEqualTo("deny 429")))
                .anySatisfy(o -> assertThat(o).isInstanceOfSatisfying(ReplayOutcome.Flip.class, f -> assertThat(f.to())
                        .isEqualTo("allow 200")));
    }
}
