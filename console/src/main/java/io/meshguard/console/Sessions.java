package io.meshguard.console;

import io.meshguard.access.CodeFlowClient;
import io.meshguard.access.SignedInToken;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * The console's sessions and the sign-ins on their way, in this replica's memory: a restart signs everyone out,
 * and several replicas need sticky routing (docs/console.md). Ids are 32 random bytes; a session ends after
 * {@link ConsoleSettings#idle()} unused or {@link ConsoleSettings#absolute()} after sign-in, whichever comes first.
 */
public final class Sessions {
    /** A sign-in between the redirect to the issuer and its callback, bound to the browser that started it. */
    public record Pending(String state, String verifier, String browser, String next, Instant startedAt) {}

    /** How long the person may take on the issuer's login page. */
    static final Duration SIGN_IN_WINDOW = Duration.ofMinutes(10);

    private final Map<String, Session> sessions = new ConcurrentHashMap<>();
    private final Map<String, Pending> pending = new ConcurrentHashMap<>();
    private final ConsoleSettings settings;
    private final Clock clock;

    public Sessions(ConsoleSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
    }

    public void startSignIn(Pending p) {
        Instant now = clock.instant();
        pending.values().removeIf(x -> x.startedAt().plus(SIGN_IN_WINDOW).isBefore(now));
        pending.put(p.state(), p);
    }

    /** The sign-in {@code state} names, once, when the same browser finishes it within the window. */
    public Optional<Pending> finishSignIn(String state, String browser) {
        Pending p = pending.remove(state);
        if (p == null
                || !constantTimeEquals(p.browser(), browser)
                || p.startedAt().plus(SIGN_IN_WINDOW).isBefore(clock.instant())) {
            return Optional.empty();
        }
        return Optional.of(p);
    }

    /** A new session for a person who just signed in (a fresh id: no fixation). */
    public Session open(SignedInToken token) {
        Instant now = clock.instant();
        sessions.values().removeIf(s -> expired(s, now));
        Session s = new Session(CodeFlowClient.random(32), CodeFlowClient.random(32), token, now, now, "", "");
        sessions.put(s.id(), s);
        return s;
    }

    /** The live session with this id, marked as used now; an expired one is removed. */
    public Optional<Session> find(String id) {
        Instant now = clock.instant();
        Session s = sessions.get(id);
        if (s == null) {
            return Optional.empty();
        }
        if (expired(s, now)) {
            sessions.remove(id);
            return Optional.empty();
        }
        Session touched = s.touched(now);
        sessions.replace(id, s, touched);
        return Optional.of(touched);
    }

    public Session update(String id, UnaryOperator<Session> change) {
        return sessions.computeIfPresent(id, (k, s) -> change.apply(s));
    }

    /** The flash message of the session, removed as it is read. */
    public String takeFlash(String id) {
        Session s = sessions.get(id);
        if (s == null || s.flash().isEmpty()) {
            return "";
        }
        update(id, x -> x.withFlash(""));
        return s.flash();
    }

    /** The one-time secret of the session, removed as it is read. */
    public String takeSecret(String id) {
        Session s = sessions.get(id);
        if (s == null || s.secret().isEmpty()) {
            return "";
        }
        update(id, x -> x.withSecret(""));
        return s.secret();
    }

    public void end(String id) {
        sessions.remove(id);
    }

    public int size() {
        return sessions.size();
    }

    private boolean expired(Session s, Instant now) {
        return s.lastSeenAt().plus(settings.idle()).isBefore(now)
                || s.signedInAt().plus(settings.absolute()).isBefore(now);
    }

    static boolean constantTimeEquals(String a, String b) {
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
