package io.meshguard.authz.decision;

import io.meshguard.authz.mesh.Caller;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.CallerTier;
import io.meshguard.authz.policy.RateLimitPolicy;
import io.meshguard.authz.policy.RoutePolicy;
import io.meshguard.authz.ratelimit.LimitRequest;
import io.meshguard.authz.ratelimit.RateLimitHeaders;
import io.meshguard.authz.ratelimit.RateLimitKeys;
import io.meshguard.authz.ratelimit.RateLimiter;
import io.meshguard.authz.ratelimit.Verdict;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.PlanUse;
import io.meshguard.authz.request.Reason;
import io.meshguard.authz.subscription.SubscriptionGate;
import io.meshguard.contract.RouteContract;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The request's rate limits: the route's tier (per credential, tenant, subject or client address) and a product
 * subscription's plan limits, both in one limiter.
 */
final class RateLimits {
    private final AuthzPolicy policy;
    private final RateLimiter limiter;

    RateLimits(AuthzPolicy policy, RateLimiter limiter) {
        this.policy = policy;
        this.limiter = limiter;
    }

    /** The rate-limit outcome: a deny (over the limit, or the store is down and the rule fails closed), and headers. */
    record Limited(Optional<Decision> denied, Map<String, String> headers) {
        static final Limited NONE = new Limited(Optional.empty(), Map.of());
    }

    /**
     * The subscription's plan limits ({@code plan_NAME} in {@code RateLimit-Policy}), in the same limiter as the
     * route tiers: global through Redis when it is configured. A plan's burst is its whole window, as its customers
     * read "50 per second".
     */
    Limited planLimit(
            HttpRequestView request,
            RoutePolicy r,
            Optional<Identity> who,
            SubscriptionGate.Admitted admitted,
            boolean cached) {
        Limited product = admitted.plan().limits().rates().isEmpty()
                ? Limited.NONE
                : planRates(
                        request,
                        r,
                        who,
                        admitted,
                        admitted.plan().limits().rates(),
                        "plan:" + admitted.plan().name(),
                        admitted.subscription().id(),
                        cached);
        if (product.denied().isPresent() || admitted.plan().operationLimits().isEmpty()) {
            return product;
        }
        // an operation the plan limits on its own has its own bucket, on top of the product's
        Optional<String> operation = operation(request);
        io.meshguard.catalogmodel.PlanLimits own =
                operation.map(op -> admitted.plan().operationLimits().get(op)).orElse(null);
        if (own == null || own.rates().isEmpty()) {
            return product;
        }
        Limited op = planRates(
                request,
                r,
                who,
                admitted,
                own.rates(),
                "plan:" + admitted.plan().name() + "/" + operation.get(),
                admitted.subscription().id() + "/" + operation.get(),
                cached);
        if (op.denied().isPresent() || op.headers().isEmpty()) {
            return op.denied().isPresent() ? op : product;
        }
        // both buckets admitted: the operation's is the narrower one for the counts, and RateLimit-Policy lists both
        // (a list of policies, draft-ietf-httpapi-ratelimit-headers)
        Map<String, String> headers = new LinkedHashMap<>(op.headers());
        String productPolicy = product.headers().get(RATELIMIT_POLICY);
        if (productPolicy != null) {
            headers.merge(RATELIMIT_POLICY, productPolicy, (operationPolicy, plan) -> plan + ", " + operationPolicy);
        }
        return new Limited(Optional.empty(), headers);
    }

    private static final String RATELIMIT_POLICY = "ratelimit-policy";

    /** The product operation the route serves ({@code meshguard.product_operation}), if it is a product route. */
    static Optional<String> operation(HttpRequestView request) {
        return Optional.ofNullable(request.contextExtensions().get(RouteContract.AuthzContext.PRODUCT_OPERATION));
    }

    private Limited planRates(
            HttpRequestView request,
            RoutePolicy r,
            Optional<Identity> who,
            SubscriptionGate.Admitted admitted,
            List<io.meshguard.catalogmodel.Limit> rates,
            String tier,
            String counter,
            boolean cached) {
        if (rates.isEmpty()) {
            return Limited.NONE;
        }
        List<RateLimitPolicy.Limit> limits =
                rates.stream().map(RateLimitPolicy.Limit::ofPlan).toList();
        RateLimitPolicy.OnStoreError onError =
                policy.rateLimits().map(RateLimitPolicy::onStoreError).orElse(RateLimitPolicy.OnStoreError.DEGRADED);
        Verdict verdict = limiter.acquire(
                new LimitRequest(RateLimitKeys.caller("subscription", counter, tier), tier, limits, onError));
        RateLimitPolicy.HeaderStyle style =
                policy.rateLimits().map(RateLimitPolicy::headers).orElse(RateLimitPolicy.HeaderStyle.BOTH);
        Map<String, String> headers = RateLimitHeaders.of(style, tier, verdict);
        if (verdict.allowed()) {
            return new Limited(Optional.empty(), headers);
        }
        Map<String, String> extra = new LinkedHashMap<>(headers);
        extra.put("retry-after", Long.toString(Math.max(1, RateLimitHeaders.seconds(verdict.retryAfterMicros()))));
        Reason reason = verdict.source() == Verdict.Source.STORE_UNAVAILABLE
                ? Reason.RATE_LIMIT_STORE_UNAVAILABLE
                : Reason.RATE_LIMITED;
        // the audit names the plan limit that refused, so a plan change's replay knows the plan's counters stood still
        return new Limited(
                Optional.of(DenyResponse.of(
                                request,
                                Optional.of(r.name()),
                                who,
                                reason,
                                "rate limit " + tier + " exceeded",
                                extra,
                                cached)
                        .withPlan(new PlanUse(
                                admitted.plan().id(), admitted.subscription().applicationId(), Optional.of(tier)))),
                Map.of());
    }

