package io.meshguard.authz.decision;

import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.jwt.JwtAuthenticator;
import io.meshguard.authz.mesh.Caller;
import io.meshguard.authz.policy.AuthMode;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.DenyRule;
import io.meshguard.authz.policy.HeaderContract;
import io.meshguard.authz.policy.IdentityHeaders;
import io.meshguard.authz.policy.McpResource;
import io.meshguard.authz.policy.McpRoute;
import io.meshguard.authz.policy.RouteIndex;
import io.meshguard.authz.policy.RoutePolicy;
import io.meshguard.authz.quota.QuotaGate;
import io.meshguard.authz.quota.QuotaResponses;
import io.meshguard.authz.quota.QuotaVerdict;
import io.meshguard.authz.ratelimit.RateLimiter;
import io.meshguard.authz.request.AuthResult;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HeaderMutation;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.PlanUse;
import io.meshguard.authz.request.Reason;
import io.meshguard.authz.subscription.SubscriptionGate;
import io.meshguard.contract.CanonicalPath;
import io.meshguard.contract.OwnedHeaderNames;
import io.meshguard.contract.RouteContract;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides one request against one loaded policy, in stages: deny rules, route selection, who may call the route, header
 * contract, credential, subscription, tenant/roles/scopes/conditions, rate limits and quotas, then the upstream header
 * set. Each stage either denies or hands on. Everything not explicitly allowed is denied. Immutable per policy; a
 * reload builds a new engine.
 */
public final class AuthzEngine {
    private final AuthzPolicy policy;
    /** Host/path selection, and the rules a gateway route names ({@code meshguard.authz_profile}) by one lookup. */
    private final RouteIndex routes;

    private final RuleConditions conditions;
    private final McpRules mcpRules;
    /** The MCP servers the policy names: a token bound to one is refused on every other route. */
    private final List<McpResource> mcpServers;

    private final CredentialCheck credentials;
    private final SubscriptionGate subscriptions;
    private final RateLimits rateLimits;
    private final QuotaGate quotas;
    private final UpstreamHeaders upstream;

    public AuthzEngine(
            AuthzPolicy policy,
            JwtAuthenticator jwt,
            Optional<ApiKeyAuthenticator> apiKeys,
            RateLimiter limiter,
            SecretFiles secrets) {
        this(policy, jwt, apiKeys, limiter, secrets, Clock.systemUTC());
    }

    /** @param clock the time {@code when:} conditions see as {@code now} */
    public AuthzEngine(
            AuthzPolicy policy,
            JwtAuthenticator jwt,
            Optional<ApiKeyAuthenticator> apiKeys,
            RateLimiter limiter,
            SecretFiles secrets,
            Clock clock) {
        this(policy, jwt, apiKeys, limiter, secrets, clock, QuotaGate.NONE);
    }

    /** @param quotas counts allowed requests against the policy's {@code quotas:} (after the rate limit) */
    public AuthzEngine(
            AuthzPolicy policy,
            JwtAuthenticator jwt,
            Optional<ApiKeyAuthenticator> apiKeys,
            RateLimiter limiter,
            SecretFiles secrets,
            Clock clock,
            QuotaGate quotas) {
        this(policy, jwt, apiKeys, limiter, secrets, clock, quotas, SubscriptionGate.NONE);
    }

    /** @param subscriptions decides product routes ({@code meshguard.product_publish}) from pushed subscription state */
    public AuthzEngine(
            AuthzPolicy policy,
            JwtAuthenticator jwt,
            Optional<ApiKeyAuthenticator> apiKeys,
            RateLimiter limiter,
            SecretFiles secrets,
            Clock clock,
            QuotaGate quotas,
            SubscriptionGate subscriptions) {
        this(policy, new Credentials(policy, jwt, apiKeys), limiter, secrets, clock, quotas, subscriptions);
    }

    /**
     * @param credentials verifies the request's credential: the server's token and key verification, or a replay's
     *     recorded identities (the rest of the decision is this engine's either way)
     */
    public AuthzEngine(
            AuthzPolicy policy,
            CredentialCheck credentials,
            RateLimiter limiter,
            SecretFiles secrets,
            Clock clock,
            QuotaGate quotas,
            SubscriptionGate subscriptions) {
        this.policy = policy;
        this.routes = RouteIndex.of(policy.routes());
        this.conditions = new RuleConditions(clock);
        this.mcpRules = new McpRules(conditions);
        this.mcpServers = McpAuthorization.servers(policy);
        this.credentials = credentials;
        this.subscriptions = subscriptions;
        this.rateLimits = new RateLimits(policy, limiter);
        this.quotas = quotas;
        this.upstream = new UpstreamHeaders(policy, secrets);
    }

