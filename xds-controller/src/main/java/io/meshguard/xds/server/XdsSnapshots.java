package io.meshguard.xds.server;

import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.meshguard.xds.model.ChangedPlaces;
import io.meshguard.xds.snapshot.FailFastListeners;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.snapshot.TypeVersions;
import io.meshguard.xds.snapshot.VirtualHostTables;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The snapshots served to each gateway group, with one content-hash version per resource type. Remembers the type
 * versions of recent revisions so that a node's ACKed versions tell which revision it runs.
 */
public final class XdsSnapshots {
    private static final int HISTORY = 64;

    /** What one group serves now. */
    public record Served(
            long revision,
            TypeVersions versions,
            GroupResources resources,
            Optional<io.meshguard.xds.model.GatewayConfig> slice) {}

    /**
     * @param envoyShells with VHDS, the version of Envoy's route table shells: a node ACKs that for RDS
     */
    private record Past(long revision, TypeVersions versions, Optional<String> envoyShells) {
        boolean matches(String typeUrl, String version) {
            return versions.forTypeUrl(typeUrl).equals(version)
                    || (typeUrl.equals(io.envoyproxy.controlplane.cache.Resources.V3.ROUTE_TYPE_URL)
                            && envoyShells.filter(version::equals).isPresent());
        }
    }

    /** A revision served with the clusters it removed, until its group's nodes have its routes. */
    private record Retiring(
            long revision,
            String routesVersion,
            GroupResources resources,
            Optional<io.meshguard.xds.model.GatewayConfig> slice) {}

    /**
     * Envoy's virtual hosts over VHDS instead of inside their route tables.
     *
     * @param controllerCluster the gateway bootstrap's static cluster to the controller ({@code meshguard-xds})
     */
    public record VirtualHosts(String controllerCluster, VirtualHostDiscovery discovery) {}

    /**
     * Which clusters a group's clients still subscribe to by name. gRPC's xDS client does (Envoy asks for every
     * cluster): after new routes it asks for the new cluster while still naming the one they dropped, until the new
     * one is ready, and java-control-plane's cache answers no request in ADS mode that names a cluster it lacks.
     */
    public interface ClusterSubscriptions {
        /** Nobody subscribes by name. */
        ClusterSubscriptions NONE = (group, cluster) -> false;

        boolean named(String group, String cluster);
    }

    private final SimpleCache<String> cache;
    private final Optional<VirtualHosts> virtualHosts;
    private final ClusterSubscriptions subscriptions;
    private final Map<String, Served> served = new ConcurrentHashMap<>();
    /** Newest first, replaced whole on each serve: a node's ACK reads it without waiting for a serve to finish. */
    private final Map<String, List<Past>> history = new ConcurrentHashMap<>();

    private final Map<String, Retiring> retiring = new ConcurrentHashMap<>();

    public XdsSnapshots(SimpleCache<String> cache) {
        this(cache, Optional.empty());
    }

    public XdsSnapshots(SimpleCache<String> cache, Optional<VirtualHosts> virtualHosts) {
        this(cache, virtualHosts, ClusterSubscriptions.NONE);
    }

    /** @param subscriptions a removed cluster stays served while a client of its group still names it */
    public XdsSnapshots(
            SimpleCache<String> cache, Optional<VirtualHosts> virtualHosts, ClusterSubscriptions subscriptions) {
        this.cache = cache;
        this.virtualHosts = virtualHosts;
        this.subscriptions = subscriptions;
    }

    /**
     * Serves {@code resources} to the group's nodes. Throws {@link IllegalStateException} and changes nothing when a
     * reference is dangling. Pushes synchronously to every open watch of the group (java-control-plane's design).
     */
    public void serve(long revision, GroupResources resources) {
        serve(revision, resources, Optional.empty());
    }

    /** A revision being served now, and since when (System.nanoTime): what {@link XdsWatchdog} bounds. */
    public record InFlight(long revision, String group, long sinceNanos) {}

    /** By thread: a serve waits for this object's lock, so a wedged one shows here while it waits. */
    private final Map<Thread, InFlight> serving = new ConcurrentHashMap<>();

    /** The serve waiting or running longest, if one is. */
    public Optional<InFlight> oldestServe() {
        return serving.values().stream().min(java.util.Comparator.comparingLong(InFlight::sinceNanos));
    }

    private boolean begin(long revision, String group) {
        return serving.putIfAbsent(Thread.currentThread(), new InFlight(revision, group, System.nanoTime())) == null;
    }

    private void end(boolean began) {
        if (began) {
            serving.remove(Thread.currentThread());
        }
    }

    /**
     * Same, remembering the group's configuration slice so the next publish can compare without a read.
     *
     * <p>Removals in two steps (review 4, R4-14): clusters the group served and {@code resources} drop stay served
     * (with their load assignments) until every connected node of the group has ACKed the new routes, which no longer
     * name them ({@link #settle}). Clients answer CDS before RDS (java-control-plane's order), so dropping them at
     * once would leave Envoy's old routes naming a cluster it no longer has: 503 {@code NC} until the routes land
     * (envoyproxy/envoy {@code docs/root/api-docs/xds_protocol.rst}, "Eventual consistency considerations").
     */
    public void serve(long revision, GroupResources resources, Optional<io.meshguard.xds.model.GatewayConfig> slice) {
        boolean began = begin(revision, resources.group());
        try {
            serveBridged(revision, resources, slice);
        } finally {
            end(began);
        }
    }

