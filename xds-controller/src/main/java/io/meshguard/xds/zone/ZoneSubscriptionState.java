package io.meshguard.xds.zone;

import io.meshguard.catalog.SnapshotMessage;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.contract.subscription.v1.SubscriptionStateProto;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.xds.subscription.SubscriptionStateService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The subscription state a zone serves its cluster's extauthz replicas (R4-02): the newest snapshot central sent,
 * kept in the state directory so a zone restarted while central is away serves it at once, as it serves its revisions,
 * and published into the zone's {@link SubscriptionStateService}. The zone numbers what it serves itself (a
 * counter kept beside the snapshot, never going back), so a stream to another central replica, whose numbers differ,
 * still moves every replica forward; it moves only when the content does, so central's restarts and re-sends on a new
 * stream leave the replicas on the version they hold.
 *
 * <p>The kept file is the {@code meshguard.catalog.v1.SubscriptionState} message under the version the zone serves
 * (protobuf binary, {@code subscription-state.binpb}). The JSON file releases before kept
 * ({@code subscription-state.json}) is not read: a zone upgraded while central is away waits for central's state, and
 * removes the old file once it kept a new one.
 */
public final class ZoneSubscriptionState {
    private static final Logger log = LoggerFactory.getLogger(ZoneSubscriptionState.class);

    private final Path file;
    private final Path legacyFile;
    private final SubscriptionStateService service;
    private final AtomicLong served = new AtomicLong(System.currentTimeMillis());
    /** What the zone serves (accept runs on the link's one thread; restore before it starts). */
    private volatile Optional<SubscriptionSnapshot> current = Optional.empty();

    public ZoneSubscriptionState(Path stateDir, SubscriptionStateService service) {
        this.file = stateDir.resolve("subscription-state.binpb");
        this.legacyFile = stateDir.resolve("subscription-state.json");
        this.service = service;
    }

    /** Serves the stored state, when there is one (at start, before central answered). */
    public void restore() {
        if (!Files.exists(file)) {
            return;
        }
        try {
            SubscriptionStateProto.SubscriptionState stored =
                    SubscriptionStateProto.SubscriptionState.parseFrom(Files.readAllBytes(file));
            // served again under the number it had: a restart is no change to what the replicas decide from
            SubscriptionSnapshot snapshot = SnapshotMessage.read(stored);
            served.accumulateAndGet(snapshot.version(), Math::max);
            current = Optional.of(snapshot);
            service.publish(snapshot);
        } catch (IOException | RuntimeException e) {
            log.error("stored subscription state {} unreadable, waiting for central's: {}", file, e.getMessage());
        }
    }

    /** Keeps and serves what central sent; an unreadable state is refused and the last good one kept. */
    public Optional<String> accept(ZoneProto.SubscriptionState state) {
        if (!state.hasState()) {
            // a central of the release that sent the state as JSON text (field 2, reserved now)
            return Optional.of("subscription state " + state.getVersion() + " carries no state message");
        }
        SubscriptionSnapshot snapshot;
        try {
            snapshot = SnapshotMessage.read(state.getState());
        } catch (RuntimeException e) {
            return Optional.of("subscription state " + state.getVersion() + " unreadable: " + e.getMessage());
        }
        if (current.isPresent() && current.get().sameContentAs(snapshot)) {
            // central re-sent what the zone serves (a new stream, a restarted central numbering afresh): the
            // replicas keep the version they hold, so an outage and its resync move no version
            return Optional.empty();
        }
        SubscriptionSnapshot served = snapshot.withVersion(this.served.incrementAndGet());
        current = Optional.of(served);
        service.publish(served);
        store(state.getState().toBuilder().setVersion(served.version()).build());
        return Optional.empty();
    }

    /** The version the zone serves now, if it serves any. */
    Optional<Long> version() {
        return current.map(SubscriptionSnapshot::version);
    }

    private void store(SubscriptionStateProto.SubscriptionState state) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling("subscription-state.binpb.tmp");
            Files.write(tmp, state.toByteArray());
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            Files.deleteIfExists(legacyFile);
        } catch (IOException e) {
            // still served from memory; a restart before the next change would wait for central
            log.error("cannot keep the subscription state in {}: {}", file, e.getMessage());
        }
    }
}
