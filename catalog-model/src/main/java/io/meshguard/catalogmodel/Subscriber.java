package io.meshguard.catalogmodel;

import java.util.Objects;

/**
 * Who is behind one subscription, as its provider reads it: the customer tenant and its display name, the
 * application's id and name, and who asked for it ("name (subject)", as the trail writes people).
 */
public record Subscriber(
        String subscriptionId,
        String customerTenant,
        String customerName,
        String applicationId,
        String applicationName,
        String requestedBy) {
    public Subscriber {
        Objects.requireNonNull(subscriptionId, "subscriptionId");
        Objects.requireNonNull(customerTenant, "customerTenant");
        Objects.requireNonNull(customerName, "customerName");
        Objects.requireNonNull(applicationId, "applicationId");
        Objects.requireNonNull(applicationName, "applicationName");
        Objects.requireNonNull(requestedBy, "requestedBy");
    }
}
