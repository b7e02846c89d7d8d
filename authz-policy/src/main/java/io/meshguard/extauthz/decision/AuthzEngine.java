package io.meshguard.extauthz.decision;

import io.meshguard.contract.CanonicalPath;
import io.meshguard.contract.OwnedHeaderNames;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.apikey.ApiKeyAuthenticator;
import io.meshguard.extauthz.condition.Condition;
import io.meshguard.extauthz.condition.ConditionVariables;
import io.meshguard.extauthz.jwt.JwtAuthenticator;
import io.meshguard.extauthz.mesh.Caller;
import io.meshguard.extauthz.policy.AuthMode;
import io.meshguard.extauthz.policy.AuthzPolicy;
import io.meshguard.extauthz.policy.CallerTier;
import io.meshguard.extauthz.policy.DenyRule;
import io.meshguard.extauthz.policy.HeaderContract;
import io.meshguard.extauthz.policy.IdentityHeaders;
import io.meshguard.extauthz.policy.OwnedHeaders;
import io.meshguard.extauthz.policy.RateLimitPolicy;
import io.meshguard.extauthz.policy.RouteIndex;
import io.meshguard.extauthz.policy.RoutePolicy;
import io.meshguard.extauthz.quota.QuotaGate;
import io.meshguard.extauthz.quota.QuotaResponses;
import io.meshguard.extauthz.quota.QuotaVerdict;
import io.meshguard.extauthz.ratelimit.LimitRequest;
import io.meshguard.extauthz.ratelimit.RateLimitHeaders;
import io.meshguard.extauthz.ratelimit.RateLimitKeys;
import io.meshguard.extauthz.ratelimit.RateLimiter;
import io.meshguard.extauthz.ratelimit.Verdict;
import io.meshguard.extauthz.subscription.SubscriptionGate;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides one request against one loaded policy: route, header contract, credential, tenant, roles and scopes,
 * rate limit, then the upstream header set. Everything not explicitly allowed is denied. Immutable per policy; a
 * reload builds a new engine.
 */
public final class AuthzEngine {
    private final AuthzPolicy policy;
    private final JwtAuthenticator jwt;
    private final Optional<ApiKeyAuthenticator> apiKeys;
    private final RateLimiter limiter;
    private final SecretFiles secrets;
    private final OwnedHeaders owned;
    /** Credential headers, the API-key header and the owned headers, distinct, in the order they are removed. */
    private final String[] removable;
    private final Set<String> removableSet;
    /** Host/path selection, and the rules a gateway route names ({@code meshguard.authz_profile}) by one lookup. */
    private final RouteIndex routes;
    private final Clock clock;
    private final QuotaGate quotas;
    private final SubscriptionGate subscriptions;

    public AuthzEngine(AuthzPolicy policy, JwtAuthenticator jwt, Optional<ApiKeyAuthenticator> apiKeys,
            RateLimiter limiter, SecretFiles secrets) {
        this(policy, jwt, apiKeys, limiter, secrets, Clock.systemUTC());
    }

    /** @param clock the time {@code when:} conditions see as {@code now} */
    public AuthzEngine(AuthzPolicy policy, JwtAuthenticator jwt, Optional<ApiKeyAuthenticator> apiKeys,
            RateLimiter limiter, SecretFiles secrets, Clock clock) {
        this(policy, jwt, apiKeys, limiter, secrets, clock, QuotaGate.NONE);
    }

    /** @param quotas counts allowed requests against the policy's {@code quotas:} (after the rate limit) */
    public AuthzEngine(AuthzPolicy policy, JwtAuthenticator jwt, Optional<ApiKeyAuthenticator> apiKeys,
            RateLimiter limiter, SecretFiles secrets, Clock clock, QuotaGate quotas) {
        this(policy, jwt, apiKeys, limiter, secrets, clock, quotas, SubscriptionGate.NONE);
    }

    /** @param subscriptions decides product routes ({@code meshguard.product_publish}) from pushed subscription state */
    public AuthzEngine(AuthzPolicy policy, JwtAuthenticator jwt, Optional<ApiKeyAuthenticator> apiKeys,
            RateLimiter limiter, SecretFiles secrets, Clock clock, QuotaGate quotas, SubscriptionGate subscriptions) {
        this.subscriptions = subscriptions;
        this.quotas = quotas;
        this.clock = clock;
        this.policy = policy;
        this.jwt = jwt;
        this.apiKeys = apiKeys;
        this.limiter = limiter;
        this.secrets = secrets;
        this.owned = OwnedHeaders.of(policy);
        Set<String> names = new LinkedHashSet<>(policy.credentialHeaders());
        names.add(policy.apiKeyHeader());
        names.addAll(owned.owned());
        this.removable = names.toArray(String[]::new);
        this.removableSet = Set.copyOf(names);
        this.routes = RouteIndex.of(policy.routes());
    }

