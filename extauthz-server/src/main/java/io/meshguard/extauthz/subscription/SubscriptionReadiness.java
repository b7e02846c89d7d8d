package io.meshguard.extauthz.subscription;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The {@code subscriptions} readiness check of an extauthz replica: not ready while its product routes would answer
 * 503 {@code subscription_state_unavailable} for want of state it should already have, so a replica joins the
 * Service only once it can decide them.
 * <ul>
 *   <li>{@code subscriptions.controller} set, no snapshot received yet: not ready (a fresh replica waits for its
 *   first state, as it waits for its policy and its issuers' keys).</li>
 *   <li>set, a snapshot received, the stream down longer than {@code max_staleness}: ready, "degraded". Every replica
 *   follows the same controller, so taking them out together would turn a product outage into an outage of every
 *   route; product routes answer 503 meanwhile, which the detail says.</li>
 *   <li>not set while the policy has a {@code products_only} rule (products are in use): not ready, a configuration
 *   error that only a setting fixes.</li>
 *   <li>not set and no {@code products_only} rule: ready, "off".</li>
 * </ul>
 */
public final class SubscriptionReadiness {
    private final Optional<String> controller;
    private final Optional<SubscriptionStateClient> client;
    private final Supplier<Optional<AuthzPolicy>> policy;

    public SubscriptionReadiness(
            Optional<String> controller,
            Optional<SubscriptionStateClient> client,
            Supplier<Optional<AuthzPolicy>> policy) {
        this.controller = controller;
        this.client = client;
        this.policy = policy;
    }

    public ReadinessCheck check() {
        return ReadinessCheck.of("subscriptions", this::result);
    }

    private ReadinessCheck.Result result() {
        if (client.isEmpty() || controller.isEmpty()) {
            boolean productsInUse = policy.get()
                    .map(p -> p.routes().stream().anyMatch(r -> r.options().productsOnly()))
                    .orElse(false);
            return productsInUse
                    ? ReadinessCheck.Result.notReady(
                            "the policy has products_only rules but no subscriptions.controller"
                                    + " is set: product routes would answer 503 subscription_state_unavailable")
                    : ReadinessCheck.Result.ready("off (no subscriptions.controller): product routes are refused");
        }
        SubscriptionStateClient c = client.get();
        String target = controller.get();
        Optional<io.meshguard.catalogmodel.SubscriptionSnapshot> current = c.current();
        if (current.isPresent()) {
            return ReadinessCheck.Result.ready("following " + target + ", subscription state version "
                    + current.get().version());
        }
        if (!c.hasReceived()) {
            return ReadinessCheck.Result.notReady("waiting for the first subscription state from " + target
                    + "; product routes would answer 503 subscription_state_unavailable");
        }
        return ReadinessCheck.Result.ready("degraded: no current subscription state from " + target
                + " (stream down longer than subscriptions.max_staleness); product routes answer 503"
                + " subscription_state_unavailable");
    }
}
