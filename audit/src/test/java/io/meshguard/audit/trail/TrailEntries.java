package io.meshguard.audit.trail;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.jooq.DSLContext;

/** Admin trail entries as the tests append them (a person's successful upsert through OIDC), to an emptied trail. */
public final class TrailEntries {
    private TrailEntries() {}

    /** Removes every entry and anchor and puts the chain's head back to its start: the trail of a fresh install. */
    public static void emptyTrail(DSLContext dsl) {
        dsl.execute("delete from admin_trail");
        dsl.execute("delete from admin_trail_anchor");
        dsl.execute("update admin_trail_head set seq = 0, row_hash = repeat('0', 64)");
    }

    /** {@code actor} upserted {@code target} at {@code at}, in {@code tenant} or system-wide; nothing else recorded. */
    public static AdminTrailEntry upsert(Instant at, String actor, Optional<String> tenant, String target) {
        return new AdminTrailEntry(
                at,
                actor,
                "oidc",
                tenant,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                "upsert",
                target,
                "done",
                Optional.empty(),
                Optional.empty(),
                Map.of());
    }

    /** Alice's {@code i}th change of an acme route, with every field an entry can carry (role, address, digest). */
    public static AdminTrailEntry fullChange(int i) {
        return change(
                "alice", "api-developer@tenant:acme", i, Optional.of("ab".repeat(32)), Map.of("reason", "change " + i));
    }

    /**
     * {@code actor}'s {@code i}th upsert of an acme route now, as {@code role}, from a fixed address with request id
     * {@code req-i}.
     */
    public static AdminTrailEntry change(
            String actor, String role, int i, Optional<String> afterDigest, Map<String, String> details) {
        return new AdminTrailEntry(
                Instant.now(),
                actor,
                "oidc",
                Optional.of("acme"),
                Optional.of(role),
                Optional.of("10.0.0.7"),
                Optional.of("req-" + i),
                "upsert",
                "routes/edge/r" + i,
                "done",
                Optional.empty(),
                afterDigest,
                details);
    }
}
