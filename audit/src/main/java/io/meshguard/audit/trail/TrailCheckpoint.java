package io.meshguard.audit.trail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Instant;
import java.util.Base64;

/**
 * A signed checkpoint of the admin trail: at {@code signedAt} the trail's head was row {@code seq} with hash
 * {@code rowHash}, and the chain started after the anchor at row {@code anchorSeq} (hash {@code anchorHash}; 0 and
 * {@link TrailHash#GENESIS} before any month was dropped). Signed with Ed25519 by the controller with a key the
 * database never holds, and written outside the database (TrailCheckpointer), so a database operator can neither
 * forge nor remove one. One JSON object per line; the signature covers {@link #signedText()}.
 *
 * <p>{@code keyId} names the key ({@link CheckpointKeys#keyId}), so checkpoints signed before and after a key rotation
 * each verify with their own public key; the id is part of the signed text. A checkpoint of 1.0.0-rc.1, which wrote
 * none, has {@code keyId} "" and its original signed text ({@code v1}); it verifies with any trusted key that signed it.
 */
public record TrailCheckpoint(
        long seq, String rowHash, long anchorSeq, String anchorHash, Instant signedAt, String keyId, String signature) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ALGORITHM = "Ed25519";

    /** The head and anchor, signed now with {@code key}, named by {@code keyId} (its public key's id). */
    public static TrailCheckpoint sign(
            long seq, String rowHash, long anchorSeq, String anchorHash, Instant at, String keyId, PrivateKey key) {
        TrailCheckpoint unsigned = new TrailCheckpoint(seq, rowHash, anchorSeq, anchorHash, at, keyId, "");
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initSign(key);
            s.update(unsigned.signedText().getBytes(StandardCharsets.UTF_8));
            return new TrailCheckpoint(
                    seq,
                    rowHash,
                    anchorSeq,
                    anchorHash,
                    at,
                    keyId,
                    Base64.getEncoder().encodeToString(s.sign()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(
                    "cannot sign a trail checkpoint with an " + key.getAlgorithm() + " key: " + e.getMessage(), e);
        }
    }

    /**
     * The exact text signed: a fixed label, then each field on a line of its own; from v2 on the key id first, so a
     * checkpoint cannot be relabelled as another key's, nor (without it) read as a v1 one.
     */
    public String signedText() {
        String fields = seq + "\n" + rowHash + "\n" + anchorSeq + "\n" + anchorHash + "\n" + signedAt + "\n";
        return keyId.isEmpty()
                ? "meshguard admin trail checkpoint v1\n" + fields
                : "meshguard admin trail checkpoint v2\n" + keyId + "\n" + fields;
    }

    /** Whether {@code key} signed exactly this checkpoint. */
    public boolean signedBy(PublicKey key) {
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initVerify(key);
            s.update(signedText().getBytes(StandardCharsets.UTF_8));
            return s.verify(Base64.getDecoder().decode(signature));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * Whether {@code key} signed exactly this checkpoint, checked by the holder of the private key (the controller,
     * whose Secret holds no public half): Ed25519 signatures are deterministic (RFC 8032), so signing the same text
     * again gives the same bytes exactly when this checkpoint's signature is the key's.
     */
    public boolean signedBy(PrivateKey key) {
        byte[] stored;
        try {
            stored = Base64.getDecoder().decode(signature);
        } catch (IllegalArgumentException e) {
            return false;
        }
        byte[] again = Base64.getDecoder()
                .decode(sign(seq, rowHash, anchorSeq, anchorHash, signedAt, keyId, key)
                        .signature());
        return java.security.MessageDigest.isEqual(stored, again);
    }

    /** One line of JSON, without a line break. */
    public String toJsonLine() {
        ObjectNode o = JSON.createObjectNode();
        o.put("seq", seq);
        o.put("row_hash", rowHash);
        o.put("anchor_seq", anchorSeq);
        o.put("anchor_hash", anchorHash);
        o.put("signed_at", signedAt.toString());
        if (!keyId.isEmpty()) {
            o.put("key_id", keyId);
        }
        o.put("signature", signature);
        return o.toString();
    }

    /** Reads a line written by {@link #toJsonLine()}; IllegalArgumentException when it is not one. */
    public static TrailCheckpoint parse(String line) {
        try {
            JsonNode o = JSON.readTree(line);
            for (String field :
                    new String[] {"seq", "row_hash", "anchor_seq", "anchor_hash", "signed_at", "signature"}) {
                if (o == null || !o.hasNonNull(field)) {
                    throw new IllegalArgumentException("a checkpoint has no " + field);
                }
            }
            return new TrailCheckpoint(
                    o.get("seq").asLong(),
                    o.get("row_hash").asText(),
                    o.get("anchor_seq").asLong(),
                    o.get("anchor_hash").asText(),
                    Instant.parse(o.get("signed_at").asText()),
                    o.hasNonNull("key_id") ? o.get("key_id").asText() : "",
                    o.get("signature").asText());
        } catch (com.fasterxml.jackson.core.JsonProcessingException | java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("not a checkpoint: " + e.getMessage(), e);
        }
    }
}
