package io.meshguard.access;

import java.time.Instant;

/**
 * One admin-plane event for the audit trail: a refused call (401/403/404), a break-glass use, a change.
 *
 * @param actor who ({@link AdminCaller#actor()}, or what the refused credential claimed, or "anonymous")
 * @param authMethod oidc, break-glass, local or none
 * @param roleUsed the role at scope that allowed the action, empty when refused
 * @param tenant the tenant the target belongs to, empty when none
 * @param action what was asked ({@code PUT /routes/{group}/{name}}, {@code sign-in})
 * @param target the object acted on
 * @param outcome {@code allowed}, {@code changed}, {@code refused 401: reason}, ...
 * @param beforeDigest SHA-256 of the object before the change, empty when none
 * @param afterDigest SHA-256 of the object after it, empty when none
 */
public record AdminEvent(
        Instant at,
        String actor,
        String authMethod,
        String roleUsed,
        String tenant,
        String source,
        String requestId,
        String action,
        String target,
        String outcome,
        String beforeDigest,
        String afterDigest) {}
