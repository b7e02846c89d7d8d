package io.meshguard.runtime.grpc;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * Leaves a gRPC message as its bytes: for a request parsed where a failure can be contained (the access-log
 * receiver), or a message encoded by someone else (the OTLP exporter).
 */
public final class RawBytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    /** Stateless: one instance serves every method. */
    public static final RawBytesMarshaller INSTANCE = new RawBytesMarshaller();

    private RawBytesMarshaller() {}

    @Override
    public InputStream stream(byte[] value) {
        return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
        try {
            return stream.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
