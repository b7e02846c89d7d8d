package io.meshguard.xds.zone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.testing.PostgresExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A zone credential that would multiply (issue 42), over real gRPC on loopback and a real PostgreSQL: one live stream
 * per cluster, on one central replica or two; a rotated credential, once the zone uses it, ends its predecessor, so a
 * copy of the older one stops working.
 */
class ZoneCredentialTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();
    private static final AtomicInteger RUN = new AtomicInteger();

    @TempDir
    Path tmp;
    private ZoneTestbed bed;

    @BeforeEach
    void testbed() {
        bed = new ZoneTestbed(PG.dataSource(), "c" + RUN.incrementAndGet(), tmp);
    }

    @AfterEach
    void closeAll() throws Exception {
        bed.close();
    }

    @Test
    void secondHello_withTheSameCredential_closesTheFirstStream() throws Exception {
        Central central = bed.opened(new Central(PG.dataSource(), 0, Duration.ofMinutes(10), ZoneTestbed.FAST));
        String cluster = bed.cluster(central.registry, "solo", "solo-group");
        String token = central.registry.issue(cluster, Duration.ofHours(1), "test").secret();
        RawZone zone = bed.opened(RawZone.registering(central.address(), cluster, token));
        await().atMost(Duration.ofSeconds(5)).until(() -> !zone.credentials().isEmpty());

        RawZone copy = bed.opened(RawZone.presenting(central.address(), cluster, zone.credentials().get(0)));
        await().atMost(Duration.ofSeconds(5)).until(() -> zone.closedWith().isPresent());
        assertThat(zone.closedWith().get()).contains("ABORTED").contains("took over");
        assertThat(copy.answered()).isTrue();
        Thread.sleep(500);
        assertThat(copy.closedWith()).as("the newer stream is the one live stream").isEmpty();
    }

    @Test
    void secondHello_onAnotherCentralReplica_closesTheFirstStreamAtItsTick() throws Exception {
        Central a = bed.opened(new Central(PG.dataSource(), 0, Duration.ofMinutes(10), ZoneTestbed.FAST));
        Central b = bed.opened(new Central(PG.dataSource(), 0, Duration.ofMinutes(10), ZoneTestbed.FAST));
        String cluster = bed.cluster(a.registry, "pair", "pair-group");
        String token = a.registry.issue(cluster, Duration.ofHours(1), "test").secret();
        RawZone zone = bed.opened(RawZone.registering(a.address(), cluster, token));
        await().atMost(Duration.ofSeconds(5)).until(() -> !zone.credentials().isEmpty());

        RawZone copy = bed.opened(RawZone.presenting(b.address(), cluster, zone.credentials().get(0)));
        await().atMost(Duration.ofSeconds(5)).until(() -> zone.closedWith().isPresent());
        assertThat(zone.closedWith().get()).contains("took over");
        assertThat(copy.closedWith()).isEmpty();
    }

    @Test
    void rotatedCredential_onceUsed_endsItsPredecessor_soACopyOfTheOlderOneIsRefused() throws Exception {
        // rotated at half its lifetime: after 3 s, while the first credential would live 6 s
        Central central = bed.opened(new Central(PG.dataSource(), 0, Duration.ofSeconds(6), ZoneTestbed.FAST));
        String cluster = bed.cluster(central.registry, "rot", "rot-group");
        String token = central.registry.issue(cluster, Duration.ofHours(1), "test").secret();
        RawZone zone = bed.opened(RawZone.registering(central.address(), cluster, token));
        await().atMost(Duration.ofSeconds(6)).until(() -> zone.credentials().size() >= 2);
        String first = zone.credentials().get(0);
        String successor = zone.credentials().get(1);
        bed.closeNow(zone);

        // the zone redials with its successor; the copied first credential ends with that use
        RawZone redialed = bed.opened(RawZone.presenting(central.address(), cluster, successor));
        await().atMost(Duration.ofSeconds(5)).until(redialed::answered);
        assertThat(central.registry.verify(cluster, first)).isInstanceOf(ZoneRegistry.Refused.class);
        RawZone copy = bed.opened(RawZone.presenting(central.address(), cluster, first));
        await().atMost(Duration.ofSeconds(5)).until(() -> copy.closedWith().isPresent());
        assertThat(copy.closedWith().get()).contains("UNAUTHENTICATED").contains("unknown");
        assertThat(redialed.closedWith()).as("the zone's own stream keeps following").isEmpty();
    }
}
