package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.access.SignedInToken;
import io.meshguard.testing.MovableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Console sessions: idle and absolute expiry, one-time sign-in states bound to the browser that started them. */
class SessionsTest {
    private static final Instant T0 = Instant.parse("2026-11-23T09:00:00Z");

    private final MovableClock clock = new MovableClock(T0);
    private final Sessions sessions = new Sessions(
            new ConsoleSettings(
                    Optional.empty(),
                    "c",
                    Optional.empty(),
                    "http://127.0.0.1:1",
                    Duration.ofMinutes(30),
                    Duration.ofHours(8)),
            clock);
    private final SignedInToken token = new SignedInToken("i", "c", "access", "refresh", T0.plusSeconds(300));

    @Test
    void session_unusedForTheIdleTime_ends() {
        Session s = sessions.open(token);
        clock.set(T0.plus(Duration.ofMinutes(29)));
        assertThat(sessions.find(s.id())).isPresent();
        clock.advance(Duration.ofMinutes(31));
        assertThat(sessions.find(s.id())).isEmpty();
        assertThat(sessions.size()).isZero();
    }

    @Test
    void session_inUseAllDay_endsAtTheAbsoluteLimit() {
        Session s = sessions.open(token);
        for (int minutes = 20; minutes < 8 * 60; minutes += 20) {
            clock.set(T0.plus(Duration.ofMinutes(minutes)));
            assertThat(sessions.find(s.id())).as("at minute %d", minutes).isPresent();
        }
        clock.set(T0.plus(Duration.ofHours(8)).plusSeconds(1));
        assertThat(sessions.find(s.id())).isEmpty();
    }

    @Test
    void sessions_haveDistinctRandomIdsAndCsrfTokens() {
        Session a = sessions.open(token);
        Session b = sessions.open(token);
        assertThat(a.id()).isNotEqualTo(b.id()).hasSizeGreaterThanOrEqualTo(43);
        assertThat(a.csrf()).isNotEqualTo(b.csrf()).isNotEqualTo(a.id());
    }

    @Test
    void signInState_finishesOnce_andOnlyInTheBrowserThatStartedIt() {
        sessions.startSignIn(new Sessions.Pending("state-1", "verifier", "browser-1", "/console/fleet", T0));
        assertThat(sessions.finishSignIn("state-1", "browser-2"))
                .as("another browser")
                .isEmpty();
        sessions.startSignIn(new Sessions.Pending("state-2", "verifier", "browser-1", "/console/fleet", T0));
        assertThat(sessions.finishSignIn("state-2", "browser-1"))
                .map(Sessions.Pending::next)
                .contains("/console/fleet");
        assertThat(sessions.finishSignIn("state-2", "browser-1"))
                .as("used once")
                .isEmpty();
    }

    @Test
    void signInState_olderThanTheWindow_isRefused() {
        sessions.startSignIn(new Sessions.Pending("s", "v", "b", "/console/audit", T0));
        clock.set(T0.plus(Sessions.SIGN_IN_WINDOW).plusSeconds(1));
        assertThat(sessions.finishSignIn("s", "b")).isEmpty();
    }

    @Test
    void flash_isReadOnce() {
        Session s = sessions.open(token);
        sessions.update(s.id(), x -> x.withFlash("published"));
        assertThat(sessions.takeFlash(s.id())).isEqualTo("published");
        assertThat(sessions.takeFlash(s.id())).isEmpty();
    }
}
