package io.meshguard.bench.extauthz;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.JWKSet;
import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.authz.jwt.JwksRegistry;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.cli.dev.DevIssuer;
import io.meshguard.cli.dev.DevIssuerFiles;
import io.meshguard.cli.dev.DevSigningKey;
import io.meshguard.extauthz.ratelimit.TokenBucketLimiter;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.StringReader;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link CheckPodBench} runs the pod with, checked without starting it: the JVM flags come from the manifest, and
 * the bench's Check is allowed by the shipped policy (with the dev issuer) every time, not refused by its tiers.
 */
class CheckPodBenchTest {
    @TempDir
    Path dir;

    @Test
    void podJvmFlags_areTheManifestsJavaToolOptions_withTheContainersLimits() throws Exception {
        List<String> flags = CheckPodBench.podJvmFlags();

        assertThat(flags)
                .contains("-XX:+UseG1GC", "-XX:MaxRAMPercentage=70", "-XX:+ExitOnOutOfMemoryError")
                .contains("-XX:MaxRAM=768m", "-XX:ActiveProcessorCount=2")
                .noneMatch(f -> f.startsWith("-Djava.io.tmpdir"));
    }

    @Test
    void benchCheck_withRateLimitOffOnTheDemoRoute_isAllowedEveryTime() throws Exception {
        DevSigningKey key = DevSigningKey.createOrLoad(DevIssuerFiles.under(dir));
        var request = CheckPodBench.podRequest(CheckPodBench.devToken(key));
        String shipped = CheckPodBench.devPolicy(URI.create("http://127.0.0.1:9/unused"));

        List<Decision> withLimits = decide(shipped, key, request, 30);
        List<Decision> benchPolicy = decide(CheckPodBench.withoutDemoRateLimit(shipped), key, request, 30);

        assertThat(withLimits.getFirst().allowed())
                .as("the request suits the demo route")
                .isTrue();
        assertThat(withLimits)
                .as("the shipped free tier (5/s, burst 10) refuses a burst of 30")
                .anyMatch(d -> d.status() == 429);
        assertThat(benchPolicy).allMatch(Decision::allowed);
        assertThat(benchPolicy.getFirst().route()).contains(DevIssuer.DEMO_ROUTE);
    }

    private static List<Decision> decide(
            String policyYaml, DevSigningKey key, io.envoyproxy.envoy.service.auth.v3.CheckRequest request, int times)
            throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AuthzPipeline pipeline = new AuthzPipeline(
                new JwksRegistry(
                        registry, Map.of(DevIssuer.NAME, JWKSet.parse(key.publicJwks())), Duration.ofSeconds(1)),
                Optional.empty(),
                new TokenBucketLimiter(1000, Duration.ofMinutes(1), System::nanoTime),
                new SecretFiles(System::nanoTime),
                Clock.systemUTC(),
                registry,
                10_000,
                Duration.ofMinutes(30));
        pipeline.use(new AuthzPolicyParser().parse("authz.yaml", new StringReader(policyYaml)));
        List<Decision> decisions = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            decisions.add(pipeline.decide(HttpRequestView.of(request)));
        }
        return decisions;
    }
}
