package io.meshguard.xds.subscription;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.extauthz.subscription.SubscriptionStateSettings;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.TemporaryDirectories;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * extauthz's {@code /readyz} (and gRPC health) is not ready while its product routes would answer 503 for want of
 * subscription state it should have: before the first snapshot from its controller, and when products are in use
 * (a {@code products_only} rule) without a controller. Once it held state, a controller outage leaves it ready and
 * says "degraded". A real controller-side service on loopback, the real server.
 */
@IntegrationTest
class ExtauthzSubscriptionReadinessTest {
    private static final String PRODUCT_POLICY = """
            routes:
              - name: products
                match: {path_prefix: /products}
                auth: apikey
                products_only: true
            """;
    private static final String PLAIN_POLICY = """
            routes:
              - name: open
                match: {path_prefix: /open}
                auth: none
                header_contract: exempt
            """;

    private Path dir;
    private Server controller;
    private ExtAuthzServer extauthz;

    @AfterEach
    void stop() throws Exception {
        if (extauthz != null) {
            extauthz.close();
        }
        if (controller != null) {
            controller.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        TemporaryDirectories.deleteQuietly(dir);
    }

    private ExtAuthzServer start(String policy, SubscriptionStateSettings subscriptions) throws Exception {
        dir = Files.createTempDirectory("extauthz-readiness");
        Path file = Files.writeString(dir.resolve("authz.yaml"), policy);
        extauthz = new ExtAuthzServer(
                ExtAuthzConfig.defaults()
                        .withGrpc("127.0.0.1", 0)
                        .withShutdown(Duration.ZERO, Duration.ofSeconds(1))
                        .withPolicy(file, Duration.ofSeconds(1))
                        .withSubscriptions(subscriptions),
                new SimpleMeterRegistry(),
                Optional.empty(),
                e -> {},
                Clock.systemUTC());
        extauthz.start();
        return extauthz;
    }

    private static Optional<String> subscriptionsProblem(ExtAuthzServer server) {
        return server.notReady().stream()
                .filter(p -> p.startsWith("subscriptions:"))
                .findFirst();
    }

    private static String subscriptionsDetail(ExtAuthzServer server) {
        ReadinessCheck check = server.readinessChecks().stream()
                .filter(c -> c.name().equals("subscriptions"))
                .findFirst()
                .orElseThrow();
        return check.check().detail();
    }

    @Test
    void controllerSet_notReadyUntilTheFirstState_thenReady_andStaysReadyDegradedWhenTheControllerGoes()
            throws Exception {
        SubscriptionStateService service = new SubscriptionStateService();
        controller = NettyServerBuilder.forPort(0).addService(service).build().start();
        ExtAuthzServer server = start(
                PLAIN_POLICY,
                new SubscriptionStateSettings(
                        Optional.of("127.0.0.1:" + controller.getPort()), Duration.ofMillis(300)));

        await().during(500, TimeUnit.MILLISECONDS).atMost(3, TimeUnit.SECONDS).untilAsserted(() -> assertThat(
                        subscriptionsProblem(server))
                .hasValueSatisfying(p -> assertThat(p).contains("waiting for the first subscription state")));
        assertThat(server.notReady()).as("only the missing state holds it back").hasSize(1);

        service.publish(SubscriptionSnapshot.empty(7));
        await().atMost(5, TimeUnit.SECONDS)
                .untilAsserted(() -> assertThat(server.notReady()).isEmpty());
        assertThat(subscriptionsDetail(server)).contains("version 7");

        controller.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        await().atMost(5, TimeUnit.SECONDS)
                .untilAsserted(() -> assertThat(subscriptionsDetail(server)).startsWith("degraded"));
        assertThat(server.notReady()).isEmpty();
    }

    @Test
    void productsOnlyRule_withoutController_isNotReady() throws Exception {
        ExtAuthzServer server = start(PRODUCT_POLICY, SubscriptionStateSettings.NONE);
        await().atMost(5, TimeUnit.SECONDS)
                .untilAsserted(() -> assertThat(subscriptionsProblem(server)).hasValueSatisfying(p -> assertThat(p)
                        .contains("products_only rules but no subscriptions.controller")));
    }

    @Test
    void noProductsAndNoController_isReady_withProductsOff() throws Exception {
        ExtAuthzServer server = start(PLAIN_POLICY, SubscriptionStateSettings.NONE);
        await().atMost(5, TimeUnit.SECONDS)
                .untilAsserted(() -> assertThat(server.notReady()).isEqualTo(List.of()));
        assertThat(subscriptionsDetail(server)).startsWith("off");
    }
}