    public AuthzPolicy policy() {
        return policy;
    }

    /** The decision used when no policy could be loaded: deny everything. */
    public static Decision policyNotLoaded(HttpRequestView request) {
        return deny(
                request,
                Optional.empty(),
                Optional.empty(),
                Reason.POLICY_NOT_LOADED,
                "authorization policy not loaded",
                Map.of(),
                false);
    }

    /** The decision when deciding itself failed: deny. */
    public static Decision internalError(HttpRequestView request) {
        return deny(
                request,
                Optional.empty(),
                Optional.empty(),
                Reason.INTERNAL_ERROR,
                "authorization failed",
                Map.of(),
                false);
    }

    /**
     * The deny that replaces {@code allowed} when what the server must do after the policy allowed (a token exchange)
     * fails: same route and caller, the reason's status and JSON body, never the allow's upstream headers.
     */
    public static Decision refusedAfterAllow(
            HttpRequestView request, Decision allowed, Reason reason, String description) {
        return deny(
                request, allowed.route(), allowed.identity(), reason, description, Map.of(), allowed.tokenFromCache());
    }

    /** The decision for a Check above {@link CheckSize#DENY_ABOVE_BYTES}: deny 431, without deciding on its content. */
    public static Decision tooLarge(HttpRequestView request, int bytes) {
        return deny(
                request,
                Optional.empty(),
                Optional.empty(),
                Reason.REQUEST_TOO_LARGE,
                "the request's headers are larger than this server decides on",
                Map.of("check_bytes", Integer.toString(bytes)),
                false);
    }

    public Decision decide(HttpRequestView request) {
        if (request.target().problem().isPresent()) {
            CanonicalPath.Problem p = request.target().problem().get();
            return deny(
                    request,
                    Optional.empty(),
                    Optional.empty(),
                    Reason.INVALID_PATH,
                    p.description(),
                    Map.of("path_problem", p.code()),
                    false);
        }
        Caller caller = MeshCaller.of(request, policy.mesh());
        // deny rules first (Istio's DENY-before-ALLOW): they hold whatever route the request would select
        Optional<Decision> denied = denyRules(request, caller);
        if (denied.isPresent()) {
            return denied.get();
        }
        // A gateway route names its rule; an unknown name never falls back to matching (docs/route-contract.md).
        String profile = request.contextExtensions().get(RouteContract.AuthzContext.AUTHZ_PROFILE);
        // an MCP server's metadata is public and answered here, before any credential or header is asked for
        Optional<Decision> metadata = McpAuthorization.metadata(
                request,
                policy,
                profile != null ? routes.named(profile).map(List::of).orElse(List.of()) : policy.routes());
        if (metadata.isPresent()) {
            return metadata.get();
        }
        Optional<RoutePolicy> route = profile != null
                ? routes.named(profile)
                : routes.select(request.host(), request.path(), request.method());
        if (route.isEmpty()) {
            return profile != null
                    ? deny(
                            request,
                            Optional.empty(),
                            Optional.empty(),
                            Reason.UNKNOWN_PROFILE,
                            "the route's authz profile is not in the policy",
                            Map.of(),
                            false)
                    : deny(
                            request,
                            Optional.empty(),
                            Optional.empty(),
                            Reason.NO_MATCHING_ROUTE,
                            "no route allows this request",
                            Map.of(),
                            false);
        }
        RoutePolicy r = route.get();
        Decision d = decideOn(request, r, profile != null, caller);
        return r.access().mcp().isPresent() ? McpAuthorization.challenged(d, r, request) : d;
    }

