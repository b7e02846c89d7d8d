package io.meshguard.catalogmodel;

import java.time.Duration;
import java.util.Objects;

/** At most {@code requests} per {@code per}: one of a plan's rate limits, enforced by extauthz's GCRA limiter. */
public record Limit(long requests, Duration per) {

    public Limit {
        Objects.requireNonNull(per, "per");
        if (requests < 1) {
            throw new IllegalArgumentException("limit: requests must be at least 1, got " + requests);
        }
        if (per.compareTo(Duration.ofSeconds(1)) < 0 || per.compareTo(Duration.ofDays(1)) > 0) {
            throw new IllegalArgumentException("limit: per must be between 1s and 1d, got " + per);
        }
    }
}
