package io.meshguard.catalogmodel;

/**
 * Why a call on a product route was refused. Each is distinct so a customer (and the provider's support desk) can
 * tell a key that was rotated out from one that was revoked; the wire name is the 403 body's {@code reason} and the
 * audit row's.
 */
public enum DenyReason {
    NO_SUBSCRIPTION,
    SUBSCRIPTION_PENDING,
    SUBSCRIPTION_SUSPENDED,
    APPLICATION_SUSPENDED,
    CREDENTIAL_REVOKED,
    CREDENTIAL_EXPIRED,
    CREDENTIAL_ROTATED_OUT,
    PLAN_CLOSED,
    AUTH_MODE_NOT_ALLOWED,
    /** The replica holds no current subscription state; it fails closed rather than guess. */
    SUBSCRIPTION_STATE_UNAVAILABLE;

    /** {@code no_subscription}, {@code credential_rotated_out}, … */
    public String wireName() {
        return name().toLowerCase();
    }
}
