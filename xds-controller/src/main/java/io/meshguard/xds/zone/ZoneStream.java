package io.meshguard.xds.zone;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.meshguard.contract.zone.ZoneWire;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.contract.zone.v1.ZoneSyncGrpc;

/**
 * The zone stream as a gRPC method: one bidirectional stream per zone, the messages of
 * {@code meshguard/zone/v1/zone.proto}. Unknown fields are ignored so a newer peer's additions do not break an older
 * one; the envelope's version says when they would.
 */
public final class ZoneStream {
    private ZoneStream() {}

    /** A message larger than this is refused by the reader (a group's configuration slice is far smaller). */
    static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    /** How {@link ZoneStreams} stores what an echo reported (not the wire: that is protobuf). */
    static final ObjectMapper JSON = JsonMapper.builder()
            .addModule(new Jdk8Module())
            .addModule(new JavaTimeModule())
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .build();

    /** A message that is not a valid ZoneUp/ZoneDown or exceeds {@link #MAX_MESSAGE_BYTES} fails to parse. */
    public static final MethodDescriptor<ZoneProto.ZoneUp, ZoneProto.ZoneDown> FOLLOW =
            ZoneWire.follow(MAX_MESSAGE_BYTES);

    /** The service with the generated schema, so server reflection lists it like any other gRPC API. */
    static final ServiceDescriptor SERVICE = ServiceDescriptor.newBuilder(ZoneSyncGrpc.SERVICE_NAME)
            .setSchemaDescriptor(ZoneSyncGrpc.getServiceDescriptor().getSchemaDescriptor())
            .addMethod(FOLLOW)
            .build();
}
