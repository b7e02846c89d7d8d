package io.meshguard.bench.extauthz;

import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.authz.jwt.JwksRegistry;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.quota.QuotaGate;
import io.meshguard.authz.subscription.SubscriptionGate;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Limit;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.PublishHost;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.InMemoryApiKeyStore;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.ratelimit.TokenBucketLimiter;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.StringReader;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What deciding a product route from the pushed subscription state adds to a Check (the goal: at most +5 %),
 * as CPU per Check in-process ({@link DecisionCost}): the same API-key route, (a) outside any product, (b) as a product
 * route whose key holds one of 10,000 subscriptions in the snapshot (no plan limit, so the lookup alone is measured),
 * (c) as (b) with a plan rate limit, beside (d) the route's own rate limit instead of the plan's.
 *
 * <p>Run: {@code java -cp bench.jar io.meshguard.bench.extauthz.SubscriptionCheckBench [rounds] [checksPerRound]}.
 */
public final class SubscriptionCheckBench {
    static final int SUBSCRIBERS = 10_000;
    static final String PUBLISH = "payments-prod-eu";
    /** One API-key route; {@code %s} is its {@code rate_limit} (on or off). */
    static final String POLICY = """
            rate_limits:
              default_tier: free
              tiers:
                free: {requests_per_second: 1000000}
            routes:
              - name: payments
                match: {path_prefix: /charges}
                auth: apikey
                rate_limit: %s
            """;

    private SubscriptionCheckBench() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int ops = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        InMemoryApiKeyStore keys = new InMemoryApiKeyStore();
        ApiKeyService service = new ApiKeyService(keys, Clock.systemUTC());
        List<ApiKeyService.Created> created = new ArrayList<>();
        for (int i = 0; i < SUBSCRIBERS; i++) {
            created.add(service.create(
                    "app-" + i, "owner-" + i, "t-" + (i % 50), List.of(), List.of(), "free", Optional.empty()));
        }
        ApiKeyService.Created caller = created.get(SUBSCRIBERS / 2);
        SubscriptionSnapshot withoutLimits = snapshot(created, PlanLimits.NONE);
        SubscriptionSnapshot withLimits = snapshot(
                created, new PlanLimits(List.of(new Limit(1_000_000L, Duration.ofSeconds(1))), Optional.empty()));

        List<DecisionCost.Case> cases = List.of(
                new DecisionCost.Case(
                        "(a) API-key route, no product",
                        pipeline(POLICY.formatted("off"), keys, Optional.empty()),
                        request(caller, false)),
                new DecisionCost.Case(
                        "(b) product route, 10k subscriptions, no plan limit",
                        pipeline(POLICY.formatted("off"), keys, Optional.of(withoutLimits)),
                        request(caller, true)),
                new DecisionCost.Case(
                        "(c) product route with a plan rate limit",
                        pipeline(POLICY.formatted("off"), keys, Optional.of(withLimits)),
                        request(caller, true)),
                new DecisionCost.Case(
                        "(d) API-key route with its own rate limit",
                        pipeline(POLICY.formatted("on"), keys, Optional.empty()),
                        request(caller, false)));
        if (args.length > 2) {
            // one case only, e.g. under a profiler: java … SubscriptionCheckBench 1 2000000 1
            cases = List.of(cases.get(Integer.parseInt(args[2])));
        }
        System.out.printf(
                "JDK %s, %d processors%n",
                Runtime.version(), Runtime.getRuntime().availableProcessors());
        DecisionCost.run(cases, rounds, ops);
        System.exit(0);
    }

    static AuthzPipeline pipeline(String yaml, InMemoryApiKeyStore keys, Optional<SubscriptionSnapshot> snapshot)
            throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AuthzPipeline p = new AuthzPipeline(
                new JwksRegistry(registry, Map.of(), Duration.ofSeconds(1)),
                Optional.of(new ApiKeyAuthenticator(keys, Clock.systemUTC(), Duration.ofMinutes(5))),
                new TokenBucketLimiter(100_000, Duration.ofMinutes(1), System::nanoTime),
                new SecretFiles(System::nanoTime),
                Clock.systemUTC(),
                registry,
                10_000,
                Duration.ofMinutes(30),
                QuotaGate.NONE,
                new SubscriptionGate(() -> snapshot, Clock.systemUTC()));
        p.use(new AuthzPolicyParser().parse("bench.yaml", new StringReader(yaml)));
        return p;
    }

    static CheckRequest request(ApiKeyService.Created key, boolean product) {
        return request(key.text(), product);
    }

    /** The route's Check with API key {@code key}; as a product route, it names the publish and the operation. */
    static CheckRequest request(String key, boolean product) {
        Map<String, String> context = product
                ? Map.of(
                        RouteContract.AuthzContext.AUTHZ_PROFILE,
                        "payments",
                        RouteContract.AuthzContext.PRODUCT_PUBLISH,
                        PUBLISH,
                        RouteContract.AuthzContext.PRODUCT_OPERATION,
                        "create-charge")
                : Map.of(RouteContract.AuthzContext.AUTHZ_PROFILE, "payments");
        return CheckRequests.of(
                "POST",
                "payments.prod.eu.api.bank.example",
                "/charges",
                Map.of("x-api-key", List.of(key)),
                context,
                CheckRequests.Encoding.HEADERS);
    }

    /** One publish, one plan, and an application with one key and one active subscription per key. */
    static SubscriptionSnapshot snapshot(List<ApiKeyService.Created> keys, PlanLimits limits) {
        List<Application> apps = new ArrayList<>();
        List<Credential> credentials = new ArrayList<>();
        List<Subscription> subscriptions = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            apps.add(new Application("app-" + i, "t-" + (i % 50), "App " + i, ApplicationState.ACTIVE));
            credentials.add(new Credential(
                    keys.get(i).key().keyId(),
                    AuthMode.APIKEY,
                    "app-" + i,
                    CredentialState.ACTIVE,
                    Optional.empty(),
                    Optional.empty(),
                    Set.of()));
            subscriptions.add(new Subscription("s-" + i, "app-" + i, PUBLISH, "gold", SubscriptionState.ACTIVE));
        }
        return new SubscriptionSnapshot(
                1,
                List.of(new ProductPublish(
                        PUBLISH,
                        "payments",
                        "eu",
                        Environment.PROD,
                        AuthMode.APIKEY,
                        PublishState.PUBLISHED,
                        PublishHost.of("payments", Environment.PROD, "eu", "bank.example"))),
                List.of(new Plan(
                        "gold",
                        "payments",
                        "gold",
                        PlanState.PUBLISHED,
                        limits,
                        Map.of(),
                        Plan.Approval.AUTO,
                        Set.of(AuthMode.APIKEY))),
                apps,
                credentials,
                subscriptions);
    }
}
