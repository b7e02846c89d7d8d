package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.Metadata;
import io.meshguard.testing.IntegrationTest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;

/**
 * The profile and route name an Envoy route hands over in the ext_proc stream's initial metadata (what the
 * xds-controller puts in ExtProcPerRoute), against a real server over gRPC on loopback.
 */
@IntegrationTest
class RouteHintTest {
    @AutoClose
    private static final ServerFixture fx = ServerFixture.started();

    private static Metadata hint(String profile, String route) {
        Metadata m = new Metadata();
        if (profile != null) {
            m.put(RouteHint.PROFILE_KEY, profile);
        }
        if (route != null) {
            m.put(RouteHint.ROUTE_KEY, route);
        }
        return m;
    }

    /** A card number in a buffered request body to the LLM path, whose host/path profile blocks it. */
    private static ProcessingResponse sendCard(Metadata initial) throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.NONE, initial)) {
            s.requestLine(
                    false, "POST", "/v1/chat/completions", "llm", "content-type", "text/plain", "x-request-id", "rh-1");
            s.next();
            s.requestBody("pay with 4111 1111 1111 1111".getBytes(StandardCharsets.UTF_8), true);
            return s.next();
        }
    }

    @Test
    void noHint_hostAndPathChooseTheProfile() throws Exception {
        ProcessingResponse r = sendCard(new Metadata());
        assertThat(r.hasImmediateResponse())
                .as("the llm profile blocks cards in requests")
                .isTrue();
    }

    @Test
    void routeNamingAProfile_scansWithThatProfile() throws Exception {
        ProcessingResponse r = sendCard(hint("default", "chat-completions"));
        assertThat(r.hasImmediateResponse())
                .as("the default profile masks instead")
                .isFalse();
        assertThat(r.getRequestBody().getResponse().getBodyMutation().getBody().toStringUtf8())
                .isEqualTo("pay with **** **** **** 1111");
        assertThat(fx.findings).anySatisfy(f -> {
            assertThat(f.route()).isEqualTo("chat-completions");
            assertThat(f.profile()).isEqualTo("default");
            assertThat(f.path()).isEqualTo("/v1/chat/completions");
        });
        assertThat(fx.meters
                        .get("meshguard_dlp_findings_total")
                        .tag("route", "chat-completions")
                        .tag("profile", "default")
                        .tag("detector", "card")
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(1);
    }

    @Test
    void routeNamingAnUnknownProfile_failsClosedAtTheRequestHeaders_countedAndAudited() throws Exception {
        try (EnvoyStream s = new EnvoyStream(
                fx.channel, BodySendMode.BUFFERED, BodySendMode.NONE, hint("no-such-profile", "chat-completions"))) {
            // /v1/chat/completions would match the llm profile by path: an unknown name must not fall back to it
            s.requestLine(
                    false,
                    "POST",
                    "/v1/chat/completions",
                    "llm",
                    "content-type",
                    "text/plain",
                    "x-request-id",
                    "rh-unknown");
            ProcessingResponse r = s.next();
            assertThat(r.hasImmediateResponse())
                    .as("refused before a body byte goes upstream")
                    .isTrue();
            assertThat(r.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(503);
            assertThat(r.getImmediateResponse().getBody().toStringUtf8())
                    .contains("\"reason\":\"unknown_profile\"")
                    .contains("\"request_id\":\"rh-unknown\"");
            assertThat(r.getImmediateResponse().getDetails()).isEqualTo("meshguard_dlp_unknown_profile");
        }
        assertThat(fx.meters
                        .get("meshguard_dlp_unknown_profile_total")
                        .tag("profile", "no-such-profile")
                        .counter()
                        .count())
                .isEqualTo(1);
        org.awaitility.Awaitility.await()
                .atMost(java.time.Duration.ofSeconds(5))
                .until(() -> fx.calls.stream().anyMatch(c -> c.requestId().equals("rh-unknown")));
        DlpAuditSink.ApiCallEvent call = fx.calls.stream()
                .filter(c -> c.requestId().equals("rh-unknown"))
                .findFirst()
                .orElseThrow();
        assertThat(call.route()).isEqualTo("chat-completions");
        assertThat(call.notes()).containsEntry("block", "unknown_profile:no-such-profile");
    }

    @Test
    void routeNamingAnUnknownProfile_refusesWhateverMessageComesFirst_andLabelsAreEscaped() throws Exception {
        // header modes SKIP: the first message Envoy sends may be a body; it is refused all the same
        try (EnvoyStream s =
                new EnvoyStream(fx.channel, BodySendMode.STREAMED, BodySendMode.NONE, hint("bad name\u00e9{x}", "r"))) {
            s.requestBody("4111 1111 1111 1111".getBytes(StandardCharsets.UTF_8), false);
            ProcessingResponse r = s.next();
            assertThat(r.hasImmediateResponse()).isTrue();
            assertThat(r.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(503);
        }
        assertThat(fx.meters
                        .get("meshguard_dlp_unknown_profile_total")
                        .tag("profile", "bad_name__x_")
                        .counter()
                        .count())
                .isEqualTo(1);
    }

    /**
     * Envoy Gateway's route: no metadata, the profile in the stream's {@code :authority} (the EnvoyExtensionPolicy's
     * Backend {@code dlp-profile.default.edge} in namespace {@code meshguard}); the client's own headers name a
     * weaker profile and a path whose host/path profile would block instead of masking — neither is followed.
     */
    /** Published class "client-sent meshguard headers at every hop", at the DLP server (GHSA-g53w-w6mj-hrpp). */
    @Test
    void clientSentMeshguardHeader_envoyGatewayAuthorityNamesTheProfile_andNoClientHeaderOverridesIt()
            throws Exception {
        try (EnvoyStream s = new EnvoyStream(
                fx.channel,
                BodySendMode.BUFFERED,
                BodySendMode.NONE,
                new Metadata(),
                "dlp-profile.default.edge.meshguard")) {
            s.requestLine(
                    false,
                    "POST",
                    "/v1/chat/completions",
                    "llm",
                    "content-type",
                    "text/plain",
                    // a client's forgery: request headers are content to scan, never the stream's hint
                    "x-meshguard-dlp-profile",
                    "no-scan",
                    "x-request-id",
                    "rh-eg-1");
            s.next();
            s.requestBody("pay with 4111 1111 1111 1111".getBytes(StandardCharsets.UTF_8), true);
            ProcessingResponse r = s.next();
            assertThat(r.hasImmediateResponse())
                    .as("the route's profile (default) masks; the path's (llm) would block")
                    .isFalse();
            assertThat(r.getRequestBody()
                            .getResponse()
                            .getBodyMutation()
                            .getBody()
                            .toStringUtf8())
                    .isEqualTo("pay with **** **** **** 1111");
        }
        assertThat(fx.findings).anySatisfy(f -> assertThat(f.profile()).isEqualTo("default"));
    }

    @Test
    void envoyGatewayAuthority_namingAnUnknownProfile_failsClosed() throws Exception {
        try (EnvoyStream s = new EnvoyStream(
                fx.channel,
                BodySendMode.BUFFERED,
                BodySendMode.NONE,
                new Metadata(),
                "dlp-profile.gone.edge.meshguard:9002")) {
            s.requestHeaders(false, ":method", "POST", ":path", "/plain", "content-type", "text/plain");
            ProcessingResponse r = s.next();
            assertThat(r.hasImmediateResponse()).isTrue();
            assertThat(r.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(503);
        }
    }

    @Test
    void streamWithoutRouteName_isLabelledNone() throws Exception {
        try (EnvoyStream s = new EnvoyStream(fx.channel, BodySendMode.BUFFERED, BodySendMode.NONE)) {
            s.requestHeaders(false, ":path", "/plain", "content-type", "text/plain");
            s.next();
            s.requestBody("4111 1111 1111 1111".getBytes(StandardCharsets.UTF_8), true);
            s.next();
        }
        assertThat(fx.meters
                        .get("meshguard_dlp_findings_total")
                        .tag("route", "none")
                        .tag("profile", "default")
                        .counter()
                        .count())
                .isGreaterThanOrEqualTo(1);
    }
}
