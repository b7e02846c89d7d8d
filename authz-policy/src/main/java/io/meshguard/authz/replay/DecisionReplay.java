package io.meshguard.authz.replay;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.authz.condition.ConditionReads;
import io.meshguard.authz.decision.AuthzEngine;
import io.meshguard.authz.decision.CredentialCheck;
import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.authz.policy.AuthMode;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.QuotaPolicy;
import io.meshguard.authz.policy.RoutePolicy;
import io.meshguard.authz.quota.QuotaGate;
import io.meshguard.authz.quota.QuotaVerdict;
import io.meshguard.authz.ratelimit.LimitRequest;
import io.meshguard.authz.ratelimit.RateLimiter;
import io.meshguard.authz.ratelimit.Verdict;
import io.meshguard.authz.request.AuthResult;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.Reason;
import io.meshguard.authz.subscription.SubscriptionGate;
import io.meshguard.contract.RouteContract;
import io.meshguard.runtime.SuppliedClock;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides recorded decisions again against a draft policy with the engine the server runs ({@link AuthzEngine}), and
 * says which would now go otherwise. What the server learnt from outside the policy is taken as recorded: the identity
 * it verified (or why it refused the credential), whether the rate limiter or a quota refused, and the time. A draft
 * that reads a fact the record did not keep makes the decision not replayable, with the reason; nothing is guessed.
 *
 * <p>One instance decides on one thread (the recorded facts of the decision being replayed are its state).
 */
public final class DecisionReplay {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AuthzPolicy draft;
    private final KeptFacts needs;
    private final AuthzEngine engine;
    /** The recorded decision's time, so {@code now} in conditions reads as it did. */
    private Instant replayedAt = Instant.EPOCH;

    private RecordedDecision current;

    public DecisionReplay(AuthzPolicy draft) {
        this.draft = draft;
        this.needs = KeptFacts.of(draft);
        Map<Path, String> secrets = new HashMap<>();
        // upstream credentials are the draft's files, not the request's: a replay needs their presence, not content
        for (RoutePolicy r : draft.routes()) {
            r.upstreamCredential().ifPresent(c -> secrets.put(c.file(), "replay"));
        }
        this.engine = new AuthzEngine(
                draft,
                new RecordedCredential(),
                new RecordedLimits(),
                new SecretFiles(System::nanoTime, secrets),
                new SuppliedClock(() -> replayedAt),
                new RecordedQuotas(),
                SubscriptionGate.NONE);
    }

    /** Thrown inside a decision when it would read a fact the record lacks. */
    private static final class Unknown extends RuntimeException {
        Unknown(String reason) {
            super(reason, null, false, false);
        }
    }

    /** The not-replayable reason of a decision the policy in force does not decide as recorded. */
    public static final String NOT_COMPARABLE =
            "not comparable: the policy in force decides it otherwise, so it was recorded under another policy";

    /**
     * Compares like with like: each recorded decision is decided under {@code inForce} (the policy that is taken to
     * have made it) and under {@code draft}. A decision {@code inForce} does not decide as recorded was made under some
     * other policy; comparing the draft with it would report the difference between those two policies as the draft's,
     * so it is {@link #NOT_COMPARABLE}, never a flip. Otherwise the draft's flip (with the status the draft gives) is
     * a change the draft makes to what the policy in force does.
     */
    public static java.util.function.Function<RecordedDecision, ReplayOutcome> comparing(
            AuthzPolicy inForce, AuthzPolicy draft) {
        DecisionReplay before = new DecisionReplay(inForce);
        DecisionReplay after = new DecisionReplay(draft);
        return recorded -> compared(before.replay(recorded), after, recorded);
    }

    private static ReplayOutcome compared(ReplayOutcome inForce, DecisionReplay draft, RecordedDecision recorded) {
        if (inForce instanceof ReplayOutcome.Flip) {
            return new ReplayOutcome.NotReplayable(NOT_COMPARABLE);
        }
        return inForce instanceof ReplayOutcome.NotReplayable ? inForce : draft.replay(recorded);
    }

