package io.meshguard.xds.zone;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.meshguard.contract.zone.ZoneWire;
import io.meshguard.contract.zone.v1.ZoneProto;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The zone's one outbound stream to central: hello with what it holds, then revisions down and echoes up. Redials
 * with backoff after any end, except a refusal (revoked, or a spent or expired registration token): redialling cannot
 * change that, so the zone keeps serving what it has and says so in its readiness. The zone also gives up on a stream
 * whose echoes central stopped answering for three intervals (a stream cut at a proxy) and dials a fresh one.
 */
public final class CentralLink implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CentralLink.class);

    /** What the zone does with what central says. */
    public interface Zone {
        /** Applies a revision; the reason it could not, when it could not (the group keeps what it serves). */
        Optional<String> revision(ZoneProto.GroupRevision revision);

        void withdrawal(ZoneProto.Withdrawal withdrawal);

        /** What the zone holds per group, for the hello. */
        Map<String, Long> held();

        ZoneProto.Echo echo(long sequence);

        /** Keeps and serves the catalogue's subscription state; the reason it could not, when it could not. */
        Optional<String> subscriptionState(ZoneProto.SubscriptionState state);
    }

    /**
     * The link's state, for readiness, metrics and the demo.
     *
     * @param connected central answered on the current stream (the zone follows it); false while a stream is merely
     *     open to a central that has not answered
     * @param lastMessage when central last sent anything: what the zone serves is central's as of then
     */
    public record State(
            boolean connected, Optional<String> refused, long streamsOpened, Optional<Instant> lastMessage) {}

    private final ZoneSettings settings;
    private final ZoneCredentialFile credentials;
    private final Zone zone;
    private final ManagedChannel channel;
    private final AtomicReference<State> state =
            new AtomicReference<>(new State(false, Optional.empty(), 0, Optional.empty()));
    private volatile boolean running;
    private volatile Stream current;
    private Thread thread;

    public CentralLink(ZoneSettings settings, Zone zone) {
        this.settings = settings;
        this.credentials = new ZoneCredentialFile(settings.stateDir());
        this.zone = zone;
        this.channel = channelTo(settings)
                // a zone lives behind NAT and proxies: keep the connection warm; echoes check the stream itself
                .keepAliveTime(30, java.util.concurrent.TimeUnit.SECONDS)
                .maxInboundMessageSize(ZoneStream.MAX_MESSAGE_BYTES)
                .build();
    }

    private static ManagedChannelBuilder<?> channelTo(ZoneSettings settings) {
        if (settings.plaintext()) {
            return ManagedChannelBuilder.forTarget(settings.central()).usePlaintext();
        }
        if (settings.centralCaFile().isEmpty()) {
            return ManagedChannelBuilder.forTarget(settings.central()).useTransportSecurity();
        }
        try {
            // the bank's CA alone: central's certificate is checked against it and the host name dialled
            return io.grpc.Grpc.newChannelBuilder(
                    settings.central(),
                    io.grpc.TlsChannelCredentials.newBuilder()
                            .trustManager(settings.centralCaFile().get().toFile())
                            .build());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(
                    "zone.central_ca_file " + settings.centralCaFile().get() + " unreadable", e);
        }
    }

    public CentralLink start() {
        running = true;
        thread = Thread.ofVirtual().name("zone-central-link").start(this::loop);
        return this;
    }

    public State state() {
        return state.get();
    }

    private void loop() {
        Duration backoff = settings.minBackoff();
        while (running) {
            Stream s = new Stream();
            current = s;
            Status end = s.run();
            if (!running) {
                return;
            }
            if (end.getCode() == Status.Code.UNAUTHENTICATED || end.getCode() == Status.Code.PERMISSION_DENIED) {
                log.error(
                        "central refused this zone ({}): serving what it holds, not redialling; register the"
                                + " cluster again and restart the zone with the new token",
                        end.getDescription());
                state.updateAndGet(x -> new State(
                        false, Optional.ofNullable(end.getDescription()), x.streamsOpened(), x.lastMessage()));
                return;
            }
            backoff = s.heard ? settings.minBackoff() : min(backoff.multipliedBy(2), settings.maxBackoff());
            Duration wait = jittered(backoff);
            log.info("stream to central ended ({}: {}), redialling in {}", end.getCode(), end.getDescription(), wait);
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                return;
            }
            // this loop's backoff (at most maxBackoff) is the one that counts: gRPC's own reconnect backoff
            // (grpc-java io.grpc.internal.ExponentialBackoffPolicy: 1 s x 1.6 up to 120 s) grows through a long
            // outage and would fail our dials fast for up to two minutes after central is back (the 60 s test)
            channel.resetConnectBackoff();
        }
    }

    /** How long a zone waits for central's first answer on a new stream. */
    static final Duration FIRST_ANSWER_TIMEOUT = Duration.ofSeconds(15);

    /**
     * Between half of {@code backoff} and all of it ("equal jitter"): after central returns, zones that lost it
     * together redial spread over the window instead of in lockstep, and none waits longer than the cap.
     */
    static Duration jittered(Duration backoff) {
        long nanos = backoff.toNanos();
        return Duration.ofNanos(
                nanos / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(nanos / 2 + 1));
    }

    private static Duration max(Duration a, Duration b) {
        return a.compareTo(b) > 0 ? a : b;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) < 0 ? a : b;
    }

    /** One stream: opened, echoed on, ended. */
    private final class Stream implements StreamObserver<ZoneProto.ZoneDown> {
        private final CountDownLatch ended = new CountDownLatch(1);
        private volatile Status end = Status.OK;
        private volatile Instant lastAnswer = Instant.now();
        private volatile boolean heard;
        /** A registration stream: central answers the token with a credential and ends it; no following yet. */
        private volatile boolean registering;

        private volatile StreamObserver<ZoneProto.ZoneUp> up;

        Status run() {
            up = ClientCalls.asyncBidiStreamingCall(channel.newCall(ZoneStream.FOLLOW, CallOptions.DEFAULT), this);
            Optional<ZoneRegistry.Credential> stored =
                    credentials.read().filter(c -> c.expiresAt().isAfter(Instant.now()));
            ZoneProto.Hello.Builder hello = ZoneProto.Hello.newBuilder()
                    .setCluster(settings.cluster())
                    .putAllHeld(zone.held())
                    .setZoneVersion("zone/" + ZoneWire.VERSION)
                    .setReplica(settings.replica());
            // the credential or, the first time, the registration token: never both
            stored.ifPresentOrElse(c -> hello.setCredential(c.secret()), () -> settings.registrationToken()
                    .ifPresent(hello::setRegistrationToken));
            registering = hello.hasRegistrationToken();
            // "connected" (following central) only once central answers on this stream: an opened stream to a
            // hung central is not following it. Said before the hello, so central's first answer is never undone.
            state.updateAndGet(x -> new State(false, Optional.empty(), x.streamsOpened() + 1, x.lastMessage()));
            send(ZoneWire.up().setHello(hello).build());
            long sequence = 0;
            try {
                while (!ended.await(settings.echoInterval().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    // before central's first answer the hello is being checked (a token exchange, a cold
                    // database): a longer wait, so the zone does not walk away from a token it just spent
                    Duration patience = heard
                            ? settings.echoInterval().multipliedBy(ZoneHubSettings.MISSED_ECHOES)
                            : max(
                                    FIRST_ANSWER_TIMEOUT,
                                    settings.echoInterval().multipliedBy(ZoneHubSettings.MISSED_ECHOES));
                    if (Duration.between(lastAnswer, Instant.now()).compareTo(patience) > 0) {
                        log.warn(
                                "central answered no echo for {} intervals: dialling a fresh stream",
                                ZoneHubSettings.MISSED_ECHOES);
                        cancel(Status.UNAVAILABLE.withDescription("central stopped answering echoes"));
                        break;
                    }
                    send(ZoneWire.up().setEcho(zone.echo(++sequence)).build());
                }
                ended.await();
            } catch (InterruptedException e) {
                cancel(Status.CANCELLED.withDescription("zone stopping"));
                Thread.currentThread().interrupt();
            }
            state.updateAndGet(x -> new State(false, x.refused(), x.streamsOpened(), x.lastMessage()));
            return end;
        }

        private synchronized void send(ZoneProto.ZoneUp message) {
            if (ended.getCount() > 0) {
                up.onNext(message);
            }
        }

        synchronized void cancel(Status status) {
            if (ended.getCount() > 0) {
                up.onError(status.asRuntimeException());
                end = status;
                ended.countDown();
            }
        }

        @Override
        public void onNext(ZoneProto.ZoneDown down) {
            heard = true;
            lastAnswer = Instant.now();
            // a registration stream's credential is not following central: the stream that presents it is
            state.updateAndGet(x -> new State(
                    ended.getCount() > 0 && !registering, x.refused(), x.streamsOpened(), Optional.of(lastAnswer)));
            if (down.getVersion() != ZoneWire.VERSION) {
                cancel(Status.FAILED_PRECONDITION.withDescription("central speaks v" + down.getVersion()));
                return;
            }
            try {
                follow(down);
            } catch (RuntimeException e) {
                // a command this zone cannot carry out is logged and the stream goes on: ending it would drop every
                // later command, and each reconnect would replay the same one first
                log.error("central's {} could not be carried out, the stream goes on", down.getPartCase(), e);
            }
        }

        private void follow(ZoneProto.ZoneDown down) {
            switch (down.getPartCase()) {
                case CREDENTIAL ->
                    credentials.write(
                            down.getCredential().getSecret(),
                            ZoneWire.instant(down.getCredential().getExpiresAt()));
                case REVISION -> {
                    ZoneProto.GroupRevision r = down.getRevision();
                    zone.revision(r)
                            .ifPresent(why -> log.error(
                                    "revision {} of group {} cannot be served, keeping what the group serves: {}",
                                    r.getRevision(),
                                    r.getGroup(),
                                    why));
                }
                case WITHDRAWAL -> zone.withdrawal(down.getWithdrawal());
                case SUBSCRIPTION_STATE ->
                    zone.subscriptionState(down.getSubscriptionState())
                            .ifPresent(why -> log.error("{}; product routes keep the last subscription state", why));
                case ECHO_RECEIVED, PART_NOT_SET -> {
                    // an answer to an echo is the liveness noted above; a part this zone does not know (a newer
                    // central's) is ignored, as unknown fields are
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            end = Status.fromThrowable(t);
            ended.countDown();
        }

        @Override
        public void onCompleted() {
            end = Status.UNAVAILABLE.withDescription("central ended the stream");
            ended.countDown();
        }
    }

    /** Stops dialling and ends the stream. */
    @Override
    public void close() {
        running = false;
        Stream s = current;
        if (s != null && s.up != null) {
            s.cancel(Status.CANCELLED.withDescription("zone stopping"));
        }
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        channel.shutdownNow();
    }
}
