package io.meshguard.xds.server;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.envoyproxy.envoy.service.route.v3.VirtualHostDiscoveryServiceGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.meshguard.contract.peer.ClientText;
import io.meshguard.xds.snapshot.VirtualHostTables;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * VHDS, {@code envoy.service.route.v3.VirtualHostDiscoveryService/DeltaVirtualHosts}: each Envoy node's
 * virtual hosts as delta resources, so a publish sends a node the virtual hosts it changed and nothing else.
 *
 * <p>Envoy's first request subscribes to nothing by name, a legacy wildcard: its VHDS subscription watches the table's
 * name as a namespace, which the delta mux keeps off the wire ({@code source/common/router/vhds.cc},
 * {@code NewGrpcMuxImpl::updateWatch}; envoyproxy/envoy {@code test/integration/vhds_integration_test.cc} expects an
 * empty first request) and keeps the resources named {@code <table>/…}. Such a stream gets the virtual hosts of every
 * Envoy table of its group; a stream that names a table gets that table's. Then each changed virtual host and the
 * names of removed ones. A name {@code <table>/<host>} asks for the virtual host serving that Host (on demand): it is
 * answered with that host's resource carrying the name as an alias, or with the name and alias alone when no virtual
 * host serves it (vhds.rst). Every response carries the group's route version as {@code system_version_info}, also
 * when no virtual host of the stream's tables changed, so the node's ACK says which revision it routes with
 * ({@link Fleet}).
 *
 * <p>A new cluster must reach a node before a virtual host naming it: Envoy's tables set {@code validate_clusters},
 * and the ADS and VHDS streams are not ordered against each other. A push whose virtual hosts name only clusters
 * that those the node last accepted on this stream named goes at once: the node held them then, and a cluster stays
 * served while a node's routes name it. Any other push waits until the node's ADS stream on this replica has answered
 * the served cluster version ({@link #nodeChanged}), for at most {@link #CLUSTERS_WAIT}: a stream that reconnected
 * before the node's ADS stream did (each stream keeps its own retry back-off), or whose ADS stream went to another
 * replica, is held as long, not pushed at once; after that it is sent, and a NACK (a cluster not there yet) is
 * followed by a resend after a back-off (1 s doubling to 30 s) while the node lacks what is served.
 */
public final class VirtualHostDiscovery extends VirtualHostDiscoveryServiceGrpc.VirtualHostDiscoveryServiceImplBase {
    private static final Logger log = LoggerFactory.getLogger(VirtualHostDiscovery.class);

    public static final String TYPE_URL = "type.googleapis.com/envoy.config.route.v3.VirtualHost";
    private static final String CDS = io.envoyproxy.controlplane.cache.Resources.V3.CLUSTER_TYPE_URL;
    private static final String TYPE = "VirtualHost";
    private static final long RETRY_INITIAL_MS = 1_000;
    private static final long RETRY_MAX_MS = 30_000;
    private static final int NONCES_KEPT = 16;
    /**
     * Longest a push waits for the node's answer to the served clusters on this replica. A connected Envoy answers CDS
     * within a second, but after a controller restart its ADS and VHDS streams come back each after its own retry
     * back-off, which grows to 30 s ({@code SubscriptionFactory::RetryMaxDelayMs}, jittered): the VHDS stream may be
     * back that long before the ADS stream. Found in the cluster in a box with a 5 s bound: pushed after 5 s, the
     * virtual hosts named a cluster the gateway's CDS did not hold yet, and every resend was NACKed until its ADS
     * stream returned.
     */
    public static final Duration CLUSTERS_WAIT = Duration.ofSeconds(35);
    /** Names one stream may hold or ask for: every virtual host of a large group, and then some. */
    static final int MAX_NAMES = 20_000;

    /**
     * What a group serves over VHDS: its tables' virtual hosts, each packed once for every stream, and what changed
     * since the table served before ({@code from}), which is all a stream in step with that one is sent.
     */
    private record Table(
            long seq,
            long from,
            String routesVersion,
            String clustersVersion,
            Map<String, Map<String, Resource>> hosts,
            Map<String, Resource> changed,
            List<String> removed,
            Map<String, Set<String>> clustersOfHost,
            Map<String, Set<String>> clustersOfTable,
            Set<String> clustersOfAll) {

        /**
         * The clusters the virtual hosts of the tables a stream follows name (every table's for a wildcard): the
         * table's own set, the same instance from table to table while it does not change, so the check of each of
         * a publish's streams is one comparison.
         */
        Set<String> clustersNamed(boolean wildcard, Set<String> tablesFollowed) {
            if (wildcard) {
                return clustersOfAll;
            }
            if (tablesFollowed.size() == 1) {
                return clustersOfTable.getOrDefault(tablesFollowed.iterator().next(), Set.of());
            }
            Set<String> named = new HashSet<>();
            tablesFollowed.forEach(table -> named.addAll(clustersOfTable.getOrDefault(table, Set.of())));
            return named;
        }
    }

    private final long clustersWaitMs;
    private final Fleet fleet;
    private final NodeGroupMapper groups;
    private final MeterRegistry meters;
    private final Map<String, Table> tables = new ConcurrentHashMap<>();
    private final Set<Stream> streams = ConcurrentHashMap.newKeySet();
    private final Map<NodeStatus.Key, Set<Stream>> byNode = new ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong sequence = new java.util.concurrent.atomic.AtomicLong();
    private final NackEpisodes refusals = new NackEpisodes(log);
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("vhds-retry").daemon().factory());

    /** @param clustersWait how long a push waits at most for the node's answer to the served clusters */
    public VirtualHostDiscovery(Fleet fleet, NodeGroupMapper groups, MeterRegistry meters, Duration clustersWait) {
        this.clustersWaitMs = clustersWait.toMillis();
        this.fleet = fleet;
        this.groups = groups;
        this.meters = meters;
        for (String name :
                List.of("meshguard_xds_nacks_total", "meshguard_xds_acks_total", "meshguard_xds_responses_total")) {
            AdsStreams.counter(meters, name, TYPE);
        }
    }

    /** Serves a group's virtual hosts and pushes what changed to its streams (after their node has the clusters). */
    public void serve(String group, long revision, String routesVersion, String clustersVersion, VirtualHostTables t) {
        Table previous = tables.get(group);
        Map<String, Map<String, Resource>> hosts = new LinkedHashMap<>();
        Map<String, Resource> changed = new LinkedHashMap<>();
        List<String> removed = new ArrayList<>();
        Map<String, Set<String>> clustersOfHost = new HashMap<>();
        Map<String, Set<String>> clustersOfTable = new LinkedHashMap<>();
        t.hosts().forEach((table, byName) -> {
            Map<String, Resource> resources = new LinkedHashMap<>();
            Map<String, Resource> before =
                    previous == null ? Map.of() : previous.hosts().getOrDefault(table, Map.of());
            Set<String> tableClusters = new HashSet<>();
            byName.forEach((name, host) -> {
                Resource old = before.get(name);
                Set<String> clusters = old != null && old.getVersion().equals(host.version())
                        ? previous.clustersOfHost().get(name)
                        : ReferenceCheck.clustersOf(host.host());
                clustersOfHost.put(name, clusters);
                tableClusters.addAll(clusters);
                if (old != null && old.getVersion().equals(host.version())) {
                    resources.put(name, old);
                } else {
                    Resource r = Resource.newBuilder()
                            .setName(name)
                            .setVersion(host.version())
                            .setResource(Any.pack(host.host()))
                            .build();
                    resources.put(name, r);
                    changed.put(name, r);
                }
            });
            before.keySet().stream().filter(n -> !byName.containsKey(n)).forEach(removed::add);
            hosts.put(table, resources);
            Set<String> known =
                    previous == null ? null : previous.clustersOfTable().get(table);
            clustersOfTable.put(table, tableClusters.equals(known) ? known : Set.copyOf(tableClusters));
        });
        Set<String> all = new HashSet<>();
        clustersOfTable.values().forEach(all::addAll);
        if (previous != null) {
            previous.hosts().forEach((table, before) -> {
                if (!t.hosts().containsKey(table)) {
                    removed.addAll(before.keySet());
                }
            });
        }
        tables.put(
                group,
                new Table(
                        sequence.incrementAndGet(),
                        previous == null ? -1 : previous.seq(),
                        routesVersion,
                        clustersVersion,
                        hosts,
                        changed,
                        removed,
                        clustersOfHost,
                        clustersOfTable,
                        previous != null && all.equals(previous.clustersOfAll())
                                ? previous.clustersOfAll()
                                : Set.copyOf(all)));
        // called under the snapshots' lock: the streams are pushed on this discovery's own thread, never under it
        retries.execute(() -> {
            for (Stream s : streams) {
                if (group.equals(s.group)) {
                    s.push();
                }
            }
        });
    }

    /** The thread that pushes to the streams and times their back-off, for {@link XdsWatchdog}'s probe. */
    java.util.concurrent.Executor pusher() {
        return retries;
    }

    /**
     * Closes the streams whose gRPC flow control has refused writes for longer than {@code bound} (a node that stopped
     * reading): their node reconnects and is sent what it lacks. Returns how many it closed.
     */
    int closeUnwritable(Duration bound) {
        long now = System.nanoTime();
        int closed = 0;
        for (Stream s : streams) {
            long since = s.unwritableSince;
            if (since != 0 && now - since > bound.toNanos() && !s.writable()) {
                s.failUnwritable(bound);
                closed++;
            }
        }
        return closed;
    }

    /** A node's status changed (e.g. it ACKed new clusters): the pushes held for it may go now. */
    public void nodeChanged(NodeStatus status) {
        for (Stream s : byNode.getOrDefault(status.key(), Set.of())) {
            if (s.held) {
                retries.execute(s::push);
            }
        }
    }

    @Override
    public StreamObserver<DeltaDiscoveryRequest> deltaVirtualHosts(StreamObserver<DeltaDiscoveryResponse> out) {
        Stream s = new Stream(out);
        if (out instanceof io.grpc.stub.ServerCallStreamObserver<DeltaDiscoveryResponse> call) {
            call.setOnReadyHandler(() -> s.unwritableSince = 0);
        }
        streams.add(s);
        return s;
    }

    /**
     * One node's VHDS stream; its state changes run under its lock (the gRPC observer is not thread-safe), and what
     * it tells the {@link Fleet} is told after the lock is released ({@link #deferred}): a stream's lock is a leaf.
     */
    private final class Stream implements StreamObserver<DeltaDiscoveryRequest> {
        private final StreamObserver<DeltaDiscoveryResponse> out;
        /** Calls into the fleet made while the lock was held, run once it is released. */
        private final List<Runnable> deferred = new ArrayList<>();
        /** Since when gRPC flow control refuses writes (System.nanoTime), 0 while it takes them. */
        private volatile long unwritableSince;

        private volatile NodeStatus.Key key;
        private volatile String group;
        private final Set<String> tablesSubscribed = new HashSet<>();
        /** Every table of the group: a first request naming nothing, or {@code *} (delta xDS wildcard). */
        private boolean wildcard;
        /** On-demand names ({@code <table>/<host>}) and the version of the answer the node has, "" before one. */
        private final Map<String, String> aliases = new HashMap<>();
        /** Resource name → the version the node has or is being sent. */
        private final Map<String, String> known = new HashMap<>();

        private final Map<String, Sent> sent = new LinkedHashMap<>();
        private String versionSent = "";
        private long nonces;
        /** The table this stream's node is in step with (nothing pending, no on-demand names), -1 when not. */
        private long inStep = -1;
        /** Waiting for its node to answer a cluster version, so a change of the node's status re-tries it. */
        private volatile boolean held;

        private long retryMs = RETRY_INITIAL_MS;
        private boolean retryScheduled;
        private boolean closed;
        /** When the push began waiting for the node's clusters ({@link System#nanoTime}); -1 while none waits. */
        private long waitingSince = -1;
        /** The clusters the virtual hosts the node last accepted on this stream name: it held them then. */
        private Set<String> clustersAccepted = Set.of();

        /** A response awaiting its answer, and the clusters its node holds once it accepts it. */
        private record Sent(String version, List<String> names, List<String> removed, Set<String> clusters) {}

        Stream(StreamObserver<DeltaDiscoveryResponse> out) {
            this.out = out;
        }

        @Override
        public void onNext(DeltaDiscoveryRequest request) {
            synchronized (this) {
                take(request);
            }
            runDeferred();
        }

        private void runDeferred() {
            List<Runnable> calls;
            synchronized (this) {
                if (deferred.isEmpty()) {
                    return;
                }
                calls = List.copyOf(deferred);
                deferred.clear();
            }
            calls.forEach(Runnable::run);
        }

        boolean writable() {
            return !(out instanceof io.grpc.stub.ServerCallStreamObserver<DeltaDiscoveryResponse> call)
                    || call.isReady();
        }

        void failUnwritable(Duration bound) {
            synchronized (this) {
                if (!closed) {
                    fail(Status.UNAVAILABLE.withDescription(
                            "the stream took no response for " + bound.toSeconds() + " s; reconnect"));
                }
            }
            runDeferred();
        }

        private void take(DeltaDiscoveryRequest request) {
            if (closed) {
                return;
            }
            if (!request.getTypeUrl().equals(TYPE_URL)) {
                fail(Status.INVALID_ARGUMENT.withDescription("this stream serves " + TYPE_URL + " only, not "
                        + ClientText.escape(request.getTypeUrl(), 200)));
                return;
            }
            if (key == null) {
                if (!request.hasNode()) {
                    fail(Status.INVALID_ARGUMENT.withDescription("the first request of a VHDS stream names its node"));
                    return;
                }
                Node node = request.getNode();
                key = new NodeStatus.Key(AdsPeerInterceptor.verifiedPeer(node), node.getId());
                group = groups.group(node);
                byNode.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(this);
                NodeStatus.Key k = key;
                String g = group;
                String agent = (node.getUserAgentName() + " " + node.getUserAgentVersion()).trim();
                deferred.add(() -> fleet.streamOpened(k, g, agent));
            }
            boolean refused = false;
            if (!request.getResponseNonce().isEmpty()) {
                refused = answered(request);
            } else if (request.getResourceNamesSubscribeCount() == 0 && !subscribed()) {
                wildcard = true;
            }
            if (request.getResourceNamesSubscribeCount() > 0 || request.getResourceNamesUnsubscribeCount() > 0) {
                inStep = -1;
            }
            // a reconnecting client names what it holds: only what differs from that is sent again
            known.putAll(request.getInitialResourceVersionsMap());
            if (known.size() + tablesSubscribed.size() + aliases.size() + request.getResourceNamesSubscribeCount()
                    > MAX_NAMES) {
                // no gateway holds or asks for this many (one per virtual host, and meshguard configures no
                // on-demand filter): a client that does would make every push walk them
                fail(Status.RESOURCE_EXHAUSTED.withDescription(
                        "more than " + MAX_NAMES + " virtual host names on one VHDS stream"));
                return;
            }
            for (String name : request.getResourceNamesSubscribeList()) {
                if (name.equals("*")) {
                    wildcard = true;
                } else if (isTable(name)) {
                    tablesSubscribed.add(name);
                } else {
                    aliases.putIfAbsent(name, "");
                }
            }
            for (String name : request.getResourceNamesUnsubscribeList()) {
                wildcard &= !name.equals("*");
                tablesSubscribed.remove(name);
                aliases.remove(name);
                known.keySet().removeIf(n -> n.equals(name) || n.startsWith(name + "/"));
            }
            // a NACK is answered by the back-off's resend (scheduleRetry), never at once: Envoy re-requests
            // immediately, and an immediate resend of what it refused is a storm
            if (!refused
                    || request.getResourceNamesSubscribeCount() > 0
                    || request.getResourceNamesUnsubscribeCount() > 0) {
                push();
            }
        }

        private boolean subscribed() {
            return wildcard || !tablesSubscribed.isEmpty() || !aliases.isEmpty();
        }

        /** A table's own name, or an on-demand {@code <table>/<host>} (split at the last slash: vhds.rst). */
        private boolean isTable(String name) {
            Table t = tables.get(group);
            return (t != null && t.hosts().containsKey(name)) || name.indexOf('/') < 0;
        }

        /** Takes the node's answer to a response; whether it was a NACK. */
        private boolean answered(DeltaDiscoveryRequest request) {
            Sent s = sent.remove(request.getResponseNonce());
            if (s == null) {
                // a nonce this stream never sent or already answered: accepts nothing (a NACK of it is resent by the
                // back-off already running, if any)
                return request.hasErrorDetail();
            }
            NodeStatus.Key k = key;
            String g = group;
            if (request.hasErrorDetail()) {
                String error = request.getErrorDetail().getMessage();
                AdsStreams.counter(meters, "meshguard_xds_nacks_total", TYPE).increment();
                refusals.refused(k, TYPE, g, s.version(), error);
                deferred.add(() -> fleet.nacked(k, g, TYPE_URL, s.version(), error));
                // the node kept what it had: forget what that response sent, so it goes again, and remember what it
                // removed as still held, so it is removed again
                s.names().forEach(known::remove);
                s.removed().forEach(n -> known.put(n, ""));
                versionSent = "";
                inStep = -1;
                scheduleRetry();
                return true;
            }
            AdsStreams.counter(meters, "meshguard_xds_acks_total", TYPE).increment();
            refusals.accepted(k, TYPE, g);
            retryMs = RETRY_INITIAL_MS;
            clustersAccepted = s.clusters();
            deferred.add(() -> fleet.acked(k, g, TYPE_URL, s.version()));
            return false;
        }

        private void scheduleRetry() {
            if (retryScheduled) {
                return;
            }
            retryScheduled = true;
            long delay = retryMs;
            retryMs = Math.min(RETRY_MAX_MS, retryMs * 2);
            retries.schedule(
                    () -> {
                        synchronized (this) {
                            retryScheduled = false;
                        }
                        push();
                    },
                    delay,
                    TimeUnit.MILLISECONDS);
        }

        /** Sends what the node lacks of its group's served tables, once the node has their clusters. */
        synchronized void push() {
            Table t = group == null ? null : tables.get(group);
            held = t != null && !clustersHeld(t) && !clustersAnswered(t) && !waitedLongEnough();
            if (!held) {
                waitingSince = -1;
            }
            if (closed || t == null || !subscribed() || held) {
                return;
            }
            if (inStep == t.from() && aliases.isEmpty()) {
                sendChanged(t);
            } else {
                sendDifference(t);
            }
            inStep = t.seq();
        }

        /** O(change): a node in step with the table served before gets what changed since, of what it follows. */
        private void sendChanged(Table t) {
            Map<String, Resource.Builder> resources = new LinkedHashMap<>();
            t.changed().forEach((name, r) -> {
                if (follows(name)) {
                    resources.put(name, r.toBuilder());
                }
            });
            List<String> removed = new ArrayList<>();
            for (String name : t.removed()) {
                if (known.remove(name) != null) {
                    removed.add(name);
                }
            }
            respond(t, resources, removed);
        }

        /** Everything the node lacks or holds in vain, name by name (on connect, after a NACK, on demand). */
        private void sendDifference(Table t) {
            Map<String, Resource> target = new LinkedHashMap<>();
            for (Map.Entry<String, Map<String, Resource>> table : t.hosts().entrySet()) {
                if (wildcard || tablesSubscribed.contains(table.getKey())) {
                    target.putAll(table.getValue());
                }
            }
            Map<String, Resource.Builder> resources = new LinkedHashMap<>();
            target.forEach((name, r) -> {
                if (!r.getVersion().equals(known.get(name))) {
                    resources.put(name, r.toBuilder());
                }
            });
            List<String> removed = new ArrayList<>();
            for (String name : List.copyOf(known.keySet())) {
                if (follows(name) && !target.containsKey(name) && !aliases.containsKey(name)) {
                    removed.add(name);
                    known.remove(name);
                }
            }
            for (Map.Entry<String, String> alias : aliases.entrySet()) {
                Optional<Resource> host = resolve(t, alias.getKey());
                String version = host.map(Resource::getVersion).orElse("-");
                if (version.equals(alias.getValue())) {
                    continue;
                }
                alias.setValue(version);
                if (host.isPresent()) {
                    resources
                            .computeIfAbsent(host.get().getName(), n -> host.get().toBuilder())
                            .addAliases(alias.getKey());
                } else {
                    resources.put(
                            alias.getKey(),
                            Resource.newBuilder().setName(alias.getKey()).addAliases(alias.getKey()));
                }
            }
            respond(t, resources, removed);
        }

        private boolean follows(String name) {
            return wildcard || tablesSubscribed.contains(name.substring(0, Math.max(0, name.lastIndexOf('/'))));
        }

        private void respond(Table t, Map<String, Resource.Builder> resources, List<String> removed) {
            if (resources.isEmpty() && removed.isEmpty() && t.routesVersion().equals(versionSent)) {
                return;
            }
            String nonce = Long.toString(++nonces);
            DeltaDiscoveryResponse.Builder response = DeltaDiscoveryResponse.newBuilder()
                    .setTypeUrl(TYPE_URL)
                    .setSystemVersionInfo(t.routesVersion())
                    .setNonce(nonce)
                    .addAllRemovedResources(removed);
            resources.values().forEach(r -> response.addResources(r));
            resources.forEach((name, r) -> known.put(name, r.getVersion()));
            versionSent = t.routesVersion();
            sent.put(
                    nonce,
                    new Sent(
                            t.routesVersion(),
                            List.copyOf(resources.keySet()),
                            List.copyOf(removed),
                            t.clustersNamed(wildcard, tablesSubscribed)));
            if (sent.size() > NONCES_KEPT) {
                // a client answers the latest nonce; older unanswered ones are stale anyway
                sent.remove(sent.keySet().iterator().next());
            }
            DeltaDiscoveryResponse built = response.build();
            out.onNext(built);
            if (unwritableSince == 0 && !writable()) {
                unwritableSince = Math.max(1, System.nanoTime());
            }
            AdsStreams.sent(meters, TYPE, built.getSerializedSize());
        }

        /**
         * Whether the table's virtual hosts that this stream follows name only clusters that those the node accepted
         * last named (an on-demand name may resolve into any table: never known ahead).
         */
        private boolean clustersHeld(Table t) {
            if (!aliases.isEmpty()) {
                return false;
            }
            Set<String> named = t.clustersNamed(wildcard, tablesSubscribed);
            return named == clustersAccepted || clustersAccepted.containsAll(named);
        }

        /**
         * Whether the node has answered, on this replica, the cluster version served with the table (ACK or NACK;
         * false also when this replica has not seen its ADS stream answer clusters at all).
         */
        private boolean clustersAnswered(Table t) {
            Optional<NodeStatus> node = fleet.node(key);
            return node.isPresent()
                    && (t.clustersVersion().equals(node.get().ackedVersions().get(CDS))
                            || node.get()
                                    .lastNack()
                                    .filter(x -> x.typeUrl().equals(CDS)
                                            && x.version().equals(t.clustersVersion()))
                                    .isPresent());
        }

        /** Whether this wait has lasted {@code clustersWaitMs}; the first call starts it and wakes the push then. */
        private boolean waitedLongEnough() {
            long now = System.nanoTime();
            if (waitingSince < 0) {
                waitingSince = now;
                retries.schedule(this::push, clustersWaitMs, TimeUnit.MILLISECONDS);
                return false;
            }
            if (now - waitingSince < TimeUnit.MILLISECONDS.toNanos(clustersWaitMs)) {
                return false;
            }
            log.info(
                    "VHDS push to node={} group={} without its clusters' answer on this replica after {} ms",
                    ClientText.escape(key.nodeId(), 256),
                    ClientText.escape(group, 128),
                    clustersWaitMs);
            return true;
        }

        @Override
        public void onError(Throwable t) {
            synchronized (this) {
                close();
            }
            runDeferred();
        }

        @Override
        public void onCompleted() {
            synchronized (this) {
                close();
                out.onCompleted();
            }
            runDeferred();
        }

        private void fail(Status status) {
            out.onError(status.asRuntimeException());
            close();
        }

        private synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            streams.remove(this);
            if (key != null) {
                byNode.computeIfPresent(key, (k, set) -> {
                    set.remove(this);
                    return set.isEmpty() ? null : set;
                });
            }
            if (key != null) {
                NodeStatus.Key k = key;
                String g = group;
                deferred.add(() -> fleet.streamClosed(k, g));
            }
        }
    }

    /**
     * The virtual host of {@code <table>/<host>} by Envoy's domain search order: exact, then the longest suffix
     * wildcard, the longest prefix wildcard, then {@code *} ({@code VirtualHost.domains}, route_components.proto);
     * the Host is matched with its port, then without.
     */
    static Optional<Resource> resolve(Table t, String alias) {
        int slash = alias.lastIndexOf('/');
        Map<String, Resource> hosts = t.hosts().getOrDefault(alias.substring(0, slash), Map.of());
        String host = alias.substring(slash + 1).toLowerCase(Locale.ROOT);
        Optional<Resource> found = match(hosts, host);
        int colon = host.lastIndexOf(':');
        if (found.isEmpty() && colon > 0 && host.indexOf(']') < colon) {
            found = match(hosts, host.substring(0, colon));
        }
        return found;
    }

    private static Optional<Resource> match(Map<String, Resource> hosts, String host) {
        Resource best = null;
        int bestRank = Integer.MAX_VALUE;
        int bestLength = -1;
        for (Resource r : hosts.values()) {
            VirtualHost vh = unpack(r);
            for (String d : vh.getDomainsList()) {
                String domain = d.toLowerCase(Locale.ROOT);
                int rank;
                if (domain.equals(host)) {
                    rank = 0;
                } else if (domain.startsWith("*")
                        && domain.length() > 1
                        && host.endsWith(domain.substring(1))
                        && host.length() > domain.length() - 1) {
                    rank = 1;
                } else if (domain.endsWith("*")
                        && domain.length() > 1
                        && host.startsWith(domain.substring(0, domain.length() - 1))
                        && host.length() > domain.length() - 1) {
                    rank = 2;
                } else if (domain.equals("*")) {
                    rank = 3;
                } else {
                    continue;
                }
                if (rank < bestRank || (rank == bestRank && domain.length() > bestLength)) {
                    best = r;
                    bestRank = rank;
                    bestLength = domain.length();
                }
            }
        }
        return Optional.ofNullable(best);
    }

    private static VirtualHost unpack(Resource r) {
        try {
            return r.getResource().unpack(VirtualHost.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException("a virtual host this replica packed", e);
        }
    }

    /** Stops the back-off timer; the streams end with the gRPC server. */
    public void close() {
        retries.shutdownNow();
    }
}
