package io.meshguard.extauthz.server;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.stub.StreamObserver;
import io.meshguard.authz.decision.CheckResponses;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Reason;
import io.meshguard.contract.ProfileLabels;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.audit.DecisionEvents;
import io.meshguard.extauthz.audit.DecisionSink;
import io.meshguard.runtime.logging.LogContext;
import io.meshguard.runtime.tracing.RpcMethod;
import io.meshguard.runtime.tracing.SpanAttributes;
import io.meshguard.runtime.tracing.Tracing;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Scope;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * {@code envoy.service.auth.v3.Authorization/Check}. Always answers with a CheckResponse, also when something
 * unexpected fails: that answer is a deny (a gRPC error would let Envoy's {@code failure_mode_allow} open the route).
 */
public final class AuthorizationService extends AuthorizationGrpc.AuthorizationImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(AuthorizationService.class);

    private final AuthzPipeline pipeline;
    private final DecisionSink audit;
    private final Clock clock;
    private final MeterRegistry registry;
    private final Timer latency;
    private final McpTelemetry mcp;
    private final Map<String, Counter> decisions = new ConcurrentHashMap<>();
    private final Map<String, java.util.concurrent.atomic.AtomicReferenceArray<Counter>> decisionCounters =
            new ConcurrentHashMap<>();
    private final ProfileLabels unknownProfileLabels = new ProfileLabels(32);
    private final Map<String, Counter> unknownProfiles = new ConcurrentHashMap<>();
    private final Counter unknownProfileChecks;
    private final Counter cancelledChecks;
    private final Counter tokensGivenBack;
    private final Tracing tracing;
    private final DecisionNonces nonces = DecisionNonces.nonBlocking();
    private final Optional<io.meshguard.extauthz.exchange.UpstreamTokenExchange> exchange;

    public AuthorizationService(AuthzPipeline pipeline, DecisionSink audit, Clock clock, MeterRegistry registry) {
        this(pipeline, audit, clock, registry, Tracing.disabled());
    }

    /** @param tracing one SERVER span per Check when on (see {@link #check}) */
    public AuthorizationService(
            AuthzPipeline pipeline, DecisionSink audit, Clock clock, MeterRegistry registry, Tracing tracing) {
        this(pipeline, audit, clock, registry, tracing, Optional.empty());
    }

    /**
     * @param exchange exchanges the caller's token on MCP routes with {@code token_exchange:} after the policy allowed
     *     (the server's; the offline tools that share the pipeline never call an identity provider)
     */
    public AuthorizationService(
            AuthzPipeline pipeline,
            DecisionSink audit,
            Clock clock,
            MeterRegistry registry,
            Tracing tracing,
            Optional<io.meshguard.extauthz.exchange.UpstreamTokenExchange> exchange) {
        this.exchange = exchange;
        this.tracing = tracing;
        this.pipeline = pipeline;
        this.audit = audit;
        this.clock = clock;
        this.registry = registry;
        this.mcp = new McpTelemetry(registry);
        this.latency = Timer.builder("meshguard_authz_check_duration_seconds")
                .description("Time to decide one Check, from request to response")
                .publishPercentileHistogram()
                .register(registry);
        // Series an alert or a panel reads exist at zero from start: one born with its first increment hides that
        // event from increase() (review IC-10). Path refusals have a fixed set of sub-reasons; unknown profile names
        // are only known when they happen, so their label-free total carries the alert.
        for (io.meshguard.contract.CanonicalPath.Problem problem :
                io.meshguard.contract.CanonicalPath.Problem.values()) {
            pathRefusal(problem.code());
        }
        this.cancelledChecks = Counter.builder("meshguard_authz_cancelled_checks_total")
                .description("Checks Envoy cancelled while they were decided (the client reset): decided and audited, "
                        + "never answered, no calendar quota charged")
                .register(registry);
        this.tokensGivenBack = Counter.builder("meshguard_authz_cancelled_checks_tokens_returned_total")
                .description("Cancelled Checks (never answered) whose rate-limit tokens were given back")
                .register(registry);
        this.unknownProfileChecks = Counter.builder("meshguard_authz_unknown_profile_checks_total")
                .description("Checks denied because the route named an authz profile the policy does not define, all "
                        + "names together (the per-name series is meshguard_authz_unknown_profile_total)")
                .register(registry);
        // a name's own series is born with its first Check; the overflow label's exists from start, so the per-name
        // series has a sample at zero before any event (the dashboards' panel breaks it down by profile)
        unknownProfileCounter(io.meshguard.contract.ProfileLabels.OTHER);
    }

    /**
     * Decides one Check. With tracing on, a SERVER span {@code envoy.service.auth.v3.Authorization/Check} covers it,
     * child of Envoy's egress span (call metadata) or else of the request's own trace headers; it carries the
     * decision, reason, route, profile, auth method and tier, never a credential, claim, tenant or subject. A deny is
     * not an error: only an internal failure sets the span's status to ERROR.
     */
    @Override
    public void check(CheckRequest request, StreamObserver<CheckResponse> responseObserver) {
        long start = System.nanoTime();
        HttpRequestView view;
        Decision decision;
        Optional<io.meshguard.authz.replay.KeptFacts> kept = Optional.empty();
        Optional<io.meshguard.authz.policy.AuthzPolicy> policy = Optional.empty();
        Map<String, String> exchangeDetails = Map.of();
        Span span = Span.getInvalid();
        boolean internalError = false;
        TokensBackIfCancelled.Spent spent = new TokensBackIfCancelled.Spent();
        // the Check is decided on this thread, inside the call's context: its cancellation and what its limits took
        io.grpc.Context checkContext = io.grpc.Context.current().withValue(TokensBackIfCancelled.Spent.KEY, spent);
        io.grpc.Context previous = checkContext.attach();
        try {
            view = HttpRequestView.of(request);
            MDC.put("request_id", view.requestId());
            if (tracing.enabled()) {
                span = tracing.startServerSpan(RpcMethod.AUTHZ_CHECK, view::first, start);
            }
            try (Scope ignored = span.makeCurrent();
                    LogContext ids = Tracing.logContext(span)) {
                int bytes = request.getSerializedSize();
                if (bytes > io.meshguard.authz.decision.CheckSize.DENY_ABOVE_BYTES) {
                    decision = io.meshguard.authz.decision.AuthzEngine.tooLarge(view, bytes);
                } else {
                    AuthzPipeline.Recorded recorded = pipeline.decideRecorded(view);
                    decision = recorded.decision();
                    kept = recorded.kept();
                    policy = recorded.policy();
                    if (exchange.isPresent()) {
                        // an allow on an exchange route goes on with a token issued for the MCP server, or not at all
                        io.meshguard.extauthz.exchange.UpstreamTokenExchange.Outcome exchanged =
                                exchange.get().apply(view, decision, recorded.policy());
                        decision = exchanged.decision();
                        exchangeDetails = exchanged.details();
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.error("Check failed unexpectedly; denying", e);
            internalError = true;
            view = HttpRequestView.of(CheckRequest.getDefaultInstance());
            decision = io.meshguard.authz.decision.AuthzEngine.internalError(view);
            if (tracing.enabled() && !span.getSpanContext().isValid()) {
                span = tracing.startServerSpan(RpcMethod.AUTHZ_CHECK, name -> Optional.empty(), start);
            }
        } finally {
            checkContext.detach(previous);
        }
        // counted before the answer leaves: whoever reads the metrics after the answer sees this decision in them
        counter(decision).increment();
        if (decision.reason() == Reason.UNKNOWN_PROFILE) {
            unknownProfile(view.contextExtensions().getOrDefault(RouteContract.AuthzContext.AUTHZ_PROFILE, ""))
                    .increment();
        }
        if (decision.reason() == Reason.INVALID_PATH) {
            pathRefusal(view).increment();
        }
        // Envoy cancels its Check when the downstream resets: the answer then has no one to go to, but the decision
        // was made and its audit row is written whole, saying so (and no calendar quota was charged for it)
        boolean cancelled = io.grpc.Context.current().isCancelled();
        // every allow gets its own nonce, back to the proxy and onto the decision's row: proof of coverage pairs a
        // logged request with the Check of its own stream by it, not by the request id an in-mesh client chooses
        Optional<String> nonce = decision.allowed() ? Optional.of(nonces.next()) : Optional.empty();
        if (!cancelled) {
            try {
                responseObserver.onNext(CheckResponses.toResponse(decision, nonce));
                responseObserver.onCompleted();
            } catch (io.grpc.StatusRuntimeException e) {
                cancelled = true; // cancelled between the test above and the answer
            }
        }
        if (cancelled) {
            cancelledChecks.increment();
            // no answer left: no request follows, so the rate-limit tokens the Check took go back (one whose answer
            // was sent keeps them, so cancelling mints no free calls)
            if (spent.giveBack() > 0) {
                tokensGivenBack.increment();
            }
        }
        long nanos = System.nanoTime() - start;
        latency.record(nanos, TimeUnit.NANOSECONDS);
        mcp.record(view.mcp(), decision, policy, span);
        if (span.isRecording()) {
            endSpan(span, view, decision, internalError);
        }
        try {
            AuthzDecisionEvent event = DecisionEvents.of(view, decision, clock.instant(), nanos / 1000, kept);
            if (nonce.isPresent() && !cancelled) {
                event = DecisionEvents.withNonce(event, nonce.get());
            }
            if (!exchangeDetails.isEmpty()) {
                event = DecisionEvents.withDetails(event, exchangeDetails);
            }
            audit.record(cancelled ? DecisionEvents.cancelled(event) : event);
        } catch (RuntimeException e) {
            LOG.warn("audit sink refused a decision event: {}", e.getMessage());
        }
        MDC.remove("request_id");
    }

    /** Codes and names from the policy only; identity values (subject, tenant, claims, key ids) stay out. */
    private static void endSpan(Span span, HttpRequestView view, Decision decision, boolean internalError) {
        span.setAttribute(SpanAttributes.RPC_GRPC_STATUS_CODE, 0L);
        span.setAttribute(SpanAttributes.DECISION, decision.allowed() ? "allow" : "deny");
        span.setAttribute(SpanAttributes.REASON, decision.reason().code());
        span.setAttribute(SpanAttributes.HTTP_STATUS, (long) decision.status());
        decision.route().ifPresent(route -> span.setAttribute(SpanAttributes.ROUTE, route));
        String profile = view.contextExtensions().get(RouteContract.AuthzContext.AUTHZ_PROFILE);
        if (profile != null && decision.reason() != Reason.UNKNOWN_PROFILE) {
            span.setAttribute(SpanAttributes.PROFILE, profile);
        }
        span.setAttribute(
                SpanAttributes.AUTH_METHOD,
                decision.identity().map(i -> i.authMethod()).orElse("none"));
        decision.identity().flatMap(i -> i.tier()).ifPresent(tier -> span.setAttribute(SpanAttributes.TIER, tier));
        if (internalError) {
            // the exception's message may quote the request: only its kind goes on the span
            span.setStatus(StatusCode.ERROR, "internal error");
        }
        span.end();
    }

    /** Counted per profile name (escaped, at most 32 names); the first request of a name is logged. */
    private Counter unknownProfile(String name) {
        unknownProfileChecks.increment();
        return unknownProfiles.computeIfAbsent(unknownProfileLabels.label(name), label -> {
            LOG.warn(
                    "a gateway route names authz profile '{}', which the loaded policy does not define; denying its requests",
                    label);
            return unknownProfileCounter(label);
        });
    }

    private Counter unknownProfileCounter(String label) {
        return Counter.builder("meshguard_authz_unknown_profile_total")
                .description("Checks denied because the route named an authz profile the policy does not define")
                .tag("profile", label)
                .register(registry);
    }

    /** Refused paths by class (a fixed set of sub-reasons): a rising count of one class is a probe worth a look. */
    private Counter pathRefusal(HttpRequestView view) {
        return pathRefusal(view.target()
                .problem()
                .orElse(io.meshguard.contract.CanonicalPath.Problem.PATH_PARAMETERS)
                .code());
    }

    private Counter pathRefusal(String problem) {
        return decisions.computeIfAbsent("path|" + problem, k -> Counter.builder("meshguard_authz_path_refusals_total")
                .description("Requests refused for a path an upstream could resolve differently, by sub-reason")
                .tag("problem", problem)
                .register(registry));
    }

    /**
     * The decision's counter: per route, one slot per (reason, result), so a Check finds its counter with one map
     * probe on the route name and no key built.
     */
    private Counter counter(Decision d) {
        String route = d.route().orElse("none");
        java.util.concurrent.atomic.AtomicReferenceArray<Counter> slots = decisionCounters.computeIfAbsent(
                route, r -> new java.util.concurrent.atomic.AtomicReferenceArray<>(Reason.values().length * 2));
        int slot = d.reason().ordinal() * 2 + (d.allowed() ? 1 : 0);
        Counter c = slots.get(slot);
        if (c == null) {
            // registering is idempotent: two Checks racing here get the same meter from the registry
            c = Counter.builder("meshguard_authz_decisions_total")
                    .description("Check decisions by result, reason and route")
                    .tag("result", d.allowed() ? "allow" : "deny")
                    .tag("reason", d.reason().code())
                    .tag("route", route)
                    .register(registry);
            slots.set(slot, c);
        }
        return c;
    }
}
