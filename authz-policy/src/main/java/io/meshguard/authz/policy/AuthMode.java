package io.meshguard.authz.policy;

import java.util.Optional;

/** How a route authenticates its callers. */
public enum AuthMode {
    /** A JWT from a configured issuer, as {@code Authorization: Bearer}. */
    JWT("jwt"),
    /** An API key issued by {@code meshguard apikey create}. */
    APIKEY("apikey"),
    /** Either; a bearer token is used when both are sent. */
    JWT_OR_APIKEY("jwt_or_apikey"),
    /**
     * The mTLS peer is the credential: service-to-service calls without a token, authorized by the route's
     * {@code from:} rules on the peer's SPIFFE ID.
     */
    MTLS("mtls"),
    /** Public route: no credential needed (login, health). */
    NONE("none");

    private final String yaml;

    AuthMode(String yaml) {
        this.yaml = yaml;
    }

    public String yaml() {
        return yaml;
    }

    public boolean acceptsJwt() {
        return this == JWT || this == JWT_OR_APIKEY;
    }

    public boolean acceptsApiKey() {
        return this == APIKEY || this == JWT_OR_APIKEY;
    }

    public static Optional<AuthMode> fromYaml(String value) {
        for (AuthMode mode : values()) {
            if (mode.yaml.equals(value)) {
                return Optional.of(mode);
            }
        }
        return Optional.empty();
    }
}
