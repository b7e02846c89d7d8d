package io.meshguard.cli.dev;

import java.net.URI;

/**
 * The fixed facts of the local development issuer. Its {@code iss} is a URN, not a URL: it names no host anyone
 * could stand up, and it reads as "not production" wherever it appears (audit rows, logs).
 */
public final class DevIssuer {
    /** The issuer's {@code name} in the dev policy (metrics, readiness, {@code --jwks NAME=FILE}). */
    public static final String NAME = "meshguard-dev";
    /** The {@code iss} of every dev token. */
    public static final String ISSUER = "urn:meshguard:dev-issuer";
    /** The audience dev tokens carry by default, and the one the dev policy accepts. */
    public static final String AUDIENCE = "meshguard";
    /** Port of the JWKS listener {@code up} starts (a free one when taken); compose uses the same. */
    public static final int JWKS_PORT = 9180;
    /** Path of the key set on that listener. */
    public static final String JWKS_PATH = "/dev/jwks.json";
    /** Name of the route the dev policy adds. */
    public static final String DEMO_ROUTE = "dev-demo";
    /** Host and path prefix of that route (the demo API of deploy/local). */
    public static final String DEMO_HOST = "demo.local";

    public static final String DEMO_PATH_PREFIX = "/demo";
    /** The role the demo route requires; {@code meshguard dev token} gives it by default. */
    public static final String DEMO_ROLE = "demo";

    /** Name of the rule the dev policy adds for API products (meshguard demo): their hosts, an API key. */
    public static final String PRODUCTS_ROUTE = "dev-products";
    /** The hosts of local product publishes: {@code {product}.{env}.{region}.api.} + catalog.domain's default. */
    public static final String PRODUCTS_HOSTS = "*.api.meshguard.localhost";

    private DevIssuer() {}

    /** The JWKS URI of a listener on 127.0.0.1 at {@code port}. */
    public static URI jwksUri(int port) {
        return URI.create("http://127.0.0.1:" + port + JWKS_PATH);
    }
}
