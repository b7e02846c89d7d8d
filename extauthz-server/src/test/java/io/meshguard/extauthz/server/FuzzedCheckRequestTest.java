package io.meshguard.extauthz.server;

import static io.meshguard.extauthz.Fixtures.RS1;
import static io.meshguard.extauthz.Fixtures.claims;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.JwksServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Random and mutated CheckRequests: the server always answers with a CheckResponse, and nothing random is allowed. */
@IntegrationTest
class FuzzedCheckRequestTest {
    @TempDir
    Path dir;

    private static final String[] HEADER_NAMES = {
        "authorization",
        "x-api-key",
        "x-tenant-id",
        "x-user-id",
        ":path",
        ":authority",
        "host",
        "x-request-id",
        "traceparent",
        "cookie",
        "AUTHORIZATION",
        "x-tenant-id ",
        "",
        "x\u0000y"
    };
    private static final String[] FRAGMENTS = {
        "Bearer ",
        "bearer",
        "eyJhbGciOiJub25lIn0",
        ".",
        "..",
        ",",
        "mgk_",
        "%00",
        "\u0000",
        "\r\n",
        "é",
        "\uD83D\uDE00",
        "/../",
        "big-tenant",
        "{\"alg\":\"none\"}",
        "0123456789abcdef_"
    };

    private static String junk(Random rnd, int max) {
        StringBuilder sb = new StringBuilder();
        int parts = rnd.nextInt(4);
        for (int i = 0; i < parts; i++) {
            sb.append(FRAGMENTS[rnd.nextInt(FRAGMENTS.length)]);
        }
        int n = rnd.nextInt(max);
        for (int i = 0; i < n; i++) {
            sb.append((char) (rnd.nextBoolean() ? 32 + rnd.nextInt(95) : rnd.nextInt(0x3000)));
        }
        return sb.toString();
    }

    static CheckRequest random(Random rnd) {
        AttributeContext.HttpRequest.Builder http = AttributeContext.HttpRequest.newBuilder()
                .setMethod(rnd.nextBoolean() ? "GET" : junk(rnd, 8))
                .setHost(rnd.nextBoolean() ? "api.test.example" : junk(rnd, 30))
                .setPath(rnd.nextBoolean() ? "/api/" + junk(rnd, 20) : junk(rnd, 200));
        HeaderMap.Builder raw = HeaderMap.newBuilder();
        int headers = rnd.nextInt(12);
        for (int i = 0; i < headers; i++) {
            String name = rnd.nextInt(4) == 0 ? junk(rnd, 10) : HEADER_NAMES[rnd.nextInt(HEADER_NAMES.length)];
            String value = rnd.nextInt(20) == 0 ? "x".repeat(20_000) : junk(rnd, 100);
            if (rnd.nextBoolean()) {
                http.putHeaders(name, value);
            } else {
                raw.addHeaders(HeaderValue.newBuilder()
                        .setKey(name)
                        .setRawValue(ByteString.copyFrom(value, StandardCharsets.UTF_8)));
            }
        }
        http.setHeaderMap(raw);
        AttributeContext.Builder attrs = AttributeContext.newBuilder()
                .setRequest(AttributeContext.Request.newBuilder().setHttp(http));
        if (rnd.nextInt(5) == 0) {
            attrs.putContextExtensions(
                    rnd.nextBoolean()
                            ? io.meshguard.contract.RouteContract.AuthzContext.AUTHZ_PROFILE
                            : io.meshguard.contract.RouteContract.AuthzContext.AUTH,
                    junk(rnd, 10));
        }
        return CheckRequest.newBuilder().setAttributes(attrs).build();
    }

    /** Flips bytes of a valid request; keeps the mutants that still parse as a CheckRequest. */
    static Optional<CheckRequest> mutate(CheckRequest base, Random rnd) {
        byte[] bytes = base.toByteArray();
        int flips = 1 + rnd.nextInt(6);
        for (int i = 0; i < flips; i++) {
            bytes[rnd.nextInt(bytes.length)] = (byte) rnd.nextInt(256);
        }
        try {
            return Optional.of(CheckRequest.parseFrom(bytes));
        } catch (InvalidProtocolBufferException e) {
            return Optional.empty();
        }
    }

    @Test
    void fuzzedRequests_alwaysGetACheckResponse_andNeverAnUnexplainedAllow() throws Exception {
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)))) {
            Path policy = dir.resolve("authz.yaml");
            Files.writeString(policy, Fixtures.policyYaml("jwks_uri: " + jwks.jwksUri(), ""));
            ExtAuthzServer server = new ExtAuthzServer(
                    ExtAuthzConfig.onLoopback(policy, Duration.ofSeconds(60)),
                    new SimpleMeterRegistry(),
                    Optional.empty(),
                    e -> {},
                    Clock.systemUTC());
            server.start();
            ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort())
                    .usePlaintext()
                    .maxInboundMessageSize(8 * 1024 * 1024)
                    .build();
            try {
                AuthorizationGrpc.AuthorizationBlockingStub stub = AuthorizationGrpc.newBlockingStub(channel);
                String token =
                        RS1.sign(claims("alice", "big-tenant", List.of("user")).build());
                CheckRequest valid = CheckRequests.of(
                        "GET",
                        "api.test.example",
                        "/api/x",
                        Fixtures.headers("authorization", "Bearer " + token, "x-tenant-id", "big-tenant"),
                        Map.of(),
                        CheckRequests.Encoding.HEADER_MAP);
                Random rnd = new Random(20261121L);
                int checked = 0;
                int mutants = 0;
                for (int i = 0; i < 1000; i++) {
                    CheckRequest req;
                    if (i % 2 == 0) {
                        req = random(rnd);
                    } else {
                        Optional<CheckRequest> m = mutate(valid, rnd);
                        if (m.isEmpty()) {
                            continue;
                        }
                        req = m.get();
                        mutants++;
                    }
                    CheckResponse r =
                            stub.withDeadlineAfter(Duration.ofSeconds(30)).check(req);
                    checked++;
                    if (r.getStatus().getCode() == 0) {
                        // an allow needs a public route or the untouched token: random bytes never authenticate
                        String headers =
                                req.getAttributes().getRequest().getHttp().toString();
                        boolean publicRoute = r.getOkResponse().getHeadersList().stream()
                                .anyMatch(h -> h.getHeader().getKey().equals("x-auth-method")
                                        && h.getHeader().getValue().equals("none"));
                        assertThat(publicRoute || headers.contains(token))
                                .as(req.toString())
                                .isTrue();
                    } else {
                        int status = r.getDeniedResponse().getStatus().getCodeValue();
                        assertThat(status).isIn(400, 401, 403, 429, 503);
                        assertThat(r.getDeniedResponse().getBody()).contains("\"request_id\"");
                    }
                }
                assertThat(checked).isGreaterThan(550);
                assertThat(mutants).isGreaterThan(30);
                // and the server still decides normally afterwards
                assertThat(stub.check(valid).getStatus().getCode()).isEqualTo(0);
            } finally {
                channel.shutdownNow();
                server.close();
            }
        }
    }
}