    /** The stages after the route is chosen: who may call it, the credential, the identity's entitlements, limits. */
    private Decision decideOn(HttpRequestView request, RoutePolicy r, boolean named, Caller caller) {
        Optional<String> routeName = Optional.of(r.name());
        Optional<Decision> denied = outsideRoute(request, r, routeName, named);
        if (denied.isPresent()) {
            return denied.get();
        }
        IdentityHeaders names = policy.identityHeaders();
        // the gateway hop: meshguard's identity headers are believed only from a trusted gateway, for its own verdict
        boolean gatewayHop = !policy.mesh().trustedGateways().isEmpty()
                && MeshCaller.carriesIdentity(
                        request, names, policy.headerContract().tenantHeader());
        denied = callerAdmitted(request, r, routeName, caller, gatewayHop);
        if (denied.isPresent()) {
            return denied.get();
        }
        AuthMode mode = r.auth();
        String authOverride = request.contextExtensions().get(RouteContract.AuthzContext.AUTH);
        if (authOverride != null) {
            Optional<AuthMode> o = proxyAuthMode(authOverride);
            if (o.isEmpty()) {
                // opening a route is a policy decision; the proxy config may only pick another credential type
                return deny(
                        request,
                        routeName,
                        Optional.empty(),
                        Reason.INVALID_ROUTE_CONFIG,
                        RouteContract.AuthzContext.AUTH + " must be jwt, apikey or jwt_or_apikey",
                        Map.of(),
                        false);
            }
            mode = o.get();
        }
        if (!gatewayHop
                && r.access().mcp().flatMap(McpRoute::resource).isPresent()
                && request.all("authorization").isEmpty()
                && request.all(policy.apiKeyHeader()).isEmpty()) {
            // an MCP client discovers the authorization server from the 401's challenge: a request without any
            // credential gets it before the header contract, which an MCP client knows nothing of
            AuthResult none = credentials.authenticate(request, mode);
            if (none instanceof AuthResult.Rejected rejected && rejected.reason() == Reason.MISSING_CREDENTIAL) {
                return deny(
                        request,
                        routeName,
                        Optional.empty(),
                        rejected.reason(),
                        rejected.description(),
                        Map.of(),
                        false);
            }
        }
        denied = headerContract(request, r, routeName, mode != AuthMode.NONE);
        if (denied.isPresent()) {
            return denied.get();
        }
        if (r.access().mcp().isPresent()) {
            denied = McpRules.headersRefused(request, r, r.access().mcp().get());
            if (denied.isPresent()) {
                return denied.get();
            }
        }
        if (mode == AuthMode.NONE) {
            return publicRoute(request, r, caller);
        }

        AuthResult auth = gatewayHop
                ? GatewayHop.identity(request, names, mode)
                : mode == AuthMode.MTLS ? MeshCaller.peerIdentity(caller) : credentials.authenticate(request, mode);
        if (auth instanceof AuthResult.Rejected rejected) {
            return deny(
                    request, routeName, Optional.empty(), rejected.reason(), rejected.description(), Map.of(), false);
        }
        AuthResult.Authenticated ok = (AuthResult.Authenticated) auth;
        Optional<Identity> who = Optional.of(ok.identity());
        denied = identityRefused(request, r, routeName, ok, who);
        if (denied.isPresent()) {
            return denied.get();
        }
        // the trusted gateway bound the token to the MCP server already; its hop carries no token to check again
        if (!gatewayHop) {
            denied = McpAuthorization.audienceRefused(request, r, ok.identity(), who, ok.fromCache())
                    .or(() -> McpAuthorization.boundElsewhere(
                            request, r, mcpServers, ok.identity(), who, ok.fromCache()));
            if (denied.isPresent()) {
                return denied.get();
            }
        }

        // a product route admits only what a live subscription admits, before roles, conditions and limits are spent
        SubscriptionGate.Verdict subscribed = gatewayHop
                ? new SubscriptionGate.NotProduct()
                : subscriptions.check(request.contextExtensions(), ok.identity());
        if (subscribed instanceof SubscriptionGate.Refusal refusal) {
            Decision refused =
                    deny(request, routeName, who, refusal.reason(), refusal.description(), Map.of(), ok.fromCache());
            return refusal.subscription().map(refused::withSubscription).orElse(refused);
        }
        // every answer on a subscription names it, so its usage counts its own calls and no other's
        Decision d = mcpRules.withCallableTools(
                afterSubscription(request, r, routeName, caller, gatewayHop, ok, who, subscribed),
                request,
                r,
                caller,
                who,
                ok.fromCache());
        return subscribed instanceof SubscriptionGate.Admitted admitted
                ? d.withSubscription(admitted.subscription().id())
                        .withPlan(new PlanUse(
                                admitted.plan().id(), admitted.subscription().applicationId(), Optional.empty()))
                : d;
    }

