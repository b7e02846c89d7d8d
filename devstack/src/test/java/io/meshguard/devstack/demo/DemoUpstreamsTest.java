package io.meshguard.devstack.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.cli.CliRun;
import io.meshguard.devstack.DevCliRun;
import io.meshguard.testing.IntegrationTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the demo's upstreams send, as the DLP profile the demo's chat route names masks it. */
@IntegrationTest
class DemoUpstreamsTest {
    @TempDir
    Path tmp;

    @Test
    void theChatAnswersCardSplitAcrossEvents_isMaskedKeepingItsFourGroups() throws Exception {
        String stream;
        try (DemoGateway.Upstreams upstreams = DemoGateway.Upstreams.start()) {
            stream = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                            + upstreams.llm().port() + "/chat/completions"))
                                    .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":true}"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString())
                    .body();
        }
        Path file = Files.writeString(tmp.resolve("answer.sse"), stream);
        CliRun scan = DevCliRun.of(
                "dlp",
                "scan",
                "--policy",
                io.meshguard.testing.FixturePolicies.file("dlp.yaml").toString(),
                "--content-type",
                "text/event-stream",
                file.toString());
        assertThat(scan.exit()).as(scan.err()).isZero();
        assertThat(Sse.content(Sse.events(scan.out())))
                .isEqualTo("Your card is **** **** **** " + DemoGateway.CARD.substring(12) + ", thanks.");
    }
}
