package io.meshguard.extauthz.quota;

import io.meshguard.authz.policy.QuotaPolicy;
import io.meshguard.authz.request.Identity;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The counter a caller's requests go to for one quota: its API key, tenant or subject. A caller without the
 * requested part (a token caller on an {@code api_key} quota, a caller without a tenant) counts per subject, so no
 * caller escapes a quota by lacking a claim. Keys longer than the database column are replaced by a SHA-256.
 */
public final class QuotaCallers {
    /** The width of {@code quota_usage.caller}. */
    static final int MAX_LENGTH = 300;

    private QuotaCallers() {}

    public static String of(QuotaPolicy.Per per, Identity id) {
        String key;
        if (per == QuotaPolicy.Per.API_KEY && id.credentialId().isPresent()) {
            key = "api_key:" + id.credentialId().get();
        } else if (per == QuotaPolicy.Per.TENANT && id.tenant().isPresent()) {
            key = "tenant:" + id.tenant().get();
        } else {
            key = "subject:" + id.issuer() + "/" + id.subject();
        }
        return key.length() <= MAX_LENGTH ? key : "sha256:" + sha256(key);
    }

    /** Checks an operator-typed caller key (CLI, admin API): the same vocabulary {@link #of} produces. */
    public static boolean wellFormed(String caller) {
        if (caller.isEmpty() || caller.length() > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < caller.length(); i++) {
            char c = caller.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return false;
            }
        }
        return caller.startsWith("api_key:")
                || caller.startsWith("tenant:")
                || caller.startsWith("subject:")
                || caller.startsWith("sha256:");
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from the JDK", e);
        }
    }
}
