package io.meshguard.access;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.KeycloakServer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Admin tokens issued by a real Keycloak, through the gate every admin surface uses. */
@IntegrationTest
class AdminTokensFromKeycloakTest {
    private static final AdminRoute PUT_ROUTE = AdminRoute.gateway("PUT", "/routes/{group}/{name}", "route:update", 1);
    private static final AdminRoute ROLLBACK = AdminRoute.system("POST", "/rollback/{revision}", "revision:rollback");
    private static final AdminRoute FLEET = AdminRoute.system("GET", "/fleet", "fleet:read");

    private static KeycloakRealm realm;
    private static RoleBindings bindings;
    private final List<AdminEvent> events = new ArrayList<>();

    @BeforeAll
    static void realm() throws Exception {
        realm = new KeycloakRealm("access-tokens");
        try (var in = AdminTokensFromKeycloakTest.class.getResourceAsStream("/test-access.yaml")) {
            bindings = RoleBindings.parse("test-access.yaml", new String(in.readAllBytes()));
        }
    }

    private AdminGate gate(String issuer, String audience, Duration skew) {
        return new AdminGate(
                Optional.of(new AdminTokenVerifier(new AdminTokenVerifier.Settings(issuer, audience, skew))),
                bindings,
                new BearerTokens(Optional.empty()),
                false,
                events::add,
                Clock.systemUTC(),
                "admin.token_file");
    }

    private AdminGate gate() {
        return gate(realm.issuer(), "meshguard-admin", Duration.ofSeconds(30));
    }

    private static AdminGate.Admission call(AdminGate gate, String token, AdminRoute route, String... segments) {
        return gate.admit("Bearer " + token, "127.0.0.1", "req-1", route, List.of(segments));
    }

    @Test
    void clientCredentials_serviceAccountInOwnersGroup_updatesRoutesOfItsGatewayOnly() {
        String token = KeycloakServer.jsonField(
                realm.tokenResponse(Map.of(
                        "grant_type",
                        "client_credentials",
                        "client_id",
                        "meshguard-automation",
                        "client_secret",
                        "automation-secret")),
                "access_token");

        AdminGate.Admission own = call(gate(), token, PUT_ROUTE, "routes", "edge-prod", "orders");
        AdminGate.Admission other = call(gate(), token, PUT_ROUTE, "routes", "edge-dev", "orders");

        assertThat(own).isInstanceOfSatisfying(AdminGate.Admitted.class, a -> {
            assertThat(a.decision().roleUsed()).isEqualTo("gateway-owner@gateway:edge-prod");
            assertThat(a.caller().method()).isEqualTo(AuthMethod.OIDC);
            assertThat(a.caller().displayName()).isEqualTo("service-account-meshguard-automation");
        });
        assertThat(other).isInstanceOfSatisfying(AdminGate.Refused.class, r -> assertThat(r.status())
                .isEqualTo(403));
    }

    @Test
    void passwordGrant_eachPersona_holdsExactlyItsRolesPermissions() {
        String alice = realm.passwordToken("meshguard-cli", "alice", "alice-pw");
        String dora = realm.passwordToken("meshguard-cli", "dora", "dora-pw");

        assertThat(call(gate(), alice, ROLLBACK, "rollback", "7")).isInstanceOf(AdminGate.Admitted.class);
        assertThat(call(gate(), dora, FLEET, "fleet")).isInstanceOf(AdminGate.Admitted.class);
        assertThat(call(gate(), dora, ROLLBACK, "rollback", "7"))
                .isInstanceOfSatisfying(
                        AdminGate.Refused.class, r -> assertThat(r.status()).isEqualTo(403));
        assertThat(events).anySatisfy(e -> {
            assertThat(e.actor()).startsWith("dora");
            assertThat(e.outcome()).startsWith("refused 403");
            assertThat(e.action()).isEqualTo("POST /rollback/{revision}");
        });
    }

    @Test
    void groupRemovedInKeycloak_nextTokenLosesThePermission() {
        KeycloakRealm demotion = new KeycloakRealm("access-demotion");
        AdminGate gate = gate(demotion.issuer(), "meshguard-admin", Duration.ofSeconds(30));
        String before = demotion.passwordToken("meshguard-cli", "bob", "bob-pw");
        assertThat(call(gate, before, PUT_ROUTE, "routes", "edge-prod", "orders"))
                .isInstanceOf(AdminGate.Admitted.class);

        String userId = id(demotion.keycloak
                .admin("GET", "/admin/realms/access-demotion/users?exact=true&username=bob", null)
                .body());
        String groupId = id(demotion.keycloak
                .admin("GET", "/admin/realms/access-demotion/groups?exact=true&search=edge-prod-owners", null)
                .body());
        assertThat(demotion.keycloak
                        .admin("DELETE", "/admin/realms/access-demotion/users/" + userId + "/groups/" + groupId, null)
                        .statusCode())
                .isEqualTo(204);

        String after = demotion.passwordToken("meshguard-cli", "bob", "bob-pw");
        assertThat(call(gate, after, PUT_ROUTE, "routes", "edge-prod", "orders"))
                .isInstanceOfSatisfying(
                        AdminGate.Refused.class, r -> assertThat(r.status()).isEqualTo(403));
    }

    @Test
    void idToken_isRefused401EvenWithTheAdminAudience() {
        String idToken = KeycloakServer.jsonField(
                realm.tokenResponse(Map.of(
                        "grant_type",
                        "password",
                        "client_id",
                        "meshguard-cli",
                        "username",
                        "alice",
                        "password",
                        "alice-pw",
                        "scope",
                        "openid")),
                "id_token");

        assertThat(call(gate(), idToken, FLEET, "fleet"))
                .isInstanceOfSatisfying(
                        AdminGate.Refused.class, r -> assertThat(r.status()).isEqualTo(401));
        assertThat(events).anySatisfy(e -> assertThat(e.outcome()).contains("typ ID"));
    }

    @Test
    void tokenForAnotherAudience_isRefused401() {
        String token = realm.passwordToken("other-app", "alice", "alice-pw");

        assertThat(call(gate(), token, FLEET, "fleet"))
                .isInstanceOfSatisfying(
                        AdminGate.Refused.class, r -> assertThat(r.status()).isEqualTo(401));
        assertThat(events).anySatisfy(e -> assertThat(e.outcome()).contains("aud"));
    }

    @Test
    void tokenFromAnotherIssuer_isRefused401() {
        String token = realm.passwordToken("meshguard-cli", "alice", "alice-pw");
        AdminGate master = gate(realm.keycloak.issuer("master"), "meshguard-admin", Duration.ofSeconds(30));

        assertThat(call(master, token, FLEET, "fleet"))
                .isInstanceOfSatisfying(
                        AdminGate.Refused.class, r -> assertThat(r.status()).isEqualTo(401));
    }

    @Test
    void expiredToken_isRefused401() throws InterruptedException {
        String token = realm.passwordToken("short-lived", "alice", "alice-pw");
        Thread.sleep(2_100); // the client's access.token.lifespan is 1 s; the gate below allows no skew

        assertThat(call(gate(realm.issuer(), "meshguard-admin", Duration.ZERO), token, FLEET, "fleet"))
                .isInstanceOfSatisfying(
                        AdminGate.Refused.class, r -> assertThat(r.status()).isEqualTo(401));
        assertThat(events).anySatisfy(e -> assertThat(e.outcome()).containsIgnoringCase("expired"));
    }

    private static String id(String jsonArray) {
        return KeycloakServer.jsonField(jsonArray, "id");
    }
}