    public AuthzPolicy policy() {
        return policy;
    }

    /** The decision used when no policy could be loaded: deny everything. */
    public static Decision policyNotLoaded(HttpRequestView request) {
        return deny(request, Optional.empty(), Optional.empty(), Reason.POLICY_NOT_LOADED, "authorization policy not loaded",
                Map.of(), false);
    }

    /** The decision when deciding itself failed: deny. */
    public static Decision internalError(HttpRequestView request) {
        return deny(request, Optional.empty(), Optional.empty(), Reason.INTERNAL_ERROR, "authorization failed", Map.of(), false);
    }

    /** The decision for a Check above {@link CheckSize#DENY_ABOVE_BYTES}: deny 431, without deciding on its content. */
    public static Decision tooLarge(HttpRequestView request, int bytes) {
        return deny(request, Optional.empty(), Optional.empty(), Reason.REQUEST_TOO_LARGE,
                "the request's headers are larger than this server decides on", Map.of("check_bytes", Integer.toString(bytes)), false);
    }

    public Decision decide(HttpRequestView request) {
        if (request.target().problem().isPresent()) {
            CanonicalPath.Problem p = request.target().problem().get();
            return deny(request, Optional.empty(), Optional.empty(), Reason.INVALID_PATH, p.description(),
                    Map.of("path_problem", p.code()), false);
        }
        Caller caller = MeshCaller.of(request, policy.mesh());
        // deny rules first (Istio's DENY-before-ALLOW): they hold whatever route the request would select
        for (DenyRule rule : policy.denyRules()) {
            Optional<Decision> denied = denyRule(rule, request, caller);
            if (denied.isPresent()) {
                return denied.get();
            }
        }
        // A gateway route names its rule; an unknown name never falls back to matching (docs/route-contract.md).
        String profile = request.contextExtensions().get(RouteContract.AuthzContext.AUTHZ_PROFILE);
        Optional<RoutePolicy> route = profile != null
                ? routes.named(profile)
                : routes.select(request.host(), request.path(), request.method());
        if (route.isEmpty()) {
            return profile != null
                    ? deny(request, Optional.empty(), Optional.empty(), Reason.UNKNOWN_PROFILE,
                            "the route's authz profile is not in the policy", Map.of(), false)
                    : deny(request, Optional.empty(), Optional.empty(), Reason.NO_MATCHING_ROUTE, "no route allows this request",
                            Map.of(), false);
        }
        RoutePolicy r = route.get();
        Optional<String> routeName = Optional.of(r.name());
        if (profile != null) {
            // the gateway matched the path; the named rule still limits methods and hosts
            Optional<String> outside = r.match().outsideMethodOrHost(request.host(), request.method());
            if (outside.isPresent()) {
                return deny(request, routeName, Optional.empty(), Reason.OUTSIDE_PROFILE,
                        "request " + outside.get() + " is outside the route's authz profile", Map.of(), false);
            }
        }
        if (request.target().hasParameters() && !r.options().allowPathParameters()) {
            return deny(request, routeName, Optional.empty(), Reason.INVALID_PATH, CanonicalPath.Problem.PATH_PARAMETERS.description(),
                    Map.of("path_problem", CanonicalPath.Problem.PATH_PARAMETERS.code()), false);
        }
        IdentityHeaders names = policy.identityHeaders();
        // the gateway hop: meshguard's identity headers are believed only from a trusted gateway, for its own verdict
        boolean gatewayHop = false;
        if (!policy.mesh().trustedGateways().isEmpty() && MeshCaller.carriesIdentity(request, names, policy.headerContract().tenantHeader())) {
            if (!MeshCaller.isTrustedGateway(caller, policy.mesh())) {
                return deny(request, routeName, Optional.empty(), Reason.FORGED_IDENTITY_HEADER,
                        "identity headers are accepted only from the trusted gateway", Map.of(), false);
            }
            gatewayHop = true;
        }
        if (r.access().viaGateway() && !gatewayHop) {
            return deny(request, routeName, Optional.empty(), Reason.GATEWAY_REQUIRED,
                    "this route accepts only requests through the edge gateway", Map.of(), false);
        }
        if (!r.access().from().isEmpty() && r.access().from().stream().noneMatch(src -> src.matches(caller, false))) {
            return deny(request, routeName, Optional.empty(), Reason.SOURCE_NOT_ALLOWED,
                    "the calling workload is not allowed on this route", Map.of(), false);
        }
        AuthMode mode = r.auth();
        String authOverride = request.contextExtensions().get(RouteContract.AuthzContext.AUTH);
        if (authOverride != null) {
            // mtls is not offered to the proxy either: it would turn a token route into "any listed peer"
            Optional<AuthMode> o = AuthMode.fromYaml(authOverride).filter(m -> m != AuthMode.NONE && m != AuthMode.MTLS);
            if (o.isEmpty()) {
                // opening a route is a policy decision; the proxy config may only pick another credential type
                return deny(request, routeName, Optional.empty(), Reason.INVALID_ROUTE_CONFIG,
                        RouteContract.AuthzContext.AUTH + " must be jwt, apikey or jwt_or_apikey", Map.of(), false);
            }
            mode = o.get();
        }

        HeaderContract contract = policy.headerContract();
        if (!r.headerContractExempt()) {
            if (request.repeated(contract.tenantHeader())) {
                return deny(request, routeName, Optional.empty(), Reason.DUPLICATE_HEADER,
                        "header sent more than once", Map.of("header", contract.tenantHeader()), false);
            }
            for (String required : contract.required()) {
                if (request.first(required).filter(v -> !v.isBlank()).isEmpty()) {
                    return deny(request, routeName, Optional.empty(), Reason.REQUIRED_HEADER_MISSING,
                            "required header missing", Map.of("header", required), false);
                }
            }
        }

        if (mode == AuthMode.NONE) {
            Optional<Decision> unmet = conditions(r, request, caller, Optional.empty(), false, false);
            if (unmet.isPresent()) {
                return unmet.get();
            }
            Limited limited = rateLimit(request, r, caller, Optional.empty(), false);
            if (limited.denied().isPresent()) {
                return limited.denied().get();
            }
            Decision open = allow(request, r, Optional.empty(), Reason.PUBLIC_ROUTE, false, limited.headers());
            // anonymous callers have no quota counter; the flag header is still meshguard's alone
            return policy.quotas().isEmpty() ? open : QuotaResponses.apply(open, QuotaVerdict.NONE, false, List.of());
        }

        AuthResult auth = gatewayHop ? GatewayHop.identity(request, names, mode)
                : mode == AuthMode.MTLS ? MeshCaller.peerIdentity(caller)
                : authenticate(request, mode);
        if (auth instanceof AuthResult.Rejected rejected) {
            return deny(request, routeName, Optional.empty(), rejected.reason(), rejected.description(), Map.of(), false);
        }
        AuthResult.Authenticated ok = (AuthResult.Authenticated) auth;
        Identity id = ok.identity();
        Optional<Identity> who = Optional.of(id);
        Optional<String> badClaim = IdentityValues.problem(id);
        if (badClaim.isPresent()) {
            return deny(request, routeName, Optional.empty(), Reason.INVALID_CLAIM, badClaim.get(), Map.of(), ok.fromCache());
        }
        if (id.authMethod().equals("jwt") && !r.options().issuers().isEmpty() && !r.options().issuers().contains(id.issuer())) {
            return deny(request, routeName, who, Reason.ISSUER_NOT_ACCEPTED, "this route does not accept tokens of this issuer",
                    Map.of(), ok.fromCache());
        }

        // a product route admits only what a live subscription admits, before roles, conditions and limits are spent
        SubscriptionGate.Verdict subscribed = gatewayHop ? new SubscriptionGate.NotProduct()
                : subscriptions.check(request.contextExtensions(), id);
        if (subscribed instanceof SubscriptionGate.Refusal refusal) {
            Decision refused = deny(request, routeName, who, refusal.reason(), refusal.description(), Map.of(),
                    ok.fromCache());
            return refusal.subscription().map(refused::withSubscription).orElse(refused);
        }
        // every answer on a subscription names it, so its usage counts its own calls and no other's
        Decision d = afterSubscription(request, r, routeName, caller, gatewayHop, ok, who, subscribed);
        return subscribed instanceof SubscriptionGate.Admitted admitted
                ? d.withSubscription(admitted.subscription().id()) : d;
    }

