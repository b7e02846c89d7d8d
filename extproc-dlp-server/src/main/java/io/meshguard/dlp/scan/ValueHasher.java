package io.meshguard.dlp.scan;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;

/**
 * Keyed hashes of found values for one tenant: HMAC-SHA256 under a key derived from the deployment's master key and
 * the tenant id, so the same value gives the same token within a tenant and unrelated tokens across tenants.
 *
 * <p>Computed by the JDK's own {@code HmacSHA256} ({@link Mac}) only: a security product does not hand-roll its
 * cryptography. Every finding is hashed for the audit log, so a hasher keeps one {@code Mac} (looked up once, when
 * the stream's hasher is made) and reuses it for every value; {@code doFinal} resets it to the key.
 */
public final class ValueHasher {
    private static final String ALGORITHM = "HmacSHA256";
    private static final int DIGEST = 32;
    private static final HexFormat HEX = HexFormat.of();

    /** Keyed with the tenant key; reused for every value (guarded by itself: one stream uses it at a time). */
    private final Mac mac;
    private final byte[] digest = new byte[DIGEST];

    private ValueHasher(Mac mac) {
        this.mac = mac;
    }

    /** A hasher for {@code tenant} (empty string when the request carries no tenant). */
    public static ValueHasher forTenant(byte[] masterKey, String tenant) {
        try {
            // One provider lookup per hasher: the same Mac derives the tenant key, then is re-keyed with it.
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(masterKey, ALGORITHM));
            byte[] tenantKey = mac.doFinal(("meshguard-dlp-tenant:" + tenant).getBytes(StandardCharsets.UTF_8));
            mac.init(new SecretKeySpec(tenantKey, ALGORITHM));
            return new ValueHasher(mac);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    /** A random master key, for processes started without one (tokens are then stable only until restart). */
    public static byte[] ephemeralMasterKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return key;
    }

    /** Full hex HMAC-SHA256 of the value. Safe to call from several threads (they take turns). */
    public String hex(byte[] value, int off, int len) {
        synchronized (mac) {
            mac.update(value, off, len);
            try {
                mac.doFinal(digest, 0);
            } catch (ShortBufferException e) {
                throw new IllegalStateException("HmacSHA256 does not fit 32 bytes", e);
            }
            return HEX.formatHex(digest);
        }
    }

    /** {@code out[k]} = {@link #hex} of {@code b[offs[k], offs[k] + lens[k])}, for {@code k < count}. */
    public void hex(byte[] b, int[] offs, int[] lens, int count, String[] out) {
        for (int k = 0; k < count; k++) {
            out[k] = hex(b, offs[k], lens[k]);
        }
    }
}
