package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Metadata;
import io.meshguard.testing.IntegrationTest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DLP chooses its profile on the canonical path extauthz authorises (contract {@code CanonicalPath}), not on the raw
 * {@code :path}: every spelling of the chat route gets the chat route's profile (the fixture's {@code llm} profile
 * blocks a card in a request; the default profile only masks it), and a path extauthz refuses is refused here too.
 * The path fallback matters where no gateway route hands the profile over (workload sidecars).
 */
@IntegrationTest
class ProfileByCanonicalPathTest {
    @AutoClose
    private static final ServerFixture fx = ServerFixture.started();

    private static ProcessingResponse sendCard(String path, Metadata initial) throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.NONE, initial)) {
            s.requestLine(false, "POST", path, "llm", "content-type", "text/plain", "x-request-id", "cp-1");
            ProcessingResponse headers = s.next();
            if (headers.hasImmediateResponse()) {
                return headers;
            }
            s.requestBody("pay with 4111 1111 1111 1111".getBytes(StandardCharsets.UTF_8), true);
            return s.next();
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "/v1/chat/completions", // as written in the profile
                "/v1/chat/%63ompletions", // percent-encoded unreserved letter
                "/v1/chat/%63%6F%6D%70letions", // several escapes, upper-case hex
                "/%76%31/chat/completions", // escape in the first segment
                "/v1/chat/completions;jsessionid=1", // path parameters (extauthz strips them per route)
                "/v1;x=1/chat/completions", // parameters in an earlier segment
                "/V1/Chat/Completions", // case: an upstream that routes case-insensitively
                "/v1/CHAT/completions?stream=true", // case plus a query
                "/v1/chat/completions?x=/other", // a query holding a slash
            })
    void spellingOfTheChatRoute_getsTheChatProfile_blocks(String path) throws Exception {
        ProcessingResponse r = sendCard(path, new Metadata());
        assertThat(r.hasImmediateResponse())
                .as("the llm profile blocks a card in %s", path)
                .isTrue();
        assertThat(r.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(451);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "//v1/chat/completions", // empty segment: merged by some upstreams, not by others
                "/v1//chat/completions",
                "/v1/./chat/completions", // dot segments in every spelling
                "/x/../v1/chat/completions",
                "/v1/%2e/chat/completions",
                "/x/%2E%2e/v1/chat/completions",
                "/x/..;a/v1/chat/completions", // Tomcat's ..;
                "/v1/chat%2Fcompletions", // encoded separator
                "/v1/chat/%2563ompletions", // double encoding
                "/v1\\chat/completions", // backslash
                "/v1/chat/completions%00", // control byte
                "/v1/chat/%EF%BD%83ompletions", // fullwidth c (not NFKC)
                "v1/chat/completions", // not origin-form
            })
    void pathExtauthzRefuses_isRefused400_neverScannedWithAWeakerProfile(String path) throws Exception {
        ProcessingResponse r = sendCard(path, new Metadata());
        assertThat(r.hasImmediateResponse())
                .as("%s is refused at its headers", path)
                .isTrue();
        assertThat(r.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(400);
        assertThat(r.getImmediateResponse().getBody().toStringUtf8()).contains("\"error\":\"invalid_path\"");
    }

    @Test
    void refusedPath_whenTheRouteNamesTheProfile_usesThatProfile() throws Exception {
        Metadata m = new Metadata();
        m.put(RouteHint.PROFILE_KEY, "llm");
        ProcessingResponse r = sendCard("//v1/chat/completions", m);
        assertThat(r.hasImmediateResponse()).isTrue();
        assertThat(r.getImmediateResponse().getStatus().getCodeValue())
                .as("the route's llm profile blocks the card")
                .isEqualTo(451);
    }

    @Test
    void otherPath_stillGetsTheDefaultProfile_masks() throws Exception {
        ProcessingResponse r = sendCard("/v1/embeddings", new Metadata());
        assertThat(r.hasImmediateResponse()).isFalse();
        assertThat(r.getRequestBody().getResponse().getBodyMutation().getBody().toStringUtf8())
                .isEqualTo("pay with **** **** **** 1111");
    }
}
