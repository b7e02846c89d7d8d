package io.meshguard.emulator;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.envoy.validation.EnvoyValidator;
import io.meshguard.envoy.validation.Violation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * One Envoy node's ADS stream (state-of-the-world, {@code envoy.service.discovery.v3.AggregatedDiscoveryService}), as
 * Envoy runs it with the gateway bootstrap ({@code ads_config.set_node_on_first_message_only: true}, {@code lds_config}
 * and {@code cds_config} on ADS):
 * <ul>
 *   <li>CDS first (wildcard), then EDS for the EDS clusters it accepted, then LDS (wildcard) once clusters are
 *       initialised, then RDS for the route configurations its HTTP connection managers name
 *       (source/common/upstream/cluster_manager_impl.cc, source/common/listener_manager/lds_api.cc);</li>
 *   <li>the node only on the stream's first request;</li>
 *   <li>ACK: {@code version_info} = the response's version, {@code response_nonce} = its nonce; NACK: the last accepted
 *       version, the nonce, and {@code error_detail} (code INTERNAL, as
 *       source/extensions/config_subscription/grpc/grpc_mux_impl.cc sets it) — the resources of a NACKed response
 *       are not used;</li>
 *   <li>a stream that fails or closes is opened again after a jittered exponential back-off (500 ms doubling to
 *       30 s, the bounds of {@code SubscriptionFactory::RetryInitialDelayMs}/{@code RetryMaxDelayMs} in
 *       envoy/config/subscription_factory.h, jitter as {@code JitteredExponentialBackOffStrategy}); the new stream
 *       carries the node again and asks for every type it watches with the versions it last accepted and no nonce
 *       ({@code GrpcMuxImpl::onStreamEstablished}), so a controller that was not up yet or restarted is followed;</li>
 *   <li>listeners with an {@code api_listener} are skipped, as Envoy's listener manager skips them when they come
 *       over LDS ("can only be added via bootstrap configuration",
 *       source/common/listener_manager/listener_manager_impl.cc);</li>
 *   <li>every accepted resource first passes Envoy's load-time checks ({@link EnvoyValidator}: the
 *       protoc-gen-validate rules of the API, negative durations, header formats, regex size, as
 *       {@code MessageUtil::validate} and the route table's constructors run them); the first violation NACKs the
 *       whole response with Envoy's wording. {@link EnvoyRules} adds what those cannot express;</li>
 *   <li>a route configuration with {@code vhds} gets its virtual hosts over a {@link VhdsSubscription} too: its
 *       {@link #resources()} table is the RDS virtual hosts followed by the VHDS ones, served only once the first
 *       VHDS response is in (an init target); an RDS update keeps the VHDS virtual hosts, an unchanged one is a
 *       no-op (source/common/router/route_config_update_receiver_impl.cc).</li>
 * </ul>
 * Fields the emulator does not model ({@link ModelledFields}) are not a NACK (Envoy would accept them) but are
 * recorded as {@link #problems()}; the end-to-end tests fail on any.
 */
public final class AdsSubscription implements AutoCloseable {
    private final ManagedChannel channel;
    private final EnvoyNode node;
    private final List<String> nacks = new CopyOnWriteArrayList<>();
    private final List<String> unmodelled = new CopyOnWriteArrayList<>();
    private final java.util.Deque<XdsResources> acceptedStates = new java.util.concurrent.ConcurrentLinkedDeque<>();
    private final Map<String, String> nonces = new HashMap<>();
    private final Map<String, List<String>> subscribed = new HashMap<>();
    static final long RETRY_INITIAL_MS = 500;
    static final long RETRY_MAX_MS = 30_000;
    /** Schedules stream retries (and VHDS's initial fetch timeouts). */
    static final java.util.concurrent.ScheduledExecutorService RETRIES =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "ads-stream-retry");
                t.setDaemon(true);
                return t;
            });

    private final java.util.SplittableRandom jitter = new java.util.SplittableRandom();
    private StreamObserver<DiscoveryRequest> requests;
    private boolean nodeSent;
    private boolean closed;
    private long retryMs = RETRY_INITIAL_MS;
    private int streams;
    private volatile XdsResources state = XdsResources.empty();
    private volatile Throwable streamError;
    private volatile List<String> ignoredListeners = List.of();
    private int accepted;
    /** The route configurations as RDS delivered them (RouteConfigUpdateReceiverImpl's RDS side). */
    private final Map<String, RouteConfiguration> rdsReceived = new HashMap<>();
    /** Per route configuration, its VHDS virtual hosts by name (vhds_virtual_hosts_: outlives a subscription). */
    private final Map<String, Map<String, VirtualHost>> vhdsHosts = new HashMap<>();
    /** The VHDS subscriptions of the route configurations that ask for one. */
    private final Map<String, VhdsSubscription> vhds = new HashMap<>();
    /** Route configurations whose first load finished (VHDS, an init target of that load, included). */
    private final java.util.Set<String> served = new java.util.HashSet<>();

    private final VhdsSubscription.Receiver vhdsReceiver = new VhdsSubscription.Receiver() {
        @Override
        public java.util.Optional<String> onVhdsUpdate(
                String routeConfigName, List<VirtualHost> added, List<String> removed, String systemVersion) {
            return applyVhds(routeConfigName, added, removed, systemVersion);
        }

        @Override
        public void onVhdsInitDone(String routeConfigName) {
            vhdsInitDone(routeConfigName);
        }

        @Override
        public void onVhdsNack(String detail) {
            nacks.add(detail);
        }
    };

    private AdsSubscription(ManagedChannel channel, EnvoyNode node) {
        this.channel = channel;
        this.node = node;
    }

    /** Opens the stream to the controller at {@code host:port} and subscribes to CDS. */
    public static AdsSubscription connect(String host, int port, EnvoyNode node) {
        ManagedChannel channel =
                ManagedChannelBuilder.forAddress(host, port).usePlaintext().build();
        AdsSubscription ads = new AdsSubscription(channel, node);
        ads.start();
        return ads;
    }

    private synchronized void start() {
        int stream = ++streams;
        nodeSent = false;
        nonces.clear();
        requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
            @Override
            public void onNext(DiscoveryResponse response) {
                receive(stream, response);
            }

            @Override
            public void onError(Throwable t) {
                streamEnded(stream, t);
            }

            @Override
            public void onCompleted() {
                streamEnded(stream, new IllegalStateException("the controller closed the ADS stream"));
            }
        });
        if (subscribed.isEmpty()) {
            subscribe(XdsResources.CDS, List.of());
        } else {
            // a new stream: every watched type again, with the version last accepted and no nonce
            for (String type : List.of(XdsResources.CDS, XdsResources.EDS, XdsResources.LDS, XdsResources.RDS)) {
                if (subscribed.containsKey(type)) {
                    subscribe(type, subscribed.get(type));
                }
            }
        }
    }

    /** The stream ended: remember why (for {@link #await}) and open a new one after the back-off. */
    private synchronized void streamEnded(int stream, Throwable why) {
        if (stream != streams) {
            return;
        }
        streamError = why;
        requests = null;
        notifyAll();
        if (closed) {
            return;
        }
        long delay = jitter.nextLong(retryMs) + 1;
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
        RETRIES.schedule(this::reopen, delay, TimeUnit.MILLISECONDS);
    }

    private synchronized void reopen() {
        if (!closed && requests == null) {
            start();
        }
    }

    /** Why the stream ended, once it has (a real Envoy then opens a new one, with back-off). */
    public java.util.Optional<Throwable> streamError() {
        return java.util.Optional.ofNullable(streamError);
    }

    /** The resources accepted so far. */
    public XdsResources resources() {
        return state;
    }

    /** NACKs sent (each with its error detail) and fields received that the emulator does not model. */
    public List<String> problems() {
        List<String> all = new ArrayList<>();
        nacks.forEach(n -> all.add("NACK: " + n));
        unmodelled.forEach(u -> all.add("unmodelled: " + u));
        return all;
    }

    /** Listeners of the last LDS response that Envoy ignores (api_listener over LDS). */
    public List<String> ignoredListeners() {
        return ignoredListeners;
    }

    /** NACKs only. */
    public List<String> nacks() {
        return List.copyOf(nacks);
    }

    /** Waits until the accepted resources satisfy {@code condition}; fails on a stream error or NACK meanwhile. */
    public synchronized XdsResources await(Predicate<XdsResources> condition, Duration limit)
            throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.test(state)) {
            if (streamError != null) {
                throw new IllegalStateException("ADS stream failed", streamError);
            }
            if (!nacks.isEmpty()) {
                throw new IllegalStateException("the emulated Envoy NACKed the controller's config: " + nacks);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new TimeoutException("no xDS state within " + limit + "; accepted versions " + state.versions()
                        + ", problems " + problems());
            }
            wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
        return state;
    }

    /** Waits for a complete config: listeners, and every route configuration and EDS assignment they need. */
    public XdsResources awaitComplete(Duration limit) throws InterruptedException, TimeoutException {
        return await(AdsSubscription::isComplete, limit);
    }

    /** How many accepted states {@link #acceptedStates()} keeps. */
    private static final int MAX_STATES = 256;

    /**
     * The state after each accepted response, oldest first (the last {@value #MAX_STATES}): what the node routed with
     * between pushes, e.g. to check that no state had a route naming a cluster the node lacked (503 NC).
     */
    public List<XdsResources> acceptedStates() {
        return List.copyOf(acceptedStates);
    }

    /** Number of responses accepted so far (to wait for the next push). */
    public synchronized int acceptedCount() {
        return accepted;
    }

    /** Whether {@code r} is a complete config: listeners, and the route configurations and assignments they need. */
    public static boolean isComplete(XdsResources r) {
        if (r.listeners().isEmpty() || r.clusters().isEmpty()) {
            return false;
        }
        for (String name : routeNames(r.listeners())) {
            if (!r.routes().containsKey(name)) {
                return false;
            }
        }
        for (String service : edsNames(r.clusters())) {
            if (!r.endpoints().containsKey(service)) {
                return false;
            }
        }
        return true;
    }

    private synchronized void receive(int stream, DiscoveryResponse response) {
        if (stream != streams) {
            return;
        }
        streamError = null;
        retryMs = RETRY_INITIAL_MS;
        String type = response.getTypeUrl();
        nonces.put(type, response.getNonce());
        List<String> problems = new ArrayList<>();
        Map<String, Message> decoded = new LinkedHashMap<>();
        List<String> skipped = new ArrayList<>();
        for (Any any : response.getResourcesList()) {
            if (!any.getTypeUrl().equals(type)) {
                problems.add("resource of type " + any.getTypeUrl() + " in a " + type + " response");
                continue;
            }
            try {
                Message m = ModelledFields.unpack(any);
                decoded.put(nameOf(m), m);
            } catch (InvalidProtocolBufferException e) {
                problems.add(e.getMessage());
            }
        }
        XdsResources next =
                switch (type) {
                    case XdsResources.CDS -> {
                        Map<String, Cluster> clusters = cast(decoded);
                        problems.addAll(EnvoyRules.clusters(clusters));
                        yield new XdsResources(
                                state.listeners(), state.routes(), clusters, state.endpoints(), state.versions());
                    }
                    case XdsResources.EDS -> {
                        Map<String, ClusterLoadAssignment> cla = new HashMap<>(state.endpoints());
                        Map<String, ClusterLoadAssignment> received = cast(decoded);
                        problems.addAll(EnvoyRules.endpoints(received));
                        cla.putAll(received);
                        yield new XdsResources(
                                state.listeners(), state.routes(), state.clusters(), cla, state.versions());
                    }
                    case XdsResources.LDS -> {
                        Map<String, Listener> listeners = new LinkedHashMap<>();
                        this.<Listener>cast(decoded).forEach((name, l) -> {
                            if (l.hasApiListener()) {
                                skipped.add(name);
                            } else {
                                listeners.put(name, l);
                            }
                        });
                        skipped.forEach(decoded::remove);
                        problems.addAll(EnvoyRules.listeners(listeners));
                        yield new XdsResources(
                                listeners, state.routes(), state.clusters(), state.endpoints(), state.versions());
                    }
                    case XdsResources.RDS -> {
                        Map<String, RouteConfiguration> routes = new HashMap<>(state.routes());
                        Map<String, RouteConfiguration> received = cast(decoded);
                        Map<String, RouteConfiguration> tables = new HashMap<>();
                        List<String> vhdsRefusals = new ArrayList<>();
                        received.forEach((name, rc) -> {
                            if (rc.equals(rdsReceived.get(name))) {
                                return; // onRdsUpdate: an unchanged hash is a no-op (VHDS virtual hosts kept)
                            }
                            if (rc.hasVhds()) {
                                // RdsRouteConfigSubscription: a VHDS subscription Envoy cannot create NACKs the RDS
                                // response (source/common/router/rds_impl.cc, vhds.cc createVhdsSubscription)
                                VhdsSubscription.refusal(rc.getVhds().getConfigSource())
                                        .ifPresent(vhdsRefusals::add);
                            }
                            // an RDS update keeps the VHDS virtual hosts (onRdsUpdate merges them in)
                            tables.put(
                                    name,
                                    rc.hasVhds()
                                            ? VhdsSubscription.rebuild(rc, vhdsHosts.getOrDefault(name, Map.of()))
                                            : rc);
                        });
                        problems.addAll(
                                EnvoyRules.routes(tables, state.clusters().keySet()));
                        problems.addAll(vhdsRefusals);
                        tables.forEach((name, table) -> {
                            if (!table.hasVhds() || served.contains(name)) {
                                routes.put(name, table);
                            } else {
                                // VHDS is an init target of the first load: nothing routes before it is ready
                                routes.remove(name);
                            }
                        });
                        yield new XdsResources(
                                state.listeners(), routes, state.clusters(), state.endpoints(), state.versions());
                    }
                    default -> {
                        problems.add("unexpected type " + type);
                        yield state;
                    }
                };
        if (problems.isEmpty()) {
            loadRefusal(type, decoded).ifPresent(problems::add);
        }
        if (!problems.isEmpty()) {
            String detail = String.join("; ", problems);
            nacks.add(type + " version " + response.getVersionInfo() + ": " + detail);
            send(DiscoveryRequest.newBuilder()
                    .setTypeUrl(type)
                    .setVersionInfo(state.version(type))
                    .setResponseNonce(response.getNonce())
                    .addAllResourceNames(subscribed.getOrDefault(type, List.of()))
                    .setErrorDetail(Status.newBuilder()
                            .setCode(io.grpc.Status.Code.INTERNAL.value())
                            .setMessage(detail))
                    .build());
            notifyAll();
            return;
        }
        decoded.forEach((name, m) -> ModelledFields.unmodelled(shortType(type) + " " + name, m)
                .forEach(u -> {
                    if (!unmodelled.contains(u)) {
                        unmodelled.add(u);
                    }
                }));
        if (type.equals(XdsResources.LDS)) {
            rdsNotOverAds(next.listeners()).forEach(u -> {
                if (!unmodelled.contains(u)) {
                    unmodelled.add(u);
                }
            });
        }
        Map<String, String> versions = new HashMap<>(next.versions());
        versions.put(type, response.getVersionInfo());
        state = new XdsResources(next.listeners(), next.routes(), next.clusters(), next.endpoints(), versions);
        if (!skipped.isEmpty()) {
            ignoredListeners = List.copyOf(skipped);
        }
        accepted++;
        acceptedStates.addLast(state);
        if (acceptedStates.size() > MAX_STATES) {
            acceptedStates.pollFirst();
        }
        send(DiscoveryRequest.newBuilder()
                .setTypeUrl(type)
                .setVersionInfo(response.getVersionInfo())
                .setResponseNonce(response.getNonce())
                .addAllResourceNames(subscribed.getOrDefault(type, List.of()))
                .build());
        // what the accepted resources make Envoy ask for next
        if (type.equals(XdsResources.CDS)) {
            updateSubscription(XdsResources.EDS, edsNames(state.clusters()));
            if (!subscribed.containsKey(XdsResources.LDS)) {
                subscribe(XdsResources.LDS, List.of());
            }
        } else if (type.equals(XdsResources.LDS)) {
            updateSubscription(XdsResources.RDS, routeNames(state.listeners()));
            closeVhdsNotWatched();
        } else if (type.equals(XdsResources.RDS)) {
            this.<RouteConfiguration>cast(decoded).forEach(this::rdsAccepted);
        }
        notifyAll();
    }

    /** What an accepted route configuration does to its VHDS subscription (RouteConfigUpdateReceiverImpl::onRdsUpdate). */
    private void rdsAccepted(String name, RouteConfiguration rc) {
        RouteConfiguration before = rdsReceived.put(name, rc);
        if (rc.equals(before)) {
            return;
        }
        VhdsSubscription sub = vhds.get(name);
        if (rc.hasVhds()) {
            // a new subscription when the vhds config changed (its hash) or none runs; the running one is kept else
            boolean changed = before == null || !before.getVhds().equals(rc.getVhds());
            if (changed || sub == null) {
                if (sub != null) {
                    sub.close();
                }
                vhds.put(name, VhdsSubscription.start(channel, node, rc, this, vhdsReceiver));
            }
        } else {
            if (sub != null) {
                sub.close(); // "This route configuration doesn't use VHDS, so the subscription ... goes away"
                vhds.remove(name);
            }
            served.add(name);
        }
    }

    private void closeVhdsNotWatched() {
        List<String> watched = subscribed.getOrDefault(XdsResources.RDS, List.of());
        for (java.util.Iterator<Map.Entry<String, VhdsSubscription>> it =
                        vhds.entrySet().iterator();
                it.hasNext(); ) {
            Map.Entry<String, VhdsSubscription> e = it.next();
            if (!watched.contains(e.getKey())) {
                e.getValue().close();
                it.remove();
            }
        }
    }

    /**
     * A VHDS response for {@code name}: the virtual hosts after it (removed ones by name, then added ones replacing
     * their name's), the route table rebuilt and loaded as RDS's is (RouteConfigUpdateReceiverImpl::onVhdsUpdate:
     * the new table must construct, else the update throws and is NACKed with the old table kept).
     */
    private synchronized java.util.Optional<String> applyVhds(
            String name, List<VirtualHost> added, List<String> removed, String systemVersion) {
        RouteConfiguration rds = rdsReceived.get(name);
        if (rds == null || !rds.hasVhds()) {
            return java.util.Optional.empty(); // a subscription being replaced; nothing routes with it
        }
        Map<String, VirtualHost> hosts = new java.util.TreeMap<>(vhdsHosts.getOrDefault(name, Map.of()));
        removed.forEach(hosts::remove);
        added.forEach(v -> hosts.put(v.getName(), v));
        RouteConfiguration table = VhdsSubscription.rebuild(rds, hosts);
        List<String> problems = new ArrayList<>();
        // the resource decoder validates each virtual host (OpaqueResourceDecoderImpl, MessageUtil::validate)
        for (VirtualHost v : added) {
            EnvoyValidator.firstViolation(v).ifPresent(x -> problems.add(x.message() + " (at " + x.path() + ")"));
        }
        if (problems.isEmpty()) {
            problems.addAll(
                    EnvoyRules.routes(Map.of(name, table), state.clusters().keySet()));
        }
        if (problems.isEmpty()) {
            loadRefusal(XdsResources.RDS, Map.of(name, table)).ifPresent(problems::add);
        }
        if (!problems.isEmpty()) {
            return java.util.Optional.of(String.join("; ", problems));
        }
        for (VirtualHost v : added) {
            ModelledFields.unmodelled("VirtualHost " + v.getName(), v).forEach(u -> {
                if (!unmodelled.contains(u)) {
                    unmodelled.add(u);
                }
            });
        }
        vhdsHosts.put(name, hosts);
        served.add(name);
        publishRoutes(name, table, systemVersion);
        return java.util.Optional.empty();
    }

    /** The VHDS init target is ready without an applied response: the table is served with what it has. */
    private synchronized void vhdsInitDone(String name) {
        RouteConfiguration rds = rdsReceived.get(name);
        if (rds == null || !rds.hasVhds() || !served.add(name)) {
            return;
        }
        publishRoutes(name, VhdsSubscription.rebuild(rds, vhdsHosts.getOrDefault(name, Map.of())), null);
    }

    private void publishRoutes(String name, RouteConfiguration table, String vhdsVersion) {
        Map<String, RouteConfiguration> routes = new HashMap<>(state.routes());
        routes.put(name, table);
        Map<String, String> versions = new HashMap<>(state.versions());
        if (vhdsVersion != null) {
            versions.put(VhdsSubscription.TYPE_URL, vhdsVersion);
        }
        state = new XdsResources(state.listeners(), routes, state.clusters(), state.endpoints(), versions);
        accepted++;
        acceptedStates.addLast(state);
        if (acceptedStates.size() > MAX_STATES) {
            acceptedStates.pollFirst();
        }
        notifyAll();
    }

    /** The VHDS subscription of route configuration {@code name}, while it has one. */
    public synchronized java.util.Optional<VhdsSubscription> vhds(String name) {
        return java.util.Optional.ofNullable(vhds.get(name));
    }

    /**
     * The first violation of Envoy's load-time checks in a response, in the words Envoy NACKs with: clusters and
     * listeners through their managers ("Error adding/updating cluster(s) …", cds_api_helper.cc and lds_api.cc),
     * route configurations and assignments with the validation message alone.
     */
    private static java.util.Optional<String> loadRefusal(String type, Map<String, Message> decoded) {
        for (Map.Entry<String, Message> resource : decoded.entrySet()) {
            java.util.Optional<Violation> v = EnvoyValidator.firstViolation(resource.getValue());
            if (v.isPresent()) {
                String detail = v.get().message() + " (at " + v.get().path() + ")";
                return java.util.Optional.of(
                        switch (type) {
                            case XdsResources.CDS ->
                                "Error adding/updating cluster(s) " + resource.getKey() + ": " + detail;
                            case XdsResources.LDS ->
                                "Error adding/updating listener(s) " + resource.getKey() + ": " + detail;
                            default -> detail;
                        });
            }
        }
        return java.util.Optional.empty();
    }

    private void updateSubscription(String type, List<String> names) {
        if (names.isEmpty() && !subscribed.containsKey(type)) {
            return;
        }
        if (!names.equals(subscribed.get(type))) {
            subscribe(type, names);
        }
    }

    private void subscribe(String type, List<String> names) {
        subscribed.put(type, names);
        send(DiscoveryRequest.newBuilder()
                .setTypeUrl(type)
                .setVersionInfo(state.version(type))
                .setResponseNonce(nonces.getOrDefault(type, ""))
                .addAllResourceNames(names)
                .build());
    }

    private void send(DiscoveryRequest request) {
        DiscoveryRequest.Builder b = request.toBuilder();
        if (!nodeSent) {
            b.setNode(node.toProto());
            nodeSent = true;
        }
        if (requests != null) {
            requests.onNext(b.build());
        }
    }

    static List<String> edsNames(Map<String, Cluster> clusters) {
        TreeSet<String> names = new TreeSet<>();
        for (Cluster c : clusters.values()) {
            if (c.getType() == Cluster.DiscoveryType.EDS) {
                String service = c.getEdsClusterConfig().getServiceName();
                names.add(service.isEmpty() ? c.getName() : service);
            }
        }
        return List.copyOf(names);
    }

    static List<String> routeNames(Map<String, Listener> listeners) {
        TreeSet<String> names = new TreeSet<>();
        for (Listener l : listeners.values()) {
            for (FilterChain chain : l.getFilterChainsList()) {
                for (Filter f : chain.getFiltersList()) {
                    try {
                        if (ModelledFields.unpack(f.getTypedConfig()) instanceof HttpConnectionManager hcm
                                && hcm.hasRds()) {
                            names.add(hcm.getRds().getRouteConfigName());
                        }
                    } catch (InvalidProtocolBufferException e) {
                        // reported when the listener was received
                    }
                }
            }
        }
        return List.copyOf(names);
    }

    /**
     * RDS config sources other than ADS: ModelledFields lists {@code api_config_source} for VHDS's sake, but this
     * emulator fetches every route configuration over its ADS stream.
     */
    private static List<String> rdsNotOverAds(Map<String, Listener> listeners) {
        List<String> out = new ArrayList<>();
        for (Listener l : listeners.values()) {
            for (FilterChain chain : l.getFilterChainsList()) {
                for (Filter f : chain.getFiltersList()) {
                    try {
                        if (ModelledFields.unpack(f.getTypedConfig()) instanceof HttpConnectionManager hcm
                                && hcm.hasRds()
                                && !hcm.getRds().getConfigSource().hasAds()) {
                            out.add("Listener " + l.getName() + " rds.config_source: not ads");
                        }
                    } catch (InvalidProtocolBufferException e) {
                        // reported when the listener was received
                    }
                }
            }
        }
        return out;
    }

    private static String nameOf(Message m) {
        return switch (m) {
            case Listener l -> l.getName();
            case RouteConfiguration r -> r.getName();
            case Cluster c -> c.getName();
            case ClusterLoadAssignment c -> c.getClusterName();
            default -> Objects.toString(m);
        };
    }

    private static String shortType(String typeUrl) {
        return typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
    }

    @SuppressWarnings("unchecked")
    private <T> Map<String, T> cast(Map<String, Message> decoded) {
        return (Map<String, T>) (Map<String, ?>) decoded;
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            vhds.values().forEach(VhdsSubscription::close);
            if (requests != null && streamError == null) {
                requests.onCompleted();
            }
        }
        channel.shutdownNow();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