    /** The policy's deny rules, in order: the first that applies denies. */
    private Optional<Decision> denyRules(HttpRequestView request, Caller caller) {
        for (DenyRule rule : policy.denyRules()) {
            Optional<Decision> denied = conditions.denyRule(rule, request, caller);
            if (denied.isPresent()) {
                return denied;
            }
        }
        return Optional.empty();
    }

    /** A request the selected route does not take: outside a named profile's methods or hosts, or path parameters. */
    private static Optional<Decision> outsideRoute(
            HttpRequestView request, RoutePolicy r, Optional<String> routeName, boolean named) {
        if (named) {
            // the gateway matched the path; the named rule still limits methods and hosts
            Optional<String> outside = r.match().outsideMethodOrHost(request.host(), request.method());
            if (outside.isPresent()) {
                return Optional.of(deny(
                        request,
                        routeName,
                        Optional.empty(),
                        Reason.OUTSIDE_PROFILE,
                        "request " + outside.get() + " is outside the route's authz profile",
                        Map.of(),
                        false));
            }
        }
        if (request.target().hasParameters() && !r.options().allowPathParameters()) {
            return Optional.of(deny(
                    request,
                    routeName,
                    Optional.empty(),
                    Reason.INVALID_PATH,
                    CanonicalPath.Problem.PATH_PARAMETERS.description(),
                    Map.of("path_problem", CanonicalPath.Problem.PATH_PARAMETERS.code()),
                    false));
        }
        return Optional.empty();
    }

    /**
     * Who may reach the route at all: identity headers only from a trusted gateway, a gateway-only route only through
     * it, and the route's {@code from:} workloads.
     *
     * @param gatewayHop the request carries meshguard's identity headers and the policy names trusted gateways
     */
    private Optional<Decision> callerAdmitted(
            HttpRequestView request, RoutePolicy r, Optional<String> routeName, Caller caller, boolean gatewayHop) {
        if (gatewayHop && !MeshCaller.isTrustedGateway(caller, policy.mesh())) {
            return Optional.of(deny(
                    request,
                    routeName,
                    Optional.empty(),
                    Reason.FORGED_IDENTITY_HEADER,
                    "identity headers are accepted only from the trusted gateway",
                    Map.of(),
                    false));
        }
        if (r.access().viaGateway() && !gatewayHop) {
            return Optional.of(deny(
                    request,
                    routeName,
                    Optional.empty(),
                    Reason.GATEWAY_REQUIRED,
                    "this route accepts only requests through the edge gateway",
                    Map.of(),
                    false));
        }
        if (!r.access().from().isEmpty() && r.access().from().stream().noneMatch(src -> src.matches(caller, false))) {
            return Optional.of(deny(
                    request,
                    routeName,
                    Optional.empty(),
                    Reason.SOURCE_NOT_ALLOWED,
                    "the calling workload is not allowed on this route",
                    Map.of(),
                    false));
        }
        return Optional.empty();
    }

    /** The credential type the proxy config asks for: empty when it is not one it may pick. */
    private static Optional<AuthMode> proxyAuthMode(String authOverride) {
        // mtls is not offered to the proxy either: it would turn a token route into "any listed peer"
        return AuthMode.fromYaml(authOverride).filter(m -> m != AuthMode.NONE && m != AuthMode.MTLS);
    }

    /**
     * The policy's header contract: the tenant header sent at most once, every required header present. On a route
     * that authenticates, a required tenant header may be left out: the credential names the tenant (an API key's
     * tenant, a token's tenant claim), and one naming none is refused for the missing header once it is known
     * ({@link #callerEntitled}).
     */
    private Optional<Decision> headerContract(
            HttpRequestView request, RoutePolicy r, Optional<String> routeName, boolean credentialNamesTenant) {
        if (r.headerContractExempt()) {
            return Optional.empty();
        }
        HeaderContract contract = policy.headerContract();
        if (request.repeated(contract.tenantHeader())) {
            return Optional.of(deny(
                    request,
                    routeName,
                    Optional.empty(),
                    Reason.DUPLICATE_HEADER,
                    "header sent more than once",
                    Map.of("header", contract.tenantHeader()),
                    false));
        }
        for (String required : contract.required()) {
            if (credentialNamesTenant && required.equals(contract.tenantHeader())) {
                continue;
            }
            if (request.first(required).filter(v -> !v.isBlank()).isEmpty()) {
                return Optional.of(deny(
                        request,
                        routeName,
                        Optional.empty(),
                        Reason.REQUIRED_HEADER_MISSING,
                        "required header missing",
                        Map.of("header", required),
                        false));
            }
        }
        return Optional.empty();
    }

