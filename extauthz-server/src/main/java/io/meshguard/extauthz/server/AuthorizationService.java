package io.meshguard.extauthz.server;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.stub.StreamObserver;
import io.meshguard.contract.ProfileLabels;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.audit.DecisionEvents;
import io.meshguard.extauthz.audit.DecisionSink;
import io.meshguard.extauthz.decision.CheckResponses;
import io.meshguard.extauthz.decision.Decision;
import io.meshguard.extauthz.decision.HttpRequestView;
import io.meshguard.extauthz.decision.Reason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.util.Map;
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
    private final Map<String, Counter> decisions = new ConcurrentHashMap<>();
    private final ProfileLabels unknownProfileLabels = new ProfileLabels(32);
    private final Map<String, Counter> unknownProfiles = new ConcurrentHashMap<>();

    public AuthorizationService(AuthzPipeline pipeline, DecisionSink audit, Clock clock, MeterRegistry registry) {
        this.pipeline = pipeline;
        this.audit = audit;
        this.clock = clock;
        this.registry = registry;
        this.latency = Timer.builder("meshguard_authz_check_duration_seconds")
                .description("Time to decide one Check, from request to response")
                .publishPercentileHistogram()
                .register(registry);
    }

    @Override
    public void check(CheckRequest request, StreamObserver<CheckResponse> responseObserver) {
        long start = System.nanoTime();
        HttpRequestView view;
        Decision decision;
        try {
            view = HttpRequestView.of(request);
            MDC.put("request_id", view.requestId());
            decision = pipeline.decide(view);
        } catch (RuntimeException e) {
            LOG.error("Check failed unexpectedly; denying", e);
            view = HttpRequestView.of(CheckRequest.getDefaultInstance());
            decision = io.meshguard.extauthz.decision.AuthzEngine.internalError(view);
        }
        // counted before the answer leaves: whoever reads the metrics after the answer sees this decision in them
        counter(decision).increment();
        if (decision.reason() == Reason.UNKNOWN_PROFILE) {
            unknownProfile(view.contextExtensions().getOrDefault(RouteContract.AuthzContext.AUTHZ_PROFILE, "")).increment();
        }
        if (decision.reason() == Reason.INVALID_PATH) {
            pathRefusal(view).increment();
        }
        responseObserver.onNext(CheckResponses.toResponse(decision));
        responseObserver.onCompleted();
        long nanos = System.nanoTime() - start;
        latency.record(nanos, TimeUnit.NANOSECONDS);
        try {
            audit.record(DecisionEvents.of(view, decision, clock.instant(), nanos / 1000));
        } catch (RuntimeException e) {
            LOG.warn("audit sink refused a decision event: {}", e.getMessage());
        }
        MDC.remove("request_id");
    }

    /** Counted per profile name (escaped, at most 32 names); the first request of a name is logged. */
    private Counter unknownProfile(String name) {
        return unknownProfiles.computeIfAbsent(unknownProfileLabels.label(name), label -> {
            LOG.warn("a gateway route names authz profile '{}', which the loaded policy does not define; denying its requests",
                    label);
            return Counter.builder("meshguard_authz_unknown_profile_total")
                    .description("Checks denied because the route named an authz profile the policy does not define")
                    .tag("profile", label)
                    .register(registry);
        });
    }

    /** Refused paths by class (a fixed set of sub-reasons): a rising count of one class is a probe worth a look. */
    private Counter pathRefusal(HttpRequestView view) {
        String problem = view.target().problem().orElse(io.meshguard.extauthz.decision.CanonicalPath.Problem.PATH_PARAMETERS).code();
        return decisions.computeIfAbsent("path|" + problem, k -> Counter.builder("meshguard_authz_path_refusals_total")
                .description("Requests refused for a path an upstream could resolve differently, by sub-reason")
                .tag("problem", problem)
                .register(registry));
    }

    private Counter counter(Decision d) {
        String route = d.route().orElse("none");
        String key = d.allowed() + "|" + d.reason().code() + "|" + route;
        return decisions.computeIfAbsent(key, k -> Counter.builder("meshguard_authz_decisions_total")
                .description("Check decisions by result, reason and route")
                .tag("result", d.allowed() ? "allow" : "deny")
                .tag("reason", d.reason().code())
                .tag("route", route)
                .register(registry));
    }
}
