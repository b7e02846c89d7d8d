package io.meshguard.contract.zone;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Message;
import com.google.protobuf.Timestamp;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.contract.zone.v1.ZoneSyncGrpc;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;

/**
 * The zone stream's name, wire version and gRPC method, defined once for both ends. Both ends read and write the
 * generated messages of {@code meshguard/zone/v1/zone.proto} ({@link ZoneProto}) directly.
 */
public final class ZoneWire {
    private ZoneWire() {}

    /** Major version of the messages; a peer speaking another major version is refused with its reason. */
    public static final int VERSION = 1;

    /** The gRPC service and method of the stream. */
    public static final String SERVICE = "meshguard.zone.v1.ZoneSync";

    public static final String METHOD = "Follow";

    /**
     * {@code ZoneSync/Follow} from the generated service, with readers bounded to {@code maxMessageBytes}. A message
     * that is not a valid {@code ZoneUp}/{@code ZoneDown}, or is larger, fails with {@code INVALID_ARGUMENT} naming the
     * message type. Fields the reader does not know are kept as unknown fields and otherwise ignored: that is how
     * protobuf messages evolve (zone.proto says what a new field may and may not change).
     */
    public static MethodDescriptor<ZoneProto.ZoneUp, ZoneProto.ZoneDown> follow(int maxMessageBytes) {
        return ZoneSyncGrpc.getFollowMethod().toBuilder(
                        new Marshaller<ZoneProto.ZoneUp>("ZoneUp", maxMessageBytes) {
                            @Override
                            ZoneProto.ZoneUp read(CodedInputStream in) throws IOException {
                                return ZoneProto.ZoneUp.parseFrom(in);
                            }
                        },
                        new Marshaller<ZoneProto.ZoneDown>("ZoneDown", maxMessageBytes) {
                            @Override
                            ZoneProto.ZoneDown read(CodedInputStream in) throws IOException {
                                return ZoneProto.ZoneDown.parseFrom(in);
                            }
                        })
                .build();
    }

    /** A message to central, its version set: the caller sets its one part. */
    public static ZoneProto.ZoneUp.Builder up() {
        return ZoneProto.ZoneUp.newBuilder().setVersion(VERSION);
    }

    /** A message to a zone, its version set: the caller sets its one part. */
    public static ZoneProto.ZoneDown.Builder down() {
        return ZoneProto.ZoneDown.newBuilder().setVersion(VERSION);
    }

    public static Timestamp timestamp(Instant t) {
        return Timestamp.newBuilder()
                .setSeconds(t.getEpochSecond())
                .setNanos(t.getNano())
                .build();
    }

    public static Instant instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }

    private abstract static class Marshaller<T extends Message> implements MethodDescriptor.Marshaller<T> {
        private final String type;
        private final int maxMessageBytes;

        Marshaller(String type, int maxMessageBytes) {
            this.type = type;
            this.maxMessageBytes = maxMessageBytes;
        }

        abstract T read(CodedInputStream in) throws IOException;

        @Override
        public InputStream stream(T value) {
            return value.toByteString().newInput();
        }

        @Override
        public T parse(InputStream stream) {
            try {
                CodedInputStream in = CodedInputStream.newInstance(stream);
                in.setSizeLimit(maxMessageBytes);
                return read(in);
            } catch (IOException e) {
                // InvalidProtocolBufferException: bad bytes, or over the size limit
                throw Status.INVALID_ARGUMENT
                        .withDescription("not a " + type + ": " + e.getMessage())
                        .withCause(e)
                        .asRuntimeException();
            }
        }
    }
}
