package io.meshguard.dlp.content;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.scan.ActionKind;
import io.meshguard.testing.SlowTest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The containers and decoders a label selects (multipart, binary sniffing, charsets, gRPC frames) give the same
 * output and findings however the body is split: at every single split point, and in one-byte chunks. A delimiter,
 * a UTF-16 code unit, a frame prefix or a card number cut between two messages must not change what is found.
 */
@SlowTest
class ContainerChunkInvarianceTest {
    private static final String CARD = "4111 1111 1111 1111";

    private interface Make {
        BodyTransformer make(ByteSink out, List<String> findings);
    }

    private record Run(byte[] out, List<String> findings, boolean blocked) {}

    private static Run run(Make m, byte[] in, int[] cuts) {
        ByteSink out = new ByteSink();
        List<String> findings = new ArrayList<>();
        BodyTransformer t = m.make(out, findings);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        int at = 0;
        for (int cut : cuts) {
            t.write(in, at, cut - at);
            all.writeBytes(out.drain());
            at = cut;
        }
        t.write(in, at, in.length - at);
        t.finish();
        all.writeBytes(out.drain());
        return new Run(all.toByteArray(), findings, t.blockedBy().isPresent());
    }

    private static void assertChunkInvariant(Make m, byte[] in, String mustNotLeak) {
        Run whole = run(m, in, new int[0]);
        assertThat(new String(whole.out(), StandardCharsets.ISO_8859_1)).doesNotContain(mustNotLeak);
        assertThat(whole.findings()).isNotEmpty();
        for (int split = 1; split < in.length; split++) {
            Run r = run(m, in, new int[] {split});
            assertThat(r.out()).as("split at %d", split).isEqualTo(whole.out());
            assertThat(r.findings()).as("split at %d", split).isEqualTo(whole.findings());
        }
        int[] bytes = new int[in.length - 1];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = i + 1;
        }
        Run r = run(m, in, bytes);
        assertThat(r.out()).as("one-byte chunks").isEqualTo(whole.out());
        assertThat(r.findings()).as("one-byte chunks").isEqualTo(whole.findings());
    }

    private static PartRules parts(ByteSink out, List<String> findings) {
        return new PartRules(
                Bodies.rules(ActionKind.MASK),
                Bodies.HASHER,
                out,
                (f, location) -> findings.add(f.detector() + "@" + location),
                false,
                true,
                Unscanned.IGNORE);
    }

    @Test
    void multipart_everySplit_sameOutputAndFindings() {
        String body = "preamble\r\n--sep\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\npay " + CARD
                + "\r\n--sep\r\nContent-Type: application/json\r\n\r\n{\"c\":\"" + CARD + "\"}"
                + "\r\n--sep\nContent-Type: multipart/mixed; boundary=in\n\n--in\r\n\r\n" + CARD + "\r\n--in--"
                + "\r\n--sep\r\nContent-Type: application/octet-stream\r\n\r\n\u0000\u0001" + CARD
                + "\r\n--sep--\r\nepilogue";
        assertChunkInvariant(
                (out, f) -> new MultipartTransformer("sep", parts(out, f), 0),
                body.getBytes(StandardCharsets.ISO_8859_1),
                "pay " + CARD);
    }

    @Test
    void textOrBinary_everySplit_sameOutputAndFindings() {
        byte[] in = ("  {\"note\": \"caf\u00e9 " + CARD + "\"} and then \u0000 binary " + CARD)
                .getBytes(StandardCharsets.UTF_8);
        assertChunkInvariant(
                (out, f) -> new TextOrBinaryTransformer(
                        Bodies.rules(ActionKind.MASK),
                        Bodies.HASHER,
                        out,
                        (x, l) -> f.add(x.detector() + "@" + l),
                        "body",
                        false,
                        Unscanned.IGNORE),
                in,
                "\"caf\u00e9 " + CARD);
    }

    @Test
    void utf16_everySplit_sameOutputAndFindings() {
        byte[] in = ("{\"a\": \"\uD83D\uDE00 pay " + CARD + "\"}").getBytes(StandardCharsets.UTF_16LE);
        assertChunkInvariant(
                (out, f) -> new TranscodingTransformer(
                        StandardCharsets.UTF_16LE,
                        new JsonTransformer(
                                Bodies.rules(ActionKind.MASK),
                                Bodies.HASHER,
                                out,
                                (x, l) -> f.add(x.detector() + "@" + l))),
                in,
                CARD);
    }

    @Test
    void undeclaredUtf16Json_everySplit_sameOutputAndFindings() {
        byte[] in = ("\uFEFF{\"a\": \"\uD83D\uDE00 pay " + CARD + "\"}").getBytes(StandardCharsets.UTF_16BE);
        assertChunkInvariant(
                (out, f) -> new JsonEncodingSniff(
                        sink -> new JsonTransformer(
                                Bodies.rules(ActionKind.MASK),
                                Bodies.HASHER,
                                sink,
                                (x, l) -> f.add(x.detector() + "@" + l)),
                        out),
                in,
                new String(CARD.getBytes(StandardCharsets.UTF_16BE), StandardCharsets.ISO_8859_1));
    }

    @Test
    void grpcFrames_everySplit_sameOutputAndFindings() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (String m : List.of("\n\u0013" + CARD, "", "\n\u0002ok", "\n\u0013" + CARD)) {
            byte[] msg = m.getBytes(StandardCharsets.UTF_8);
            b.write(0);
            b.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(msg.length).array());
            b.writeBytes(msg);
        }
        assertChunkInvariant((out, f) -> new GrpcFramesTransformer(parts(out, f)), b.toByteArray(), CARD);
    }
}
