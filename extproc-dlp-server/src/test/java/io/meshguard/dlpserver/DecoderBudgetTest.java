package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.meshguard.testing.IntegrationTest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * br and zstd decoders may each hold megabytes of window, chosen by the sender: past the server's bound a body is
 * handled as undecodable (the profile's unknown_encoding, block here), and the bound frees up when a stream ends.
 */
@IntegrationTest
class DecoderBudgetTest {
    private ServerFixture fx;

    @BeforeEach
    void start() throws Exception {
        fx = new ServerFixture(new DecoderBudget(1));
    }

    @AfterEach
    void stop() throws Exception {
        fx.close();
    }

    private EnvoyStream compressedRequest(String coding) {
        EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.NONE);
        s.requestHeaders(
                false, ":method", "POST", ":path", "/x", "content-type", "text/plain", "content-encoding", coding);
        return s;
    }

    private double limited() {
        var c = fx.meters
                .find("meshguard_dlp_decoder_limit_total")
                .tag("direction", "request")
                .counter();
        return c == null ? 0 : c.count();
    }

    private static byte[] gzip(String text) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(out)) {
            z.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return out.toByteArray();
    }

    @Test
    void finishedCompressedRequest_givesItsDecoderBack_whileItsResponseStillStreams() throws Exception {
        try (EnvoyStream first =
                new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.FULL_DUPLEX_STREAMED)) {
            first.requestHeaders(
                    false, ":method", "POST", ":path", "/x", "content-type", "text/plain", "content-encoding", "zstd");
            first.next();
            first.requestBody(CompressedBodiesTest.zstd("hello".getBytes(StandardCharsets.UTF_8)), true);
            assertThat(first.next()
                            .getRequestBody()
                            .getResponse()
                            .getBodyMutation()
                            .getBody()
                            .toStringUtf8())
                    .isEqualTo("hello");
            first.responseHeaders(false, ":status", "200", "content-type", "text/event-stream");
            first.next(); // the response of the first exchange is still streaming

            try (EnvoyStream second = compressedRequest("br")) {
                assertThat(second.next().hasRequestHeaders())
                        .as("the only decoder is free again")
                        .isTrue();
            }
        }
        assertThat(limited()).isZero();
    }

    @Test
    void largeWindowDecodersPastTheBound_areRefused_untilOneIsFreed() throws Exception {
        EnvoyStream holder = compressedRequest("br");
        assertThat(holder.next().hasRequestHeaders())
                .as("the first br body gets the only decoder")
                .isTrue();

        try (EnvoyStream second = compressedRequest("zstd")) {
            ProcessingResponse r = second.next();
            assertThat(r.hasImmediateResponse())
                    .as("no decoder left: refused, not passed undecoded")
                    .isTrue();
            assertThat(r.getImmediateResponse().getBody().toStringUtf8()).contains("decoder_limit");
        }
        assertThat(limited()).isEqualTo(1);

        // gzip needs 32 KiB, not a large window: never bounded
        try (EnvoyStream gz = compressedRequest("gzip")) {
            assertThat(gz.next().hasRequestHeaders()).isTrue();
            gz.requestBody(gzip("card 4111 1111 1111 1111"), true);
            assertThat(gz.next()
                            .getRequestBody()
                            .getResponse()
                            .getBodyMutation()
                            .getBody()
                            .toStringUtf8())
                    .isEqualTo("card **** **** **** 1111");
        }

        holder.close(); // the stream ends: its decoder goes back
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            try (EnvoyStream again = compressedRequest("zstd")) {
                assertThat(again.next().hasRequestHeaders()).isTrue();
            }
        });
        assertThat(limited()).isGreaterThanOrEqualTo(1);
    }
}
