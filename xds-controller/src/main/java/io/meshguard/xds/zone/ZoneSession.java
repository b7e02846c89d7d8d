package io.meshguard.xds.zone;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.meshguard.contract.zone.ZoneWire;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.store.Revision;
import io.meshguard.xds.store.RevisionStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One zone's stream on central. The first message must be a hello with a registration token or a credential; then a
 * virtual thread ticks: re-checks the credential (revocation), marks the stream stale and closes it after three
 * missed echoes, rotates the credential at half its lifetime, and queues the newest revision of every group the
 * zone lacks. What waits to be sent is one entry per group (a newer revision replaces an unsent older one), sent only
 * while gRPC says the zone reads: backpressure is bounded by the number of groups.
 */
final class ZoneSession implements StreamObserver<ZoneProto.ZoneUp> {
    private static final Logger log = LoggerFactory.getLogger(ZoneSession.class);

    private final ServerCallStreamObserver<ZoneProto.ZoneDown> out;
    private final ZoneRegistry registry;
    private final RevisionStore revisions;
    private final ZoneBoard board;
    private final ZoneHubSettings settings;
    private final Clock clock;
    private final Set<ZoneSession> sessions;
    private final java.util.function.Supplier<Optional<io.meshguard.catalogmodel.SubscriptionSnapshot>>
            subscriptionState;
    /** The subscription state version last queued on this stream (every stream starts with the newest). */
    private volatile long subscriptionStateSent = Long.MIN_VALUE;

    /** The zone replica this stream follows for, once its hello was admitted. */
    private volatile Optional<ZoneBoard.Key> key = Optional.empty();
    /** The replica's stream epoch this stream took with its hello: one live stream per replica. */
    private volatile long epoch = -1;

    private volatile String peer = "?";
    private volatile String credential = "";
    private volatile Instant credentialIssued = Instant.EPOCH;
    private volatile Instant lastEcho = Instant.EPOCH;
    private volatile boolean open = true;
    private final AtomicLong echoToAnswer = new AtomicLong(-1);
    /** Released by {@link #wake()}: a publish ticks the stream now instead of at the next tick. */
    private final java.util.concurrent.Semaphore wake = new java.util.concurrent.Semaphore(0);
    /** What the zone holds per group: from its hello, then what was sent. */
    private final Map<String, Long> held = new ConcurrentHashMap<>();
    /** Revisions refused on read, each logged once. */
    private final java.util.Set<Long> unreadable = ConcurrentHashMap.newKeySet();
    /** When each group's newest revision was sent, until the zone echoes it applied. */
    private final Map<String, Instant> unconfirmed = new ConcurrentHashMap<>();
    /** Guarded by {@code this}, as is every call on {@link #out}. */
    private final LinkedHashMap<String, ZoneProto.ZoneDown> pending = new LinkedHashMap<>();

    ZoneSession(
            ServerCallStreamObserver<ZoneProto.ZoneDown> out,
            ZoneRegistry registry,
            RevisionStore revisions,
            ZoneBoard board,
            ZoneHubSettings settings,
            Clock clock,
            Set<ZoneSession> sessions,
            java.util.function.Supplier<Optional<io.meshguard.catalogmodel.SubscriptionSnapshot>> subscriptionState) {
        this.out = out;
        this.registry = registry;
        this.revisions = revisions;
        this.board = board;
        this.settings = settings;
        this.clock = clock;
        this.sessions = sessions;
        this.subscriptionState = subscriptionState;
        out.setOnCancelHandler(this::ended);
    }

    Optional<ZoneBoard.Key> key() {
        return key;
    }

    Optional<String> cluster() {
        return key.map(ZoneBoard.Key::cluster);
    }

    @Override
    public void onNext(ZoneProto.ZoneUp up) {
        if (!open) {
            return;
        }
        if (up.getVersion() != ZoneWire.VERSION) {
            close(Status.FAILED_PRECONDITION.withDescription(
                    "central speaks zone stream v" + ZoneWire.VERSION + ", not v" + up.getVersion()));
            return;
        }
        if (key.isEmpty()) {
            if (up.hasHello()) {
                hello(up.getHello());
            } else {
                close(Status.INVALID_ARGUMENT.withDescription("the first message of a zone stream is its hello"));
            }
            return;
        }
        if (up.hasEcho()) {
            echo(up.getEcho());
        }
        // a later hello, or a part this central does not know (a newer zone's), is ignored as unknown fields are
    }

