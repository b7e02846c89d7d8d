package io.meshguard.emulator;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.TextFormat;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.envoyproxy.envoy.service.route.v3.VirtualHostDiscoveryServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * One route configuration's VHDS subscription ({@code envoy.service.route.v3.VirtualHostDiscoveryService/
 * DeltaVirtualHosts}), as Envoy runs it when an RDS {@code RouteConfiguration} sets {@code vhds.config_source}
 * (source/common/router/vhds.cc, source/common/router/route_config_update_receiver_impl.cc):
 * <ul>
 *   <li>only a {@code DELTA_GRPC} {@code api_config_source}, or {@code ads} when the bootstrap's ADS is delta, is
 *       accepted ({@code VhdsSubscription::createVhdsSubscription}); the gateway bootstrap's ADS is SotW, so
 *       {@code ads} is refused. The gRPC service's {@code envoy_grpc.cluster_name} must be a static cluster of the
 *       bootstrap ({@code Utility::checkApiConfigSourceSubscriptionBackingCluster},
 *       source/common/config/utility.cc): {@code meshguard-xds}, which this emulator reaches at the host:port of its
 *       ADS stream. A refusal NACKs the RDS response ({@link #refusal});</li>
 *   <li>its own delta stream, opened with {@code use_namespace_matching}: the mux then keeps the route
 *       configuration's name out of the wire subscription ("to prevent sending out of requests that contain prefixes
 *       instead of resource names", {@code NewGrpcMuxImpl::updateWatch},
 *       source/extensions/config_subscription/grpc/new_grpc_mux_impl.cc), so the first request is a legacy
 *       wildcard one: the node, the type URL, no {@code resource_names_subscribe} (Envoy's own
 *       test/integration/vhds_integration_test.cc expects exactly that: {@code compareDeltaDiscoveryRequest(
 *       VirtualHost, {}, {})});</li>
 *   <li>every request carries the node ({@code DeltaSubscriptionState::getNextRequestAckless} merges it in,
 *       source/extensions/config_subscription/grpc/delta_subscription_state.cc); an ACK is the type URL and the
 *       response's nonce, a NACK adds {@code error_detail} with code INTERNAL ({@code handleBadResponse});</li>
 *   <li>a response is checked as {@code handleGoodResponse} does (a name twice among the added resources, or in
 *       added and removed, or an added resource whose payload's type URL is not the response's, is a NACK); a
 *       resource with aliases but no payload (an unresolved on-demand alias) is skipped (vhds.cc);</li>
 *   <li>the virtual hosts are keyed by {@code VirtualHost.name}; {@code removed_resources} names are looked up in
 *       that map ({@code removeVhosts}), so a controller that names a resource differently from its virtual host
 *       cannot remove it — as in Envoy. The route table is the RDS virtual hosts then the VHDS ones, each in name
 *       order ({@code rebuildRouteConfigVirtualHosts}, std::map); the whole table must load (route table
 *       constructor: the emulator's {@link EnvoyRules} and {@link io.meshguard.envoy.validation.EnvoyValidator}),
 *       or the response is NACKed and the previous table kept;</li>
 *   <li>the versions of the resources received are remembered as wildcard resources (the subscription is the
 *       legacy wildcard one, {@code addResourceStateFromServer}), forgotten when removed, and sent as
 *       {@code initial_resource_versions} on the first request of a new stream, after the same back-off as
 *       {@link AdsSubscription}'s;</li>
 *   <li>VHDS is an init target of the route configuration's first load: the route table is not served until the
 *       first response is applied, NACKed ({@code VhdsSubscription::onConfigUpdateFailed} readies the target "to
 *       allow server startup to continue") or the config source's {@code initial_fetch_timeout} (15 s by default,
 *       config_source.proto) passes without one.</li>
 * </ul>
 * On-demand VHDS ({@code <route configuration>/<host>} subscriptions and aliases) needs Envoy's on_demand HTTP
 * filter, which meshguard does not configure; it is not modelled.
 */
public final class VhdsSubscription implements AutoCloseable {
    /** The VHDS resource type. */
    public static final String TYPE_URL = "type.googleapis.com/envoy.config.route.v3.VirtualHost";

    /**
     * The bootstrap's static clusters an {@code api_config_source} may name: manifests/istio/base/envoy/bootstrap.yaml
     * and deploy/local/envoy-bootstrap.yaml both define {@code meshguard-xds}, the way to the xds-controller.
     */
    static final Set<String> BOOTSTRAP_STATIC_CLUSTERS = Set.of("meshguard-xds");

    /** Both gateway bootstraps run ADS as state-of-the-world ({@code ads_config.api_type: GRPC}). */
    static final boolean BOOTSTRAP_ADS_IS_DELTA = false;

    private static final Duration DEFAULT_INITIAL_FETCH_TIMEOUT = Duration.ofSeconds(15);

    /** What a VHDS response does to the node's route configuration; called under the owner's lock. */
    interface Receiver {
        /**
         * Applies the added and removed virtual hosts to {@code routeConfigName}'s table; empty when the new table
         * loads, else why not (the response is then NACKed and nothing of it is used).
         */
        Optional<String> onVhdsUpdate(
                String routeConfigName, List<VirtualHost> added, List<String> removed, String systemVersion);

        /** The init target is ready without an applied response (NACK or initial_fetch_timeout). */
        void onVhdsInitDone(String routeConfigName);

        /** A NACK was sent (its type, version and error detail), for the node's list of NACKs. */
        void onVhdsNack(String detail);
    }

    private final ManagedChannel channel;
    private final EnvoyNode node;
    private final String routeConfigName;
    private final Object lock;
    private final Receiver receiver;
    private final List<String> nacks = new CopyOnWriteArrayList<>();
    /** wildcard_resource_state_: resource name → version, of the resources accepted and not removed. */
    private final Map<String, String> versions = new TreeMap<>();

    private final SplittableRandom jitter = new SplittableRandom();
    private StreamObserver<DeltaDiscoveryRequest> requests;
    private int streams;
    private int acks;
    private long retryMs = AdsSubscription.RETRY_INITIAL_MS;
    private boolean initDone;
    private boolean closed;
    private Throwable streamError;

    private VhdsSubscription(
            ManagedChannel channel, EnvoyNode node, String routeConfigName, Object lock, Receiver receiver) {
        this.channel = channel;
        this.node = node;
        this.routeConfigName = routeConfigName;
        this.lock = lock;
        this.receiver = receiver;
    }

    /**
     * Why Envoy refuses {@code rc}'s VHDS config source, in its words, or empty when it starts the subscription
     * (source/common/router/vhds.cc createVhdsSubscription, then the subscription factory's backing cluster check,
     * source/common/config/utility.cc).
     */
    static Optional<String> refusal(ConfigSource source) {
        boolean ads = source.getConfigSourceSpecifierCase() == ConfigSource.ConfigSourceSpecifierCase.ADS;
        boolean deltaGrpc = source.hasApiConfigSource()
                && source.getApiConfigSource().getApiType() == ApiConfigSource.ApiType.DELTA_GRPC;
        if (!ads && !deltaGrpc) {
            return Optional.of(
                    "vhds: only 'DELTA_GRPC' or 'ADS' (which uses Delta xDS) is supported as a config source.");
        }
        if (ads) {
            // BOOTSTRAP_ADS_IS_DELTA is false: the gateway's ADS stream is SotW
            return BOOTSTRAP_ADS_IS_DELTA
                    ? Optional.empty()
                    : Optional.of("vhds: ADS must use DELTA_GRPC api_type when used as VHDS config source.");
        }
        ApiConfigSource api = source.getApiConfigSource();
        String type = api.getDescriptorForType().getFullName();
        // checkApiConfigSourceNames (utility.cc), max_grpc_services 1 without xds_failover_support
        if (api.getClusterNamesCount() == 0 && api.getGrpcServicesCount() == 0) {
            return Optional.of("API configs must have either a gRPC service or a cluster name defined: "
                    + TextFormat.printer().printToString(api));
        }
        if (api.getClusterNamesCount() > 0) {
            return Optional.of(type + "::(DELTA_)GRPC must not have a cluster name specified: "
                    + TextFormat.printer().printToString(api));
        }
        if (api.getGrpcServicesCount() > 1) {
            return Optional.of(type + "::(DELTA_)GRPC must have no more than 1 gRPC services specified: "
                    + TextFormat.printer().printToString(api));
        }
        // checkApiConfigSourceSubscriptionBackingCluster: the envoy_grpc cluster must be a primary (static, non-EDS)
        // cluster; CDS clusters are "added via api" and do not count. google_grpc has no cluster to check (and is
        // reported unmodelled by ModelledFields).
        if (api.getGrpcServices(0).hasEnvoyGrpc()) {
            String cluster = api.getGrpcServices(0).getEnvoyGrpc().getClusterName();
            if (!BOOTSTRAP_STATIC_CLUSTERS.contains(cluster)) {
                return Optional.of(type + " must have a statically defined non-EDS cluster: '" + cluster
                        + "' does not exist, was added via api, or is an EDS cluster");
            }
        }
        return Optional.empty();
    }

    /**
     * {@code rds}'s virtual hosts followed by {@code vhds}'s, each in name order, as
     * {@code rebuildRouteConfigVirtualHosts} does; without VHDS virtual hosts the RDS table as delivered
     * ({@code onRdsUpdate} rebuilds only "if there are vhosts supplied by VHDS").
     */
    static RouteConfiguration rebuild(RouteConfiguration rds, Map<String, VirtualHost> vhds) {
        if (vhds.isEmpty()) {
            return rds;
        }
        Map<String, VirtualHost> rdsHosts = new TreeMap<>();
        // std::map::emplace keeps the first of two virtual hosts with one name
        rds.getVirtualHostsList().forEach(v -> rdsHosts.putIfAbsent(v.getName(), v));
        RouteConfiguration.Builder b = rds.toBuilder().clearVirtualHosts();
        b.addAllVirtualHosts(rdsHosts.values());
        b.addAllVirtualHosts(new TreeMap<>(vhds).values());
        return b.build();
    }

    /** Starts the subscription of {@code rc} over {@code channel} (the controller's host:port, as ADS). */
    static VhdsSubscription start(
            ManagedChannel channel, EnvoyNode node, RouteConfiguration rc, Object lock, Receiver receiver) {
        VhdsSubscription s = new VhdsSubscription(channel, node, rc.getName(), lock, receiver);
        ConfigSource source = rc.getVhds().getConfigSource();
        Duration timeout = source.hasInitialFetchTimeout()
                ? Duration.ofSeconds(
                        source.getInitialFetchTimeout().getSeconds(),
                        source.getInitialFetchTimeout().getNanos())
                : DEFAULT_INITIAL_FETCH_TIMEOUT;
        synchronized (lock) {
            s.open();
            if (!timeout.isZero()) {
                // GrpcSubscriptionImpl's init_fetch_timeout: onConfigUpdateFailed(FetchTimedout) readies the target
                AdsSubscription.RETRIES.schedule(s::fetchTimedOut, timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
        return s;
    }

    private void open() {
        int stream = ++streams;
        requests = VirtualHostDiscoveryServiceGrpc.newStub(channel).deltaVirtualHosts(new StreamObserver<>() {
            @Override
            public void onNext(DeltaDiscoveryResponse response) {
                receive(stream, response);
            }

            @Override
            public void onError(Throwable t) {
                ended(stream, t);
            }

            @Override
            public void onCompleted() {
                ended(stream, new IllegalStateException("the controller closed the VHDS stream"));
            }
        });
        // the first request of a stream: legacy wildcard (no names), with the versions held
        send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(TYPE_URL).putAllInitialResourceVersions(versions));
    }

    private void ended(int stream, Throwable why) {
        synchronized (lock) {
            if (stream != streams || closed) {
                return;
            }
            streamError = why;
            requests = null;
            long delay = jitter.nextLong(retryMs) + 1;
            retryMs = Math.min(retryMs * 2, AdsSubscription.RETRY_MAX_MS);
            AdsSubscription.RETRIES.schedule(this::reopen, delay, TimeUnit.MILLISECONDS);
            lock.notifyAll();
        }
    }

    private void reopen() {
        synchronized (lock) {
            if (!closed && requests == null) {
                open();
            }
        }
    }

    private void fetchTimedOut() {
        synchronized (lock) {
            if (!closed && !initDone) {
                initDone = true;
                receiver.onVhdsInitDone(routeConfigName);
            }
        }
    }

    private void receive(int stream, DeltaDiscoveryResponse response) {
        synchronized (lock) {
            if (stream != streams || closed) {
                return;
            }
            streamError = null;
            retryMs = AdsSubscription.RETRY_INITIAL_MS;
            Optional<String> refused = check(response);
            if (refused.isEmpty()) {
                List<VirtualHost> added = new ArrayList<>();
                List<String> decodeErrors = new ArrayList<>();
                for (Resource r : response.getResourcesList()) {
                    if (!r.hasResource()) {
                        continue; // an unresolved alias: "empty resources", vhds.cc onConfigUpdate
                    }
                    try {
                        added.add(VirtualHost.parseFrom(r.getResource().getValue()));
                    } catch (InvalidProtocolBufferException e) {
                        decodeErrors.add(e.getMessage());
                    }
                }
                refused = decodeErrors.isEmpty()
                        ? receiver.onVhdsUpdate(
                                routeConfigName,
                                added,
                                response.getRemovedResourcesList(),
                                response.getSystemVersionInfo())
                        : Optional.of(String.join("; ", decodeErrors));
            }
            DeltaDiscoveryRequest.Builder next =
                    DeltaDiscoveryRequest.newBuilder().setTypeUrl(TYPE_URL).setResponseNonce(response.getNonce());
            if (refused.isPresent()) {
                String nack = TYPE_URL + " version " + response.getSystemVersionInfo() + ": " + refused.get();
                nacks.add(nack);
                receiver.onVhdsNack(nack);
                next.setErrorDetail(Status.newBuilder()
                        .setCode(io.grpc.Status.Code.INTERNAL.value())
                        .setMessage(refused.get()));
            } else {
                acks++;
                // addResourceStateFromServer for every resource (wildcard subscription); removed ones forgotten
                response.getResourcesList().forEach(r -> versions.put(r.getName(), r.getVersion()));
                response.getRemovedResourcesList().forEach(versions::remove);
            }
            send(next);
            if (!initDone) {
                initDone = true;
                if (refused.isPresent()) {
                    receiver.onVhdsInitDone(routeConfigName);
                }
            }
            lock.notifyAll();
        }
    }

    /** handleGoodResponse's checks before the resources are used, in Envoy's words. */
    private static Optional<String> check(DeltaDiscoveryResponse response) {
        Set<String> names = new HashSet<>();
        for (Resource r : response.getResourcesList()) {
            if (!names.add(r.getName())) {
                return Optional.of("duplicate name " + r.getName() + " found among added/updated resources");
            }
            if (!r.hasResource() && r.getAliasesCount() > 0) {
                continue;
            }
            if (!response.getTypeUrl().equals(r.getResource().getTypeUrl())) {
                return Optional.of("type URL " + r.getResource().getTypeUrl() + " embedded in an individual Any does "
                        + "not match the message-wide type URL " + response.getTypeUrl() + " in DeltaDiscoveryResponse "
                        + TextFormat.printer().printToString(response));
            }
        }
        for (String removed : response.getRemovedResourcesList()) {
            if (!names.add(removed)) {
                return Optional.of("duplicate name " + removed + " found in the union of added+removed resources");
            }
        }
        return Optional.empty();
    }

    private void send(DeltaDiscoveryRequest.Builder request) {
        if (requests != null) {
            requests.onNext(request.setNode(node.toProto()).build());
        }
    }

    /** The route configuration this subscription delivers virtual hosts for. */
    public String routeConfigName() {
        return routeConfigName;
    }

    /** NACKs sent, each with its error detail. */
    public List<String> nacks() {
        return List.copyOf(nacks);
    }

    /** Responses ACKed so far. */
    public int ackCount() {
        synchronized (lock) {
            return acks;
        }
    }

    /** Whether the init target is ready (first response applied or NACKed, or initial_fetch_timeout passed). */
    public boolean initDone() {
        synchronized (lock) {
            return initDone;
        }
    }

    /** The resource versions the node holds, as it would send them in {@code initial_resource_versions}. */
    public Map<String, String> resourceVersions() {
        synchronized (lock) {
            return new LinkedHashMap<>(versions);
        }
    }

    /** Why the stream last ended, while it is down. */
    public Optional<Throwable> streamError() {
        synchronized (lock) {
            return Optional.ofNullable(streamError);
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            if (requests != null) {
                try {
                    requests.onCompleted();
                } catch (IllegalStateException e) {
                    // the call already ended; nothing to half-close
                }
                requests = null;
            }
        }
    }
}