    /** A route without authentication: its conditions and the per-address rate limit still hold. */
    private Decision publicRoute(HttpRequestView request, RoutePolicy r, Caller caller) {
        Optional<Decision> unmet = conditions.unmet(r, request, caller, Optional.empty(), false, false);
        if (unmet.isEmpty() && r.access().mcp().isPresent()) {
            unmet = mcpRules.callRefused(request, r, r.access().mcp().get(), caller, Optional.empty(), false);
        }
        if (unmet.isPresent()) {
            return unmet.get();
        }
        RateLimits.Limited limited = rateLimits.route(request, r, caller, Optional.empty(), false);
        if (limited.denied().isPresent()) {
            return limited.denied().get();
        }
        Decision open = mcpRules.withCallableTools(
                upstream.allow(request, r, Optional.empty(), Reason.PUBLIC_ROUTE, false, limited.headers()),
                request,
                r,
                caller,
                Optional.empty(),
                false);
        // anonymous callers have no quota counter; the flag header is still meshguard's alone
        return policy.quotas().isEmpty() ? open : QuotaResponses.apply(open, QuotaVerdict.NONE, false, List.of());
    }

    /** An authenticated identity the route still refuses: a claim unfit for a header, or a token of another issuer. */
    private static Optional<Decision> identityRefused(
            HttpRequestView request,
            RoutePolicy r,
            Optional<String> routeName,
            AuthResult.Authenticated ok,
            Optional<Identity> who) {
        Identity id = ok.identity();
        Optional<String> badClaim = IdentityValues.problem(id);
        if (badClaim.isPresent()) {
            return Optional.of(deny(
                    request,
                    routeName,
                    Optional.empty(),
                    Reason.INVALID_CLAIM,
                    badClaim.get(),
                    Map.of(),
                    ok.fromCache()));
        }
        if (id.authMethod().equals("jwt")
                && !r.options().issuers().isEmpty()
                && !r.options().issuers().contains(id.issuer())) {
            return Optional.of(deny(
                    request,
                    routeName,
                    who,
                    Reason.ISSUER_NOT_ACCEPTED,
                    "this route does not accept tokens of this issuer",
                    Map.of(),
                    ok.fromCache()));
        }
        return Optional.empty();
    }

    private Decision afterSubscription(
            HttpRequestView request,
            RoutePolicy r,
            Optional<String> routeName,
            Caller caller,
            boolean gatewayHop,
            AuthResult.Authenticated ok,
            Optional<Identity> who,
            SubscriptionGate.Verdict subscribed) {
        Optional<Decision> refused = callerEntitled(request, r, routeName, caller, gatewayHop, ok, who, subscribed);
        if (refused.isPresent()) {
            return refused.get();
        }
        // the plan's limits count per subscription (all of an application's credentials together), before the route's
        RateLimits.Limited planLimited = subscribed instanceof SubscriptionGate.Admitted admitted
                ? rateLimits.planLimit(request, r, who, admitted, ok.fromCache())
                : RateLimits.Limited.NONE;
        if (planLimited.denied().isPresent()) {
            return planLimited.denied().get();
        }
        // a gateway hop the trusted gateway rate-limited (it says so in an owned header) is not counted again, which
        // could spend the same bucket twice; one it did not limit is limited here, or it would be limited by no one
        boolean limitedAtGateway = gatewayHop && !request.all(RATE_LIMITED_AT).isEmpty();
        RateLimits.Limited routeLimited =
                limitedAtGateway ? RateLimits.Limited.NONE : rateLimits.route(request, r, caller, who, ok.fromCache());
        boolean limitedHere =
                !gatewayHop && r.rateLimited() && policy.rateLimits().isPresent();
        if (routeLimited.denied().isPresent()) {
            return routeLimited.denied().get();
        }
        Map<String, String> limitHeaders =
                planLimited.headers().isEmpty() ? routeLimited.headers() : planLimited.headers();
        return chargeQuotasAndAllow(request, r, gatewayHop, ok, who, subscribed, limitHeaders, limitedHere);
    }

