package io.meshguard.xds;

import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.server.AdsServer;
import io.meshguard.xds.server.AdsStreams;
import io.meshguard.xds.server.Fleet;
import io.meshguard.xds.server.NodeGroupMapper;
import io.meshguard.xds.server.Publisher;
import io.meshguard.xds.server.RolloutSpans;
import io.meshguard.xds.server.SerialExecutor;
import io.meshguard.xds.server.VirtualHostDiscovery;
import io.meshguard.xds.server.XdsSnapshots;
import io.meshguard.xds.server.XdsWatchdog;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import io.meshguard.xds.store.RevisionStore;
import io.meshguard.xds.subscription.SubscriptionStateService;
import io.meshguard.xds.validate.ConfigValidator;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Optional;

/**
 * The xDS side of the controller: snapshots per group, the ADS server, stream tracking and the publisher, wired
 * together. The admin API, the PostgreSQL listener and the status HTTP port are added around it by
 * {@link XdsController}.
 */
public final class XdsCore implements AutoCloseable {
    /**
     * Envoy gateways' virtual hosts over VHDS ({@link VirtualHostDiscovery}).
     *
     * @param cluster the static cluster of the gateways' bootstrap that reaches this controller
     * @param clustersWait how long a push waits at most for the node's answer to the clusters it names
     */
    public record Vhds(String cluster, java.time.Duration clustersWait) {
        /** Through {@code cluster}, with the shipped wait ({@link VirtualHostDiscovery#CLUSTERS_WAIT}). */
        public static Vhds through(String cluster) {
            return new Vhds(cluster, VirtualHostDiscovery.CLUSTERS_WAIT);
        }
    }

    private final XdsSnapshots snapshots;
    private final Fleet fleet;
    private final AdsStreams streams;
    private final Publisher publisher;
    private final AdsServer ads;
    private final SubscriptionStateService subscriptionState = new SubscriptionStateService();
    private final SnapshotBuilder builder;
    private final RolloutSpans rollouts;
    private final VirtualHostDiscovery virtualHosts;
    private final SerialExecutor serial;
    private final XdsWatchdog watchdog;

    public XdsCore(
            InetSocketAddress adsBind,
            FilterTargets targets,
            RevisionStore store,
            Optional<String> defaultGroup,
            Fleet.Sink fleetSink,
            MeterRegistry meters,
            Clock clock) {
        this(adsBind, targets, store, defaultGroup, fleetSink, meters, clock, new ConfigValidator());
    }

    /** @param validator what every publish must pass (with the loaded policies' profiles, see PolicyProfiles) */
    public XdsCore(
            InetSocketAddress adsBind,
            FilterTargets targets,
            RevisionStore store,
            Optional<String> defaultGroup,
            Fleet.Sink fleetSink,
            MeterRegistry meters,
            Clock clock,
            ConfigValidator validator) {
        this(adsBind, targets, store, defaultGroup, fleetSink, meters, clock, validator, RolloutSpans.disabled());
    }

    /**
     * As the full constructor in local development ({@link AdsPeerPolicy#localDevelopment()}: loopback only, no
     * identity), for tests and benchmarks on loopback.
     */
    public XdsCore(
            InetSocketAddress adsBind,
            FilterTargets targets,
            RevisionStore store,
            Optional<String> defaultGroup,
            Fleet.Sink fleetSink,
            MeterRegistry meters,
            Clock clock,
            ConfigValidator validator,
            RolloutSpans rollouts) {
        this(
                adsBind,
                targets,
                store,
                defaultGroup,
                fleetSink,
                meters,
                clock,
                validator,
                rollouts,
                AdsPeerPolicy.localDevelopment());
    }

    /**
     * @param rollouts a span per served revision until the fleet ACKs or NACKs it (closed with the core)
     * @param peers who may open an ADS stream and read which gateway group
     */
    public XdsCore(
            InetSocketAddress adsBind,
            FilterTargets targets,
            RevisionStore store,
            Optional<String> defaultGroup,
            Fleet.Sink fleetSink,
            MeterRegistry meters,
            Clock clock,
            ConfigValidator validator,
            RolloutSpans rollouts,
            AdsPeerPolicy peers) {
        this(
                adsBind,
                targets,
                store,
                defaultGroup,
                fleetSink,
                meters,
                clock,
                validator,
                rollouts,
                peers,
                Optional.empty());
    }

