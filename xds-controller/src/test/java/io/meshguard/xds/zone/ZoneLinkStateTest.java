package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.contract.zone.ZoneWire;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.testing.OpenResources;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.store.PgRevisionStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The zone's link to central as an operator reads it: "following central" and the link metric only once
 * central answered (a stream open to a hung central is not following it), the age of what it serves, and the redial
 * backoff every zone runs with, 100 ms to 2 s and jittered, as the operator guide promises.
 */
@IntegrationTest
class ZoneLinkStateTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path tmp;

    @AutoClose
    final OpenResources open = new OpenResources();

    private ZoneController zone(String central, Optional<String> token, SimpleMeterRegistry meters) throws Exception {
        ZoneController z = new ZoneController(
                        ZoneSettings.loopback("link-test", central, token, tmp.resolve("zone"), Duration.ofMillis(100)),
                        new InetSocketAddress("127.0.0.1", 0),
                        FilterTargets.DEFAULTS,
                        Optional.empty(),
                        AdsPeerPolicy.localDevelopment(),
                        meters)
                .start();
        open.add(z);
        return z;
    }

    /** A central that accepts the zone stream and never answers (hung on a cold database, a stuck proxy). */
    private Server hungCentral() throws Exception {
        ServerServiceDefinition silent = ServerServiceDefinition.builder(ZoneWire.SERVICE)
                .addMethod(
                        ZoneStream.FOLLOW,
                        ServerCalls.asyncBidiStreamingCall(out -> new StreamObserver<ZoneProto.ZoneUp>() {
                            @Override
                            public void onNext(ZoneProto.ZoneUp value) {
                                // reads, never answers
                            }

                            @Override
                            public void onError(Throwable t) {}

                            @Override
                            public void onCompleted() {}
                        }))
                .build();
        Server server = LoopbackGrpc.serve(silent);
        open.add(() -> server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        return server;
    }

    private static double gauge(SimpleMeterRegistry meters, String name) {
        return meters.get(name).gauge().value();
    }

    @Test
    void streamOpenToAHungCentral_isNotFollowingIt_andTheMetricsSaySo() throws Exception {
        Server hung = hungCentral();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        ZoneController zone = zone("127.0.0.1:" + hung.getPort(), Optional.of("token"), meters);
        await().atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(zone.link().streamsOpened()).isPositive());
        await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(2)).untilAsserted(() -> assertThat(
                        zone.link().connected())
                .as("an open stream central never answered")
                .isFalse());
        assertThat(gauge(meters, "meshguard_xds_zone_link_connected")).isZero();
        assertThat(gauge(meters, "meshguard_xds_zone_config_age_seconds")).isNaN();
    }

    @Test
    void centralThatAnswers_isFollowed_andTheAgeOfWhatTheZoneServesIsFresh() throws Exception {
        new CatalogStore(PG.dataSource()).putCluster(new Cluster("link-test", "kr-seoul", Optional.empty(), Set.of()));
        ZoneCentral central = new ZoneCentral(
                PG.dataSource(),
                new PgRevisionStore(PG.dataSource()),
                new SimpleMeterRegistry(),
                new InetSocketAddress("127.0.0.1", 0),
                ZoneTestbed.FAST,
                Duration.ofHours(1));
        central.start();
        open.add(central);
        String token = central.hub()
                .registry()
                .issue("link-test", Duration.ofHours(1), "test")
                .secret();
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        ZoneController zone = zone("127.0.0.1:" + central.port(), Optional.of(token), meters);
        // two streams: the token's exchange, then the one presenting the credential
        await().atMost(Duration.ofSeconds(20))
                .untilAsserted(() -> assertThat(zone.link().connected()).isTrue());
        assertThat(gauge(meters, "meshguard_xds_zone_link_connected")).isEqualTo(1);
        assertThat(gauge(meters, "meshguard_xds_zone_config_age_seconds")).isBetween(0.0, 2.0);
    }

    @Test
    void everyZone_redialsBetween100msAnd2s_jittered() throws Exception {
        ZoneSettings installed = ZoneConfig.zone()
                .read(ConfigLoader.load(
                        ConfigSchema.builder().add(ZoneConfig.zone()).build(),
                        Optional.empty(),
                        Map.of("MESHGUARD_ZONE_CLUSTER", "c", "MESHGUARD_ZONE_CENTRAL", "central.example:443")));
        assertThat(installed.minBackoff()).isEqualTo(Duration.ofMillis(100));
        assertThat(installed.maxBackoff()).isEqualTo(Duration.ofSeconds(2));
        Set<Duration> waits = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            Duration wait = CentralLink.jittered(installed.maxBackoff());
            assertThat(wait).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(2));
            waits.add(wait);
        }
        assertThat(waits)
                .as("zones that lost central together do not redial in lockstep")
                .hasSizeGreaterThan(100);
    }
}