    private synchronized void serveBridged(
            long revision, GroupResources resources, Optional<io.meshguard.xds.model.GatewayConfig> slice) {
        // without routes nothing can name a removed cluster (an explicit withdrawal empties the group at once)
        GroupResources bridged = resources.routes().isEmpty()
                ? resources
                : served(resources.group())
                        .map(previous -> withRetiring(previous.resources(), resources))
                        .orElse(resources);
        if (bridged == resources) {
            retiring.remove(resources.group());
        } else {
            retiring.put(
                    resources.group(), new Retiring(revision, TypeVersions.hash(resources.routes()), resources, slice));
        }
        serveExactly(revision, bridged, slice);
    }

    /**
     * Drops the clusters a revision removed once every connected node of their group that has routes ACKed the new
     * ones (or none is connected): called after each change of a node's status and after each publish.
     */
    public void settle(String group, java.util.function.Supplier<List<NodeStatus>> nodes) {
        Retiring r = retiring.get(group);
        if (r == null) {
            return;
        }
        // a node that never accepted routes (e.g. it NACKs the listeners) cannot route to a removed cluster
        boolean everyNodeHasTheRoutes = nodes.get().stream()
                .filter(n -> n.group().equals(group) && n.connected())
                .allMatch(n -> routesAcked(n).map(r.routesVersion()::equals).orElse(true));
        if (!everyNodeHasTheRoutes || stillNamed(group, r)) {
            return;
        }
        boolean began = begin(r.revision(), group);
        try {
            synchronized (this) {
                if (retiring.remove(group, r)) {
                    serveExactly(r.revision(), r.resources(), r.slice());
                }
            }
        } finally {
            end(began);
        }
    }

    /** Whether a client of the group still names a cluster the retiring revision drops (a later ACK settles it). */
    private boolean stillNamed(String group, Retiring r) {
        java.util.Set<String> kept = new java.util.HashSet<>();
        r.resources().clusters().forEach(c -> kept.add(c.getName()));
        return served(group).stream()
                .flatMap(s -> s.resources().clusters().stream())
                .map(io.envoyproxy.envoy.config.cluster.v3.Cluster::getName)
                .anyMatch(name -> !kept.contains(name) && subscriptions.named(group, name));
    }

    /**
     * The route version a node routes with: its VHDS ACK when it takes virtual hosts from there (its route table
     * shell is ACKed first and says nothing about them), else its RDS ACK.
     */
    private static Optional<String> routesAcked(NodeStatus n) {
        String vhds = n.ackedVersions().get(VirtualHostDiscovery.TYPE_URL);
        return Optional.ofNullable(
                vhds != null
                        ? vhds
                        : n.ackedVersions().get(io.envoyproxy.controlplane.cache.Resources.V3.ROUTE_TYPE_URL));
    }

    /** The clusters (and load assignments) of {@code previous} that {@code next} drops, still being retired. */
    private static GroupResources withRetiring(GroupResources previous, GroupResources next) {
        java.util.Set<String> kept = new java.util.HashSet<>();
        next.clusters().forEach(c -> kept.add(c.getName()));
        List<io.envoyproxy.envoy.config.cluster.v3.Cluster> dropped = previous.clusters().stream()
                .filter(c -> !kept.contains(c.getName()))
                .toList();
        if (dropped.isEmpty()) {
            return next;
        }
        java.util.Set<String> keptAssignments = new java.util.HashSet<>();
        next.endpoints().forEach(e -> keptAssignments.add(e.getClusterName()));
        java.util.Set<String> droppedNames = new java.util.HashSet<>();
        dropped.forEach(c -> droppedNames.add(c.getName()));
        List<io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment> droppedAssignments =
                previous.endpoints().stream()
                        .filter(e -> droppedNames.contains(e.getClusterName())
                                && !keptAssignments.contains(e.getClusterName()))
                        .toList();
        List<io.envoyproxy.envoy.config.cluster.v3.Cluster> clusters = new java.util.ArrayList<>(next.clusters());
        clusters.addAll(dropped);
        List<io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment> endpoints =
                new java.util.ArrayList<>(next.endpoints());
        endpoints.addAll(droppedAssignments);
        clusters.sort(java.util.Comparator.comparing(io.envoyproxy.envoy.config.cluster.v3.Cluster::getName));
        endpoints.sort(java.util.Comparator.comparing(
                io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment::getClusterName));
        return new GroupResources(next.group(), next.listeners(), next.routes(), clusters, endpoints);
    }