    public ReplayOutcome replay(RecordedDecision recorded) {
        Optional<String> fixed = notReplayable(recorded);
        if (fixed.isPresent()) {
            return new ReplayOutcome.NotReplayable(fixed.get());
        }
        current = recorded;
        replayedAt = recorded.time();
        Decision d;
        try {
            d = engine.decide(recorded.toRequest());
        } catch (Unknown e) {
            return new ReplayOutcome.NotReplayable(e.getMessage());
        } finally {
            current = null;
        }
        Optional<String> missing = missingFacts(recorded, d.route());
        if (missing.isPresent()) {
            return new ReplayOutcome.NotReplayable(missing.get());
        }
        if (d.allowed() == recorded.allowed() && d.status() == recorded.status()) {
            return new ReplayOutcome.Unchanged();
        }
        String rule = d.reason() == Reason.DENIED_BY_RULE
                ? "deny:" + bodyField(d.body(), "rule").orElse("?")
                : d.route().map(r -> "route:" + r).orElse(d.reason().code());
        return new ReplayOutcome.Flip(
                outcome(recorded.allowed(), recorded.status()),
                outcome(d.allowed(), d.status()),
                d.reason().code(),
                d.route(),
                rule);
    }

    private static String outcome(boolean allowed, int status) {
        return (allowed ? "allow " : "deny ") + status;
    }

    /**
     * The policy allowed these; the identity provider's token exchange refused them afterwards, which no draft changes.
     */
    private static final String EXCHANGE_REFUSED = "refused by the token exchange after the policy allowed: ";

    /** Decisions whose outcome the policy did not make, or that read state the record does not hold. */
    private static Optional<String> notReplayable(RecordedDecision r) {
        return switch (r.reason()) {
            case "policy_not_loaded", "internal_error", "request_too_large" ->
                Optional.of("decided without a policy (" + r.reason() + ")");
            case "subscription_state_unavailable" -> Optional.of("product route: subscription state not recorded");
            case "token_exchange_refused", "token_exchange_unavailable" -> Optional.of(EXCHANGE_REFUSED + r.reason());
            default ->
                r.subscription().isPresent() || r.context().containsKey(RouteContract.AuthzContext.PRODUCT_PUBLISH)
                        ? Optional.of("product route: subscription state not recorded")
                        : Optional.empty();
        };
    }

    /** The draft's deny rules and the route it decided on read only facts the record kept. */
    private Optional<String> missingFacts(RecordedDecision r, Optional<String> route) {
        if (route.isPresent() && readsToolArguments(route.get())) {
            return Optional.of("an MCP route whose conditions read tool arguments (Mcp-Param-*, never recorded)");
        }
        ConditionReads reads = needs.needs(route);
        if (reads.wholeHeaders()) {
            return Optional.of("a draft condition reads every request header");
        }
        if (reads.wholeQuery()) {
            return Optional.of("a draft condition reads every query parameter");
        }
        if (reads.wholeClaims()) {
            return Optional.of("a draft condition reads every token claim");
        }
        for (String h : needs.headerValues()) {
            // the rules' headers, and the ones whose value the engine itself reads
            if ((reads.headers().contains(h) || !needsOnlyIfRead(h))
                    && !r.keptHeaders().contains(h)) {
                return Optional.of("header not recorded: " + h);
            }
        }
        for (String h : needs.headerPresence()) {
            if (!r.keptHeaders().contains(h)) {
                return Optional.of("header not recorded: " + h);
            }
        }
        for (String q : reads.query()) {
            if (!r.keptQuery().contains(q)) {
                return Optional.of("query parameter not recorded: " + q);
            }
        }
        if (r.identity().isPresent()) {
            for (String c : reads.claims()) {
                if (!r.keptClaims().contains(c)) {
                    return Optional.of("claim not recorded: " + c);
                }
            }
        }
        if (reads.address() && !r.addressKept()) {
            return Optional.of("client address not recorded");
        }
        return Optional.empty();
    }

    private boolean readsToolArguments(String route) {
        for (io.meshguard.authz.policy.RoutePolicy p : draft.routes()) {
            if (p.name().equals(route) && p.access().mcp().isPresent()) {
                return p.access().when().stream().anyMatch(io.meshguard.authz.condition.Condition::readsMcpArguments)
                        || p.access().mcp().get().toolsReadArguments();
            }
        }
        return false;
    }

