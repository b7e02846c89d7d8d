package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.meshguard.dlp.policy.Direction;
import io.meshguard.dlp.scan.ValueHasher;
import io.meshguard.testing.IntegrationTest;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * Body chunks off the wire are read through a buffer each direction reuses, and answers wrap the decided bytes
 * instead of copying them. Streamed through the real server at random chunk sizes (growing and shrinking, so the
 * reused buffer holds stale bytes past every chunk), every body must come out exactly as {@link BodyScan} decides it
 * from fresh arrays, with the same findings.
 */
@IntegrationTest
class WireChunkEquivalenceTest {
    private static final String[] PII = {
        "4111 1111 1111 1111", "4012888888881881", "960121-1021413", "kim@bank.co.kr", "5500-0000-0000-0004"
    };

    @AutoClose
    private static final ServerFixture fx = ServerFixture.started();

    private static String sse(Random r) {
        StringBuilder sb = new StringBuilder();
        String text = "";
        for (int e = 0; e < 30 + r.nextInt(40); e++) {
            if (text.isEmpty()) {
                text = r.nextInt(4) == 0 ? " " + PII[r.nextInt(PII.length)] + " " : " token" + e;
            }
            int take = Math.min(text.length(), 1 + r.nextInt(5));
            sb.append("id: ")
                    .append(e)
                    .append("\ndata: {\"id\":\"chatcmpl-1\",\"choices\":[{\"index\":0,")
                    .append("\"delta\":{\"content\":\"")
                    .append(text, 0, take)
                    .append("\"}}]}\n\n");
            text = text.substring(take);
        }
        return sb.append("data: [DONE]\n\n").toString();
    }

    private static String plain(Random r) {
        StringBuilder sb = new StringBuilder();
        for (int w = 0; w < 200 + r.nextInt(200); w++) {
            sb.append(r.nextInt(15) == 0 ? PII[r.nextInt(PII.length)] : "word" + r.nextInt(100))
                    .append(' ');
        }
        return sb.toString();
    }

    /** What the server sends on for one response body in FULL_DUPLEX_STREAMED, fed at random chunk sizes. */
    private static byte[] throughServer(String path, String contentType, byte[] body, Random r) throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.NONE, BodySendMode.FULL_DUPLEX_STREAMED)) {
            s.requestLine(true, "POST", path, "llm");
            s.next();
            s.responseHeaders(false, ":status", "200", "content-type", contentType);
            s.next();
            int at = 0;
            while (at < body.length) {
                int n = Math.min(body.length - at, 1 + r.nextInt(r.nextInt(4) == 0 ? 16 : 900));
                s.responseBody(java.util.Arrays.copyOfRange(body, at, at + n), at + n == body.length);
                at += n;
            }
            return EnvoyStream.responseBytes(s.untilResponseEnd());
        }
    }

    private static byte[] byBodyScan(String path, String contentType, byte[] body, List<String> findings) {
        BodyScan scan = BodyScan.open(
                fx.server.policy().get(),
                Direction.RESPONSE,
                "llm",
                path,
                contentType,
                "",
                ValueHasher.forTenant("0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8), ""),
                (f, location) -> findings.add(f.detector() + "@" + location));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(scan.write(body));
        out.writeBytes(scan.finish());
        return out.toByteArray();
    }

    @Test
    void responseBodiesAtRandomChunkSizes_comeOutAsBodyScanDecidesThem() throws Exception {
        Random r = new Random(42);
        int changed = 0;
        for (int round = 0; round < 24; round++) {
            boolean events = round % 2 == 0;
            String path = events ? "/v1/chat/completions" : "/plain";
            String contentType = events ? "text/event-stream" : "text/plain";
            byte[] body = (events ? sse(r) : plain(r)).getBytes(StandardCharsets.UTF_8);
            List<String> expectedFindings = new ArrayList<>();
            byte[] expected = byBodyScan(path, contentType, body, expectedFindings);
            fx.findings.clear();
            byte[] actual = throughServer(path, contentType, body, r);
            assertThat(new String(actual, StandardCharsets.UTF_8))
                    .as("round %d (%s)", round, contentType)
                    .isEqualTo(new String(expected, StandardCharsets.UTF_8));
            List<String> serverFindings = fx.findings.stream()
                    .map(f -> f.detector() + "@" + f.location())
                    .toList();
            assertThat(serverFindings).as("round %d findings", round).isEqualTo(expectedFindings);
            if (!java.util.Arrays.equals(actual, body)) {
                changed++;
            }
        }
        assertThat(changed).as("bodies the policy rewrote").isGreaterThan(12);
    }
}
