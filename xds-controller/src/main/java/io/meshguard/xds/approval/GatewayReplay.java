package io.meshguard.xds.approval;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.replay.DecisionReplay;
import io.meshguard.authz.replay.RecordedDecision;
import io.meshguard.authz.replay.ReplayOutcome;
import io.meshguard.contract.RouteContract;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.store.Revision;
import io.meshguard.xds.store.RevisionStore;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * A publish request's report: the group's recorded decisions decided as the requested revision would have them. Each
 * decision's recorded method, host and path are routed through the Envoy route table the controller renders for the
 * requested revision ({@link GatewayRoutes}); a request it no longer routes is Envoy's 404 without a Check, one it
 * routes elsewhere (or to a route with another contract) is decided again with extauthz's engine
 * ({@link DecisionReplay}) under the authz policy in force, with the contract the new route sends.
 *
 * <p>Which decisions are the group's: the audit row does not name the gateway, so a decision counts when the revision
 * the group serves now routes its recorded request to a route whose contract equals the one recorded (the same host,
 * route name, profile, API and version). Decisions recorded under an earlier revision whose route differs, or by
 * another group serving the same host with other routes, are not replayable and listed by reason. Replaying the served
 * revision itself therefore flips nothing. A flip's effect is the revision's alone: when the policy in force no longer
 * decides a decision as recorded (the policy changed since), that decision is not replayable rather than counted.
 */
public final class GatewayReplay implements ChangeReplay<GatewayConfig> {
    /** The reason of a decision made without a gateway route's contract (a sidecar's or a proxyless client's Check). */
    public static final String NOT_A_GATEWAY =
            "not decided on a gateway route (its Check carried no " + RouteContract.AuthzContext.GATEWAY_ROUTE + ")";

    private final RecordedDecisions decisions;
    private final RevisionStore revisions;
    private final Supplier<Optional<AuthzPolicy>> policyInForce;
    private final Clock clock;

    /**
     * @param policyInForce the authz policy extauthz enforces (the files the controller loads with it); empty when the
     *     controller loads none: then a decision whose contract changes is not replayable
     */
    public GatewayReplay(
            RecordedDecisions decisions,
            RevisionStore revisions,
            Supplier<Optional<AuthzPolicy>> policyInForce,
            Clock clock) {
        this.decisions = decisions;
        this.revisions = revisions;
        this.policyInForce = policyInForce;
        this.clock = clock;
    }

    /** @param requested one group's slice of the draft, as a publish request keeps it */
    @Override
    public ReplayReport replay(GatewayConfig requested, Instant from, Instant to) throws SQLException {
        if (requested.groups().size() != 1) {
            throw new IllegalArgumentException("a publish request holds one group's slice, not "
                    + requested.groups().size() + " groups");
        }
        String group = requested.groups().get(0).name();
        Optional<GatewayConfig> served = Optional.ofNullable(
                        revisions.latestIds().get(group))
                .flatMap(revisions::get)
                .map(Revision::config);
        Function<RecordedDecision, ReplayOutcome> decide = decider(group, served, requested, policyInForce.get());
        return ReplayReport.of(decisions.replay(decide, from, to), from, to, clock.instant());
    }

    /**
     * How one recorded decision of {@code group} goes under {@code requested}, given what the group serves now and the
     * policy in force. One decider decides on one thread.
     */
    public static Function<RecordedDecision, ReplayOutcome> decider(
            String group, Optional<GatewayConfig> served, GatewayConfig requested, Optional<AuthzPolicy> policy) {
        return new Decider(
                group,
                served.filter(c -> c.group(group).isPresent()).map(c -> GatewayRoutes.of(c, group)),
                GatewayRoutes.of(requested, group),
                policy.map(DecisionReplay::new));
    }