    /** Headers kept only because a condition reads them (the others the engine reads on every request). */
    private boolean needsOnlyIfRead(String header) {
        return !header.equals(draft.headerContract().tenantHeader())
                && !draft.identityHeaders().all().contains(header)
                && !io.meshguard.contract.OwnedHeaderNames.GATEWAY_HOP.contains(header);
    }

    private static Optional<String> bodyField(String body, String field) {
        try {
            JsonNode n = JSON.readTree(body).get(field);
            return n == null ? Optional.empty() : Optional.of(n.asText());
        } catch (JsonProcessingException e) {
            return Optional.empty();
        }
    }

    /** The credential as the server found it; a credential it did not check is unknown. */
    private final class RecordedCredential implements CredentialCheck {
        @Override
        public AuthResult authenticate(HttpRequestView request, AuthMode mode) {
            RecordedDecision r = current;
            if (!r.keptHeaders().contains(draft.apiKeyHeader())) {
                throw new Unknown("header not recorded: " + draft.apiKeyHeader());
            }
            // the same choice of credential as the server's (Credentials): a bearer token first, else an API key
            boolean useJwt = mode.acceptsJwt() && !request.all("authorization").isEmpty();
            boolean useKey = !useJwt
                    && mode.acceptsApiKey()
                    && !request.all(draft.apiKeyHeader()).isEmpty();
            if (!useJwt && !useKey) {
                return new AuthResult.Rejected(Reason.MISSING_CREDENTIAL, "credential required");
            }
            String kind = useJwt ? "jwt" : "apikey";
            if (r.credential().equals(RecordedDecision.REJECTED)) {
                return new AuthResult.Rejected(Reason.fromCode(r.reason()), "credential refused when recorded");
            }
            Optional<Identity> id = r.identity().filter(i -> i.authMethod().equals(kind));
            if (id.isEmpty()) {
                throw new Unknown("credential not verified when recorded (" + kind + ")");
            }
            if (kind.equals("jwt") && draft.issuerNamed(id.get().issuer()).isEmpty()) {
                return new AuthResult.Rejected(Reason.UNKNOWN_ISSUER, "issuer not in the draft");
            }
            return new AuthResult.Authenticated(id.get(), false);
        }
    }

    /** The rate limiter's answer as recorded: refused when the recorded decision was rate-limited. */
    private final class RecordedLimits implements RateLimiter {
        @Override
        public Verdict acquire(LimitRequest request) {
            String reason = current.reason();
            boolean refused = reason.equals("rate_limited") || reason.equals("rate_limit_store_unavailable");
            List<Verdict.LimitState> states = request.limits().stream()
                    .map(l -> new Verdict.LimitState(l, refused ? 0 : l.burst(), 1_000_000))
                    .toList();
            return new Verdict(
                    !refused,
                    refused ? 1_000_000 : 0,
                    states,
                    reason.equals("rate_limit_store_unavailable")
                            ? Verdict.Source.STORE_UNAVAILABLE
                            : Verdict.Source.LOCAL,
                    0);
        }
    }

    /** The quota store's answer as recorded: the quota that refused still refuses where the draft keeps it. */
    private final class RecordedQuotas implements QuotaGate {
        @Override
        public QuotaVerdict charge(
                AuthzPolicy policy,
                String route,
                Identity caller,
                Optional<String> requestedTier,
                Set<String> alreadyCharged) {
            Optional<String> blocked = current.quota();
            if (blocked.isEmpty()) {
                return QuotaVerdict.NONE;
            }
            Optional<QuotaPolicy> q = policy.quotas().stream()
                    .filter(p -> p.name().equals(blocked.get()) && p.covers(route))
                    .filter(p -> p.onExceed() == QuotaPolicy.OnExceed.BLOCK)
                    .findFirst();
            if (q.isEmpty()) {
                return QuotaVerdict.NONE;
            }
            long limit = q.get().limitFor(caller.tier().orElse(q.get().defaultTier()));
            return new QuotaVerdict(
                    Optional.of(new QuotaVerdict.Blocked(
                            q.get().name(), limit, 60, current.reason().equals("quota_unavailable"))),
                    List.of(),
                    Optional.empty());
        }
    }
}
