package io.meshguard.testing;

import org.jooq.DSLContext;

/**
 * API key rows that a test's catalogue credentials can refer to: each with a zero secret hash (no request can present
 * it), name {@code k}, owner {@code o} and tier {@code free}.
 */
public final class ApiKeyRows {
    private ApiKeyRows() {}

    /** Inserts one row of {@code tenant} per id in {@code keyIds}. */
    public static void insert(DSLContext dsl, String tenant, String... keyIds) {
        for (String keyId : keyIds) {
            dsl.execute(
                    "insert into api_keys (key_id, secret_sha256, name, owner, tenant, tier)"
                            + " values (?, decode(repeat('00', 32), 'hex'), 'k', 'o', ?, 'free')",
                    keyId,
                    tenant);
        }
    }
}
