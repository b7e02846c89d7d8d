package io.meshguard.xds.zone;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.catalog.SnapshotJson;
import io.meshguard.catalog.SubscriptionSnapshot;
import io.meshguard.contract.zone.ZoneDown;
import io.meshguard.xds.model.ConfigJson;
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
 */
final class ZoneSubscriptionState {
    private static final Logger log = LoggerFactory.getLogger(ZoneSubscriptionState.class);

    private final Path file;
    private final SubscriptionStateService service;
    private final AtomicLong served = new AtomicLong(System.currentTimeMillis());
    /** What the zone serves (accept runs on the link's one thread; restore before it starts). */
    private volatile Optional<SubscriptionSnapshot> current = Optional.empty();

    ZoneSubscriptionState(Path stateDir, SubscriptionStateService service) {
        this.file = stateDir.resolve("subscription-state.json");
        this.service = service;
    }

    /** Serves the stored state, when there is one (at start, before central answered). */
    void restore() {
        if (!Files.exists(file)) {
            return;
        }
        try {
            JsonNode stored = ConfigJson.mapper().readTree(Files.readString(file));
            long version = stored.path("served_version").asLong();
            served.accumulateAndGet(version, Math::max);
            // served again under the number it had: a restart is no change to what the replicas decide from
            SubscriptionSnapshot snapshot =
                    SnapshotJson.decode(stored.path("snapshot")).withVersion(version);
            current = Optional.of(snapshot);
            service.publish(snapshot);
        } catch (IOException | RuntimeException e) {
            log.error("stored subscription state {} unreadable, waiting for central's: {}", file, e.getMessage());
        }
    }

    /** Keeps and serves what central sent; an unreadable state is refused and the last good one kept. */
    Optional<String> accept(ZoneDown.SubscriptionState state) {
        SubscriptionSnapshot snapshot;
        JsonNode json;
        try {
            json = ConfigJson.mapper().readTree(state.snapshot());
            snapshot = SnapshotJson.decode(json);
        } catch (IOException | RuntimeException e) {
            return Optional.of("subscription state " + state.version() + " unreadable: " + e.getMessage());
        }
        if (current.isPresent() && current.get().sameContentAs(snapshot)) {
            // central re-sent what the zone serves (a new stream, a restarted central numbering afresh): the
            // replicas keep the version they hold, so an outage and its resync move no version
            return Optional.empty();
        }
        SubscriptionSnapshot served = snapshot.withVersion(this.served.incrementAndGet());
        current = Optional.of(served);
        service.publish(served);
        store(served.version(), json);
        return Optional.empty();
    }

    /** The version the zone serves now, if it serves any. */
    Optional<Long> version() {
        return current.map(SubscriptionSnapshot::version);
    }

    private void store(long version, JsonNode snapshot) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling("subscription-state.json.tmp");
            Files.writeString(
                    tmp,
                    ConfigJson.write(ConfigJson.mapper()
                            .createObjectNode()
                            .put("served_version", version)
                            .set("snapshot", snapshot)));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // still served from memory; a restart before the next change would wait for central
            log.error("cannot keep the subscription state in {}: {}", file, e.getMessage());
        }
    }
}
