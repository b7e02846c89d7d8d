package io.meshguard.xds.zone;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.grpc.MethodDescriptor;
import io.meshguard.contract.zone.ZoneDown;
import io.meshguard.contract.zone.ZoneUp;
import io.meshguard.contract.zone.ZoneWire;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The zone stream as a gRPC method: one bidirectional stream per zone, JSON messages. Unknown fields are ignored so
 * a newer peer's additions do not break an older one; the envelope's version says when they would.
 */
public final class ZoneStream {
    private ZoneStream() {}

    /** A message larger than this is refused by the reader (a group's configuration slice is far smaller). */
    static final int MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    static final ObjectMapper JSON = JsonMapper.builder()
            .addModule(new Jdk8Module())
            .addModule(new JavaTimeModule())
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .build();

    public static final MethodDescriptor<ZoneUp, ZoneDown> FOLLOW = MethodDescriptor.<ZoneUp, ZoneDown>newBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .setFullMethodName(MethodDescriptor.generateFullMethodName(ZoneWire.SERVICE, ZoneWire.METHOD))
            .setRequestMarshaller(new Json<>(ZoneUp.class))
            .setResponseMarshaller(new Json<>(ZoneDown.class))
            .build();

    private record Json<T>(Class<T> type) implements MethodDescriptor.Marshaller<T> {
        @Override
        public InputStream stream(T value) {
            try {
                return new ByteArrayInputStream(JSON.writeValueAsBytes(value));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public T parse(InputStream stream) {
            try {
                return JSON.readValue(stream, type);
            } catch (IOException e) {
                throw new IllegalArgumentException("not a " + type.getSimpleName() + ": " + e.getMessage(), e);
            }
        }
    }
}
