package io.meshguard.audit.trail;

import java.security.PublicKey;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The public keys whose checkpoints a verifier trusts: the controller's current key and the keys it signed with
 * before a rotation. A checkpoint naming a key id is checked with that key only; one that names no key (written by
 * 1.0.0-rc.1, before checkpoints named their key) is signed when any trusted key signed it.
 */
public final class TrustedCheckpointKeys {
    /** What a checkpoint's signature says. */
    public enum Verdict {
        SIGNED,
        /** It names a key that is not trusted here. */
        UNKNOWN_KEY,
        /** No trusted key signed this text: forged or altered. */
        BAD_SIGNATURE
    }

    private final Map<String, PublicKey> byId = new LinkedHashMap<>();

    /** @param keys at least one key; the same key given twice counts once */
    public TrustedCheckpointKeys(List<PublicKey> keys) {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("at least one trusted checkpoint key is needed");
        }
        keys.forEach(k -> byId.put(CheckpointKeys.keyId(k), k));
    }

    public Verdict check(TrailCheckpoint cp) {
        if (cp.keyId().isEmpty()) {
            return byId.values().stream().anyMatch(cp::signedBy) ? Verdict.SIGNED : Verdict.BAD_SIGNATURE;
        }
        PublicKey key = byId.get(cp.keyId());
        if (key == null) {
            return Verdict.UNKNOWN_KEY;
        }
        return cp.signedBy(key) ? Verdict.SIGNED : Verdict.BAD_SIGNATURE;
    }

    public boolean signed(TrailCheckpoint cp) {
        return check(cp) == Verdict.SIGNED;
    }

    /** The trusted keys' ids, in the order given. */
    public Set<String> ids() {
        return Set.copyOf(byId.keySet());
    }
}
