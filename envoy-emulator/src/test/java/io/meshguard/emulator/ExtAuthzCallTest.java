package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import com.google.rpc.Code;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption.HeaderAppendAction;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.auth.v3.DeniedHttpResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.envoyproxy.envoy.type.v3.StatusCode;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import io.meshguard.testing.LoopbackGrpc;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("integration")
class ExtAuthzCallTest {
    private static HeaderValueOption option(String name, String value, HeaderAppendAction action) {
        return HeaderValueOption.newBuilder()
                .setHeader(HeaderValue.newBuilder().setKey(name).setValue(value))
                .setAppendAction(action)
                .build();
    }

    @Test
    void addIfAbsentWithoutAppend_overwritesTheClientsValue_onSidecars134to136_andKeepsItOn137() {
        HeaderValueOption dflt = option("x-dwp-caller-type", "USER", HeaderAppendAction.ADD_IF_ABSENT);
        for (EnvoyVersion sidecar : new EnvoyVersion[] {EnvoyVersion.SIDECAR_1_34, EnvoyVersion.SIDECAR_1_36}) {
            Headers sent = Headers.of("x-dwp-caller-type", "SERVICE");
            ExtAuthzCall.applyCheckHeader(sent, dflt, sidecar);
            assertThat(sent.all("x-dwp-caller-type")).as(sidecar.toString()).containsExactly("USER");
        }
        Headers sent = Headers.of("x-dwp-caller-type", "SERVICE");
        ExtAuthzCall.applyCheckHeader(sent, dflt, EnvoyVersion.GATEWAY);
        assertThat(sent.all("x-dwp-caller-type")).containsExactly("SERVICE");
    }

    @Test
    void explicitAppendTrue_appendsOnlyOntoAHeaderTheRequestHas_onEveryVersion() {
        HeaderValueOption append = option("x-trace", "b", HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD).toBuilder()
                .setAppend(BoolValue.of(true))
                .build();
        for (EnvoyVersion v : new EnvoyVersion[] {EnvoyVersion.SIDECAR_1_34, EnvoyVersion.GATEWAY}) {
            Headers absent = new Headers();
            ExtAuthzCall.applyCheckHeader(absent, append, v);
            assertThat(absent.has("x-trace"))
                    .as("headers_to_append never adds (%s)", v)
                    .isFalse();
            Headers present = Headers.of("x-trace", "a");
            ExtAuthzCall.applyCheckHeader(present, append, v);
            assertThat(present.all("x-trace")).containsExactly("a", "b");
        }
    }

    @Test
    void denial_keepsRepeatedHeaderNames() throws Exception {
        CheckResponse denial = CheckResponse.newBuilder()
                .setStatus(Status.newBuilder().setCode(Code.UNAUTHENTICATED_VALUE))
                .setDeniedResponse(DeniedHttpResponse.newBuilder()
                        .setStatus(HttpStatus.newBuilder().setCode(StatusCode.Unauthorized))
                        .addHeaders(option(
                                "www-authenticate",
                                "Bearer realm=\"a\"",
                                HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD))
                        .addHeaders(
                                option("www-authenticate", "ApiKey", HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)))
                .build();
        Server server = LoopbackGrpc.serve(new AuthorizationGrpc.AuthorizationImplBase() {
            @Override
            public void check(CheckRequest request, StreamObserver<CheckResponse> responses) {
                responses.onNext(denial);
                responses.onCompleted();
            }
        });
        ManagedChannel channel = LoopbackGrpc.channelTo(server.getPort());
        try {
            ExtAuthz config = ExtAuthz.getDefaultInstance();
            CheckRequest check = ExtAuthzCall.build(
                    config,
                    1,
                    "GET",
                    "/x",
                    "api",
                    new Headers(),
                    Map.of(),
                    "198.51.100.1",
                    40000,
                    9002,
                    0,
                    java.util.Optional.empty());
            ExtAuthzCall.Result result = ExtAuthzCall.call(config, channel, check, new Headers(), 50);
            assertThat(result.outcome()).isEqualTo(ExtAuthzCall.Outcome.DENIED);
            assertThat(result.status()).isEqualTo(401);
            assertThat(result.responseHeaders().all("www-authenticate"))
                    .containsExactly("Bearer realm=\"a\"", "ApiKey");
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
