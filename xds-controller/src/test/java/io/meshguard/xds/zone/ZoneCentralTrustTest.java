package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Grpc;
import io.grpc.Server;
import io.grpc.TlsServerCredentials;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.OpenResources;
import io.meshguard.testing.OpensslCa;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.store.PgRevisionStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bank puts central's zone port behind TLS with a certificate of its own CA (the Gateway's meshguard-central-tls):
 * a zone given that CA ({@code zone.central_ca_file}) registers and follows; a zone with the JDK's trust store alone
 * cannot complete the handshake and never follows. Real TLS on loopback (grpc-netty), certificates made by openssl.
 */
@IntegrationTest
class ZoneCentralTrustTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path tmp;

    @AutoClose
    final OpenResources open = new OpenResources();

    /** The bank's CA and central's certificate for localhost, signed by it: ca.crt, central.crt and central.key. */
    private void certificates() {
        OpensslCa.in(tmp, "/CN=bank internal CA").issue("localhost", "central");
    }

    private ZoneController zone(String central, Optional<String> token, Path state, Optional<Path> ca)
            throws Exception {
        ZoneSettings s = new ZoneSettings(
                "seoul",
                central,
                token,
                state,
                ZoneTestbed.FAST.echoInterval(),
                ZoneSettings.MIN_BACKOFF,
                ZoneSettings.MAX_BACKOFF,
                false,
                ZoneSettings.LOOPBACK_REPLICA,
                ca);
        ZoneController zone = new ZoneController(
                s,
                new InetSocketAddress("127.0.0.1", 0),
                FilterTargets.DEFAULTS,
                Optional.empty(),
                AdsPeerPolicy.localDevelopment(),
                new SimpleMeterRegistry());
        open.add(zone);
        return zone.start();
    }

    @Test
    void zoneWithTheBanksCa_followsCentralOverTls_andWithoutItNeverDoes() throws Exception {
        certificates();
        ZoneCentral central = new ZoneCentral(
                PG.dataSource(),
                new PgRevisionStore(PG.dataSource()),
                new SimpleMeterRegistry(),
                new InetSocketAddress("127.0.0.1", 0),
                ZoneTestbed.FAST,
                Duration.ofHours(1));
        open.add(central);
        central.start();
        // TLS in front of the hub, as the ingress gateway terminates it
        Server tls = Grpc.newServerBuilderForPort(
                        0,
                        TlsServerCredentials.create(
                                tmp.resolve("central.crt").toFile(),
                                tmp.resolve("central.key").toFile()))
                .addService(central.hub().service())
                .build()
                .start();
        open.add(() -> tls.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
        String address = "localhost:" + tls.getPort();

        new io.meshguard.catalog.CatalogStore(PG.dataSource())
                .putCluster(new io.meshguard.catalogmodel.Cluster(
                        "seoul", "kr-seoul", Optional.of("aws"), java.util.Set.of()));
        String token = central.hub()
                .registry()
                .issue("seoul", Duration.ofHours(1), "test")
                .secret();
        // the JDK's trust store does not know the bank's CA: its handshakes fail, so it never spends the token
        ZoneController untrusting = zone(address, Optional.of(token), tmp.resolve("a"), Optional.empty());
        ZoneController trusting =
                zone(address, Optional.of(token), tmp.resolve("b"), Optional.of(tmp.resolve("ca.crt")));

        await().atMost(Duration.ofSeconds(15))
                .untilAsserted(() -> assertThat(trusting.link().connected()).isTrue());
        assertThat(untrusting.link().connected()).isFalse();
        assertThat(central.hub().board().zones()).as("one zone follows").hasSize(1);
    }
}
