package io.meshguard.cli.canary;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminTokenVerifier;
import io.meshguard.access.BearerTokenSource;
import io.meshguard.access.RoleBindings;
import io.meshguard.cli.CliRun;
import io.meshguard.cli.xds.AdminClient;
import io.meshguard.cli.xds.LocalAdminApi;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.KeycloakServer;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The canary signs in itself, as a confidential client of a real Keycloak whose tokens live 10 s, and reads the audit
 * log through a real admin API that admits that client's tokens (audit:read, system scope) and nothing expired.
 */
@IntegrationTest
class CanarySignInTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final String REALM = "canary-sign-in";
    private static final String AUDITOR = "canary-auditor";
    private static final String SECRET = "canary-auditor-secret-for-tests";
    private static final int TOKEN_LIFE_SECONDS = 10;

    @TempDir
    static Path dir;

    // one Keycloak per test run, this class's realm in it
    static final KeycloakServer KEYCLOAK = KeycloakServer.shared();
    static LocalAdminApi admin;
    static HttpServer app;

    @BeforeAll
    static void start() throws Exception {
        KEYCLOAK.importRealm("""
                {"realm": "%s", "enabled": true, "accessTokenLifespan": %d,
                 "eventsEnabled": true, "enabledEventTypes": ["CLIENT_LOGIN", "CLIENT_LOGIN_ERROR"],
                 "clients": [{"clientId": "%s", "enabled": true, "publicClient": false, "secret": "%s",
                              "serviceAccountsEnabled": true, "standardFlowEnabled": false,
                              "directAccessGrantsEnabled": false,
                              "protocolMappers": [{"name": "admin-audience", "protocol": "openid-connect",
                                                   "protocolMapper": "oidc-audience-mapper",
                                                   "config": {"included.custom.audience": "meshguard-admin",
                                                              "access.token.claim": "true",
                                                              "id.token.claim": "false"}}]}]}
                """.formatted(REALM, TOKEN_LIFE_SECONDS, AUDITOR, SECRET));
        RoleBindings bindings = RoleBindings.parse("canary-access.yaml", """
                claims: [azp]
                roles:
                  auditor: {permissions: [audit:read]}
                bindings:
                  - {match: canary-auditor, role: auditor, scope: system}
                """);
        AdminGate gate = new AdminGate(
                Optional.of(new AdminTokenVerifier(
                        new AdminTokenVerifier.Settings(KEYCLOAK.issuer(REALM), "meshguard-admin", Duration.ZERO))),
                bindings,
                new BearerTokens(Optional.empty()),
                false,
                event -> {},
                Clock.systemUTC(),
                "xds.admin.token_file");
        admin = LocalAdminApi.start("canary-sign-in", PG.dataSource(), gate);
        // an application imitating the Check's refusal: the canary reads the audit log to find it is not meshguard's
        app = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        app.createContext("/protected", exchange -> {
            byte[] body = "{\"status\":401,\"reason\":\"unknown_key\"}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("content-type", "application/json");
            exchange.sendResponseHeaders(401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        app.start();
    }

    @AfterAll
    static void stop() {
        if (app != null) {
            app.stop(0);
        }
        if (admin != null) {
            admin.close();
        }
    }

    private static URI tokenEndpoint() {
        return URI.create(KEYCLOAK.issuer(REALM) + "/protocol/openid-connect/token");
    }

    private static CanaryRoute route() {
        return new CanaryRoute(
                "accounts",
                URI.create("http://127.0.0.1:" + app.getAddress().getPort() + "/protected"),
                "GET",
                List.of(CanaryKind.EXPIRED_TOKEN),
                Map.of());
    }

    /** The canary's sign-ins Keycloak recorded for the auditor client. */
    private static int signInsSeen() throws Exception {
        var r = KEYCLOAK.admin("GET", "/admin/realms/" + REALM + "/events?type=CLIENT_LOGIN&client=" + AUDITOR, null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode events = new ObjectMapper().readTree(r.body());
        return events.size();
    }

    private Path configWith(String secret) throws Exception {
        Path routes = Files.writeString(
                dir.resolve("routes-" + secret.length() + ".yaml"),
                "routes:\n  - {name: accounts, url: '" + route().url() + "', kinds: [expired_token]}\n");
        Path secretFile = Files.writeString(dir.resolve("secret-" + secret.length()), secret + "\n");
        return Files.writeString(
                dir.resolve("canary-" + secret.length() + ".yaml"),
                "canary:\n  routes_file: " + routes + "\n  timeout: 5s\n  evidence_wait: 1s\n  audit_url:"
                        + " http://127.0.0.1:" + admin.port() + "\n  token_endpoint: " + tokenEndpoint()
                        + "\n  audit_client_id: " + AUDITOR + "\n  audit_client_secret_file: " + secretFile + "\n");
    }

    @Test
    void auditReads_acrossTheTokensExpiry_signInAgain_andKeepReadingTheAuditLog() throws Exception {
        KEYCLOAK.admin("DELETE", "/admin/realms/" + REALM + "/events", null);
        Path secretFile = Files.writeString(dir.resolve("auditor-secret"), SECRET);
        Path cfg = Files.writeString(
                dir.resolve("direct.yaml"),
                "canary:\n  routes_file: " + dir.resolve("unused.yaml") + "\n  audit_url: http://127.0.0.1:"
                        + admin.port() + "\n  token_endpoint: " + tokenEndpoint() + "\n  audit_client_id: " + AUDITOR
                        + "\n  audit_client_secret_file: " + secretFile + "\n");
        CanarySettings settings = CanarySettings.configGroup()
                .read(io.meshguard.runtime.config.ConfigLoader.load(
                        CanaryCommand.schema(), Optional.of(cfg), Map.of()));
        List<String> tokensSent = new ArrayList<>();
        BearerTokenSource signedIn = CanaryCommand.tokens(settings.auditToken(), settings, Optional.empty());
        BearerTokenSource recorded = () -> {
            String t = signedIn.current();
            tokensSent.add(t);
            return t;
        };
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        CanaryProbe probe = new CanaryProbe(
                List.of(route()),
                new HttpCanaryTransport(Duration.ofSeconds(5), Optional.empty()),
                Optional.empty(),
                Optional.empty(),
                403,
                Duration.ofMinutes(1),
                new AuditApiEvidence(new AdminClient("http://127.0.0.1:" + admin.port(), recorded)),
                Duration.ZERO,
                Clock.systemUTC(),
                meters);

        List<CanaryResult> first = probe.runOnce();
        // past the first token's expiry: with it the admin API (no clock skew allowed) would answer 401
        Thread.sleep(Duration.ofSeconds(TOKEN_LIFE_SECONDS + 1));
        List<CanaryResult> second = probe.runOnce();

        for (List<CanaryResult> round : List.of(first, second)) {
            assertThat(round).singleElement().satisfies(r -> assertThat(r.detail())
                    .as("the audit log was read, and shows the app's own 401 is not meshguard's")
                    .contains("meshguard did not decide it", "no Check denying its token"));
        }
        assertThat(tokensSent.getFirst()).isNotEqualTo(tokensSent.getLast());
        assertThat(signInsSeen()).as("one sign-in per token, not one per read").isEqualTo(2);
        assertThat(meters.counter("meshguard.canary.sign_in.failures", "client", "audit")
                        .count())
                .isZero();
    }

    @Test
    void once_wrongClientSecret_exits4_sayingItCannotSignIn_notAPass() throws Exception {
        CliRun run = CliRun.of(
                "canary",
                "--once",
                "--config",
                configWith("not-the-auditors-secret").toString());

        assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(CanaryCommand.EXIT_UNREACHABLE);
        assertThat(run.out())
                .containsPattern("unreachable +expired_token +accounts")
                .contains("cannot sign in to read the audit log", AUDITOR, "401")
                .doesNotContain("not-the-auditors-secret");
    }

    @Test
    void once_rightClientSecret_readsTheAuditLog() throws Exception {
        CliRun run =
                CliRun.of("canary", "--once", "--config", configWith(SECRET).toString());

        assertThat(run.exit()).as(run.out() + run.err()).isEqualTo(CanaryCommand.EXIT_GOT_THROUGH);
        assertThat(run.out()).contains("meshguard did not decide it");
    }
}
