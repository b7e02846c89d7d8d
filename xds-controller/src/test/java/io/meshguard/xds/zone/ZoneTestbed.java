package io.meshguard.xds.zone;

import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.testing.OpenResources;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TemporaryDirectories;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.snapshot.FilterTargets;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One zone test's loopback set-up: clusters in the catalogue named after the test's run (so tests share one database
 * without meeting), zone controllers on loopback with their state under the test's own directory, and everything the
 * test opened closed after it, last opened first. A test class registers it on an instance field:
 * {@code @RegisterExtension final ZoneTestbed bed = new ZoneTestbed(PG, "r");}.
 */
final class ZoneTestbed implements BeforeEachCallback, AfterEachCallback {
    /** Short enough that a test waits a few seconds for staleness, not 15. */
    static final ZoneHubSettings FAST = new ZoneHubSettings(Duration.ofMillis(300), Duration.ofMillis(100));

    private static final AtomicInteger RUNS = new AtomicInteger();

    private final PostgresExtension pg;
    private final String prefix;
    private final OpenResources open = new OpenResources();
    private DataSource ds;
    private String run;
    private Path dir;

    /** Each test's run is {@code prefix} and a number; the clusters and the catalogue live in {@code pg}. */
    ZoneTestbed(PostgresExtension pg, String prefix) {
        this.pg = pg;
        this.prefix = prefix;
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        ds = pg.dataSource();
        run = prefix + RUNS.incrementAndGet();
        dir = Files.createTempDirectory("zone-testbed-" + run);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        try {
            open.close();
        } finally {
            TemporaryDirectories.deleteQuietly(dir);
        }
    }

    /** What the test's cluster ids and group names start with. */
    String run() {
        return run;
    }

    /** The test's own directory, deleted after it. */
    Path dir() {
        return dir;
    }

    /** Closed after the test, unless {@link #closeNow} closed it first. */
    <T extends AutoCloseable> T opened(T c) {
        return open.add(c);
    }

    /** Closes {@code c} in the middle of the test (a central or zone going away). */
    void closeNow(AutoCloseable c) throws Exception {
        open.closeNow(c);
    }

    /** Cluster {@code run-name} in the catalogue, assigned {@code group} in {@code registry}. */
    String cluster(ZoneRegistry registry, String name, String group) {
        String id = run + "-" + name;
        new CatalogStore(ds).putCluster(new Cluster(id, "kr-seoul", Optional.of("aws"), Set.of()));
        registry.assign(id, group);
        return id;
    }

    /** A started zone controller of {@code cluster} following {@code central} (host:port), its state in {@code dir}. */
    ZoneController zone(String central, String cluster, Optional<String> token, Path state, Duration echoInterval)
            throws Exception {
        return opened(started(ZoneSettings.loopback(cluster, central, token, state, echoInterval)));
    }

    /** Replica {@code replica} of {@code cluster}'s zone, its state in the test's directory under both names. */
    ZoneController replica(
            String central, String cluster, String replica, Optional<String> token, Duration echoInterval)
            throws Exception {
        return opened(started(ZoneSettings.loopback(
                cluster, replica, central, token, dir.resolve(cluster).resolve(replica), echoInterval)));
    }

    /** {@link #zone} with its state in the test's directory under the cluster's name. */
    ZoneController zone(String central, String cluster, Optional<String> token, Duration echoInterval)
            throws Exception {
        return zone(central, cluster, token, dir.resolve(cluster), echoInterval);
    }

    /** A zone controller of {@code settings} started on a loopback ADS port: no TLS, local development's peers. */
    static ZoneController started(ZoneSettings settings) throws Exception {
        return new ZoneController(
                        settings,
                        new InetSocketAddress("127.0.0.1", 0),
                        FilterTargets.DEFAULTS,
                        Optional.empty(),
                        AdsPeerPolicy.localDevelopment(),
                        new SimpleMeterRegistry())
                .start();
    }
}