    private record Decider(
            String group, Optional<GatewayRoutes> served, GatewayRoutes requested, Optional<DecisionReplay> engine)
            implements Function<RecordedDecision, ReplayOutcome> {

        @Override
        public ReplayOutcome apply(RecordedDecision r) {
            Map<String, String> recorded = r.context();
            String gatewayRoute = recorded.get(RouteContract.AuthzContext.GATEWAY_ROUTE);
            if (gatewayRoute == null) {
                return new ReplayOutcome.NotReplayable(NOT_A_GATEWAY);
            }
            if (served.isEmpty()) {
                return new ReplayOutcome.NotReplayable(
                        "not made on a gateway of group " + group + " (the group serves no revision yet)");
            }
            GatewayRoutes.Request request = new Recorded(r);
            switch (served.get().select(request)) {
                case GatewayRoutes.Unknown u -> {
                    return new ReplayOutcome.NotReplayable(u.reason());
                }
                case GatewayRoutes.NoVirtualHost n -> {
                    return new ReplayOutcome.NotReplayable(
                            "not made on a gateway of group " + group + " (its host is not served by the group)");
                }
                case GatewayRoutes.Checked c when c.contract().equals(recorded) -> {}
                default -> {
                    return new ReplayOutcome.NotReplayable("recorded on another route than group " + group
                            + " serves for it now (an earlier revision, or another group serving the same host)");
                }
            }
            String from = outcome(r);
            return switch (requested.select(request)) {
                case GatewayRoutes.Unknown u -> new ReplayOutcome.NotReplayable(u.reason());
                case GatewayRoutes.NoVirtualHost n ->
                    new ReplayOutcome.Flip(
                            from,
                            "404 no route",
                            "no_route",
                            Optional.of(gatewayRoute),
                            "the revision serves no route for it (Envoy's 404, no Check)");
                // the controller's catch-all route is how it renders Envoy's 404 (without the DLP stream)
                case GatewayRoutes.Unchecked u
                when u.route().endsWith(".not-found") ->
                    new ReplayOutcome.Flip(
                            from,
                            "404 no route",
                            "no_route",
                            Optional.of(gatewayRoute),
                            "the revision serves no route for it (Envoy's 404, no Check)");
                case GatewayRoutes.Unchecked u ->
                    new ReplayOutcome.Flip(
                            from,
                            (u.status() == 0 ? "forwarded" : Integer.toString(u.status())) + " without a Check",
                            "unchecked_route",
                            Optional.of(gatewayRoute),
                            "the revision answers it on " + u.route() + " without a Check");
                case GatewayRoutes.Checked c -> decideOn(r, c, from, gatewayRoute);
            };
        }

        /** The decision with the contract the new route sends; unchanged when it sends the recorded one. */
        private ReplayOutcome decideOn(RecordedDecision r, GatewayRoutes.Checked c, String from, String gatewayRoute) {
            if (c.contract().equals(r.context())) {
                // the same Check as recorded: nothing the revision changes reaches the decision
                return new ReplayOutcome.Unchanged();
            }
            String newRoute = c.contract().getOrDefault(RouteContract.AuthzContext.GATEWAY_ROUTE, c.route());
            String change = newRoute.equals(gatewayRoute)
                    ? "route " + gatewayRoute + " sends another contract (" + changed(r.context(), c.contract()) + ")"
                    : "re-routed from " + gatewayRoute + " to " + newRoute;
            if (engine.isEmpty()) {
                return new ReplayOutcome.NotReplayable(
                        "the route's contract changes and the controller loads no authz policy to decide it");
            }
            // the policy in force must still decide the recorded Check as recorded, or a flip could be the policy's
            ReplayOutcome baseline = engine.get().replay(r);
            if (baseline instanceof ReplayOutcome.NotReplayable n) {
                return n;
            }
            if (!(baseline instanceof ReplayOutcome.Unchanged)) {
                return new ReplayOutcome.NotReplayable(
                        "the policy in force no longer decides it as recorded (the policy changed since)");
            }
            return switch (engine.get().replay(r.withContext(c.contract()))) {
                case ReplayOutcome.NotReplayable n -> n;
                case ReplayOutcome.Unchanged u ->
                    new ReplayOutcome.Flip(
                            from, from + " on " + newRoute, "route_changed", Optional.of(gatewayRoute), change);
                case ReplayOutcome.Flip f ->
                    new ReplayOutcome.Flip(
                            f.from(), f.to(), f.reason(), Optional.of(gatewayRoute), change + ": " + f.rule());
            };
        }

        private static String outcome(RecordedDecision r) {
            return (r.allowed() ? "allow " : "deny ") + r.status();
        }

        private static String changed(Map<String, String> before, Map<String, String> after) {
            java.util.TreeSet<String> keys = new java.util.TreeSet<>(before.keySet());
            keys.addAll(after.keySet());
            return String.join(
                    ", ",
                    keys.stream()
                            .filter(k -> !java.util.Objects.equals(before.get(k), after.get(k)))
                            .map(k -> k + " " + before.getOrDefault(k, "-") + " -> " + after.getOrDefault(k, "-"))
                            .toList());
        }
    }

    /** A recorded decision as route selection reads it. */
    private record Recorded(RecordedDecision r) implements GatewayRoutes.Request {
        @Override
        public String method() {
            return r.method();
        }

        @Override
        public String host() {
            return r.host();
        }

        @Override
        public String path() {
            return r.rawPath();
        }

        @Override
        public GatewayRoutes.Header header(String name) {
            if (!r.keptHeaders().contains(name)) {
                return new GatewayRoutes.NotKept();
            }
            List<String> values = r.headers().get(name);
            if (values == null || values.isEmpty()) {
                return new GatewayRoutes.Absent();
            }
            // a value kept only as present or blank reads "present": its real value is unknown
            if (values.contains(RecordedDecision.PRESENT)) {
                return new GatewayRoutes.PresentOnly();
            }
            return new GatewayRoutes.Value(String.join(",", values));
        }
    }
}