    private synchronized void serveExactly(
            long revision, GroupResources resources, Optional<io.meshguard.xds.model.GatewayConfig> slice) {
        List<String> dangling = ReferenceCheck.danglingReferences(resources);
        if (!dangling.isEmpty()) {
            throw new IllegalStateException("group " + resources.group() + ": " + String.join("; ", dangling));
        }
        String group = resources.group();
        TypeVersions v = served(group)
                .map(before -> TypeVersions.of(resources, before.resources(), before.versions()))
                .orElseGet(() -> TypeVersions.of(resources));
        SnapshotResources<Cluster> clusters = indexed(group + "/cds", resources.clusters(), v.clusters());
        SnapshotResources<ClusterLoadAssignment> endpoints =
                indexed(group + "/eds", resources.endpoints(), v.endpoints());
        Snapshot snapshot = new SharedSnapshot(
                clusters,
                endpoints,
                indexed(group + "/lds", resources.listeners(), v.listeners()),
                indexed(group + "/rds", resources.routes(), v.routes()));
        // Envoy nodes: the same versions (their ACKs name the group's revision), without the proxyless api_listeners;
        // with VHDS, route table shells versioned on their own (a virtual host's change moves no shell, so it sends no
        // RDS response to each node, nor takes its ACK) and the virtual hosts over VHDS once the node has the clusters
        Optional<VirtualHostTables> split =
                virtualHosts.map(h -> VirtualHostTables.split(resources.routes(), h.controllerCluster()));
        Optional<String> shellsVersion = split.map(t -> TypeVersions.hash(t.shells()));
        Snapshot forEnvoy = new SharedSnapshot(
                clusters,
                endpoints,
                indexed(
                        group + "/lds/envoy",
                        resources.listeners().stream()
                                .filter(l -> !l.hasApiListener())
                                .toList(),
                        v.listeners()),
                indexed(
                        group + "/rds/envoy",
                        split.map(VirtualHostTables::shells).orElse(resources.routes()),
                        shellsVersion.orElse(v.routes())));
        // proxyless clients without ext_authz: the same versions too (their variant is a function of the group's
        // resources, so it changes only when they do), required-ext_authz listeners failing fast
        GroupResources failFast = FailFastListeners.of(resources);
        Snapshot withoutExtAuthz = new SharedSnapshot(
                clusters,
                endpoints,
                indexed(group + "/lds/without-ext-authz", failFast.listeners(), v.listeners()),
                indexed(group + "/rds/without-ext-authz", failFast.routes(), v.routes()));
        served.put(resources.group(), new Served(revision, v, resources, slice));
        List<Past> before = history.getOrDefault(resources.group(), List.of());
        List<Past> past = new java.util.ArrayList<>(Math.min(HISTORY, before.size() + 1));
        past.add(new Past(revision, v, shellsVersion));
        past.addAll(before.subList(0, Math.min(HISTORY - 1, before.size())));
        history.put(resources.group(), List.copyOf(past));
        cache.setSnapshot(NodeGroupMapper.envoyKey(resources.group()), forEnvoy);
        cache.setSnapshot(NodeGroupMapper.withoutExtAuthzKey(resources.group()), withoutExtAuthz);
        cache.setSnapshot(resources.group(), snapshot);
        // the discovery takes the table here, in serve order, and pushes it to its streams on its own thread: no
        // stream's lock is ever taken under this object's
        split.ifPresent(
                t -> virtualHosts.get().discovery().serve(resources.group(), revision, v.routes(), v.clusters(), t));
    }

    /**
     * One type's resources as java-control-plane's cache indexes them: the index made before when the list holds the
     * same instances under the same version, as a publish's unchanged types do (a group's thousand clusters and load
     * assignments when a route changed), else made now. Called under this object's lock.
     */
    @SuppressWarnings("unchecked") // each key holds one resource type
    private <T extends Message> SnapshotResources<T> indexed(String key, List<T> resources, String version) {
        Indexed<?> known = indexes.get(key);
        if (known != null
                && known.version().equals(version)
                && ChangedPlaces.sameInstances(known.resources(), resources)) {
            return (SnapshotResources<T>) known.index();
        }
        SnapshotResources<T> index = SnapshotResources.create(resources, version);
        indexes.put(key, new Indexed<>(resources, version, index));
        return index;
    }

    private record Indexed<T extends Message>(List<T> resources, String version, SnapshotResources<T> index) {}

    /** By group, type and variant (see {@link #indexed}). */
    private final Map<String, Indexed<?>> indexes = new java.util.HashMap<>();

    public Optional<Served> served(String group) {
        return Optional.ofNullable(served.get(group));
    }

    public java.util.Set<String> groups() {
        return java.util.Set.copyOf(served.keySet());
    }

    /**
     * The newest revision whose versions match every type the node ACKed (grpc clients subscribe to all four types,
     * Envoy too), empty when the node runs something this replica has not served recently.
     */
    public Optional<Long> revisionOf(String group, Map<String, String> acked) {
        List<Past> past = history.getOrDefault(group, List.of());
        if (acked.isEmpty()) {
            return Optional.empty();
        }
        for (Past p : past) {
            boolean all = acked.entrySet().stream().allMatch(e -> p.matches(e.getKey(), e.getValue()));
            if (all) {
                return Optional.of(p.revision());
            }
        }
        return Optional.empty();
    }

    SimpleCache<String> cache() {
        return cache;
    }
}
