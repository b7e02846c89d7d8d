package io.meshguard.access;

import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sign-ins of the admin plane as admin events. A success is recorded the first time a token session is seen (its
 * {@code sid}, else its {@code jti}, else the token's subject and issue time), not on every call. Every failure (no,
 * bad, expired, wrong-audience token) is recorded, but at most {@link #FAILURES_PER_MINUTE} per source address and
 * minute: the rest are counted and summarised in one row when that source fails again in a later minute, so a flood
 * cannot fill the trail and is still visible. Memory is bounded: the oldest sessions and sources are forgotten first.
 */
final class SignInEvents {
    static final int FAILURES_PER_MINUTE = 20;
    private static final int MAX_TRACKED = 10_000;

    private record Window(long minute, int recorded, long suppressed) {}

    private final AdminEvents events;
    private final Clock clock;
    private final Map<String, Boolean> sessions = lru();
    private final Map<String, Window> sources = lru();

    SignInEvents(AdminEvents events, Clock clock) {
        this.events = events;
        this.clock = clock;
    }

    private static <V> Map<String, V> lru() {
        return new LinkedHashMap<>(256, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                return size() > MAX_TRACKED;
            }
        };
    }

    /** A verified access token: a row the first time its session is seen. */
    void succeeded(AdminCaller caller, Map<String, Object> claims) {
        String session = claims.get("sid") instanceof String s
                ? "sid:" + s
                : claims.get("jti") instanceof String j
                        ? "jti:" + j
                        : "sub:" + caller.subject() + "@" + claims.get("iat");
        synchronized (sessions) {
            if (sessions.put(session, Boolean.TRUE) != null) {
                return;
            }
        }
        events.record(new AdminEvent(
                clock.instant(),
                caller.actor(),
                caller.method().label(),
                "",
                "",
                caller.source(),
                caller.requestId(),
                "sign-in",
                session,
                "signed in",
                "",
                ""));
    }

    /** A refused credential: recorded unless its source is over the limit this minute. */
    void failed(AdminEvent refusal) {
        Instant now = clock.instant();
        long minute = now.getEpochSecond() / 60;
        long summarise = 0;
        long summarisedMinute = 0;
        boolean record;
        boolean lastRecorded;
        synchronized (sources) {
            Window w = sources.get(refusal.source());
            if (w == null || w.minute() != minute) {
                if (w != null && w.suppressed() > 0) {
                    summarise = w.suppressed();
                    summarisedMinute = w.minute();
                }
                w = new Window(minute, 0, 0);
            }
            record = w.recorded() < FAILURES_PER_MINUTE;
            lastRecorded = w.recorded() == FAILURES_PER_MINUTE - 1;
            sources.put(
                    refusal.source(),
                    record
                            ? new Window(minute, w.recorded() + 1, w.suppressed())
                            : new Window(minute, w.recorded(), w.suppressed() + 1));
        }
        if (summarise > 0) {
            events.record(new AdminEvent(
                    now,
                    "unverified",
                    "none",
                    "",
                    "",
                    refusal.source(),
                    refusal.requestId(),
                    "sign-in",
                    "failures from " + refusal.source(),
                    "refused 401: " + summarise + " further sign-in "
                            + "failures from this source in the minute from "
                            + Instant.ofEpochSecond(summarisedMinute * 60) + " were counted, not recorded",
                    "",
                    ""));
        }
        if (record) {
            events.record(
                    lastRecorded
                            ? new AdminEvent(
                                    refusal.at(),
                                    refusal.actor(),
                                    refusal.authMethod(),
                                    refusal.roleUsed(),
                                    refusal.tenant(),
                                    refusal.source(),
                                    refusal.requestId(),
                                    refusal.action(),
                                    refusal.target(),
                                    refusal.outcome() + " (limit of " + FAILURES_PER_MINUTE + " recorded failures "
                                            + "per source and minute reached: further ones are counted)",
                                    "",
                                    "")
                            : refusal);
        }
    }
}
