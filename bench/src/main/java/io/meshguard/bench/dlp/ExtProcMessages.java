package io.meshguard.bench.dlp;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;
import java.nio.charset.StandardCharsets;

/** The ext_proc messages the DLP benchmarks send, as Envoy sends them. */
final class ExtProcMessages {
    private ExtProcMessages() {}

    static HeaderValue hv(String key, String value) {
        return HeaderValue.newBuilder()
                .setKey(key)
                .setRawValue(ByteString.copyFrom(value, StandardCharsets.UTF_8))
                .build();
    }

    /**
     * A stream's first message: a request without a body (its headers end it), the response's body to come
     * FULL_DUPLEX_STREAMED, as Envoy opens an LLM answer's stream.
     */
    static ProcessingRequest bodilessRequestDuplexResponse(HeaderMap.Builder requestHeaders) {
        return ProcessingRequest.newBuilder()
                .setProtocolConfig(ProtocolConfiguration.newBuilder()
                        .setRequestBodyMode(BodySendMode.NONE)
                        .setResponseBodyMode(BodySendMode.FULL_DUPLEX_STREAMED))
                .setRequestHeaders(HttpHeaders.newBuilder().setEndOfStream(true).setHeaders(requestHeaders))
                .build();
    }

    /** A 200 answer's headers of {@code contentType} (an LLM's streamed answer: {@code text/event-stream}). */
    static ProcessingRequest okResponseHeaders(String contentType) {
        return ProcessingRequest.newBuilder()
                .setResponseHeaders(HttpHeaders.newBuilder()
                        .setHeaders(HeaderMap.newBuilder()
                                .addHeaders(hv(":status", "200"))
                                .addHeaders(hv("content-type", contentType))))
                .build();
    }
}
