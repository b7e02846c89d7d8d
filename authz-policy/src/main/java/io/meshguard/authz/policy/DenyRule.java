package io.meshguard.authz.policy;

import io.meshguard.authz.condition.Condition;
import io.meshguard.authz.mesh.SourceRule;
import java.util.List;
import java.util.Optional;

/**
 * A policy-level {@code deny:} entry, Istio's DENY action: it applies when every part given matches — the request
 * ({@code match}), one of the {@code from:} sources, every {@code when:} condition — and then the request is denied
 * before any route is selected or any credential read. Conditions here cannot read the credential.
 */
public record DenyRule(
        String name, Optional<RouteMatch> match, List<SourceRule> from, List<Condition> when, int line) {}
