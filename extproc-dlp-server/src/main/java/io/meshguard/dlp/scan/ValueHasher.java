package io.meshguard.dlp.scan;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Keyed hashes of found values for one tenant: HMAC-SHA256 under a key derived from the deployment's master key and
 * the tenant id, so the same value gives the same token within a tenant and unrelated tokens across tenants.
 */
public final class ValueHasher {
    private final byte[] tenantKey;
    private Mac mac;

    private ValueHasher(byte[] tenantKey) {
        this.tenantKey = tenantKey;
    }

    /** A hasher for {@code tenant} (empty string when the request carries no tenant). */
    public static ValueHasher forTenant(byte[] masterKey, String tenant) {
        return new ValueHasher(hmac(masterKey, ("meshguard-dlp-tenant:" + tenant).getBytes(StandardCharsets.UTF_8)));
    }

    /** A random master key, for processes started without one (tokens are then stable only until restart). */
    public static byte[] ephemeralMasterKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return key;
    }

    /** Full hex HMAC of the value. */
    public synchronized String hex(byte[] value, int off, int len) {
        if (mac == null) {
            mac = newMac(tenantKey);
        }
        mac.update(value, off, len);
        return HexFormat.of().formatHex(mac.doFinal());
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        return newMac(key).doFinal(data);
    }

    private static Mac newMac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
