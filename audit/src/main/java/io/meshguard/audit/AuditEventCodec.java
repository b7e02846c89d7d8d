package io.meshguard.audit;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/**
 * The binary form of an event inside a spool record. Versioned by its first byte so a spool written by an older
 * release still replays after an upgrade. Integrity is not this class's job: the spool's per-record CRC is.
 */
public final class AuditEventCodec {
    private static final byte VERSION_1 = 1;

    private AuditEventCodec() {}

    /** Encodes one event. */
    public static byte[] encode(AuditEvent e) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION_1);
            out.writeLong(e.eventId().getMostSignificantBits());
            out.writeLong(e.eventId().getLeastSignificantBits());
            out.writeLong(e.occurredAt().getEpochSecond());
            out.writeInt(e.occurredAt().getNano());
            writeString(out, e.kind().dbName());
            writeOptional(out, e.requestId().orElse(null));
            writeOptional(out, e.traceId().orElse(null));
            writeOptional(out, e.tenant().orElse(null));
            writeOptional(out, e.subject().orElse(null));
            writeOptional(out, e.clientId().orElse(null));
            writeOptional(out, e.source().orElse(null));
            writeOptional(out, e.callerType().orElse(null));
            writeOptional(out, e.method().orElse(null));
            writeOptional(out, e.authority().orElse(null));
            writeOptional(out, e.path().orElse(null));
            writeOptional(out, e.route().orElse(null));
            out.writeBoolean(e.status().isPresent());
            out.writeInt(e.status().orElse(0));
            writeOptional(out, e.decision().orElse(null));
            writeOptional(out, e.reason().orElse(null));
            writeOptionalLong(out, e.latencyUs().isPresent(), e.latencyUs().orElse(0));
            writeOptionalLong(
                    out, e.requestBytes().isPresent(), e.requestBytes().orElse(0));
            writeOptionalLong(
                    out, e.responseBytes().isPresent(), e.responseBytes().orElse(0));
            out.writeBoolean(e.isStream());
            writeString(out, e.detailsJson());
        } catch (IOException impossible) {
            throw new UncheckedIOException(impossible);
        }
        return bytes.toByteArray();
    }

    /**
     * Decodes one event.
     *
     * @throws IllegalArgumentException when the bytes are not an event this release can read
     */
    public static AuditEvent decode(byte[] data) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            byte version = in.readByte();
            if (version != VERSION_1) {
                throw new IllegalArgumentException("unknown audit event encoding version " + version);
            }
            UUID id = new UUID(in.readLong(), in.readLong());
            Instant at = Instant.ofEpochSecond(in.readLong(), in.readInt());
            String kindName = readString(in);
            AuditKind kind = AuditKind.parse(kindName)
                    .orElseThrow(() -> new IllegalArgumentException("unknown audit kind " + kindName));
            AuditEvent.Builder b = AuditEvent.builder(kind)
                    .eventId(id)
                    .occurredAt(at)
                    .requestId(readOptional(in))
                    .traceId(readOptional(in))
                    .tenant(readOptional(in))
                    .subject(readOptional(in))
                    .clientId(readOptional(in))
                    .source(readOptional(in))
                    .callerType(readOptional(in))
                    .method(readOptional(in))
                    .authority(readOptional(in))
                    .path(readOptional(in))
                    .route(readOptional(in));
            boolean hasStatus = in.readBoolean();
            int status = in.readInt();
            if (hasStatus) {
                b.status(status);
            }
            b.decision(readOptional(in)).reason(readOptional(in));
            if (in.readBoolean()) {
                b.latencyUs(in.readLong());
            } else {
                in.readLong();
            }
            if (in.readBoolean()) {
                b.requestBytes(in.readLong());
            } else {
                in.readLong();
            }
            if (in.readBoolean()) {
                b.responseBytes(in.readLong());
            } else {
                in.readLong();
            }
            b.stream(in.readBoolean());
            b.trustedDetailsJson(readString(in));
            if (in.available() != 0) {
                throw new IllegalArgumentException("trailing bytes after an audit event");
            }
            return b.build();
        } catch (IOException e) {
            throw new IllegalArgumentException("truncated audit event: " + e, e);
        }
    }

    private static void writeOptionalLong(DataOutputStream out, boolean present, long value) throws IOException {
        out.writeBoolean(present);
        out.writeLong(value);
    }

    private static void writeOptional(DataOutputStream out, String s) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) {
            writeString(out, s);
        }
    }

    private static void writeString(DataOutputStream out, String s) throws IOException {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static String readOptional(DataInputStream in) throws IOException {
        return in.readBoolean() ? readString(in) : null;
    }

    private static String readString(DataInputStream in) throws IOException {
        int len = in.readInt();
        if (len < 0 || len > in.available()) {
            throw new IOException("string length " + len + " exceeds the record");
        }
        byte[] utf8 = in.readNBytes(len);
        return new String(utf8, StandardCharsets.UTF_8);
    }
}
