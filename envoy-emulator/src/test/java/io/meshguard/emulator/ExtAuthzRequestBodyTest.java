package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.BufferSettings;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.CheckSettings;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * ext_authz's {@code with_request_body} as Envoy does it: the body held until it ends or passes
 * {@code max_request_bytes}, the Check carrying at most that many bytes with {@code x-envoy-auth-partial-body}, as
 * {@code raw_body} with {@code pack_as_bytes}, else as the {@code body} string; the held bytes still go upstream.
 */
class ExtAuthzRequestBodyTest {
    private static final BufferSettings MCP = BufferSettings.newBuilder()
            .setMaxRequestBytes(16)
            .setAllowPartialMessage(true)
            .setPackAsBytes(true)
            .build();

    private static CheckRequest check(Headers client, Optional<ExtAuthzCall.CheckBody> body) {
        return ExtAuthzCall.build(
                ExtAuthz.getDefaultInstance(),
                1,
                "POST",
                "/mcp",
                "mcp.local",
                client,
                Map.of(),
                "198.51.100.1",
                40000,
                8080,
                body.map(b -> (long) b.bytes().length).orElse(0L),
                body);
    }

    private static List<byte[]> chunks(String... parts) {
        List<byte[]> out = new ArrayList<>();
        for (String p : parts) {
            out.add(p.getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    @Test
    void prefix_waitsForTheWholeBody_whenItIsSmallerThanTheLimit_andLeavesItForUpstream() throws Exception {
        DownstreamBody body = new DownstreamBody(chunks("{\"id\":", "7}"), 1024);
        DownstreamBody.Prefix p = body.prefix(16);
        assertThat(new String(p.bytes(), StandardCharsets.UTF_8)).isEqualTo("{\"id\":7}");
        assertThat(p.cut()).isFalse();
        assertThat(p.received()).isEqualTo(8);
        // nothing was taken: the same chunks go on if the Check allows
        assertThat(new String(body.next(), StandardCharsets.UTF_8)).isEqualTo("{\"id\":");
        assertThat(new String(body.next(), StandardCharsets.UTF_8)).isEqualTo("7}");
        assertThat(body.next()).isNull();
    }

    @Test
    void prefix_aboveTheLimit_isCutAtIt_evenAboveTheListenersBufferLimit() throws Exception {
        DownstreamBody body = new DownstreamBody(chunks("0123456789", "abcdefghij", "KLMNOPQRST"), 8);
        DownstreamBody.Prefix p = body.prefix(16);
        assertThat(new String(p.bytes(), StandardCharsets.UTF_8)).isEqualTo("0123456789abcdef");
        assertThat(p.cut()).isTrue();
        List<String> upstream = new ArrayList<>();
        for (byte[] c = body.next(); c != null; c = body.next()) {
            upstream.add(new String(c, StandardCharsets.UTF_8));
        }
        assertThat(upstream).containsExactly("0123456789", "abcdefghij", "KLMNOPQRST");
    }

    @Test
    void check_carriesTheBodyAsRawBytes_withPackAsBytes_elseAsTheString_andSaysWhetherItWasCut() {
        Headers forged = Headers.of("x-envoy-auth-partial-body", "false");
        CheckRequest raw = check(
                forged,
                Optional.of(new ExtAuthzCall.CheckBody("{\"id\":1".getBytes(StandardCharsets.UTF_8), true, true)));
        var http = raw.getAttributes().getRequest().getHttp();
        assertThat(http.getRawBody().toStringUtf8()).isEqualTo("{\"id\":1");
        assertThat(http.getBody()).isEmpty();
        assertThat(http.getHeadersMap())
                .as("Envoy's own value, never the client's")
                .containsEntry("x-envoy-auth-partial-body", "true");

        CheckRequest string = check(
                new Headers(),
                Optional.of(new ExtAuthzCall.CheckBody("{\"id\":2}".getBytes(StandardCharsets.UTF_8), false, false)));
        assertThat(string.getAttributes().getRequest().getHttp().getBody()).isEqualTo("{\"id\":2}");
        assertThat(string.getAttributes().getRequest().getHttp().getRawBody().isEmpty())
                .isTrue();
        assertThat(string.getAttributes().getRequest().getHttp().getHeadersMap())
                .containsEntry("x-envoy-auth-partial-body", "false");

        CheckRequest none = check(forged, Optional.empty());
        assertThat(none.getAttributes().getRequest().getHttp().getHeadersMap())
                .as("without buffering there is no mark, and the client's is dropped")
                .doesNotContainKey("x-envoy-auth-partial-body");
    }

    @Test
    void stringBody_thatIsNotUtf8_isNotModelled() {
        byte[] latin1 = "caf\u00e9".getBytes(StandardCharsets.ISO_8859_1);
        assertThatThrownBy(() -> check(new Headers(), Optional.of(new ExtAuthzCall.CheckBody(latin1, false, false))))
                .isInstanceOf(UnmodelledException.class)
                .hasMessageContaining("pack_as_bytes");
        assertThat(check(new Headers(), Optional.of(new ExtAuthzCall.CheckBody(latin1, false, true)))
                        .getAttributes()
                        .getRequest()
                        .getHttp()
                        .getRawBody()
                        .toByteArray())
                .isEqualTo(latin1);
    }

    @Test
    void bufferSettings_onTheFilterAndPerRoute_areModelled_otherCheckSettingsAreNot() {
        assertThat(ModelledFields.unmodelled(
                        "ext_authz",
                        ExtAuthz.newBuilder().setWithRequestBody(MCP).build()))
                .isEmpty();
        assertThat(ModelledFields.unmodelled(
                        "per_route",
                        ExtAuthzPerRoute.newBuilder()
                                .setCheckSettings(CheckSettings.newBuilder()
                                        .setWithRequestBody(MCP)
                                        .setDisableRequestBodyBuffering(false)
                                        .putContextExtensions("authz_profile", "mcp"))
                                .build()))
                .isEmpty();
        assertThat(ModelledFields.unmodelled(
                        "ext_authz",
                        ExtAuthz.newBuilder().setClearRouteCache(true).build()))
                .isNotEmpty();
    }
}