    private Decision afterSubscription(HttpRequestView request, RoutePolicy r, Optional<String> routeName,
            Caller caller, boolean gatewayHop, AuthResult.Authenticated ok, Optional<Identity> who,
            SubscriptionGate.Verdict subscribed) {
        Identity id = ok.identity();
        HeaderContract contract = policy.headerContract();
        // the API route products are compiled from, reached on the API's own host: nobody subscribed there
        if (r.options().productsOnly() && !gatewayHop && subscribed instanceof SubscriptionGate.NotProduct) {
            return deny(request, routeName, who, Reason.NO_SUBSCRIPTION, "this rule admits product routes only: call"
                    + " the product's host", Map.of(), ok.fromCache());
        }

        Optional<String> sentTenant = request.first(contract.tenantHeader());
        if (sentTenant.isPresent() && (id.tenant().isEmpty() || !id.tenant().get().equals(sentTenant.get().trim()))) {
            return deny(request, routeName, who, Reason.TENANT_MISMATCH,
                    "tenant header does not match the caller's tenant", Map.of("header", contract.tenantHeader()), ok.fromCache());
        }
        if (!r.roles().satisfiedBy(id.roles())) {
            return deny(request, routeName, who, Reason.INSUFFICIENT_ROLE, "caller lacks a required role", Map.of(), ok.fromCache());
        }
        if (!id.scopes().containsAll(r.scopes())) {
            return deny(request, routeName, who, Reason.INSUFFICIENT_SCOPE, "caller lacks a required scope", Map.of(), ok.fromCache());
        }
        // a token served from the token cache is one identity instance per token: credential-only conditions remember
        // their answer on it (a fresh instance, as with the cache off, would only fill the memo)
        boolean stable = !gatewayHop && ok.fromCache() && id.authMethod().equals("jwt");
        Optional<Decision> unmet = conditions(r, request, caller, who, ok.fromCache(), stable);
        if (unmet.isPresent()) {
            return unmet.get();
        }
        // the plan's limits count per subscription (all of an application's credentials together), before the route's
        Limited planLimited = subscribed instanceof SubscriptionGate.Admitted admitted
                ? planLimit(request, r, who, admitted, ok.fromCache()) : Limited.NONE;
        if (planLimited.denied().isPresent()) {
            return planLimited.denied().get();
        }
        // a gateway hop the trusted gateway rate-limited (it says so in an owned header) is not counted again, which
        // could spend the same bucket twice; one it did not limit is limited here, or it would be limited by no one
        boolean limitedAtGateway = gatewayHop && !request.all(RATE_LIMITED_AT).isEmpty();
        Limited routeLimited = limitedAtGateway ? Limited.NONE : rateLimit(request, r, caller, who, ok.fromCache());
        boolean limitedHere = !gatewayHop && r.rateLimited() && policy.rateLimits().isPresent();
        if (routeLimited.denied().isPresent()) {
            return routeLimited.denied().get();
        }
        Limited limited = planLimited.headers().isEmpty() ? routeLimited
                : new Limited(Optional.empty(), planLimited.headers());
        // the plan's calendar quotas, per application and publish: its own, and the operation's when the plan limits it
        List<QuotaGate.SubscriptionQuota> owed = subscribed instanceof SubscriptionGate.Admitted admitted
                ? planQuotas(admitted, request) : List.of();
        QuotaVerdict planQuota = owed.isEmpty() ? QuotaVerdict.NONE
                : quotas.chargeSubscription(((SubscriptionGate.Admitted) subscribed).subscription().quotaCaller(), owed);
        if (planQuota.blocked().isPresent()) {
            return QuotaResponses.apply(quotaDeny(request, r, who, planQuota.blocked().get(), ok.fromCache()), planQuota,
                    false, List.of());
        }
        if (policy.quotas().isEmpty()) {
            Decision allowed = allow(request, r, who, Reason.ALLOWED, ok.fromCache(), limited.headers());
            return tellHopBehind(planQuota == QuotaVerdict.NONE ? allowed
                    : QuotaResponses.apply(allowed, planQuota, false, List.of()), limitedHere, r.name());
        }
        // a gateway hop skips only the quotas the trusted gateway says it charged for this request: a quota that does
        // not list the gateway's rule is charged here, or by no one; a refused request was never charged
        Set<String> chargedAtGateway = gatewayHop ? QuotaResponses.chargedAtGateway(request) : Set.of();
        QuotaVerdict quota = quotas.charge(policy, r.name(), id,
                Optional.ofNullable(request.contextExtensions().get(RouteContract.AuthzContext.RATE_LIMIT_TIER)), chargedAtGateway);
        if (quota.blocked().isPresent()) {
            return QuotaResponses.apply(quotaDeny(request, r, who, quota.blocked().get(), ok.fromCache()), quota, false, List.of());
        }
        quota = quota.and(planQuota);
        // the gateway tells the sidecar behind it what it charged; a sidecar's allow removes the header (owned)
        List<String> charged = gatewayHop ? List.of() : policy.quotas().stream().filter(q -> q.covers(r.name()))
                .map(io.meshguard.extauthz.policy.QuotaPolicy::name).toList();
        return tellHopBehind(QuotaResponses.apply(allow(request, r, who, Reason.ALLOWED, ok.fromCache(), limited.headers()),
                quota, gatewayHop, charged), limitedHere, r.name());
    }