    /** A replica's name: a pod name (a DNS label or subdomain), or empty for a zone that names none. */
    private static final java.util.regex.Pattern REPLICA =
            java.util.regex.Pattern.compile("|[a-zA-Z0-9]([a-zA-Z0-9._-]{0,198}[a-zA-Z0-9])?");

    private void hello(ZoneProto.Hello hello) {
        if (!open || out.isCancelled()) {
            return; // the zone walked away before its hello was read
        }
        if (hello.getCluster().isEmpty()) {
            // proto3 reads a missing cluster as empty: a hello that names no cluster is malformed, not an unknown zone
            close(Status.INVALID_ARGUMENT.withDescription("a zone's hello names its cluster"));
            return;
        }
        if (!REPLICA.matcher(hello.getReplica()).matches()) {
            close(Status.INVALID_ARGUMENT.withDescription("a zone replica is named like a pod (letters, digits,"
                    + " '.', '-', '_', at most 200), not " + hello.getReplica().length() + " characters like that"));
            return;
        }
        if (hello.hasRegistrationToken()) {
            register(hello);
        } else {
            follow(hello);
        }
    }

    /**
     * A registration stream only carries the credential: the token is spent when the zone presents it on its next
     * stream ({@link ZoneRegistry#settle}), so an answer the zone never read (it cancelled, the answer was slow) costs
     * nothing and the zone's retry with the same token registers.
     */
    private void register(ZoneProto.Hello hello) {
        ZoneRegistry.Admission admission;
        try {
            admission = registry.exchange(hello.getCluster(), hello.getReplica(), hello.getRegistrationToken());
        } catch (RuntimeException e) {
            log.warn("zone {}: cannot check its registration token: {}", name(hello), e.getMessage());
            close(Status.UNAVAILABLE.withDescription("central cannot check credentials now"));
            return;
        }
        if (admission instanceof ZoneRegistry.Refused refused) {
            refuse(hello, "registration token ", refused.reason());
            return;
        }
        ZoneRegistry.Credential granted = ((ZoneRegistry.Admitted) admission).credential();
        log.info(
                "zone {}: registration token exchanged; it is spent when the zone presents the credential",
                name(hello));
        synchronized (this) {
            if (open) {
                open = false;
                try {
                    out.onNext(credential(granted));
                    out.onCompleted();
                } catch (RuntimeException e) {
                    // the zone cancelled meanwhile: the credential is lost with the stream, the token is not spent
                }
            }
        }
    }

    private void follow(ZoneProto.Hello hello) {
        ZoneRegistry.Admission admission;
        ZoneRegistry.Settlement settled;
        try {
            admission = hello.hasCredential()
                    ? registry.verify(hello.getCluster(), hello.getReplica(), hello.getCredential())
                    : new ZoneRegistry.Refused(ZoneRegistry.Refusal.UNKNOWN);
            settled = admission instanceof ZoneRegistry.Admitted a
                    ? registry.settle(
                            hello.getCluster(),
                            hello.getReplica(),
                            a.credential().secret())
                    : new ZoneRegistry.Settlement(Optional.empty(), 0);
        } catch (RuntimeException e) {
            log.warn("zone {}: cannot check its credential: {}", name(hello), e.getMessage());
            close(Status.UNAVAILABLE.withDescription("central cannot check credentials now"));
            return;
        }
        if (admission instanceof ZoneRegistry.Refused refused) {
            refuse(hello, "credential ", refused.reason());
            return;
        }
        if (settled.refused().isPresent()) {
            refuse(hello, "credential ", settled.refused().get());
            return;
        }
        if (settled.ended() > 0) {
            log.info(
                    "zone {}: presented its newest credential; {} other credential(s) of the replica ended",
                    name(hello),
                    settled.ended());
        }
        ZoneRegistry.Credential granted = ((ZoneRegistry.Admitted) admission).credential();
        peer = "a stream opened " + clock.instant() + " by zone version " + hello.getZoneVersion();
        try {
            epoch = registry.takeStream(hello.getCluster(), hello.getReplica());
        } catch (RuntimeException e) {
            log.warn("zone {}: cannot take its stream: {}", name(hello), e.getMessage());
            close(Status.UNAVAILABLE.withDescription("central cannot check credentials now"));
            return;
        }
        ZoneBoard.Key key = new ZoneBoard.Key(hello.getCluster(), hello.getReplica());
        // one live stream per replica: a second hello of it ends the first, here at once, on other replicas at their
        // tick; the cluster's other replicas keep theirs
        sessions.stream()
                .filter(s -> s != this && s.key().equals(Optional.of(key)))
                .forEach(s -> s.takenOver(peer));
        credential = granted.secret();
        Instant now = clock.instant();
        // a presented credential counts from when it was issued: rotate at half of what is left
        credentialIssued = granted.expiresAt().minus(registry.credentialLifetime());
        lastEcho = now;
        held.putAll(hello.getHeldMap());
        this.key = Optional.of(key);
        sessions.add(this);
        board.connected(key, hello.getZoneVersion());
        // answer at once: the zone counts as following central from central's first answer
        enqueue("echo", echoReceived(0));
        flush();
        log.info("zone {} connected, holding {}", name(hello), hello.getHeldMap());
        Thread.ofVirtual().name("zone-session-" + key).start(this::run);
    }

