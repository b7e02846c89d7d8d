package io.meshguard.access;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.runtime.http.BearerTokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gate without an IdP reachable: local mode, break-glass on and off, malformed headers. */
class AdminGateTest {
    private static final String TOKEN = "a-static-admin-token-0123456789";
    private static final AdminRoute FLEET = AdminRoute.system("GET", "/fleet", "fleet:read");

    @TempDir
    Path tmp;

    final List<AdminEvent> events = new ArrayList<>();

    private BearerTokens tokens() throws Exception {
        Path f = tmp.resolve("tokens");
        Files.writeString(f, "ops:" + TOKEN + "\n");
        return new BearerTokens(Optional.of(f));
    }

    private AdminGate withIssuer(boolean breakGlass) throws Exception {
        // an issuer nobody listens on: the token file path must not depend on it
        AdminTokenVerifier v = new AdminTokenVerifier(new AdminTokenVerifier.Settings(
                "http://127.0.0.1:9/realms/x", "meshguard-admin", Duration.ofSeconds(5)));
        return new AdminGate(
                Optional.of(v),
                RoleBindings.none(),
                tokens(),
                breakGlass,
                events::add,
                Clock.systemUTC(),
                "xds.admin.token_file");
    }

    private static AdminGate.Admission admit(AdminGate gate, String header) {
        return gate.admit(header, "10.0.0.7", "req-9", FLEET, List.of("fleet"));
    }

    @Test
    void localMode_tokenFileHolderIsSystemAdmin_likeToday() throws Exception {
        AdminGate gate = new AdminGate(
                Optional.empty(),
                RoleBindings.none(),
                tokens(),
                false,
                events::add,
                Clock.systemUTC(),
                "xds.admin.token_file");
        assertThat(admit(gate, "Bearer " + TOKEN)).isInstanceOfSatisfying(AdminGate.Admitted.class, a -> {
            assertThat(a.caller().method()).isEqualTo(AuthMethod.LOCAL);
            assertThat(a.caller().actor()).isEqualTo("ops");
        });
        assertThat(admit(gate, "bearer " + TOKEN))
                .as("the scheme is case-insensitive (RFC 7235 §2.1)")
                .isInstanceOf(AdminGate.Admitted.class);
    }

    @Test
    void authenticate_namesTheCaller_butAdmitsNoOperation() throws Exception {
        AdminGate gate = new AdminGate(
                Optional.empty(),
                RoleBindings.none(),
                tokens(),
                false,
                events::add,
                Clock.systemUTC(),
                "xds.admin.token_file");
        assertThat(gate.authenticate("Bearer " + TOKEN, "10.0.0.7", "req-11", "/console"))
                .isInstanceOfSatisfying(AdminGate.Admitted.class, a -> {
                    assertThat(a.caller().actor()).isEqualTo("ops");
                    assertThat(a.decision().roleUsed())
                            .as("no permission was checked")
                            .isEmpty();
                });
        assertThat(gate.authenticate("Bearer not-" + TOKEN, "10.0.0.7", "req-12", "/console"))
                .isInstanceOfSatisfying(
                        AdminGate.Refused.class, r -> assertThat(r.status()).isEqualTo(401));
        assertThat(gate.authenticate("", "10.0.0.7", "req-13", "/console"))
                .isInstanceOfSatisfying(
                        AdminGate.Refused.class, r -> assertThat(r.challenge()).isTrue());
    }

    @Test
    void withIssuer_tokenFileIsOff_401_andTheRefusalIsAnEvent() throws Exception {
        assertThat(admit(withIssuer(false), "Bearer " + TOKEN))
                .isInstanceOfSatisfying(
                        AdminGate.Refused.class, r -> assertThat(r.status()).isEqualTo(401));
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.outcome()).contains("admin.break_glass");
            assertThat(e.source()).isEqualTo("10.0.0.7");
            assertThat(e.requestId()).isEqualTo("req-9");
        });
    }

    @Test
    void withIssuerAndBreakGlass_tokenFileWorks_andEveryUseIsAnEvent() throws Exception {
        AdminGate gate = withIssuer(true);
        assertThat(admit(gate, "Bearer " + TOKEN)).isInstanceOfSatisfying(AdminGate.Admitted.class, a -> assertThat(
                        a.caller().method())
                .isEqualTo(AuthMethod.BREAK_GLASS));
        admit(gate, "Bearer " + TOKEN);
        assertThat(events).hasSize(2).allSatisfy(e -> {
            assertThat(e.authMethod()).isEqualTo("break-glass");
            assertThat(e.actor()).isEqualTo("break-glass:ops");
        });
    }

    @Test
    void missingOrMalformedAuthorization_is401_everySpelling() throws Exception {
        AdminGate gate = withIssuer(true);
        for (String header : new String[] {
            null, "", "Bearer", "Bearer ", "Basic " + TOKEN, TOKEN, "Bearer " + TOKEN + "x", "Bearer x.y.z"
        }) {
            assertThat(admit(gate, header))
                    .as(String.valueOf(header))
                    .isInstanceOfSatisfying(AdminGate.Refused.class, r -> {
                        assertThat(r.status()).isEqualTo(401);
                        assertThat(r.challenge()).isTrue();
                    });
        }
    }

    @Test
    void unreachableIssuer_failsClosed_as503() throws Exception {
        assertThat(admit(withIssuer(false), "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"))
                .isInstanceOfSatisfying(
                        AdminGate.Refused.class, r -> assertThat(r.status()).isEqualTo(503));
    }

    @Test
    void nothingConfigured_is503() {
        AdminGate gate = AdminGate.local(new BearerTokens(Optional.empty()), "xds.admin.token_file");
        assertThat(admit(gate, "Bearer " + TOKEN)).isInstanceOfSatisfying(AdminGate.Refused.class, r -> {
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.message()).contains("xds.admin.token_file");
        });
    }

    /** An identity provider that cannot be reached fails closed with 503, not a 401 that blames the caller's token. */
    @Test
    void issuerUnreachable_refuses503_andTheRefusalIsAnEvent() throws Exception {
        String jwtShaped = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
        AdminGate.Admission a = admit(withIssuer(false), "Bearer " + jwtShaped);
        assertThat(a).isInstanceOfSatisfying(AdminGate.Refused.class, r -> {
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.message()).contains("identity provider cannot be reached");
        });
        assertThat(events).anySatisfy(e -> assertThat(e.outcome()).startsWith("refused 503"));
        assertThat(withIssuer(false).authenticateOnly("Bearer " + jwtShaped, "10.0.0.7", "req-10", "/nope"))
                .hasValueSatisfying(r -> assertThat(r.status()).isEqualTo(503));
    }
}
