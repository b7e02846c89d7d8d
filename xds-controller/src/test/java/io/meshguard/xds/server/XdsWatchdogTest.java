package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.soak.XdsSoak;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A controller whose config delivery is wedged knows it: a revision that cannot be served, a core thread that does
 * not come round, a deadlock. Each makes it not ready; a deadlock also not alive; a wedge that clears makes it ready.
 */
@IntegrationTest
class XdsWatchdogTest {
    private static final XdsWatchdog.Bounds SHORT = new XdsWatchdog.Bounds(
            Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofMillis(500), Duration.ofSeconds(1));

    private XdsCore core;
    private String sample;
    private final List<String> health = new CopyOnWriteArrayList<>();
    private final XdsWatchdog.Health recorded = new XdsWatchdog.Health() {
        @Override
        public void ready(boolean ready) {
            health.add("ready=" + ready);
        }

        @Override
        public void alive(boolean alive) {
            health.add("alive=" + alive);
        }
    };

    @BeforeEach
    void start() throws Exception {
        core = LoopbackCores.inMemory(new SimpleMeterRegistry());
        try (InputStream in = XdsController.class.getResourceAsStream("sample-gateway.yaml")) {
            sample = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        core.publisher().publish(GatewayYaml.read("sample.yaml", sample), "test", "watchdog");
    }

    @AfterEach
    void stop() throws Exception {
        core.close();
    }

    @Test
    void revisionNotServed_notReady_untilItIs() throws Exception {
        XdsWatchdog watchdog = new XdsWatchdog(
                SHORT, new SimpleMeterRegistry(), core.snapshots(), Optional.empty(), List.of(), recorded);
        CountDownLatch wedged = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        // the serving path wedged as a lock-order deadlock wedges it: something holds the snapshots and never lets go
        Thread holder = Thread.ofPlatform().start(() -> {
            synchronized (core.snapshots()) {
                wedged.countDown();
                awaitQuietly(release);
            }
        });
        wedged.await();
        Thread publish = Thread.ofPlatform().start(() -> core.publisher()
                .publish(
                        GatewayYaml.read(
                                "changed.yaml",
                                sample.replace(
                                        "weight: 90}, {upstream: payments-v2-canary, weight: 10}",
                                        "weight: 70}, {upstream: payments-v2-canary, weight: 30}")),
                        "test",
                        "wedged"));
        watchdog.check();
        assertThat(watchdog.healthy()).as("within the bound").isTrue();

        Thread.sleep(800);
        watchdog.check();

        assertThat(watchdog.healthy()).isFalse();
        assertThat(watchdog.readinessCheck().check().ready()).isFalse();
        assertThat(watchdog.readinessCheck().check().detail()).contains("of group local not served after");
        assertThat(health).contains("ready=false").doesNotContain("alive=false");

        release.countDown();
        holder.join(5_000);
        publish.join(10_000);
        watchdog.check();
        assertThat(watchdog.healthy()).as("served once the wedge cleared").isTrue();
        assertThat(health.getLast()).isEqualTo("ready=true");
    }

    @Test
    void coreThreadNotComingRound_notReady() throws Exception {
        try (SerialExecutor lane = new SerialExecutor("test-lane")) {
            XdsWatchdog watchdog = new XdsWatchdog(
                    SHORT,
                    new SimpleMeterRegistry(),
                    core.snapshots(),
                    Optional.empty(),
                    List.of(new XdsWatchdog.Lane(lane.name(), lane::execute)),
                    recorded);
            CountDownLatch release = new CountDownLatch(1);
            lane.execute(() -> awaitQuietly(release));
            watchdog.check();
            Thread.sleep(800);
            watchdog.check();

            assertThat(watchdog.healthy()).isFalse();
            assertThat(watchdog.readinessCheck().check().detail()).contains("core thread test-lane");

            release.countDown();
            assertThat(lane.drained(5_000)).isTrue();
            watchdog.check();
            assertThat(watchdog.healthy()).isTrue();
        }
    }

    @Test
    void deadlock_notReady_andNotAlive() throws Exception {
        XdsWatchdog watchdog = new XdsWatchdog(
                SHORT, new SimpleMeterRegistry(), core.snapshots(), Optional.empty(), List.of(), recorded);
        ReentrantLock a = new ReentrantLock();
        ReentrantLock b = new ReentrantLock();
        CountDownLatch bothHeld = new CountDownLatch(2);
        Thread one = Thread.ofPlatform().name("deadlock-one").start(() -> crosswise(a, b, bothHeld));
        Thread two = Thread.ofPlatform().name("deadlock-two").start(() -> crosswise(b, a, bothHeld));
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (XdsSoak.deadlocked().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            watchdog.check();

            assertThat(watchdog.healthy()).isFalse();
            assertThat(watchdog.readinessCheck().check().detail())
                    .contains("deadlock")
                    .contains("deadlock-one");
            assertThat(health).contains("ready=false", "alive=false");
        } finally {
            // the locks are interruptible: the test leaves no deadlock behind for the tests after it
            one.interrupt();
            two.interrupt();
            one.join(5_000);
            two.join(5_000);
        }
        assertThat(XdsSoak.deadlocked()).isEmpty();
    }

    private static void crosswise(ReentrantLock first, ReentrantLock second, CountDownLatch bothHeld) {
        try {
            first.lockInterruptibly();
            try {
                bothHeld.countDown();
                bothHeld.await();
                second.lockInterruptibly();
                second.unlock();
            } finally {
                first.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
