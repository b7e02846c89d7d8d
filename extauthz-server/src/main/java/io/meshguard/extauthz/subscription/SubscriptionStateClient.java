package io.meshguard.extauthz.subscription;

import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.meshguard.catalog.SnapshotMessage;
import io.meshguard.catalog.UnreadableTenantLog;
import io.meshguard.catalogmodel.SharedCatalog;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.TenantHoldings;
import io.meshguard.contract.subscription.SubscriptionStateWire;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Follows the controller's subscription state over one xDS stream ({@link SubscriptionStateWire}): applies each
 * response it can decode and ACKs it, NACKs one it cannot (keeping the last good state), and reconnects with backoff
 * when the stream ends. Over the delta method (the default) each response carries the parts that changed (the shared
 * publishes and plans, or a tenant's holdings), and the replica swaps those parts into its state in place, indexing
 * only them; a controller without the delta method (UNIMPLEMENTED) is followed over state of the world instead. {@link #current} is empty until a first snapshot arrived and again once the stream has been
 * down longer than {@code maxStaleness}: a replica that cannot know whether a subscription was revoked refuses
 * product routes rather than guess.
 */
public final class SubscriptionStateClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SubscriptionStateClient.class);

    private final UnreadableTenantLog unreadable = new UnreadableTenantLog(LOG, "this replica");

    /**
     * The largest subscription state a replica takes, for its channel's inbound limit: a (re)connect's first response
     * and a state-of-the-world response hold every tenant, about 6.6 MB per 100,000 subscriptions, so this admits
     * some two million.
     */
    public static final int MAX_STATE_BYTES = 128 * 1024 * 1024;

    /** How the replica follows the controller. */
    public enum Protocol {
        /** Per-part resources, each sent when it changed ({@code DeltaSubscriptionState}). */
        DELTA,
        /** The whole state in one resource on every change ({@code StreamSubscriptionState}). */
        STATE_OF_THE_WORLD
    }

    /**
     * What a replica holds: the snapshot, the delta resources' versions by name (what a reconnect reports), and since
     * when the stream to the controller has been down, if it is.
     */
    private record Held(
            Optional<SubscriptionSnapshot> snapshot, Optional<Instant> downSince, Map<String, String> versions) {
        Held(Optional<SubscriptionSnapshot> snapshot, Optional<Instant> downSince) {
            this(snapshot, downSince, Map.of());
        }
    }

    private final ManagedChannel channel;
    private final Node node;
    private final Duration maxStaleness;
    private final Clock clock;
    private final ScheduledExecutorService reconnects = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "subscription-state-reconnect");
        t.setDaemon(true);
        return t;
    });
    private final AtomicReference<Held> held;
    private volatile ClientCallStreamObserver<DiscoveryRequest> stream;
    private volatile ClientCallStreamObserver<DeltaDiscoveryRequest> deltaStream;
    private volatile Protocol protocol;
    private volatile boolean closed;
    private volatile long backoffMillis = 100;

    public SubscriptionStateClient(ManagedChannel channel, String replicaId, Duration maxStaleness, Clock clock) {
        this(channel, replicaId, maxStaleness, clock, Protocol.DELTA);
    }

    /** Follows over {@code protocol} (state of the world: as replicas of earlier releases do). */
    public SubscriptionStateClient(
            ManagedChannel channel, String replicaId, Duration maxStaleness, Clock clock, Protocol protocol) {
        this.protocol = protocol;
        this.channel = channel;
        this.node = Node.newBuilder()
                .setId(replicaId)
                .setCluster("meshguard-extauthz")
                .build();
        this.maxStaleness = maxStaleness;
        this.clock = clock;
        this.held = new AtomicReference<>(new Held(Optional.empty(), Optional.of(clock.instant())));
    }

    /** Opens the stream; snapshots arrive asynchronously. */
    public SubscriptionStateClient start() {
        open();
        return this;
    }

    /** The snapshot to decide from, or empty when none arrived yet or the stream has been down too long. */
    public Optional<SubscriptionSnapshot> current() {
        Held h = held.get();
        if (h.downSince().isPresent() && h.downSince().get().plus(maxStaleness).isBefore(clock.instant())) {
            return Optional.empty();
        }
        return h.snapshot();
    }

    /** How many tenants the snapshot held marks unreadable (their product calls are refused). */
    public int unreadableTenants() {
        return held.get().snapshot().map(s -> s.unreadableTenants().size()).orElse(0);
    }

    /** Whether a first snapshot ever arrived (it may be stale now). */
    public boolean hasReceived() {
        return held.get().snapshot().isPresent();
    }

    private void open() {
        if (closed) {
            return;
        }
        if (protocol == Protocol.DELTA) {
            openDelta();
            return;
        }
        ClientCalls.asyncBidiStreamingCall(
                channel.newCall(SubscriptionStateWire.STREAM, CallOptions.DEFAULT),
                new ClientResponseObserver<DiscoveryRequest, DiscoveryResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<DiscoveryRequest> requests) {
                        stream = requests;
                    }

                    @Override
                    public void onNext(DiscoveryResponse response) {
                        backoffMillis = 100;
                        apply(response);
                    }

                    @Override
                    public void onError(Throwable t) {
                        ended(t);
                    }

                    @Override
                    public void onCompleted() {
                        down();
                    }
                });
        Held h = held.get();
        // a reconnect asks again for what it holds: the controller answers with newer state or the same version
        stream.onNext(request(h.snapshot().map(s -> Long.toString(s.version())).orElse(""), "", Optional.empty()));
    }

    private void openDelta() {
        ClientCalls.asyncBidiStreamingCall(
                channel.newCall(SubscriptionStateWire.DELTA, CallOptions.DEFAULT),
                new ClientResponseObserver<DeltaDiscoveryRequest, DeltaDiscoveryResponse>() {
                    @Override
                    public void beforeStart(ClientCallStreamObserver<DeltaDiscoveryRequest> requests) {
                        deltaStream = requests;
                    }

                    @Override
                    public void onNext(DeltaDiscoveryResponse response) {
                        backoffMillis = 100;
                        applyDelta(response);
                    }

                    @Override
                    public void onError(Throwable t) {
                        if (!closed && io.grpc.Status.fromThrowable(t).getCode() == io.grpc.Status.Code.UNIMPLEMENTED) {
                            // a controller of a release before the delta method: the whole state on every change
                            LOG.info("controller serves no delta subscription state, following state of the world");
                            protocol = Protocol.STATE_OF_THE_WORLD;
                        }
                        ended(t);
                    }

                    @Override
                    public void onCompleted() {
                        down();
                    }
                });
        // wildcard: a replica decides for every tenant; what it holds is listed so the controller names what is gone
        deltaStream.onNext(DeltaDiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                .addResourceNamesSubscribe("*")
                .putAllInitialResourceVersions(held.get().versions())
                .build());
    }

    private void applyDelta(DeltaDiscoveryResponse response) {
        Held h = held.get();
        try {
            if (!response.getTypeUrl().equals(SubscriptionStateWire.TYPE_URL)) {
                throw new IllegalArgumentException(
                        "type_url " + response.getTypeUrl() + ", expected " + SubscriptionStateWire.TYPE_URL);
            }
            Optional<SharedCatalog> shared = Optional.empty();
            Map<String, Optional<TenantHoldings>> changes = new HashMap<>();
            Map<String, String> versions = new HashMap<>(h.versions());
            for (Resource r : response.getResourcesList()) {
                String name = r.getName();
                if (name.equals(SubscriptionStateWire.SHARED_RESOURCE)) {
                    shared = Optional.of(SnapshotMessage.readShared(r.getResource()));
                } else if (name.startsWith(SubscriptionStateWire.TENANT_PREFIX)) {
                    String tenant = name.substring(SubscriptionStateWire.TENANT_PREFIX.length());
                    changes.put(tenant, Optional.of(SnapshotMessage.readTenant(tenant, r.getResource())));
                } else {
                    throw new IllegalArgumentException("unknown resource " + name);
                }
                versions.put(name, r.getVersion());
            }
            for (String name : response.getRemovedResourcesList()) {
                if (!name.startsWith(SubscriptionStateWire.TENANT_PREFIX)) {
                    throw new IllegalArgumentException("resource " + name + " cannot be removed");
                }
                changes.put(name.substring(SubscriptionStateWire.TENANT_PREFIX.length()), Optional.empty());
                versions.remove(name);
            }
            long version;
            try {
                version = Long.parseLong(response.getSystemVersionInfo());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("system_version_info " + response.getSystemVersionInfo());
            }
            if (h.snapshot().isEmpty() && shared.isEmpty()) {
                // fail closed: a replica never decides from tenants without the publishes and plans they name
                throw new IllegalArgumentException("the first state carries no shared resource");
            }
            // only the parts received are indexed: the others are the same objects the previous state held
            SubscriptionSnapshot next = h.snapshot()
                    .orElse(SubscriptionSnapshot.empty(0))
                    .with(version, shared, changes)
                    .indexed();
            held.set(new Held(Optional.of(next), Optional.empty(), Map.copyOf(versions)));
            unreadable.saw(next);
            deltaStream.onNext(DeltaDiscoveryRequest.newBuilder()
                    .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                    .setResponseNonce(response.getNonce())
                    .build());
        } catch (IllegalArgumentException e) {
            LOG.error(
                    "subscription state version {} refused, keeping the previous one: {}",
                    response.getSystemVersionInfo(),
                    e.getMessage());
            held.set(new Held(h.snapshot(), Optional.empty(), h.versions()));
            deltaStream.onNext(DeltaDiscoveryRequest.newBuilder()
                    .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                    .setResponseNonce(response.getNonce())
                    .setErrorDetail(Status.newBuilder().setCode(3).setMessage(e.getMessage()))
                    .build());
        }
    }

    private void ended(Throwable t) {
        if (!closed) {
            // a controller that restarts or rolls ends the stream (CANCELLED, UNAVAILABLE): the client
            // reconnects and decides from what it holds until max_staleness, past which product
            // routes answer 503 with their own reason; any other end is unexpected
            io.grpc.Status status = io.grpc.Status.fromThrowable(t);
            io.grpc.Status.Code code = status.getCode();
            if (code == io.grpc.Status.Code.CANCELLED || code == io.grpc.Status.Code.UNAVAILABLE) {
                LOG.info("subscription state stream ended ({} {}), reconnecting", code, status.getDescription());
            } else {
                LOG.warn("subscription state stream ended: {}", t.toString());
            }
        }
        down();
    }

    private void apply(DiscoveryResponse response) {
        try {
            // indexed before the swap: the Checks keep deciding from the previous snapshot meanwhile
            SubscriptionSnapshot s = SnapshotMessage.fromResource(SubscriptionStateWire.resource(response))
                    .indexed();
            held.set(new Held(Optional.of(s), Optional.empty(), Map.of()));
            unreadable.saw(s);
            stream.onNext(request(response.getVersionInfo(), response.getNonce(), Optional.empty()));
        } catch (IllegalArgumentException e) {
            LOG.error(
                    "subscription state version {} refused, keeping the previous one: {}",
                    response.getVersionInfo(),
                    e.getMessage());
            Held h = held.get();
            held.set(new Held(h.snapshot(), Optional.empty(), h.versions()));
            stream.onNext(request(
                    h.snapshot().map(s -> Long.toString(s.version())).orElse(""),
                    response.getNonce(),
                    Optional.of(e.getMessage())));
        }
    }

    private void down() {
        held.updateAndGet(h ->
                h.downSince().isPresent() ? h : new Held(h.snapshot(), Optional.of(clock.instant()), h.versions()));
        if (!closed) {
            long wait = backoffMillis;
            backoffMillis = Math.min(wait * 2, 5_000);
            reconnects.schedule(this::open, wait, TimeUnit.MILLISECONDS);
        }
    }

    private DiscoveryRequest request(String version, String nonce, Optional<String> error) {
        DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder()
                .setNode(node)
                .setTypeUrl(SubscriptionStateWire.TYPE_URL)
                .addResourceNames(SubscriptionStateWire.RESOURCE_NAME)
                .setVersionInfo(version)
                .setResponseNonce(nonce);
        error.ifPresent(e -> b.setErrorDetail(Status.newBuilder().setCode(3).setMessage(e)));
        return b.build();
    }

    @Override
    public void close() {
        closed = true;
        reconnects.shutdownNow();
        ClientCallStreamObserver<DiscoveryRequest> s = stream;
        if (s != null) {
            s.cancel("closed", null);
        }
        ClientCallStreamObserver<DeltaDiscoveryRequest> d = deltaStream;
        if (d != null) {
            d.cancel("closed", null);
        }
    }
}