    /** The gateway-hop header naming the gateway rule that rate-limited the request. */
    private static final String RATE_LIMITED_AT = OwnedHeaderNames.RATE_LIMITED_AT;

    /** On an allow that this Check rate-limited, tells the hop behind so (it removes the header before the upstream). */
    private static Decision tellHopBehind(Decision d, boolean limitedHere, String rule) {
        if (!d.allowed() || !limitedHere) {
            return d;
        }
        List<HeaderMutation> set = new ArrayList<>(d.headersSet());
        set.add(new HeaderMutation(RATE_LIMITED_AT, rule, HeaderMutation.Mode.OVERWRITE));
        return d.withHeaders(List.copyOf(set), d.headersRemoved().stream().filter(n -> !n.equals(RATE_LIMITED_AT))
                .toList(), d.responseHeaders());
    }

    private static Decision quotaDeny(HttpRequestView request, RoutePolicy r, Optional<Identity> who, QuotaVerdict.Blocked b,
            boolean cached) {
        if (b.storeUnavailable()) {
            return deny(request, Optional.of(r.name()), who, Reason.QUOTA_UNAVAILABLE, "quota " + b.quota()
                    + " cannot be counted right now", Map.of("retry-after", Long.toString(b.retryAfterSeconds()), "quota", b.quota()),
                    cached);
        }
        return deny(request, Optional.of(r.name()), who, Reason.QUOTA_EXCEEDED, "quota " + b.quota() + " exceeded (" + b.limit()
                + " requests per period); it resets in " + b.retryAfterSeconds() + " s",
                Map.of("retry-after", Long.toString(b.retryAfterSeconds()), "quota", b.quota()), cached);
    }

