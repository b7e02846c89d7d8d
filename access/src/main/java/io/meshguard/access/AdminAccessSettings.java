package io.meshguard.access;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigException;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import io.meshguard.runtime.config.ConfigProblem;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.IdpTrust;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The {@code admin.*} keys every admin surface reads: the OIDC issuer and audience of admin access tokens, the
 * role bindings file, and whether the static token file stays usable as break-glass once an issuer is set.
 */
public record AdminAccessSettings(
        Optional<String> issuer,
        String audience,
        Duration clockSkew,
        Optional<Path> accessFile,
        boolean breakGlass,
        Optional<Path> tlsCaFile) {

    /** Without a CA file of its own: the issuer's certificate is checked against the JDK trust store. */
    public AdminAccessSettings(
            Optional<String> issuer,
            String audience,
            Duration clockSkew,
            Optional<Path> accessFile,
            boolean breakGlass) {
        this(issuer, audience, clockSkew, accessFile, breakGlass, Optional.empty());
    }

    public static final ConfigKey<String> ISSUER = ConfigKey.string(
            "admin.oidc.issuer",
            "",
            "OIDC issuer of admin access tokens (e.g. https://keycloak.example/realms/meshguard). Empty: no IdP, "
                    + "the admin token file is the way in and its holder is system-admin (local mode).");
    public static final ConfigKey<String> AUDIENCE = ConfigKey.string(
            "admin.oidc.audience", "meshguard-admin", "Audience ('aud') an admin access token must carry.");
    public static final ConfigKey<Duration> CLOCK_SKEW = ConfigKey.duration(
            "admin.oidc.clock_skew",
            Duration.ofSeconds(30),
            "Clock skew allowed on exp/nbf/iat of admin access tokens.");
    public static final ConfigKey<Optional<Path>> ACCESS_FILE = ConfigKey.optionalPath(
            "admin.access_file",
            "The role bindings file (policies/access.yaml): roles, permissions, and which IdP groups or roles hold "
                    + "which role at which scope. Required with admin.oidc.issuer.");
    public static final ConfigKey<Boolean> BREAK_GLASS = ConfigKey.bool(
            "admin.break_glass",
            false,
            "With admin.oidc.issuer set, keep the admin token file usable as break-glass (system-admin, every use "
                    + "logged at WARN and audited). Off by default: with an issuer only its tokens are accepted.");

    public static final ConfigKey<Optional<Path>> TLS_CA_FILE = ConfigKey.optionalPath(
            "admin.oidc.tls_ca_file",
            "PEM file of the CA(s) that signed the issuer's TLS certificate (the Secret meshguard-idp-ca): discovery, "
                    + "keys and the console's sign-in trust only these. Unset or absent: the JDK trust store. The "
                    + "issuer and its jwks_uri are https (http only to localhost), as for extauthz's issuers.");

    public static ConfigGroup<AdminAccessSettings> configGroup() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(ISSUER, AUDIENCE, CLOCK_SKEW, ACCESS_FILE, BREAK_GLASS, TLS_CA_FILE);
            }

            @Override
            public AdminAccessSettings read(Config config) {
                String issuer = config.get(ISSUER);
                return new AdminAccessSettings(
                        issuer.isBlank() ? Optional.empty() : Optional.of(issuer),
                        config.get(AUDIENCE),
                        config.get(CLOCK_SKEW),
                        config.get(ACCESS_FILE),
                        config.get(BREAK_GLASS),
                        config.get(TLS_CA_FILE));
            }
        };
    }

    /**
     * The HTTP client of every call to the issuer (discovery, keys, the console's code exchange): its TLS trust is
     * {@code admin.oidc.tls_ca_file} when that file exists.
     *
     * @throws IllegalArgumentException when the CA file does not parse
     */
    public HttpClient identityProviderClient() {
        HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        IdpTrust.context(TLS_CA_FILE.name(), tlsCaFile).ifPresent(b::sslContext);
        return b.build();
    }

    /** Local mode: no issuer, the token file only. */
    public static AdminAccessSettings local() {
        return new AdminAccessSettings(
                Optional.empty(), "meshguard-admin", Duration.ofSeconds(30), Optional.empty(), false);
    }

    /**
     * The gate for one admin surface. Fails (the server does not start) when an issuer is set without a valid
     * access file: an IdP without bindings would refuse everyone, a typo in the file must not start half-open.
     */
    public AdminGate gate(BearerTokens tokens, String tokenFileKey, AdminEvents events) throws ConfigException {
        if (issuer.isEmpty()) {
            return new AdminGate(
                    Optional.empty(), RoleBindings.none(), tokens, false, events, Clock.systemUTC(), tokenFileKey);
        }
        if (accessFile.isEmpty()) {
            throw new ConfigException(List.of(new ConfigProblem(
                    ACCESS_FILE.name(),
                    "admin.oidc.issuer is set but "
                            + "admin.access_file is not: name the role bindings file (policies/access.yaml)")));
        }
        Path file = accessFile.get();
        RoleBindings bindings = RoleBindings.load(file);
        AdminTokenVerifier verifier = new AdminTokenVerifier(
                new AdminTokenVerifier.Settings(issuer.get(), audience, clockSkew), identityProviderClient());
        return new AdminGate(
                Optional.of(verifier), bindings, tokens, breakGlass, events, Clock.systemUTC(), tokenFileKey);
    }
}
