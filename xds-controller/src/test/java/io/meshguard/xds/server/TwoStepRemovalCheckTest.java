package io.meshguard.xds.server;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.meshguard.testing.SlowTest;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.snapshot.TypeVersions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import org.jetbrains.kotlinx.lincheck.Actor;
import org.jetbrains.kotlinx.lincheck.LinCheckerKt;
import org.jetbrains.kotlinx.lincheck.execution.ExecutionScenario;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The two-step cluster removal under lincheck's model checker, on the core's own classes: {@link XdsSnapshots} with
 * {@link AdsStreams} as its {@link XdsSnapshots.ClusterSubscriptions}, the {@link Fleet} whose status changes are handed
 * to the core's one owner, which settles removals ({@code XdsCore}'s wiring). A publish drops cluster {@code b} while
 * two nodes ACK routes and a grpc-style node stops naming {@code b}, in every interleaving of a few such operations.
 * Checked: the operations are linearizable against their sequential run (each result one a sequential order gives);
 * {@code b} is never dropped while a connected node lacks the routes that no longer name it or a stream still names it;
 * once every node has those routes and none names {@code b}, and the owner ran what it was handed, {@code b} is gone;
 * and no interleaving deadlocks (the checker reports a hang). It takes minutes (lincheck instruments guava, protobuf
 * and java-control-plane first), more than the whole build's budget allows, so it runs when asked:
 * {@code ./mvnw -pl xds-controller -am verify -Dtest=TwoStepRemovalCheckTest -Dmeshguard.test.lincheck=true}.
 */
@SlowTest
@EnabledIfSystemProperty(named = "meshguard.test.lincheck", matches = "true")
class TwoStepRemovalCheckTest {
    private static final String GROUP = "local";
    private static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
    private static final String RDS = Resources.V3.ROUTE_TYPE_URL;
    private static final GroupResources BOTH = resources("a", "b");
    private static final GroupResources ONLY_A = resources("a");
    /** The routes of the revision that drops {@code b}: what a node must have ACKed before {@code b} goes. */
    private static final String ROUTES_WITHOUT_B = TypeVersions.hash(ONLY_A.routes());

    private static final NodeStatus.Key GRPC_NODE = new NodeStatus.Key("", "grpc-node");
    private static final NodeStatus.Key ENVOY_NODE = new NodeStatus.Key("", "envoy-node");

    /** The state machine; each operation is one thing a node, a publish or the core's owner does. */
    public static class RemovalCore {
        private final Queue<Runnable> owner = new ArrayDeque<>();
        private final Fleet fleet;
        private final AdsStreams streams;
        private final XdsSnapshots snapshots;

        public RemovalCore() {
            this.fleet = new Fleet(
                    Clock.fixed(Instant.EPOCH, ZoneOffset.UTC),
                    new Fleet.Sink() {
                        @Override
                        public void changed(NodeStatus status) {
                            handOver(() -> settle(status.group()));
                        }

                        @Override
                        public void unsubscribed(String group) {
                            handOver(() -> settle(group));
                        }
                    },
                    this::revisionOf);
            NodeGroupMapper groups = new NodeGroupMapper(Optional.of(GROUP));
            this.streams = new AdsStreams(fleet, groups, new SimpleMeterRegistry());
            this.snapshots = new XdsSnapshots(new SimpleCache<>(groups), Optional.empty(), streams);
            snapshots.serve(1, BOTH);
            // the grpc node names both clusters; the Envoy node asks for every cluster (no names)
            streams.onV3StreamRequest(1, clusters(GRPC_NODE, "a", "b"));
            streams.onV3StreamRequest(2, clusters(ENVOY_NODE));
            acksServedRoutes(GRPC_NODE);
            acksServedRoutes(ENVOY_NODE);
            while (!owner.isEmpty()) {
                owner.poll().run();
            }
        }

        /** A publish dropping {@code b}: the publisher's thread serves and settles (as {@code Publisher} does). */
        @Operation(runOnce = true)
        public boolean publishDroppingB() {
            boolean had = servesB();
            snapshots.serve(2, ONLY_A);
            snapshots.settle(GROUP, fleet::nodes);
            return checkedDrop(had);
        }

        /** The grpc node ACKs the routes it was sent: the revision they belong to. */
        @Operation(runOnce = true)
        public long grpcNodeAcksRoutes() {
            return acksServedRoutes(GRPC_NODE);
        }

        @Operation(runOnce = true)
        public long envoyNodeAcksRoutes() {
            return acksServedRoutes(ENVOY_NODE);
        }

        /** The grpc node stops naming {@code b} (a subscription change on its ADS stream). */
        @Operation(runOnce = true)
        public void grpcNodeUnsubscribesB() {
            streams.onV3StreamRequest(1, clusters(GRPC_NODE, "a"));
        }

        /** The core's owner runs the oldest state change handed to it; its operations never run at once. */
        @Operation(nonParallelGroup = "xds-core")
        public boolean ownerRuns() {
            Runnable next;
            synchronized (owner) {
                next = owner.poll();
            }
            boolean had = servesB();
            if (next != null) {
                next.run();
            }
            return checkedDrop(had);
        }

