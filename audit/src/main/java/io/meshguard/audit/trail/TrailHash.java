package io.meshguard.audit.trail;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

/**
 * The canonical form of a trail row and its SHA-256. The form is unambiguous by construction: every field is written
 * as a 4-byte big-endian length and its UTF-8 bytes, in a fixed order (seq, occurred_at as ISO-8601 UTC with
 * microseconds, actor, auth_method, tenant, role_used, source_address, request_id, action, target, outcome,
 * before_digest, after_digest, then each detail key and value in key order, then the previous row's hash). An absent
 * optional field is length -1, so it differs from an empty one.
 */
public final class TrailHash {
    /** The hash before the first row. */
    public static final String GENESIS = "0".repeat(64);

    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(java.time.ZoneOffset.UTC);

    private TrailHash() {}

    /** The hash of row {@code seq} holding {@code e}, chained to {@code prevHash}. */
    public static String of(long seq, AdminTrailEntry e, String prevHash) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException("SHA-256 is part of every JDK", ex);
        }
        field(sha, Optional.of(Long.toString(seq)));
        field(sha, Optional.of(TIME.format(e.occurredAt())));
        field(sha, Optional.of(e.actor()));
        field(sha, Optional.of(e.authMethod()));
        field(sha, e.tenant());
        field(sha, e.roleUsed());
        field(sha, e.sourceAddress());
        field(sha, e.requestId());
        field(sha, Optional.of(e.action()));
        field(sha, Optional.of(e.target()));
        field(sha, Optional.of(e.outcome()));
        field(sha, e.beforeDigest());
        field(sha, e.afterDigest());
        field(sha, Optional.of(Integer.toString(e.details().size())));
        for (Map.Entry<String, String> d : e.details().entrySet()) {
            field(sha, Optional.of(d.getKey()));
            field(sha, Optional.of(d.getValue()));
        }
        field(sha, Optional.of(prevHash));
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void field(MessageDigest sha, Optional<String> value) {
        if (value.isEmpty()) {
            sha.update(ByteBuffer.allocate(4).putInt(-1).array());
            return;
        }
        byte[] bytes = value.get().getBytes(StandardCharsets.UTF_8);
        sha.update(ByteBuffer.allocate(4).putInt(bytes.length).array());
        sha.update(bytes);
    }
}