    /**
     * @param vhds when present, Envoy nodes get their virtual hosts over VHDS through its cluster of their bootstrap
     *     (the one to the controller, {@code meshguard-xds}), not inside their route tables
     */
    public XdsCore(
            InetSocketAddress adsBind,
            FilterTargets targets,
            RevisionStore store,
            Optional<String> defaultGroup,
            Fleet.Sink fleetSink,
            MeterRegistry meters,
            Clock clock,
            ConfigValidator validator,
            RolloutSpans rollouts,
            AdsPeerPolicy peers,
            Optional<Vhds> vhds) {
        NodeGroupMapper groups = new NodeGroupMapper(defaultGroup);
        this.rollouts = rollouts;
        this.serial = new SerialExecutor("xds-core");
        // a node's status change is handed to the core's one thread: the ADS and VHDS threads that report it may hold
        // their stream's lock, and what follows takes the snapshots' (settling removals) and pushes to other streams
        this.fleet = new Fleet(
                clock,
                new Fleet.Sink() {
                    @Override
                    public void changed(io.meshguard.xds.server.NodeStatus status) {
                        serial.execute(() -> {
                            fleetSink.changed(status);
                            rollouts.changed(status);
                            settleRemovals(status.group());
                            virtualHostsFollow(status);
                        });
                    }

                    /** No status to record: only the removed clusters that waited for the node may go. */
                    @Override
                    public void unsubscribed(String group) {
                        serial.execute(() -> settleRemovals(group));
                    }
                },
                this::revisionOf);
        this.virtualHosts = new VirtualHostDiscovery(
                fleet, groups, meters, vhds.map(Vhds::clustersWait).orElse(VirtualHostDiscovery.CLUSTERS_WAIT));
        this.streams = new AdsStreams(fleet, groups, meters);
        this.snapshots = new XdsSnapshots(
                new SimpleCache<>(groups),
                vhds.map(v -> new XdsSnapshots.VirtualHosts(v.cluster(), virtualHosts)),
                streams);
        this.builder = new SnapshotBuilder(targets);
        this.publisher = new Publisher(validator, builder, store, snapshots, fleet, meters, rollouts);
        this.ads = new AdsServer(
                adsBind,
                snapshots,
                streams,
                groups,
                peers,
                meters,
                subscriptionState,
                SubscriptionStateService.GROUP,
                virtualHosts);
        Gauge.builder("meshguard_xds_connected_streams", fleet, Fleet::connectedStreams)
                .description("Open ADS streams on this replica")
                .register(meters);
        this.watchdog = XdsWatchdog.of(XdsWatchdog.Bounds.shipped(), meters, snapshots, virtualHosts, serial, ads);
    }

    /** Starts the ADS port and serves the newest stored revision, if any. */
    public XdsCore start() throws IOException {
        ads.start();
        publisher.applyLatest();
        watchdog.start();
        return this;
    }

    public int adsPort() {
        return ads.port();
    }

    public Publisher publisher() {
        return publisher;
    }

    /** What extauthz replicas follow on the ADS port: the catalogue's subscription state. */
    public SubscriptionStateService subscriptionState() {
        return subscriptionState;
    }

    /** A node's ACK of new clusters may be what a push of its virtual hosts waits for. */
    private void virtualHostsFollow(io.meshguard.xds.server.NodeStatus status) {
        virtualHosts.nodeChanged(status);
    }

    private Optional<Long> revisionOf(String group, java.util.Map<String, String> acked) {
        return snapshots.revisionOf(group, acked);
    }

    /** A node's ACK of new routes may be the last one a removed cluster waited for (XdsSnapshots.settle). */
    private void settleRemovals(String group) {
        snapshots.settle(group, fleet::nodes);
    }

    /** What notices a core that stopped serving (see {@link XdsWatchdog}). */
    public XdsWatchdog watchdog() {
        return watchdog;
    }

    public Fleet fleet() {
        return fleet;
    }

    public XdsSnapshots snapshots() {
        return snapshots;
    }

    public SnapshotBuilder builder() {
        return builder;
    }

    /** Closes the ADS streams within {@code graceSeconds}. */
    public void stop(long graceSeconds) throws InterruptedException {
        watchdog.close();
        ads.stop(graceSeconds);
        virtualHosts.close();
        serial.close();
        rollouts.close();
    }

    @Override
    public void close() throws InterruptedException {
        stop(0);
    }
}