    /**
     * The rate-limit deny, if the caller is over its limit, and the rate-limit headers for the client. Anonymous
     * callers (public routes) are limited per client address ({@link ClientAddress}), so one client cannot exhaust a
     * public route for everyone.
     */
    Limited route(HttpRequestView request, RoutePolicy r, Caller caller, Optional<Identity> who, boolean cached) {
        if (!r.rateLimited() || policy.rateLimits().isEmpty()) {
            return Limited.NONE;
        }
        RateLimitPolicy limits = policy.rateLimits().get();
        RateLimitPolicy.RouteLimit own = r.options().rateLimit();
        RateLimitPolicy.LimitScope scope = own.scope().orElse(limits.scope());
        RateLimitPolicy.OnStoreError onError = own.onStoreError().orElse(limits.onStoreError());
        RateLimitPolicy.RateTier tier;
        String[] callerId;
        if (who.isPresent()) {
            tier = tierFor(limits, who.get(), request);
            callerId = callerParts(limits, who.get());
        } else {
            tier = limits.tiers()
                    .getOrDefault(
                            request.contextExtensions()
                                    .getOrDefault(RouteContract.AuthzContext.RATE_LIMIT_TIER, limits.publicTier()),
                            limits.tiers().get(limits.publicTier()));
            callerId = new String[] {
                "addr",
                ClientAddress.key(caller.remoteAddress()
                        .or(() -> Optional.of(caller.address()).filter(a -> !a.isEmpty())))
            };
        }
        // length-prefixed parts: scope, caller kind and id, tier — no two callers can spell the same key
        String[] parts = new String[callerId.length + (scope == RateLimitPolicy.LimitScope.ROUTE ? 3 : 2)];
        int i = 0;
        parts[i++] = scope.yaml();
        if (scope == RateLimitPolicy.LimitScope.ROUTE) {
            parts[i++] = r.name();
        }
        for (String p : callerId) {
            parts[i++] = p;
        }
        parts[i] = tier.name();
        Verdict verdict =
                limiter.acquire(new LimitRequest(RateLimitKeys.caller(parts), tier.name(), tier.limits(), onError));
        Map<String, String> headers = RateLimitHeaders.of(limits.headers(), tier.name(), verdict);
        if (verdict.allowed()) {
            return new Limited(Optional.empty(), headers);
        }
        Map<String, String> extra = new LinkedHashMap<>(headers);
        extra.put("retry-after", Long.toString(Math.max(1, RateLimitHeaders.seconds(verdict.retryAfterMicros()))));
        if (verdict.source() == Verdict.Source.STORE_UNAVAILABLE) {
            return new Limited(
                    Optional.of(DenyResponse.of(
                            request,
                            Optional.of(r.name()),
                            who,
                            Reason.RATE_LIMIT_STORE_UNAVAILABLE,
                            "rate limits cannot be checked now (store unreachable) and this route fails closed",
                            extra,
                            cached)),
                    Map.of());
        }
        return new Limited(
                Optional.of(DenyResponse.of(
                        request,
                        Optional.of(r.name()),
                        who,
                        Reason.RATE_LIMITED,
                        "rate limit of tier " + tier.name() + " exceeded",
                        extra,
                        cached)),
                Map.of());
    }

    private RateLimitPolicy.RateTier tierFor(RateLimitPolicy limits, Identity id, HttpRequestView request) {
        String name = CallerTier.resolve(
                Optional.ofNullable(request.contextExtensions().get(RouteContract.AuthzContext.RATE_LIMIT_TIER)),
                id,
                limits.tiers()::containsKey,
                limits.tenantTiers(),
                limits.defaultTier());
        return limits.tiers().get(name);
    }

    private static String[] callerParts(RateLimitPolicy limits, Identity id) {
        if (id.credentialId().isPresent()) {
            return new String[] {"key", id.credentialId().get()};
        }
        if (limits.by().equals("tenant") && id.tenant().isPresent()) {
            return new String[] {"tenant", id.tenant().get()};
        }
        return new String[] {"sub", id.issuer(), id.subject()};
    }
}