        @Operation
        public List<String> servedClusters() {
            return snapshots.served(GROUP).orElseThrow().resources().clusters().stream()
                    .map(Cluster::getName)
                    .toList();
        }

        /** Once the owner ran everything handed to it: a cluster nobody needs any more is not served for ever. */
        @Validate
        public void nothingRetiredForEver() {
            while (!owner.isEmpty()) {
                owner.poll().run();
            }
            if (servesB() && mayDropB()) {
                throw new IllegalStateException(
                        "b still served after every node had the routes without it: " + fleet.nodes());
            }
        }

        private long acksServedRoutes(NodeStatus.Key node) {
            XdsSnapshots.Served served = snapshots.served(GROUP).orElseThrow();
            fleet.acked(node, GROUP, RDS, served.versions().routes());
            return served.revision();
        }

        /** Whether dropping {@code b} was allowed when it happened (acks and unsubscribes only ever move towards it). */
        private boolean checkedDrop(boolean hadB) {
            if (hadB && !servesB() && !mayDropB()) {
                throw new IllegalStateException("b dropped while a node still needs it: " + fleet.nodes() + ", named "
                        + streams.named(GROUP, "b"));
            }
            return true;
        }

        private boolean mayDropB() {
            return fleet.nodes().stream()
                            .filter(NodeStatus::connected)
                            .allMatch(n ->
                                    ROUTES_WITHOUT_B.equals(n.ackedVersions().get(RDS)))
                    && !streams.named(GROUP, "b");
        }

        private boolean servesB() {
            return servedClusters().contains("b");
        }

        private void settle(String group) {
            snapshots.settle(group, fleet::nodes);
        }

        private void handOver(Runnable task) {
            synchronized (owner) {
                owner.add(task);
            }
        }

        private Optional<Long> revisionOf(String group, Map<String, String> acked) {
            return snapshots.revisionOf(group, acked);
        }
    }

    private static ModelCheckingOptions options() {
        ModelCheckingOptions options = new ModelCheckingOptions()
                .iterations(6)
                .invocationsPerIteration(60)
                .threads(3)
                .actorsPerThread(2)
                .actorsBefore(0)
                .actorsAfter(1)
                .addCustomScenario(grpcNodeLast());
        // lincheck instruments a class when analysed code first calls it (protobuf, guava, java-control-plane here):
        // on a loaded box that outlasts its 10 s bound per invocation, which it reports as a hang
        try {
            java.lang.reflect.Method timeout =
                    org.jetbrains.lincheck.datastructures.Options.class.getDeclaredMethod("setTimeoutMs", long.class);
            timeout.setAccessible(true);
            timeout.invoke(options, 300_000L);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("lincheck's per-invocation timeout", e);
        }
        return options;
    }

    /**
     * The removal's last step as a grpc client takes it: the Envoy node has the new routes; the grpc node ACKs them
     * and then drops {@code b} from its subscription while the core's owner settles.
     */
    private static ExecutionScenario grpcNodeLast() {
        return new ExecutionScenario(
                List.of(actor("publishDroppingB"), actor("envoyNodeAcksRoutes"), actor("ownerRuns")),
                List.of(
                        List.of(actor("grpcNodeAcksRoutes"), actor("grpcNodeUnsubscribesB")),
                        List.of(actor("ownerRuns"), actor("servedClusters"))),
                List.of(actor("servedClusters")),
                actor("nothingRetiredForEver"));
    }

    private static Actor actor(String operation) {
        try {
            return new Actor(RemovalCore.class.getMethod(operation), List.of());
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException(operation, e);
        }
    }

    @Test
    void clusterRemoval_acksRacingUnsubscribesAndAPublish_linearizableAndNeverDropsANeededCluster() {
        LinCheckerKt.check(options(), RemovalCore.class);
    }

    private static DiscoveryRequest clusters(NodeStatus.Key node, String... names) {
        return DiscoveryRequest.newBuilder()
                .setNode(Node.newBuilder().setId(node.nodeId()).setCluster(GROUP))
                .setTypeUrl(CDS)
                .addAllResourceNames(Arrays.asList(names))
                .build();
    }

    private static GroupResources resources(String... clusters) {
        // no repeated string field: lincheck 3.7 recurses without end in protobuf's LazyStringArrayList.hashCode
        VirtualHost.Builder host = VirtualHost.newBuilder().setName("all");
        for (String c : clusters) {
            host.addRoutes(Route.newBuilder()
                    .setName("to-" + c)
                    .setMatch(RouteMatch.newBuilder().setPrefix("/" + c))
                    .setRoute(RouteAction.newBuilder().setCluster(c)));
        }
        return new GroupResources(
                GROUP,
                List.of(),
                List.of(RouteConfiguration.newBuilder()
                        .setName("http-8080")
                        .addVirtualHosts(host)
                        .build()),
                Arrays.stream(clusters)
                        .map(c -> Cluster.newBuilder()
                                .setName(c)
                                .setType(Cluster.DiscoveryType.STATIC)
                                .build())
                        .toList(),
                List.of());
    }
}
