package io.meshguard.catalogmodel;

import java.util.Objects;
import java.util.Optional;

/** What a product route answers a credential, decided from a {@link SubscriptionSnapshot} without any I/O. */
public sealed interface AccessDecision {

    /** The publish needs no credential ({@link AuthMode#NONE}); only the security team's rules apply. */
    record Open(ProductPublish publish) implements AccessDecision {
        public Open {
            Objects.requireNonNull(publish, "publish");
        }
    }

    /**
     * Admitted on {@code subscription} under {@code plan}; limits count per subscription.
     *
     * @param predecessor the credential is in its rotation overlap window: usage shows each such call
     */
    record Granted(Subscription subscription, Plan plan, Credential credential, boolean predecessor)
            implements AccessDecision {
        public Granted {
            Objects.requireNonNull(subscription, "subscription");
            Objects.requireNonNull(plan, "plan");
            Objects.requireNonNull(credential, "credential");
        }
    }

    /**
     * Refused; {@code detail} is safe to show the caller (ids it already holds, never another tenant's names);
     * {@code subscription} is the one refused, when the refusal is a subscription's (its usage counts it).
     */
    record Denied(DenyReason reason, String detail, Optional<String> subscription) implements AccessDecision {
        public Denied {
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(detail, "detail");
            Objects.requireNonNull(subscription, "subscription");
        }

        /** Refused before any subscription was found. */
        public Denied(DenyReason reason, String detail) {
            this(reason, detail, Optional.empty());
        }

        static Denied of(DenyReason reason, String detail, Subscription refused) {
            return new Denied(reason, detail, Optional.of(refused.id()));
        }
    }
}
