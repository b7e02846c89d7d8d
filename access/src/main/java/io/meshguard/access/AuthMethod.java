package io.meshguard.access;

/** How an admin caller proved who it is. */
public enum AuthMethod {
    /** A bearer access token from the configured OIDC issuer; roles come from its claims. */
    OIDC("oidc"),
    /** The static token file while an issuer is configured and {@code admin.break_glass: true}: every use is a WARN. */
    BREAK_GLASS("break-glass"),
    /** The static token file without any issuer (plain {@code meshguard up}): the token holder is system-admin. */
    LOCAL("local");

    private final String label;

    AuthMethod(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