    /**
     * What the caller's identity must satisfy: a products-only rule's subscription, the tenant header, the route's
     * roles and scopes, and its conditions.
     */
    private Optional<Decision> callerEntitled(
            HttpRequestView request,
            RoutePolicy r,
            Optional<String> routeName,
            Caller caller,
            boolean gatewayHop,
            AuthResult.Authenticated ok,
            Optional<Identity> who,
            SubscriptionGate.Verdict subscribed) {
        Identity id = ok.identity();
        HeaderContract contract = policy.headerContract();
        // the API route products are compiled from, reached on the API's own host: nobody subscribed there
        if (r.options().productsOnly() && !gatewayHop && subscribed instanceof SubscriptionGate.NotProduct) {
            return Optional.of(deny(
                    request,
                    routeName,
                    who,
                    Reason.NO_SUBSCRIPTION,
                    "this rule admits product routes only: call" + " the product's host",
                    Map.of(),
                    ok.fromCache()));
        }

        Optional<String> sentTenant = request.first(contract.tenantHeader());
        if (sentTenant.isPresent()
                && (id.tenant().isEmpty()
                        || !id.tenant().get().equals(sentTenant.get().trim()))) {
            return Optional.of(deny(
                    request,
                    routeName,
                    who,
                    Reason.TENANT_MISMATCH,
                    "tenant header does not match the caller's tenant",
                    Map.of("header", contract.tenantHeader()),
                    ok.fromCache()));
        }
        if (sentTenant.isEmpty()
                && id.tenant().isEmpty()
                && !r.headerContractExempt()
                && contract.required().contains(contract.tenantHeader())) {
            // the credential names no tenant, so the header the contract requires is the only name of it
            return Optional.of(deny(
                    request,
                    routeName,
                    who,
                    Reason.REQUIRED_HEADER_MISSING,
                    "required header missing: the credential names no tenant",
                    Map.of("header", contract.tenantHeader()),
                    ok.fromCache()));
        }
        if (!r.roles().satisfiedBy(id.roles())) {
            return Optional.of(deny(
                    request,
                    routeName,
                    who,
                    Reason.INSUFFICIENT_ROLE,
                    "caller lacks a required role",
                    Map.of(),
                    ok.fromCache()));
        }
        if (!id.scopes().containsAll(r.scopes())) {
            return Optional.of(deny(
                    request,
                    routeName,
                    who,
                    Reason.INSUFFICIENT_SCOPE,
                    "caller lacks a required scope",
                    Map.of(),
                    ok.fromCache()));
        }
        // a token served from the token cache is one identity instance per token: credential-only conditions remember
        // their answer on it (a fresh instance, as with the cache off, would only fill the memo)
        boolean stable = !gatewayHop && ok.fromCache() && id.authMethod().equals("jwt");
        Optional<Decision> unmet = conditions.unmet(r, request, caller, who, ok.fromCache(), stable);
        if (unmet.isPresent() || r.access().mcp().isEmpty()) {
            return unmet;
        }
        return mcpRules.callRefused(request, r, r.access().mcp().get(), caller, who, ok.fromCache());
    }

