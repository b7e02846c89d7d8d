package io.meshguard.access;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.MovableClock;
import io.meshguard.testing.TestIssuer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Sign-in events of the gate: a success once per token session, every failure but at most a few per source and minute. */
@IntegrationTest
class SignInEventsTest {
    private static final AdminRoute FLEET = AdminRoute.system("GET", "/fleet", "fleet:read");
    private static final String BINDINGS = """
            claims: [groups]
            roles:
              auditor:
                permissions: [fleet:read]
            bindings:
              - {match: auditors, role: auditor, scope: system}
            """;

    final List<AdminEvent> events = new ArrayList<>();
    final MovableClock clock = new MovableClock(Instant.parse("2026-11-23T10:00:05Z"));
    TestIssuer issuer;
    AdminGate gate;

    @BeforeEach
    void start() throws Exception {
        issuer = new TestIssuer();
        gate = new AdminGate(
                Optional.of(new AdminTokenVerifier(
                        new AdminTokenVerifier.Settings(issuer.issuer(), "meshguard-admin", Duration.ofSeconds(30)))),
                RoleBindings.parse("bindings", BINDINGS),
                new BearerTokens(Optional.empty()),
                false,
                events::add,
                clock,
                "xds.admin.token_file");
    }

    @AfterEach
    void stop() {
        issuer.close();
    }

    private AdminGate.Admission call(String token, String source) {
        return gate.admit(token == null ? null : "Bearer " + token, source, "req-1", FLEET, List.of("fleet"));
    }

    private String token(String sid) {
        return issuer.token(
                Map.of(
                        "sub",
                        "u-1",
                        "preferred_username",
                        "alice",
                        "aud",
                        "meshguard-admin",
                        "typ",
                        "Bearer",
                        "sid",
                        sid,
                        "groups",
                        List.of("auditors")),
                Duration.ofMinutes(5));
    }

    @Test
    void success_isRecordedOncePerTokenSession() {
        String first = token("session-a");
        assertThat(call(first, "10.0.0.7")).isInstanceOf(AdminGate.Admitted.class);
        assertThat(call(first, "10.0.0.7")).isInstanceOf(AdminGate.Admitted.class);
        assertThat(call(token("session-a"), "10.0.0.7"))
                .as("a refreshed token of the same session")
                .isInstanceOf(AdminGate.Admitted.class);
        assertThat(call(token("session-b"), "10.0.0.8")).isInstanceOf(AdminGate.Admitted.class);
        assertThat(events)
                .extracting(AdminEvent::action, AdminEvent::target, AdminEvent::source)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("sign-in", "sid:session-a", "10.0.0.7"),
                        org.assertj.core.groups.Tuple.tuple("sign-in", "sid:session-b", "10.0.0.8"));
        assertThat(events.get(0).actor()).isEqualTo("alice (u-1)");
    }

    @Test
    void everyFailureKind_isRecorded() {
        call(null, "10.0.0.9");
        call("not.a.jwt", "10.0.0.9");
        call(
                issuer.token(Map.of("sub", "u-1", "aud", "someone-else", "typ", "Bearer"), Duration.ofMinutes(5)),
                "10.0.0.9");
        call(
                issuer.token(Map.of("sub", "u-1", "aud", "meshguard-admin", "typ", "Bearer"), Duration.ofMinutes(-5)),
                "10.0.0.9");
        assertThat(events).hasSize(4).allSatisfy(e -> assertThat(e.outcome()).startsWith("refused 401"));
        assertThat(events.get(2).outcome()).containsIgnoringCase("aud");
        assertThat(events.get(3).outcome()).containsIgnoringCase("expired");
    }

    @Test
    void aFloodFromOneSource_isCappedPerMinute_andSummarisedAfterwards() {
        for (int i = 0; i < 50; i++) {
            call("bad.to.ken", "10.6.6.6");
        }
        call("bad.to.ken", "10.0.0.1");
        assertThat(events).hasSize(SignInEvents.FAILURES_PER_MINUTE + 1);
        assertThat(events.get(SignInEvents.FAILURES_PER_MINUTE - 1).outcome()).contains("limit of 20");
        assertThat(events.getLast().source()).as("another source is not muted").isEqualTo("10.0.0.1");

        clock.advance(Duration.ofSeconds(60));
        events.clear();
        call("bad.to.ken", "10.6.6.6");
        assertThat(events).hasSize(2);
        assertThat(events.get(0).outcome())
                .contains("30 further sign-in failures from this source")
                .contains("2026-11-23T10:00:00Z");
        assertThat(events.get(1).outcome()).startsWith("refused 401");
    }
}
