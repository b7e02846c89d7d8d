package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.Arrays;
import java.util.Optional;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A node's {@code node_status} row is written when its status changes, not when it only stops naming a cluster:
 * grpc-java drops a cluster from its CDS subscription after each publish that stops routing to it, and each such
 * request of each node cost a row update in PostgreSQL.
 */
@IntegrationTest
class NodeStatusWritesTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final String GROUP = "local";
    private static final NodeStatus.Key NODE = new NodeStatus.Key("", "grpc-unsubscribing");

    @Test
    void unsubscribe_ofClusters_writesNoNodeStatus_whileAnAckDoes() throws Exception {
        DataSource ds = PG.dataSource();
        try (PgNodeStatusWriter writer = new PgNodeStatusWriter(ds, "replica-1")) {
            Fleet fleet = new Fleet(Clock.systemUTC(), writer, (group, acked) -> Optional.empty());
            AdsStreams streams =
                    new AdsStreams(fleet, new NodeGroupMapper(Optional.of(GROUP)), new SimpleMeterRegistry());
            streams.onV3StreamRequest(1, clusters("a", "b", "c", "d", "e", "f"));
            long opened = awaitWritten(ds, -1);

            java.util.Set<Long> rowVersions = new java.util.TreeSet<>();
            for (String keep : new String[] {"a b c d e", "a b c d", "a b c", "a b", "a"}) {
                streams.onV3StreamRequest(1, clusters(keep.split(" ")));
                Thread.sleep(300); // the writer flushes at once: time to write the row, were it handed over
                rowVersions.add(xmin(ds));
            }
            assertThat(rowVersions).as("row versions after five unsubscribes").containsExactly(opened);

            // the same measure sees a real change: an ACK is written
            fleet.acked(NODE, GROUP, Resources.V3.CLUSTER_TYPE_URL, "v2");
            assertThat(awaitWritten(ds, opened)).isNotEqualTo(opened);
        }
    }

    /** The transaction id that wrote the row's newest version, once it differs from {@code before}. */
    private static long awaitWritten(DataSource ds, long before) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            long now = xmin(ds);
            if (now != -1 && now != before) {
                return now;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("node_status of " + NODE + " not written");
    }

    private static long xmin(DataSource ds) throws Exception {
        try (Connection c = ds.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "select xmin::text::bigint from node_status where node_id = ? and peer_identity = ?")) {
            ps.setString(1, NODE.nodeId());
            ps.setString(2, NODE.peerIdentity());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }

    private static DiscoveryRequest clusters(String... names) {
        return DiscoveryRequest.newBuilder()
                .setNode(Node.newBuilder().setId(NODE.nodeId()).setCluster(GROUP))
                .setTypeUrl(Resources.V3.CLUSTER_TYPE_URL)
                .addAllResourceNames(Arrays.asList(names))
                .build();
    }
}