    /** The rate-limit outcome: a deny (over the limit, or the store is down and the rule fails closed), and headers. */
    private record Limited(Optional<Decision> denied, Map<String, String> headers) {
        static final Limited NONE = new Limited(Optional.empty(), Map.of());
    }

    /**
     * The rate-limit deny, if the caller is over its limit, and the rate-limit headers for the client. Anonymous
     * callers (public routes) are limited per client address ({@link ClientAddress}), so one client cannot exhaust a
     * public route for everyone.
     */
    /**
     * The subscription's plan limits ({@code plan_NAME} in {@code RateLimit-Policy}), in the same limiter as the
     * route tiers: global through Redis when it is configured. A plan's burst is its whole window, as its customers
     * read "50 per second".
     */
    private Limited planLimit(HttpRequestView request, RoutePolicy r, Optional<Identity> who,
            SubscriptionGate.Admitted admitted, boolean cached) {
        Limited product = admitted.plan().limits().rates().isEmpty() ? Limited.NONE
                : planRates(request, r, who, admitted, admitted.plan().limits().rates(),
                        "plan:" + admitted.plan().name(), admitted.subscription().id(), cached);
        if (product.denied().isPresent() || admitted.plan().operationLimits().isEmpty()) {
            return product;
        }
        // an operation the plan limits on its own has its own bucket, on top of the product's
        Optional<String> operation = operation(request);
        io.meshguard.catalog.PlanLimits own = operation.map(op -> admitted.plan().operationLimits().get(op))
                .orElse(null);
        if (own == null || own.rates().isEmpty()) {
            return product;
        }
        Limited op = planRates(request, r, who, admitted, own.rates(), "plan:" + admitted.plan().name() + "/"
                + operation.get(), admitted.subscription().id() + "/" + operation.get(), cached);
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
    private static Optional<String> operation(HttpRequestView request) {
        return Optional.ofNullable(request.contextExtensions().get(RouteContract.AuthzContext.PRODUCT_OPERATION));
    }

    /** The plan's calendar quotas for this request: the product's, and the operation's own. */
    private static List<QuotaGate.SubscriptionQuota> planQuotas(SubscriptionGate.Admitted admitted,
            HttpRequestView request) {
        if (admitted.plan().limits().quota().isEmpty() && admitted.plan().operationLimits().isEmpty()) {
            return List.of();
        }
        List<QuotaGate.SubscriptionQuota> out = new ArrayList<>(2);
        admitted.plan().limits().quota().ifPresent(q -> out.add(new QuotaGate.SubscriptionQuota("subscription", q)));
        operation(request).map(op -> admitted.plan().operationLimits().get(op))
                .flatMap(io.meshguard.catalog.PlanLimits::quota)
                .ifPresent(q -> out.add(new QuotaGate.SubscriptionQuota("subscription/" + operation(request).get(), q)));
        return out;
    }

    private Limited planRates(HttpRequestView request, RoutePolicy r, Optional<Identity> who,
            SubscriptionGate.Admitted admitted, List<io.meshguard.catalog.Limit> rates, String tier, String counter,
            boolean cached) {
        if (rates.isEmpty()) {
            return Limited.NONE;
        }
        List<RateLimitPolicy.Limit> limits = rates.stream()
                .map(l -> new RateLimitPolicy.Limit(l.requests(), l.per(), l.requests())).toList();
        RateLimitPolicy.OnStoreError onError = policy.rateLimits().map(RateLimitPolicy::onStoreError)
                .orElse(RateLimitPolicy.OnStoreError.DEGRADED);
        Verdict verdict = limiter.acquire(new LimitRequest(RateLimitKeys.caller("subscription", counter, tier), tier,
                limits, onError));
        RateLimitPolicy.HeaderStyle style = policy.rateLimits().map(RateLimitPolicy::headers)
                .orElse(RateLimitPolicy.HeaderStyle.BOTH);
        Map<String, String> headers = RateLimitHeaders.of(style, tier, verdict);
        if (verdict.allowed()) {
            return new Limited(Optional.empty(), headers);
        }
        Map<String, String> extra = new LinkedHashMap<>(headers);
        extra.put("retry-after", Long.toString(Math.max(1, RateLimitHeaders.seconds(verdict.retryAfterMicros()))));
        Reason reason = verdict.source() == Verdict.Source.STORE_UNAVAILABLE ? Reason.RATE_LIMIT_STORE_UNAVAILABLE
                : Reason.RATE_LIMITED;
        return new Limited(Optional.of(deny(request, Optional.of(r.name()), who, reason,
                "rate limit " + tier + " exceeded", extra, cached)), Map.of());
    }

    private Limited rateLimit(HttpRequestView request, RoutePolicy r, Caller caller, Optional<Identity> who, boolean cached) {
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
            tier = limits.tiers().getOrDefault(request.contextExtensions().getOrDefault(RouteContract.AuthzContext.RATE_LIMIT_TIER, limits.publicTier()),
                    limits.tiers().get(limits.publicTier()));
            callerId = new String[] {"addr", ClientAddress.key(caller.remoteAddress().or(() -> Optional.of(caller.address()).filter(a -> !a.isEmpty())))};
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
        Verdict verdict = limiter.acquire(new LimitRequest(RateLimitKeys.caller(parts), tier.name(), tier.limits(), onError));
        Map<String, String> headers = RateLimitHeaders.of(limits.headers(), tier.name(), verdict);
        if (verdict.allowed()) {
            return new Limited(Optional.empty(), headers);
        }
        Map<String, String> extra = new LinkedHashMap<>(headers);
        extra.put("retry-after", Long.toString(Math.max(1, RateLimitHeaders.seconds(verdict.retryAfterMicros()))));
        if (verdict.source() == Verdict.Source.STORE_UNAVAILABLE) {
            return new Limited(Optional.of(deny(request, Optional.of(r.name()), who, Reason.RATE_LIMIT_STORE_UNAVAILABLE,
                    "rate limits cannot be checked now (store unreachable) and this route fails closed", extra, cached)), Map.of());
        }
        return new Limited(Optional.of(deny(request, Optional.of(r.name()), who, Reason.RATE_LIMITED,
                "rate limit of tier " + tier.name() + " exceeded", extra, cached)), Map.of());
    }

    /** The policy-level deny rule's verdict: empty when it does not apply. */
    private Optional<Decision> denyRule(DenyRule rule, HttpRequestView request, Caller caller) {
        if (rule.match().isPresent() && !rule.match().get().matches(request.host(), request.path(), request.method())) {
            return Optional.empty();
        }
        // unknown caller values never help the caller: a deny rule's not_ fields hold for them (SourceRule)
        if (!rule.from().isEmpty() && rule.from().stream().noneMatch(src -> src.matches(caller, true))) {
            return Optional.empty();
        }
        // fail towards deny: an evaluation error or a key the request lacks denies, and a repeated parameter denies
        // when any of its values matches (every condition must hold in one reading of the request)
        List<ConditionVariables> readings;
        try {
            readings = new ConditionVariables(request, caller, Optional.empty(), clock.instant()).readings();
        } catch (ConditionVariables.Unreadable e) {
            return Optional.of(deny(request, Optional.empty(), Optional.empty(), Reason.CONDITION_ERROR,
                    "a deny rule's condition could not be evaluated (" + e.getMessage() + ")", Map.of("rule", rule.name()), false));
        }
        boolean anyReadingMatches = rule.when().isEmpty();
        for (ConditionVariables vars : readings) {
            boolean all = true;
            for (Condition c : rule.when()) {
                Condition.Outcome o = c.test(vars);
                if (o instanceof Condition.Outcome.Error e) {
                    return Optional.of(deny(request, Optional.empty(), Optional.empty(), Reason.CONDITION_ERROR,
                            "a deny rule's condition could not be evaluated (" + e.message() + ")", Map.of("rule", rule.name()), false));
                }
                if (o instanceof Condition.Outcome.Fails) {
                    all = false;
                    break;
                }
            }
            if (all) {
                anyReadingMatches = true;
                break;
            }
        }
        if (!anyReadingMatches) {
            return Optional.empty();
        }
        return Optional.of(deny(request, Optional.empty(), Optional.empty(), Reason.DENIED_BY_RULE, "denied by policy rule",
                Map.of("rule", rule.name()), false));
    }

    /** The route's {@code when:} conditions: empty when all hold; false denies, an evaluation error denies too. */
    private Optional<Decision> conditions(RoutePolicy r, HttpRequestView request, Caller caller, Optional<Identity> who,
            boolean cached, boolean stableIdentity) {
        List<Condition> when = r.access().when();
        if (when.isEmpty()) {
            return Optional.empty();
        }
        List<ConditionVariables> readings;
        try {
            readings = new ConditionVariables(request, caller, who, clock.instant()).readings();
        } catch (ConditionVariables.Unreadable e) {
            return Optional.of(deny(request, Optional.of(r.name()), who, Reason.CONDITION_ERROR,
                    "a condition of this route could not be evaluated (" + e.getMessage() + ")", Map.of(), cached));
        }
        Optional<Identity> memoKey = stableIdentity ? who : Optional.empty();
        // an allow condition must hold for every value of a repeated parameter (the upstream may read any of them)
        for (ConditionVariables vars : readings) {
            for (Condition c : when) {
                Condition.Outcome o = c.test(vars, memoKey);
                if (o instanceof Condition.Outcome.Error e) {
                    return Optional.of(deny(request, Optional.of(r.name()), who, Reason.CONDITION_ERROR,
                            "a condition of this route could not be evaluated (" + e.message() + ")", Map.of(), cached));
                }
                if (!(o instanceof Condition.Outcome.Holds)) {
                    return Optional.of(deny(request, Optional.of(r.name()), who, Reason.CONDITION_NOT_MET,
                            "a condition of this route is not met", Map.of(), cached));
                }
            }
        }
        return Optional.empty();
    }

    private AuthResult authenticate(HttpRequestView request, AuthMode mode) {
        List<String> authz = request.all("authorization");
        List<String> keys = request.all(policy.apiKeyHeader());
        boolean useJwt = mode.acceptsJwt() && !authz.isEmpty();
        boolean useKey = !useJwt && mode.acceptsApiKey() && !keys.isEmpty();
        if (useJwt) {
            if (request.repeated("authorization")) {
                return new AuthResult.Rejected(Reason.DUPLICATE_CREDENTIAL, "more than one Authorization header");
            }
            String value = authz.get(0).trim();
            int space = value.indexOf(' ');
            if (space < 0 || !value.substring(0, space).equalsIgnoreCase("bearer")) {
                return new AuthResult.Rejected(Reason.INVALID_TOKEN, "Authorization must use the Bearer scheme");
            }
            String token = value.substring(space + 1).trim();
            if (token.isEmpty()) {
                return new AuthResult.Rejected(Reason.MISSING_CREDENTIAL, "bearer token is empty");
            }
            if (token.length() > policy.tokenMaxBytes()) {
                return new AuthResult.Rejected(Reason.TOKEN_TOO_LARGE, "token exceeds " + policy.tokenMaxBytes() + " bytes");
            }
            return jwt.authenticate(token);
        }
        if (useKey) {
            if (keys.size() > 1) {
                return new AuthResult.Rejected(Reason.DUPLICATE_CREDENTIAL, "more than one API key header");
            }
            if (apiKeys.isEmpty()) {
                return new AuthResult.Rejected(Reason.API_KEY_STORE_UNAVAILABLE, "API keys cannot be checked here");
            }
            return apiKeys.get().authenticate(keys.get(0));
        }
        return new AuthResult.Rejected(Reason.MISSING_CREDENTIAL, switch (mode) {
            case JWT -> "bearer token required";
            case APIKEY -> "API key required";
            default -> "bearer token or API key required";
        });
    }

    private RateLimitPolicy.RateTier tierFor(RateLimitPolicy limits, Identity id, HttpRequestView request) {
        String name = CallerTier.resolve(Optional.ofNullable(request.contextExtensions().get(RouteContract.AuthzContext.RATE_LIMIT_TIER)),
                id, limits.tiers()::containsKey, limits.tenantTiers(), limits.defaultTier());
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

    private Decision allow(HttpRequestView request, RoutePolicy route, Optional<Identity> who, Reason reason, boolean cached,
            Map<String, String> responseHeaders) {
        IdentityHeaders names = policy.identityHeaders();
        Map<String, HeaderMutation> set = new LinkedHashMap<>(32);
        if (who.isPresent() && who.get().authMethod().equals(MeshCaller.MTLS)) {
            // a workload called with its mTLS identity: no user, the peer says who it is
            Identity id = who.get();
            overwrite(set, names.callerType(), "workload");
            overwrite(set, names.callerPrincipal(), id.subject());
            overwrite(set, names.authMethod(), id.authMethod());
        } else if (who.isPresent()) {
            Identity id = who.get();
            overwrite(set, names.subject(), id.subject());
            overwrite(set, names.callerType(), id.authMethod().equals("apikey") ? "api_key" : "user");
            overwrite(set, names.issuer(), id.issuer());
            id.credentialId().ifPresent(k -> overwrite(set, names.credentialId(), k));
            id.tenant().ifPresent(t -> overwrite(set, names.tenant(), t));
            if (!id.roles().isEmpty()) {
                overwrite(set, names.roles(), String.join(",", id.roles()));
            }
            if (!id.scopes().isEmpty()) {
                overwrite(set, names.scopes(), String.join(" ", id.scopes()));
            }
            id.clientId().ifPresent(c -> overwrite(set, names.clientId(), c));
            overwrite(set, names.authMethod(), id.authMethod());
        } else {
            overwrite(set, names.authMethod(), "none");
        }
        if (ClientAddress.atEdge(request)) {
            // the edge's verdict on the client, for the workload's sidecar check (believed there only from the gateway)
            ClientAddress.of(request, policy.mesh()).ifPresent(a -> overwrite(set, ClientAddress.HEADER, a));
        }
        if (route.upstreamCredential().isPresent()) {
            var cred = route.upstreamCredential().get();
            Optional<String> secret = secrets.read(cred.file());
            if (secret.isEmpty()) {
                return deny(request, Optional.of(route.name()), who, Reason.UPSTREAM_CREDENTIAL_UNAVAILABLE,
                        "service credential for the upstream is unavailable", Map.of(), cached);
            }
            overwrite(set, cred.header(), cred.prefix() + secret.get());
        }
        String tenantHeader = policy.headerContract().tenantHeader();
        if (!set.containsKey(tenantHeader)) {
            // the client's tenant header was checked against the token; the upstream still gets meshguard's value
            who.flatMap(Identity::tenant).ifPresent(t -> overwrite(set, tenantHeader, t));
        }
        if (!route.headerContractExempt()) {
            // contract defaults are meshguard's to set: a client-sent x-dwp-caller-type never reaches the upstream
            for (Map.Entry<String, String> d : policy.headerContract().defaults().entrySet()) {
                if (!set.containsKey(d.getKey()) && !names.all().contains(d.getKey())) {
                    overwrite(set, d.getKey(), d.getValue());
                }
            }
        }
        // Envoy applies headers_to_remove after the sets: remove only what we do not set ourselves. The policy's
        // removable names (credentials, API key, owned; distinct, in that order) are worked out once per policy.
        List<String> remove = new ArrayList<>(removable.length + 4);
        for (String n : removable) {
            if (!set.containsKey(n)) {
                remove.add(n);
            }
        }
        for (String n : request.headers().keySet()) {
            if (!set.containsKey(n) && !removableSet.contains(n) && owned.strip(n, route.options().passHeaders())) {
                remove.add(n);
            }
        }
        return new Decision(true, 200, reason, reason == Reason.PUBLIC_ROUTE ? "public route" : "allowed", request.requestId(),
                Optional.of(route.name()), who, List.copyOf(set.values()), List.copyOf(remove), responseHeaders, "", cached,
                Optional.empty());
    }

    private static void overwrite(Map<String, HeaderMutation> set, String name, String value) {
        set.put(name, new HeaderMutation(name, sanitize(value), HeaderMutation.Mode.OVERWRITE));
    }

    /** Claim values go into header values: drop control characters so a claim can never split a header. */
    private static String sanitize(String value) {
        StringBuilder sb = null;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                if (sb == null) {
                    sb = new StringBuilder(value.substring(0, i));
                }
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? value : sb.toString();
    }

    private static Decision deny(HttpRequestView request, Optional<String> route, Optional<Identity> who, Reason reason,
            String description, Map<String, String> extra, boolean cached) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("error", switch (reason.status()) {
            case 400 -> "bad_request";
            case 401 -> "unauthenticated";
            case 429 -> "rate_limited";
            case 503 -> "unavailable";
            case 500 -> "internal";
            default -> "forbidden";
        });
        body.put("reason", reason.code());
        body.put("message", description);
        if (extra.containsKey("header")) {
            body.put("header", extra.get("header"));
        }
        if (extra.containsKey("path_problem")) {
            body.put("path_problem", extra.get("path_problem"));
        }
        if (extra.containsKey("rule")) {
            body.put("rule", extra.get("rule"));
        }
        if (extra.containsKey("quota")) {
            body.put("quota", extra.get("quota"));
        }
        body.put("request_id", request.requestId());
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("content-type", "application/json");
        headers.put("x-request-id", request.requestId());
        if (reason.status() == 401) {
            headers.put("www-authenticate", "Bearer error=\"invalid_token\", error_description=\"" + quotable(description) + "\"");
        }
        if (extra.containsKey("retry-after")) {
            // rate-limit answers: Retry-After and the rate-limit headers (every other deny's extra keys are body fields)
            headers.put("retry-after", extra.get("retry-after"));
            extra.forEach((k, v) -> {
                if (k.startsWith("ratelimit") || k.startsWith("x-ratelimit-")) {
                    headers.put(k, v);
                }
            });
        }
        return new Decision(false, reason.status(), reason, description, request.requestId(), route, who, List.of(), List.of(),
                Map.copyOf(headers), Json.object(body), cached, Optional.empty());
    }

    /** The description sits inside a quoted-string of WWW-Authenticate: no quotes or backslashes. */
    private static String quotable(String s) {
        return s.replace('"', '\'').replace('\\', '/');
    }
}
