package io.meshguard.authz.request;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The outcome of one check, independent of the wire format: {@code CheckResponses} turns it into Envoy's
 * CheckResponse, the CLI prints it as JSON, the audit records it.
 *
 * @param headersSet request headers for the upstream (allow only)
 * @param headersRemoved request headers stripped before the upstream (allow only); never one that is also set
 * @param responseHeaders headers for the client: on deny the local reply's headers ({@code denied_response.headers}); on
 *     allow headers added to the upstream's response ({@code ok_response.response_headers_to_add}: the rate-limit
 *     headers)
 * @param body the deny response body (JSON), empty on allow
 * @param subscription the catalogue subscription a product route's decision was made on, if any (audited, so usage
 *     counts per subscription)
 * @param plan the plan the subscription's limits came from, and which of its rate limits refused (audited, so a plan
 *     change can be replayed over the decisions it would have decided)
 */
public record Decision(
        boolean allowed,
        int status,
        Reason reason,
        String description,
        String requestId,
        Optional<String> route,
        Optional<Identity> identity,
        List<HeaderMutation> headersSet,
        List<String> headersRemoved,
        Map<String, String> responseHeaders,
        String body,
        boolean tokenFromCache,
        Optional<String> subscription,
        Optional<PlanUse> plan) {

    /** The same decision with other header changes for the upstream and other response headers. */
    public Decision withHeaders(List<HeaderMutation> set, List<String> removed, Map<String, String> response) {
        return with(set, removed, response, subscription, plan);
    }

    /** The same decision, made on catalogue subscription {@code id}. */
    public Decision withSubscription(String id) {
        return with(headersSet, headersRemoved, responseHeaders, Optional.of(id), plan);
    }

    /** The same decision, counted against {@code use}'s plan; a plan refusal already named is kept. */
    public Decision withPlan(PlanUse use) {
        PlanUse kept = plan.filter(p -> p.refusedBy().isPresent()).orElse(use);
        return with(headersSet, headersRemoved, responseHeaders, subscription, Optional.of(kept));
    }

    /** The verdict and who was decided on stay; what is added on the way out may change. */
    private Decision with(
            List<HeaderMutation> set,
            List<String> removed,
            Map<String, String> response,
            Optional<String> onSubscription,
            Optional<PlanUse> onPlan) {
        return new Decision(
                allowed,
                status,
                reason,
                description,
                requestId,
                route,
                identity,
                set,
                removed,
                response,
                body,
                tokenFromCache,
                onSubscription,
                onPlan);
    }
}
