package io.meshguard.xds.server;

import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import io.meshguard.xds.store.Revision;
import io.meshguard.xds.store.RevisionStore;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ValidationResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * validate → build → store a new revision → serve. A configuration that fails validation or produces dangling
 * references is refused before it is stored, so the revision being served keeps serving. Also applies revisions
 * stored by another replica ({@link #applyLatest}).
 */
public final class Publisher {
    private static final Logger log = LoggerFactory.getLogger(Publisher.class);

    /** Outcome of a publish: the new revision, or why there is none. */
    public record Result(Optional<Revision> revision, List<Problem> problems) {
        public boolean published() {
            return revision.isPresent();
        }
    }

    private final ConfigValidator validator = new ConfigValidator();
    private final SnapshotBuilder builder;
    private final RevisionStore store;
    private final XdsSnapshots snapshots;
    private final Fleet fleet;
    private final MeterRegistry meters;
    private final Timer buildTimer;
    private final AtomicLong servedRevision = new AtomicLong(0);

    public Publisher(SnapshotBuilder builder, RevisionStore store, XdsSnapshots snapshots, Fleet fleet,
            MeterRegistry meters) {
        this.builder = builder;
        this.store = store;
        this.snapshots = snapshots;
        this.fleet = fleet;
        this.meters = meters;
        this.buildTimer = Timer.builder("meshguard_xds_snapshot_build_seconds")
                .description("Time to build the xDS resources of all groups from a configuration")
                .register(meters);
        meters.gauge("meshguard_xds_served_revision", servedRevision);
    }

    /** Publishes a configuration as a new revision and serves it. */
    public synchronized Result publish(GatewayConfig config, String actor, String reason) {
        ValidationResult validation = validator.validate(config);
        if (!validation.valid()) {
            outcome("invalid");
            return new Result(Optional.empty(), validation.problems());
        }
        Map<String, GroupResources> built;
        try {
            built = buildAll(config);
        } catch (IllegalStateException e) {
            outcome("invalid");
            return new Result(Optional.empty(), List.of(Problem.error("snapshot", e.getMessage())));
        }
        Revision revision = store.append(config, actor, reason);
        serve(revision.id(), config, built);
        outcome("published");
        log.info("published revision {} by {}: {}", revision.id(), actor, reason);
        return new Result(Optional.of(revision), validation.warnings());
    }

    /** Publishes the configuration of an earlier revision again, as a new revision. */
    public synchronized Result rollback(long revisionId, String actor) {
        Optional<Revision> old = store.get(revisionId);
        if (old.isEmpty()) {
            return new Result(Optional.empty(),
                    List.of(Problem.error("revision", "no revision " + revisionId)));
        }
        return publish(old.get().config(), actor, "rollback to revision " + revisionId);
    }

    /**
     * Serves the newest stored revision if it is not the one served (a publish by another replica, or startup).
     * Returns the revision served afterwards.
     */
    public synchronized long applyLatest() {
        Optional<Revision> latest = store.latest();
        if (latest.isEmpty() || latest.get().id() == servedRevision.get()) {
            return servedRevision.get();
        }
        Revision r = latest.get();
        try {
            serve(r.id(), r.config(), buildAll(r.config()));
            log.info("serving revision {} (published by {})", r.id(), r.actor());
        } catch (RuntimeException e) {
            // stored revisions were valid when stored; a newer controller may judge otherwise: keep the old one
            outcome("apply_failed");
            log.error("revision {} cannot be served, keeping revision {}: {}", r.id(), servedRevision.get(),
                    e.getMessage());
        }
        return servedRevision.get();
    }

    public long servedRevision() {
        return servedRevision.get();
    }

    /** Builds every group; the validator guarantees the input, the reference check the output. */
    public Map<String, GroupResources> buildAll(GatewayConfig config) {
        Map<String, GroupResources> out = new LinkedHashMap<>();
        buildTimer.record(() -> {
            for (GatewayGroup g : config.groups()) {
                GroupResources r = builder.build(config, g.name());
                List<String> dangling = ReferenceCheck.danglingReferences(r);
                if (!dangling.isEmpty()) {
                    throw new IllegalStateException("group " + g.name() + ": " + String.join("; ", dangling));
                }
                out.put(g.name(), r);
            }
        });
        return out;
    }

    private void serve(long revisionId, GatewayConfig config, Map<String, GroupResources> built) {
        List<String> gone = new ArrayList<>(snapshots.groups());
        gone.removeAll(built.keySet());
        built.values().forEach(r -> snapshots.serve(revisionId, r));
        gone.forEach(g -> snapshots.remove(g, revisionId));
        servedRevision.set(revisionId);
        fleet.refreshRevisions();
    }

    private void outcome(String result) {
        Counter.builder("meshguard_xds_publish_total").tag("result", result).register(meters).increment();
    }
}
