package io.meshguard.runtime.http;

import java.util.List;

/** The result of evaluating every readiness check: ready only when each check is. */
public record ReadinessReport(List<Entry> checks) {
    public ReadinessReport {
        checks = List.copyOf(checks);
    }

    /** One evaluated check. */
    public record Entry(String name, boolean ready, String detail) {}

    /** True when every check is ready (and trivially when there are none). */
    public boolean ready() {
        return checks.stream().allMatch(Entry::ready);
    }
}
