package io.meshguard.xds.proxyless;

import static io.meshguard.xds.TestConfigs.active;
import static io.meshguard.xds.TestConfigs.api;
import static io.meshguard.xds.TestConfigs.group;
import static io.meshguard.xds.TestConfigs.route;
import static io.meshguard.xds.TestConfigs.to;
import static io.meshguard.xds.TestConfigs.upstream;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.server.NodeStatus;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.store.InMemoryRevisionStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * grpc-js's own xDS client (a third-party peer) against the controller: a {@code proxyless_authz: required} group
 * fails its calls at once with PERMISSION_DENIED instead of leaving them to their deadline, and an {@code off} group
 * serves it. Opt-in, as it needs Node and the npm packages: {@code MESHGUARD_GRPC_JS} names a directory where
 * {@code npm install @grpc/grpc-js@1.14 @grpc/grpc-js-xds@1.14.1} ran. Measured at 1.5 s (cold xDS resolution) with an
 * 8 s deadline; before FailFastListeners the same call ended DEADLINE_EXCEEDED after 8.0 s "waiting for name
 * resolution", with the listener NACKed.
 */
@IntegrationTest
@EnabledIfEnvironmentVariable(named = "MESHGUARD_GRPC_JS", matches = ".+")
class GrpcJsClientTest {
    private static final int DEADLINE_MS = 8000;

    @Test
    void requiredGroup_failsGrpcJsCallsAtOncePermissionDenied_offGroupServesThem() throws Exception {
        try (Backend backend = new Backend("A")) {
            FilterTargets targets =
                    new FilterTargets("127.0.0.1:9", "127.0.0.1:9002", "127.0.0.1:9003", Duration.ofSeconds(2));
            XdsCore core = new XdsCore(
                            new InetSocketAddress("127.0.0.1", 0),
                            targets,
                            new InMemoryRevisionStore(Clock.systemUTC()),
                            Optional.empty(),
                            s -> {},
                            new SimpleMeterRegistry(),
                            Clock.systemUTC())
                    .start();
            try {
                GatewayConfig config = new GatewayConfig(
                        List.of(
                                group("js", GatewayGroup.ProxylessAuthz.REQUIRED),
                                group("jsoff", GatewayGroup.ProxylessAuthz.OFF)),
                        List.of(upstream("js-b", backend.port()), upstream("jsoff-b", backend.port())),
                        List.of(
                                api("svc-js", "svc.js", "", "v1", active("v1")),
                                api("svc-jsoff", "svc.jsoff", "", "v1", active("v1"))),
                        List.of(
                                route("js", "all", "svc-js", "v1", "/", to("js-b", 100)),
                                route("jsoff", "all", "svc-jsoff", "v1", "/", to("jsoff-b", 100))));
                assertThat(core.publisher().publish(config, "test", "grpc-js").published())
                        .isTrue();

                String required = call(core.adsPort(), "js");
                System.out.println("grpc-js, required group: " + required);
                assertThat(required).contains("code=PERMISSION_DENIED", "details=\"Fault injected\"");
                NodeStatus node = core.fleet().node("grpc-js-js").orElseThrow();
                assertThat(node.userAgent()).startsWith("gRPC Node Pure JS");
                assertThat(node.lastNack()).isEmpty();
                assertThat(backend.calls.get()).isZero();

                String off = call(core.adsPort(), "jsoff");
                System.out.println("grpc-js, off group: " + off);
                assertThat(off).contains("ok=A");
            } finally {
                core.close();
            }
        }
    }

    /** Runs unary-call.js as node {@code grpc-js-<group>} of {@code group}; returns its RESULT line. */
    private static String call(int adsPort, String group) throws Exception {
        Path dir = Path.of(System.getenv("MESHGUARD_GRPC_JS"));
        Path script = dir.resolve("meshguard-unary-call.js");
        try (InputStream in = GrpcJsClientTest.class.getResourceAsStream("/grpc-js/unary-call.js")) {
            Files.write(script, in.readAllBytes());
        }
        Path bootstrap = Files.createTempFile("grpc-js-bootstrap", ".json");
        // grpc-js requires node.locality ("locality field missing in node element")
        Files.writeString(bootstrap, """
                {"xds_servers": [{"server_uri": "127.0.0.1:%d", "channel_creds": [{"type": "insecure"}],
                                  "server_features": ["xds_v3"]}],
                 "node": {"id": "grpc-js-%s", "cluster": "%s", "locality": {"region": "local", "zone": "a"}}}
                """.formatted(adsPort, group, group));
        ProcessBuilder pb = new ProcessBuilder(
                        "node",
                        script.toString(),
                        "xds:///svc." + group,
                        "/test.Echo/Who",
                        Integer.toString(DEADLINE_MS))
                .directory(dir.toFile())
                .redirectErrorStream(true);
        pb.environment().put("GRPC_XDS_BOOTSTRAP", bootstrap.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(DEADLINE_MS * 2L, TimeUnit.MILLISECONDS)).isTrue();
        Files.deleteIfExists(bootstrap);
        return out.lines().filter(l -> l.startsWith("RESULT")).findFirst().orElse(out);
    }
}