    /**
     * The calendar quotas (the plan's, then the policy's), then the allow with the upstream headers.
     *
     * @param limitHeaders the rate-limit headers for the client: the plan's when it has limits, else the route's
     * @param limitedHere this Check rate-limited the request (the hop behind is told so)
     */
    private Decision chargeQuotasAndAllow(
            HttpRequestView request,
            RoutePolicy r,
            boolean gatewayHop,
            AuthResult.Authenticated ok,
            Optional<Identity> who,
            SubscriptionGate.Verdict subscribed,
            Map<String, String> limitHeaders,
            boolean limitedHere) {
        // the plan's calendar quotas, per application and publish: its own, and the operation's when the plan limits it
        List<QuotaGate.SubscriptionQuota> owed =
                subscribed instanceof SubscriptionGate.Admitted admitted ? planQuotas(admitted, request) : List.of();
        QuotaVerdict planQuota = owed.isEmpty()
                ? QuotaVerdict.NONE
                : quotas.chargeSubscription(
                        ((SubscriptionGate.Admitted) subscribed).subscription().quotaCaller(), owed);
        if (planQuota.blocked().isPresent()) {
            return QuotaResponses.apply(
                    quotaDeny(request, r, who, planQuota.blocked().get(), ok.fromCache()), planQuota, false, List.of());
        }
        if (policy.quotas().isEmpty()) {
            Decision allowed = upstream.allow(request, r, who, Reason.ALLOWED, ok.fromCache(), limitHeaders);
            return tellHopBehind(
                    planQuota == QuotaVerdict.NONE
                            ? allowed
                            : QuotaResponses.apply(allowed, planQuota, false, List.of()),
                    limitedHere,
                    r.name());
        }
        // a gateway hop skips only the quotas the trusted gateway says it charged for this request: a quota that does
        // not list the gateway's rule is charged here, or by no one; a refused request was never charged
        Set<String> chargedAtGateway = gatewayHop ? QuotaResponses.chargedAtGateway(request) : Set.of();
        QuotaVerdict quota = quotas.charge(
                policy,
                r.name(),
                ok.identity(),
                Optional.ofNullable(request.contextExtensions().get(RouteContract.AuthzContext.RATE_LIMIT_TIER)),
                chargedAtGateway);
        if (quota.blocked().isPresent()) {
            return QuotaResponses.apply(
                    quotaDeny(request, r, who, quota.blocked().get(), ok.fromCache()), quota, false, List.of());
        }
        quota = quota.and(planQuota);
        // the gateway tells the sidecar behind it what it charged; a sidecar's allow removes the header (owned)
        List<String> charged = gatewayHop
                ? List.of()
                : policy.quotas().stream()
                        .filter(q -> q.covers(r.name()))
                        .map(io.meshguard.authz.policy.QuotaPolicy::name)
                        .toList();
        return tellHopBehind(
                QuotaResponses.apply(
                        upstream.allow(request, r, who, Reason.ALLOWED, ok.fromCache(), limitHeaders),
                        quota,
                        gatewayHop,
                        charged),
                limitedHere,
                r.name());
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
        return d.withHeaders(
                List.copyOf(set),
                d.headersRemoved().stream()
                        .filter(n -> !n.equals(RATE_LIMITED_AT))
                        .toList(),
                d.responseHeaders());
    }

    private static Decision quotaDeny(
            HttpRequestView request, RoutePolicy r, Optional<Identity> who, QuotaVerdict.Blocked b, boolean cached) {
        if (b.storeUnavailable()) {
            return deny(
                    request,
                    Optional.of(r.name()),
                    who,
                    Reason.QUOTA_UNAVAILABLE,
                    "quota " + b.quota() + " cannot be counted right now",
                    Map.of("retry-after", Long.toString(b.retryAfterSeconds()), "quota", b.quota()),
                    cached);
        }
        return deny(
                request,
                Optional.of(r.name()),
                who,
                Reason.QUOTA_EXCEEDED,
                "quota " + b.quota() + " exceeded (" + b.limit() + " requests per period); it resets in "
                        + b.retryAfterSeconds() + " s",
                Map.of("retry-after", Long.toString(b.retryAfterSeconds()), "quota", b.quota()),
                cached);
    }

    /** The plan's calendar quotas for this request: the product's, and the operation's own. */
    private static List<QuotaGate.SubscriptionQuota> planQuotas(
            SubscriptionGate.Admitted admitted, HttpRequestView request) {
        if (admitted.plan().limits().quota().isEmpty()
                && admitted.plan().operationLimits().isEmpty()) {
            return List.of();
        }
        List<QuotaGate.SubscriptionQuota> out = new ArrayList<>(2);
        admitted.plan().limits().quota().ifPresent(q -> out.add(new QuotaGate.SubscriptionQuota("subscription", q)));
        RateLimits.operation(request)
                .map(op -> admitted.plan().operationLimits().get(op))
                .flatMap(io.meshguard.catalogmodel.PlanLimits::quota)
                .ifPresent(q -> out.add(new QuotaGate.SubscriptionQuota(
                        "subscription/" + RateLimits.operation(request).get(), q)));
        return out;
    }

    private static Decision deny(
            HttpRequestView request,
            Optional<String> route,
            Optional<Identity> who,
            Reason reason,
            String description,
            Map<String, String> extra,
            boolean cached) {
        return DenyResponse.of(request, route, who, reason, description, extra, cached);
    }
}
