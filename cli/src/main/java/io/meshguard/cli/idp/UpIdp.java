package io.meshguard.cli.idp;

import java.util.List;

/**
 * The identity provider of a running {@code up}, as {@code up.json} tells it: empty ({@link #none()}) without
 * {@code --idp}.
 *
 * @param kind {@code keycloak}, or {@code none}
 * @param url Keycloak's base URL (admin console at {@code /admin}); empty with none
 * @param pid process id of up's Keycloak, which must stop with it; 0 with none
 * @param issuer the OIDC issuer the admin APIs accept ({@code admin.oidc.issuer})
 * @param audience the audience admin access tokens carry ({@code admin.oidc.audience})
 * @param cliClient the public client for the CLI (device grant; password grant in this local realm only)
 * @param consoleClient the confidential client for the console
 * @param consoleSecret its secret (this local realm only)
 * @param note says that the clients and users below exist in this local realm only
 * @param users the demo users with their passwords
 */
public record UpIdp(
        String kind,
        String url,
        long pid,
        String issuer,
        String audience,
        String cliClient,
        String consoleClient,
        String consoleSecret,
        String note,
        List<DemoUser> users) {
    public static final String LOCAL_ONLY = "local realm only: these clients, users and passwords exist in the "
            + "Keycloak this up started (in memory, gone when it stops), never in a production realm";

    public UpIdp {
        kind = kind == null ? "none" : kind;
        url = url == null ? "" : url;
        issuer = issuer == null ? "" : issuer;
        audience = audience == null ? "" : audience;
        cliClient = cliClient == null ? "" : cliClient;
        consoleClient = consoleClient == null ? "" : consoleClient;
        consoleSecret = consoleSecret == null ? "" : consoleSecret;
        note = note == null ? "" : note;
        users = users == null ? List.of() : List.copyOf(users);
    }

    public static UpIdp none() {
        return new UpIdp("none", "", 0, "", "", "", "", "", "", List.of());
    }

    /** The demo user named {@code username}. */
    public DemoUser user(String username) {
        return users.stream()
                .filter(u -> u.username().equals(username))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no demo user " + username + " in up.json"));
    }
}
