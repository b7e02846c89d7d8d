package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.meshguard.testing.SlowTest;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/** The strict-turn bridge that runs pull decoders (brotli, zstd) push-style, tested with java.util.zip's own. */
@SlowTest
class PullDecoderTest {
    /** Records every piece handed over; optionally refuses once a total is exceeded (like the size limit). */
    private static final class Pieces implements BodyTransformer.Forwarding {
        final List<Integer> sizes = new ArrayList<>();
        final ByteArrayOutputStream all = new ByteArrayOutputStream();
        final long limit;

        Pieces(long limit) {
            this.limit = limit;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            sizes.add(len);
            all.write(b, off, len);
            if (all.size() > limit) {
                throw new IllegalStateException("over the limit");
            }
        }
    }

    private static byte[] gzip(byte[] plain) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(out)) {
            g.write(plain);
        }
        return out.toByteArray();
    }

    private static PullDecoder gunzip() {
        return new PullDecoder("gzip-test", GZIPInputStream::new, PullDecoder.InputFilter.NONE);
    }

    @Test
    void anyChunking_givesTheSameBytes_inPiecesOfAtMost64KiB() throws Exception {
        byte[] plain = new byte[300_000];
        new Random(7).nextBytes(plain);
        Arrays.fill(plain, 100_000, 250_000, (byte) 'a'); // compresses well: one input byte, many output bytes
        byte[] z = gzip(plain);
        for (int chunk : new int[] {1, 13, 4096, z.length}) {
            Pieces sink = new Pieces(Long.MAX_VALUE);
            try (PullDecoder d = gunzip()) {
                for (int i = 0; i < z.length; i += chunk) {
                    d.decode(z, i, Math.min(chunk, z.length - i), sink);
                }
                d.finish(sink);
            }
            assertThat(sink.all.toByteArray()).as("chunk %d", chunk).isEqualTo(plain);
            assertThat(sink.sizes).allMatch(n -> n > 0 && n <= ContentDecoder.PIECE);
        }
        await().untilAsserted(() -> assertThat(PullDecoder.live()).isZero());
    }

    @Test
    void sinkRefusingAPiece_stopsDecoding_andCloseEndsTheThread() throws Exception {
        byte[] z = gzip(new byte[10 * 1024 * 1024]); // ~10 KB that decode to 10 MiB
        Pieces sink = new Pieces(100_000);
        PullDecoder d = gunzip();
        assertThatThrownBy(() -> d.decode(z, 0, z.length, sink)).isInstanceOf(IllegalStateException.class);
        // Stopped right after the limit: at most one piece beyond it was ever decoded.
        assertThat(sink.all.size()).isLessThanOrEqualTo(100_000 + ContentDecoder.PIECE);
        d.close();
        await().untilAsserted(() -> assertThat(PullDecoder.live()).isZero());
    }

    @Test
    void decoderThatCannotLoad_failsTheBodyClosed_insteadOfHanging() {
        PullDecoder d = new PullDecoder(
                "broken",
                in -> {
                    throw new NoClassDefFoundError("io/example/Missing");
                },
                PullDecoder.InputFilter.NONE);
        assertThatThrownBy(() -> d.decode(new byte[] {1, 2, 3}, 0, 3, new Pieces(Long.MAX_VALUE)))
                .isInstanceOf(ContentDecoder.CorruptBodyException.class)
                .hasMessageContaining("Missing");
        d.close();
    }

    @Test
    void truncatedStream_isCorrupt_atTheEnd() throws Exception {
        byte[] z = gzip("some text that is long enough to matter".getBytes());
        try (PullDecoder d = gunzip()) {
            Pieces sink = new Pieces(Long.MAX_VALUE);
            d.decode(z, 0, z.length - 4, sink);
            assertThatThrownBy(() -> d.finish(sink)).isInstanceOf(ContentDecoder.CorruptBodyException.class);
        }
    }
}
