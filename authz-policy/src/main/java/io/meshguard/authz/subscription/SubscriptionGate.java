package io.meshguard.authz.subscription;

import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.Reason;
import io.meshguard.catalogmodel.AccessDecision;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.DenyReason;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.contract.RouteContract;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The subscription check of a product route (one whose gateway route names {@code meshguard.product_publish}): after
 * the credential is authenticated, its application must hold a live subscription to that publish in the state the
 * controller pushed (extauthz-server's {@code SubscriptionStateClient}). No database is asked per request; without
 * current state the route is refused with 503, never allowed. Routes outside any product are not touched.
 */
public final class SubscriptionGate {

    /** Without a controller to follow: product routes are refused (there is nothing to decide them from). */
    public static final SubscriptionGate NONE = new SubscriptionGate(Optional::empty, Clock.systemUTC());

    /** What the check found. */
    public sealed interface Verdict {}

    /** Not a product route: the subscription state has nothing to say. */
    public record NotProduct() implements Verdict {}

    /** Admitted on {@code subscription} under {@code plan}, whose limits count per subscription. */
    public record Admitted(Subscription subscription, Plan plan) implements Verdict {}

    /** Why a product route refuses, in extauthz's reasons, and the subscription refused, when one was found. */
    public record Refusal(Reason reason, String description, Optional<String> subscription) implements Verdict {
        Refusal(Reason reason, String description) {
            this(reason, description, Optional.empty());
        }
    }

    private static final Verdict NOT_PRODUCT = new NotProduct();

    private final Supplier<Optional<SubscriptionSnapshot>> state;
    private final Clock clock;

    public SubscriptionGate(Supplier<Optional<SubscriptionSnapshot>> state, Clock clock) {
        this.state = state;
        this.clock = clock;
    }

    /**
     * Whether this is a product route and, if so, the subscription that admits the caller or why none does.
     *
     * @param id the authenticated caller: an API key's id, or an OAuth2 client's id from its access token
     */
    public Verdict check(Map<String, String> contextExtensions, Identity id) {
        String publish = contextExtensions.get(RouteContract.AuthzContext.PRODUCT_PUBLISH);
        if (publish == null) {
            return NOT_PRODUCT;
        }
        Optional<SubscriptionSnapshot> snapshot = state.get();
        if (snapshot.isEmpty()) {
            return new Refusal(
                    Reason.SUBSCRIPTION_STATE_UNAVAILABLE, "subscription state is not available on this replica");
        }
        AuthMode presented;
        Optional<String> credential;
        if (id.authMethod().equals("apikey")) {
            presented = AuthMode.APIKEY;
            credential = id.credentialId();
        } else if (id.authMethod().equals("jwt")) {
            presented = AuthMode.OAUTH2;
            credential = id.clientId();
        } else {
            return new Refusal(
                    Reason.AUTH_MODE_NOT_ALLOWED,
                    "product routes take an API key or an" + " OAuth2 client's access token");
        }
        if (credential.isEmpty()) {
            return new Refusal(Reason.NO_SUBSCRIPTION, "the credential names no application client");
        }
        AccessDecision d = snapshot.get().decide(publish, presented, credential.get(), clock.instant());
        return switch (d) {
            case AccessDecision.Denied denied ->
                new Refusal(reason(denied.reason()), denied.detail(), denied.subscription());
            case AccessDecision.Granted granted -> new Admitted(granted.subscription(), granted.plan());
            case AccessDecision.Open open -> NOT_PRODUCT;
        };
    }

    private static Reason reason(DenyReason r) {
        return switch (r) {
            case NO_SUBSCRIPTION -> Reason.NO_SUBSCRIPTION;
            case SUBSCRIPTION_PENDING -> Reason.SUBSCRIPTION_PENDING;
            case SUBSCRIPTION_SUSPENDED -> Reason.SUBSCRIPTION_SUSPENDED;
            case APPLICATION_SUSPENDED -> Reason.APPLICATION_SUSPENDED;
            case CREDENTIAL_REVOKED -> Reason.CREDENTIAL_REVOKED;
            case CREDENTIAL_EXPIRED -> Reason.CREDENTIAL_EXPIRED;
            case CREDENTIAL_ROTATED_OUT -> Reason.CREDENTIAL_ROTATED_OUT;
            case PLAN_CLOSED -> Reason.PLAN_CLOSED;
            case AUTH_MODE_NOT_ALLOWED -> Reason.AUTH_MODE_NOT_ALLOWED;
            case SUBSCRIPTION_STATE_UNAVAILABLE -> Reason.SUBSCRIPTION_STATE_UNAVAILABLE;
        };
    }
}