    private void refuse(ZoneProto.Hello hello, String what, ZoneRegistry.Refusal reason) {
        board.refused(reason);
        log.warn("zone {} refused: {}{}", name(hello), what, reason);
        close((reason == ZoneRegistry.Refusal.REVOKED ? Status.PERMISSION_DENIED : Status.UNAUTHENTICATED)
                .withDescription(what + reason.name().toLowerCase(java.util.Locale.ROOT)));
    }

    private static String name(ZoneProto.Hello hello) {
        return hello.getReplica().isEmpty() ? hello.getCluster() : hello.getCluster() + "/" + hello.getReplica();
    }

    private void echo(ZoneProto.Echo echo) {
        lastEcho = clock.instant();
        echo.getAppliedMap().forEach((group, revision) -> {
            if (revision >= held.getOrDefault(group, 0L)) {
                unconfirmed.remove(group);
            }
        });
        board.echoed(key.orElseThrow(), echo, lag());
        echoToAnswer.set(echo.getSequence());
    }

    private void run() {
        while (open) {
            try {
                tick();
                // a permit released while tick() ran is kept: that publish is read on the next pass, not lost
                if (wake.tryAcquire(settings.tick().toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS)) {
                    wake.drainPermits();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                // a database hiccup: keep the stream, try again next tick
                log.warn("zone {}: tick failed: {}", key.map(Object::toString).orElse("?"), e.getMessage());
                sleepQuietly(settings.tick());
            }
        }
    }

    private void tick() {
        ZoneBoard.Key k = key.orElseThrow();
        String c = k.cluster();
        Instant now = clock.instant();
        if (!registry.holdsStream(c, k.replica(), epoch)) {
            takenOver("a stream on another central replica");
            return;
        }
        if (registry.verify(c, k.replica(), credential) instanceof ZoneRegistry.Refused refused) {
            board.refused(refused.reason());
            close((refused.reason() == ZoneRegistry.Refusal.REVOKED ? Status.PERMISSION_DENIED : Status.UNAUTHENTICATED)
                    .withDescription("credential " + refused.reason().name().toLowerCase(java.util.Locale.ROOT)));
            return;
        }
        if (Duration.between(lastEcho, now).compareTo(settings.staleAfter()) > 0) {
            board.stale(k);
            log.warn(
                    "zone {}: no echo for {} ({} missed), closing its stream",
                    k,
                    Duration.between(lastEcho, now),
                    ZoneHubSettings.MISSED_ECHOES);
            close(Status.UNAVAILABLE.withDescription(
                    "stale: no echo for " + ZoneHubSettings.MISSED_ECHOES + " echo intervals"));
            return;
        }
        if (!now.isBefore(credentialIssued.plus(registry.credentialLifetime().dividedBy(2)))) {
            ZoneRegistry.Credential next = registry.rotate(c, k.replica());
            enqueue("credential", credential(next));
            credential = next.secret();
            credentialIssued = now;
        }
        ZoneRegistry.ClusterGroups groups = registry.groups(c);
        Map<String, Long> latest = revisions.latestIds();
        for (String group : groups.serving()) {
            Long id = latest.get(group);
            if (id != null && id > held.getOrDefault(group, 0L) && !pendingHas(group, id)) {
                try {
                    revisions.get(id).ifPresent(r -> enqueue("revision:" + group, revision(r)));
                } catch (io.meshguard.xds.store.StoreException e) {
                    // a revision refused on read (it no longer matches its digest or seal) holds back its own group,
                    // not the cluster's others; tried again each tick, logged once
                    if (unreadable.add(id)) {
                        log.error("zone {}: revision {} of group {} not sent: {}", k, id, group, e.getMessage());
                    }
                }
            }
        }
        for (String group : groups.withdrawn()) {
            if (held.containsKey(group)) {
                enqueue(
                        "revision:" + group,
                        ZoneWire.down()
                                .setWithdrawal(ZoneProto.Withdrawal.newBuilder()
                                        .setGroup(group)
                                        .setReason("withdrawn from cluster " + c))
                                .build());
            }
        }
        subscriptionState
                .get()
                .filter(state -> state.version() != subscriptionStateSent)
                .ifPresent(state -> {
                    // one entry: a newer state replaces an unsent older one; the zone gets its own cluster's part only
                    enqueue(
                            "subscription-state",
                            ZoneWire.down()
                                    .setSubscriptionState(ZoneSubscriptionSlice.wire(state, c))
                                    .build());
                    subscriptionStateSent = state.version();
                });
        long echo = echoToAnswer.getAndSet(-1);
        if (echo >= 0) {
            enqueue("echo", echoReceived(echo));
        }
        board.lag(k, lag());
        flush();
    }

    /** Another hello of this replica took its stream: this one ends, and both ends are in the log. */
    synchronized void takenOver(String by) {
        if (!open) {
            return; // the new hello and this stream's own tick both see it: one takeover, counted and logged once
        }
        String c = key.map(Object::toString).orElse("?");
        board.takenOver();
        log.warn(
                "zone {}: a second stream presented the replica's credential ({}); closing the first ({})."
                        + " Two zones with one credential mean a copied credential or a duplicated zone: revoke and register"
                        + " the cluster again if it is not yours",
                c,
                by,
                peer);
        close(Status.ABORTED.withDescription("another stream of zone " + c + " took over"));
    }

    /** Ticks the stream now (a revision was published, a group assigned or withdrawn); the tick stays the net. */
    void wake() {
        wake.release();
    }

    private static ZoneProto.ZoneDown revision(Revision r) {
        ZoneProto.GroupRevision.Builder g = ZoneProto.GroupRevision.newBuilder()
                .setGroup(r.group())
                .setRevision(r.id())
                .setConfig(ConfigJson.write(r.config()))
                .setActor(r.actor() == null ? "" : r.actor())
                .setReason(r.reason() == null ? "" : r.reason());
        if (r.createdAt() != null) {
            g.setCreatedAt(ZoneWire.timestamp(r.createdAt()));
        }
        return ZoneWire.down().setRevision(g).build();
    }

    private static ZoneProto.ZoneDown credential(ZoneRegistry.Credential c) {
        return ZoneWire.down()
                .setCredential(ZoneProto.Credential.newBuilder()
                        .setSecret(c.secret())
                        .setExpiresAt(ZoneWire.timestamp(c.expiresAt())))
                .build();
    }

    private static ZoneProto.ZoneDown echoReceived(long sequence) {
        return ZoneWire.down()
                .setEchoReceived(ZoneProto.EchoReceived.newBuilder().setSequence(sequence))
                .build();
    }

    private Duration lag() {
        Instant now = clock.instant();
        return unconfirmed.values().stream()
                .min(Instant::compareTo)
                .map(t -> Duration.between(t, now))
                .orElse(Duration.ZERO);
    }

    private synchronized boolean pendingHas(String group, long id) {
        ZoneProto.ZoneDown d = pending.get("revision:" + group);
        return d != null && d.hasRevision() && d.getRevision().getRevision() == id;
    }

    private synchronized void enqueue(String key, ZoneProto.ZoneDown message) {
        pending.put(key, message);
    }

    private synchronized void flush() {
        var it = pending.entrySet().iterator();
        while (open && it.hasNext() && out.isReady()) {
            ZoneProto.ZoneDown message = it.next().getValue();
            it.remove();
            out.onNext(message);
            if (message.hasRevision()) {
                held.put(message.getRevision().getGroup(), message.getRevision().getRevision());
                unconfirmed.putIfAbsent(message.getRevision().getGroup(), clock.instant());
            }
            if (message.hasWithdrawal()) {
                held.remove(message.getWithdrawal().getGroup());
                unconfirmed.remove(message.getWithdrawal().getGroup());
            }
        }
    }

    /** Ends the stream with {@code status}; the zone redials (or, refused, stops). */
    synchronized void close(Status status) {
        if (!open) {
            return;
        }
        try {
            out.onError(status.asRuntimeException());
        } catch (RuntimeException e) {
            // already cancelled by the zone
        }
        ended();
    }

    private void ended() {
        boolean was;
        synchronized (this) {
            was = open;
            open = false;
        }
        if (was && sessions.remove(this)) {
            board.disconnected(key.orElseThrow());
        }
    }

    @Override
    public void onError(Throwable t) {
        ended();
    }

    @Override
    public void onCompleted() {
        synchronized (this) {
            if (open) {
                out.onCompleted();
            }
        }
        ended();
    }

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
