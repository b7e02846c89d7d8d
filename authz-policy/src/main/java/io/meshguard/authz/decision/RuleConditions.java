package io.meshguard.authz.decision;

import io.meshguard.authz.condition.Condition;
import io.meshguard.authz.condition.ConditionVariables;
import io.meshguard.authz.mesh.Caller;
import io.meshguard.authz.policy.DenyRule;
import io.meshguard.authz.policy.RoutePolicy;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.Reason;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code when:} conditions of the policy's deny rules and of a route, read against the request at the clock's
 * {@code now}. A deny rule fails towards deny; a route's conditions must all hold.
 */
final class RuleConditions {
    private final Clock clock;

    RuleConditions(Clock clock) {
        this.clock = clock;
    }

    /** The policy-level deny rule's verdict: empty when it does not apply. */
    Optional<Decision> denyRule(DenyRule rule, HttpRequestView request, Caller caller) {
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
            return Optional.of(DenyResponse.of(
                    request,
                    Optional.empty(),
                    Optional.empty(),
                    Reason.CONDITION_ERROR,
                    "a deny rule's condition could not be evaluated (" + e.getMessage() + ")",
                    Map.of("rule", rule.name()),
                    false));
        }
        boolean anyReadingMatches = rule.when().isEmpty();
        for (ConditionVariables vars : readings) {
            boolean all = true;
            for (Condition c : rule.when()) {
                Condition.Outcome o = c.test(vars);
                if (o instanceof Condition.Outcome.Error e) {
                    return Optional.of(DenyResponse.of(
                            request,
                            Optional.empty(),
                            Optional.empty(),
                            Reason.CONDITION_ERROR,
                            "a deny rule's condition could not be evaluated (" + e.message() + ")",
                            Map.of("rule", rule.name()),
                            false));
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
        return Optional.of(DenyResponse.of(
                request,
                Optional.empty(),
                Optional.empty(),
                Reason.DENIED_BY_RULE,
                "denied by policy rule",
                Map.of("rule", rule.name()),
                false));
    }

    /** The route's {@code when:} conditions: empty when all hold; false denies, an evaluation error denies too. */
    Optional<Decision> unmet(
            RoutePolicy r,
            HttpRequestView request,
            Caller caller,
            Optional<Identity> who,
            boolean cached,
            boolean stableIdentity) {
        return unmet(
                r.access().when(),
                r,
                request,
                caller,
                who,
                cached,
                stableIdentity,
                Reason.CONDITION_NOT_MET,
                "a condition of this route is not met");
    }

    /**
     * {@code when} (the route's, or a tool's on it): empty when all hold; a false one denies with {@code notMet}, an
     * evaluation error denies as a condition error.
     */
    Optional<Decision> unmet(
            List<Condition> when,
            RoutePolicy r,
            HttpRequestView request,
            Caller caller,
            Optional<Identity> who,
            boolean cached,
            boolean stableIdentity,
            Reason notMet,
            String notMetDescription) {
        if (when.isEmpty()) {
            return Optional.empty();
        }
        List<ConditionVariables> readings;
        try {
            readings = new ConditionVariables(request, caller, who, clock.instant()).readings();
        } catch (ConditionVariables.Unreadable e) {
            return Optional.of(DenyResponse.of(
                    request,
                    Optional.of(r.name()),
                    who,
                    Reason.CONDITION_ERROR,
                    "a condition of this route could not be evaluated (" + e.getMessage() + ")",
                    Map.of(),
                    cached));
        }
        Optional<Identity> memoKey = stableIdentity ? who : Optional.empty();
        // an allow condition must hold for every value of a repeated parameter (the upstream may read any of them)
        for (ConditionVariables vars : readings) {
            for (Condition c : when) {
                Condition.Outcome o = c.test(vars, memoKey);
                if (o instanceof Condition.Outcome.Error e) {
                    return Optional.of(DenyResponse.of(
                            request,
                            Optional.of(r.name()),
                            who,
                            Reason.CONDITION_ERROR,
                            "a condition of this route could not be evaluated (" + e.message() + ")",
                            Map.of(),
                            cached));
                }
                if (!(o instanceof Condition.Outcome.Holds)) {
                    return Optional.of(DenyResponse.of(
                            request, Optional.of(r.name()), who, notMet, notMetDescription, Map.of(), cached));
                }
            }
        }
        return Optional.empty();
    }
}
