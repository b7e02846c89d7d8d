package io.meshguard.access;

/** Where admin-plane events go (the logging one now; the hash-chained trail in {@code audit/} plugs in here). */
@FunctionalInterface
public interface AdminEvents {
    void record(AdminEvent event);
}
