package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;

/** The client's body as the connection manager holds it (conn_manager_impl.cc watermarks, watermark_buffer.cc). */
class DownstreamBodyTest {
    private static List<byte[]> chunks(int n, int size) {
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            byte[] b = new byte[size];
            java.util.Arrays.fill(b, (byte) ('a' + i % 26));
            out.add(b);
        }
        return out;
    }

    @Test
    void fastClient_isReadUpToTheBufferLimit_thenPaused_untilTheHeldBytesDrainBelowHalf() throws Exception {
        DownstreamBody body = new DownstreamBody(chunks(40, 1024), 8 * 1024);

        DownstreamBody.Held held = body.settled();
        // the chunk that crosses the limit is still read (Envoy reads, then the watermark fires); then no more
        assertThat(held.bytesReceived()).isEqualTo(9 * 1024);
        assertThat(held.bytesHeld()).isEqualTo(9 * 1024);
        assertThat(held.readPauses()).isEqualTo(1);

        for (int i = 0; i < 5; i++) {
            body.next();
        }
        assertThat(body.held().bytesReceived())
                .as("4 KiB held, not below the low watermark: still not read")
                .isEqualTo(9 * 1024);
        body.next(); // 3 KiB held: below half the limit, reading resumes
        assertThat(body.settled().bytesReceived()).isGreaterThan(9 * 1024);
    }

    @Test
    void everyChunk_comesOutOnce_inTheClientsOrder() throws Exception {
        List<byte[]> sent = chunks(100, 700);
        DownstreamBody body = new DownstreamBody(sent, 4 * 1024);
        // a consumer that keeps up never pauses the reader; let it hit the watermark once so the order is tested
        // across a pause whichever thread runs first
        assertThat(body.settled().readPauses()).isEqualTo(1);

        List<byte[]> got = new ArrayList<>();
        for (byte[] c = body.next(); c != null; c = body.next()) {
            got.add(c);
        }
        assertThat(got).containsExactlyElementsOf(sent);
        assertThat(body.held().readPauses()).isPositive();
    }

    @Test
    void abandonedBody_stopsReadingTheClient() throws Exception {
        DownstreamBody body = new DownstreamBody(chunks(40, 1024), 2 * 1024);
        long read = body.settled().bytesReceived();

        body.abandon();

        assertThat(body.held().bytesReceived()).isEqualTo(read).isLessThan(40 * 1024);
    }

    @Test
    void settled_returnsWhenTheReaderPauses_whicheverThreadGetsThereFirst() {
        // settled() called while the reader is still filling the buffer must be woken by the pause itself
        Assertions.assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; i < 2_000; i++) {
                DownstreamBody body = new DownstreamBody(chunks(12, 1024), 4 * 1024);
                assertThat(body.settled().readPauses()).isEqualTo(1);
                body.abandon();
            }
        });
    }
}
