package io.meshguard.xds.zone;

import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.snapshot.FilterTargets;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

/**
 * One zone test's loopback set-up: clusters in the catalogue named after the test's run (so tests share one database
 * without meeting), zone controllers on loopback with their state under the test's directory, and everything the
 * test opened closed after it, last opened first.
 */
final class ZoneTestbed implements AutoCloseable {
    /** Short enough that a test waits a few seconds for staleness, not 15. */
    static final ZoneHubSettings FAST = new ZoneHubSettings(Duration.ofMillis(300), Duration.ofMillis(100));

    private final DataSource ds;
    private final String run;
    private final Path dir;
    private final List<AutoCloseable> open = new ArrayList<>();

    /** {@code run} prefixes every cluster id; zones keep their state under {@code dir}. */
    ZoneTestbed(DataSource ds, String run, Path dir) {
        this.ds = ds;
        this.run = run;
        this.dir = dir;
    }

    /** Closed after the test, unless {@link #closeNow} closed it first. */
    <T extends AutoCloseable> T opened(T c) {
        open.add(c);
        return c;
    }

    /** Closes {@code c} in the middle of the test (a central or zone going away). */
    void closeNow(AutoCloseable c) throws Exception {
        open.remove(c);
        c.close();
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
        return opened(new ZoneController(
                        ZoneSettings.loopback(cluster, central, token, state, echoInterval),
                        new InetSocketAddress("127.0.0.1", 0),
                        FilterTargets.DEFAULTS,
                        Optional.empty(),
                        AdsPeerPolicy.localDevelopment(),
                        new SimpleMeterRegistry())
                .start());
    }

    /** Replica {@code replica} of {@code cluster}'s zone, its state in the test's directory under both names. */
    ZoneController replica(
            String central, String cluster, String replica, Optional<String> token, Duration echoInterval)
            throws Exception {
        return opened(new ZoneController(
                        ZoneSettings.loopback(
                                cluster,
                                replica,
                                central,
                                token,
                                dir.resolve(cluster).resolve(replica),
                                echoInterval),
                        new InetSocketAddress("127.0.0.1", 0),
                        FilterTargets.DEFAULTS,
                        Optional.empty(),
                        AdsPeerPolicy.localDevelopment(),
                        new SimpleMeterRegistry())
                .start());
    }

    /** {@link #zone} with its state in the test's directory under the cluster's name. */
    ZoneController zone(String central, String cluster, Optional<String> token, Duration echoInterval)
            throws Exception {
        return zone(central, cluster, token, dir.resolve(cluster), echoInterval);
    }

    @Override
    public void close() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
        open.clear();
    }
}
