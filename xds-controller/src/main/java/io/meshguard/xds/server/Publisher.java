package io.meshguard.xds.server;

import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import io.meshguard.xds.store.Revision;
import io.meshguard.xds.store.RevisionStore;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.EnvoyLoadCheck;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ProblemCode;
import io.meshguard.xds.validate.ValidationResult;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * validate → build → store a new revision per changed group → serve. A configuration that fails validation or
 * produces dangling references is refused before anything is stored, so the revisions being served keep serving.
 * Also applies revisions stored by another replica ({@link #applyLatest}).
 */
public final class Publisher {
    private static final Logger log = LoggerFactory.getLogger(Publisher.class);

    /**
     * Outcome of a publish.
     *
     * @param revisions the new revision of each group whose configuration changed (none when nothing changed)
     * @param problems errors when refused, warnings otherwise
     */
    public record Result(boolean published, Map<String, Revision> revisions, List<Problem> problems) {
        public Result {
            revisions = Map.copyOf(revisions);
            problems = List.copyOf(problems);
        }

        /** The one new revision (for a publish that changed a single group). */
        public Optional<Revision> revision() {
            return revisions.size() == 1 ? revisions.values().stream().findFirst() : Optional.empty();
        }

        static Result refused(List<Problem> problems) {
            return new Result(false, Map.of(), problems);
        }
    }

    private final ConfigValidator validator;
    private final SnapshotBuilder builder;
    private final RevisionStore store;
    private final XdsSnapshots snapshots;
    private final Fleet fleet;
    private final MeterRegistry meters;
    private final Timer buildTimer;
    private final RolloutSpans rollouts;
    /** Groups whose newest revision this replica could not read or build: each keeps what it served. */
    private final Map<String, NotServed> notServed = new ConcurrentHashMap<>();

    public Publisher(
            SnapshotBuilder builder, RevisionStore store, XdsSnapshots snapshots, Fleet fleet, MeterRegistry meters) {
        this(new ConfigValidator(), builder, store, snapshots, fleet, meters);
    }

    /** @param validator what every publish and rollback must pass (with the policies' profiles, when loaded) */
    public Publisher(
            ConfigValidator validator,
            SnapshotBuilder builder,
            RevisionStore store,
            XdsSnapshots snapshots,
            Fleet fleet,
            MeterRegistry meters) {
        this(validator, builder, store, snapshots, fleet, meters, RolloutSpans.disabled());
    }

    /** @param rollouts a span per served revision until the fleet answers (tracing) */
    public Publisher(
            ConfigValidator validator,
            SnapshotBuilder builder,
            RevisionStore store,
            XdsSnapshots snapshots,
            Fleet fleet,
            MeterRegistry meters,
            RolloutSpans rollouts) {
        this.rollouts = rollouts;
        this.validator = validator;
        this.builder = builder;
        this.store = store;
        this.snapshots = snapshots;
        this.fleet = fleet;
        this.meters = meters;
        OUTCOMES.forEach(this::publishCounter);
        io.micrometer.core.instrument.Gauge.builder("meshguard_xds_revisions_not_served", notServed, Map::size)
                .description("Groups whose newest stored revision this replica cannot read or build; each keeps "
                        + "serving what it served")
                .register(meters);
        this.buildTimer = Timer.builder("meshguard_xds_snapshot_build_seconds")
                .description("Time to build the xDS resources of one publish")
                .register(meters);
    }

    /** Publishes every group of {@code config}: a new revision for each group whose slice changed. */
    public synchronized Result publish(GatewayConfig config, String actor, String reason) {
        return publish(config, actor, reason, Set.of());
    }

    /**
     * As {@link #publish(GatewayConfig, String, String)}, except for the groups in {@code held}, which keep serving
     * what they serve (protected groups whose change waits for a second person's approval). The whole configuration
     * is still validated, so a request is only ever opened for a draft that would publish.
     */
    public synchronized Result publish(GatewayConfig config, String actor, String reason, Set<String> held) {
        Map<String, Long> latest = store.latestIds();
        Map<String, GatewayConfig> slices = new LinkedHashMap<>();
        Map<String, GatewayConfig> changed = new LinkedHashMap<>();
        List<Problem> unreadable = new ArrayList<>();
        for (GatewayGroup g : config.groups()) {
            if (held.contains(g.name())) {
                continue;
            }
            GatewayConfig slice = config.slice(g.name());
            Long latestId = latest.get(g.name());
            Optional<GatewayConfig> current;
            try {
                current = latestId == null ? Optional.empty() : Optional.of(currentSlice(g.name(), latestId));
            } catch (RuntimeException e) {
                // a newest revision this release cannot read (a newer release's) is not replaced unseen: the group
                // is left as it is, a rollback to a revision this release reads replaces it
                unreadable.add(Problem.warning(
                        ProblemCode.PUBLISH_REVISION_UNREADABLE,
                        "groups[" + g.name() + "]",
                        "revision " + latestId + " of group " + g.name() + " cannot be read here, so the group was"
                                + " left as it is: " + describe(e)));
                continue;
            }
            slices.put(g.name(), slice);
            if (current.isEmpty() || !slice.equals(current.get())) {
                changed.put(g.name(), slice);
            }
        }
        // the new revisions are written while the configuration is checked; only a configuration that passes commits
        CompletableFuture<RevisionStore.Pending> writing = changed.isEmpty()
                ? CompletableFuture.completedFuture(RevisionStore.Pending.NONE)
                : CompletableFuture.supplyAsync(() -> store.prepare(changed, actor, reason), BESIDE);
        Map<String, GroupResources> built = new LinkedHashMap<>();
        ValidationResult validation = null;
        try {
            validation = validateAndBuild(config, built);
        } finally {
            if (validation == null || !validation.valid()) {
                writing.thenAccept(RevisionStore.Pending::abort);
            }
        }
        if (!validation.valid()) {
            outcome("invalid");
            return Result.refused(validation.problems());
        }
        Map<String, Revision> created;
        try {
            created = writing.join().commit();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
        slices.forEach((group, slice) -> {
            Revision r = created.get(group);
            if (r != null) {
                // before serving: a node may ACK the push before serve() returns
                rollouts.served(group, r.id(), fleet.nodes());
            }
            serve(r != null ? r.id() : latest.get(group), built.get(group), Optional.of(slice));
        });
        fleet.refreshRevisions();
        outcome(created.isEmpty() ? "unchanged" : "published");
        created.values()
                .forEach(
                        r -> log.info("published revision {} of group {} by {}: {}", r.id(), r.group(), actor, reason));
        unreadable.forEach(p -> log.warn("publish by {}: {}", actor, p.message()));
        List<Problem> warnings = new ArrayList<>(validation.warnings());
        warnings.addAll(unreadable);
        return new Result(true, created, warnings);
    }

    /**
     * Publishes exactly {@code slice} as the next revision of {@code group}: the content a second person approved,
     * whatever the draft holds now. Validated and built like any publish.
     */
    public synchronized Result publishApproved(String group, GatewayConfig approved, String actor, String reason) {
        GatewayConfig slice = reusingServed(group, approved);
        Map<String, GroupResources> built = new LinkedHashMap<>();
        ValidationResult validation = validateAndBuild(slice, built);
        if (!validation.valid()) {
            outcome("invalid");
            return Result.refused(validation.problems());
        }
        GroupResources resources = built.get(group);
        if (resources == null) {
            return Result.refused(List.of(Problem.error(
                    ProblemCode.PUBLISH_APPROVED_GROUP_MISSING,
                    "group",
                    "the approved content has no group " + group)));
        }
        Revision r = store.append(group, slice, actor, reason);
        rollouts.served(group, r.id(), fleet.nodes());
        serve(r.id(), resources, Optional.of(slice));
        fleet.refreshRevisions();
        outcome("published");
        log.info("published approved revision {} of group {}: {}", r.id(), group, reason);
        return new Result(true, Map.of(group, r), validation.warnings());
    }

    /** The configuration a group serves now (its newest revision), if it was ever published. */
    public Optional<GatewayConfig> servedSlice(String group) {
        return Optional.ofNullable(store.latestIds().get(group)).map(id -> currentSlice(group, id));
    }

    /** The configuration of revision {@code id} of a group: from what is served when it is that revision. */
    private GatewayConfig currentSlice(String group, long id) {
        return servedAsNewest(group, id)
                .orElseGet(() -> store.get(id).map(Revision::config).orElse(GatewayConfig.EMPTY));
    }

    /**
     * What this replica serves for {@code group} when that is its newest revision {@code newest}: what a publish or a
     * rollback is compared with, so one that would serve it again makes no revision.
     */
    private Optional<GatewayConfig> servedAsNewest(String group, long newest) {
        return snapshots.served(group).filter(s -> s.revision() == newest).flatMap(XdsSnapshots.Served::slice);
    }

    /** Publishes the configuration of an earlier revision of a group again, as that group's new revision. */
    public synchronized Result rollback(long revisionId, String actor) {
        return rollback(revisionId, actor, "");
    }

    /**
     * Like {@link #rollback(long, String)}, recording {@code reason} (why, as publish requires) with the new revision:
     * {@code rollback to revision N: reason}.
     */
    public synchronized Result rollback(long revisionId, String actor, String reason) {
        Optional<Revision> old = store.get(revisionId);
        if (old.isEmpty()) {
            return Result.refused(
                    List.of(Problem.error(ProblemCode.PUBLISH_NO_REVISION, "revision", "no revision " + revisionId)));
        }
        String group = old.get().group();
        GatewayConfig slice = reusingServed(group, old.get().config());
        // as kubectl's undo to the template it runs: no new revision that serves what is served
        // (compared with what this replica serves, when that is the newest revision: an unreadable newest revision is
        // exactly what a rollback replaces, and is never read here)
        Long newest = store.latestIds().get(group);
        if (newest != null
                && servedAsNewest(group, newest).filter(slice::equals).isPresent()) {
            outcome("unchanged");
            return Result.refused(List.of(Problem.error(
                    ProblemCode.PUBLISH_ALREADY_SERVED,
                    "group",
                    "group " + group + " already serves the content of revision " + revisionId
                            + (newest == revisionId ? "" : " (as revision " + newest + ")")
                            + ": nothing to roll back")));
        }
        Map<String, GroupResources> built = new LinkedHashMap<>();
        ValidationResult validation = validateAndBuild(slice, built);
        if (!validation.valid()) {
            outcome("invalid");
            return Result.refused(validation.problems());
        }
        GroupResources resources = built.get(group);
        Revision r = store.append(
                old.get().group(),
                slice,
                actor,
                "rollback to revision " + revisionId + (reason.isBlank() ? "" : ": " + reason));
        rollouts.served(r.group(), r.id(), fleet.nodes());
        serve(r.id(), resources, Optional.of(slice));
        fleet.refreshRevisions();
        outcome("rolled_back");
        log.info("group {} rolled back to revision {} as revision {} by {}", r.group(), revisionId, r.id(), actor);
        return new Result(true, Map.of(r.group(), r), validation.warnings());
    }

    /**
     * Serves the newest stored revision of every group that is not served yet (a publish by another replica, or
     * startup). A revision that cannot be read (written by a newer release with a field or value this one does not
     * know, a row, part or chunk that does not match its digest or seal, or anything else its read throws) or no
     * longer builds is refused for its group alone: the group keeps what it serves, every other group is served,
     * and the refusal is logged and counted once and shown in {@link #readinessCheck()} until a later revision of
     * the group is served.
     */
    public synchronized void applyLatest() {
        Map<String, Long> latestIds = store.latestIds();
        notServed.keySet().retainAll(latestIds.keySet());
        for (Map.Entry<String, Long> latest : latestIds.entrySet()) {
            String group = latest.getKey();
            long id = latest.getValue();
            Optional<XdsSnapshots.Served> served = snapshots.served(group);
            if (served.isPresent() && served.get().revision() >= id) {
                notServed.remove(group);
                continue;
            }
            Optional<Revision> stored;
            try {
                stored = store.get(id);
            } catch (RuntimeException e) {
                // StoreException (unreadable, or refused by its digests or seal), IllegalArgumentException (content
                // this release cannot read) or any other: one group's revision never stops the others'
                refuse(group, id, "cannot be read", served, e);
                continue;
            }
            if (stored.isEmpty()) {
                continue;
            }
            Revision r = stored.get();
            try {
                GatewayConfig slice = reusingServed(r.group(), r.config());
                GroupResources resources = buildAll(slice).get(r.group());
                rollouts.served(r.group(), r.id(), fleet.nodes());
                serve(r.id(), resources, Optional.of(slice));
                notServed.remove(group);
                log.info("serving revision {} of group {} (published by {})", r.id(), r.group(), r.actor());
            } catch (RuntimeException e) {
                refuse(group, id, "cannot be served", served, e);
            }
        }
        fleet.refreshRevisions();
    }

    /** A group's newest revision this replica does not serve, and why. */
    public record NotServed(long revision, String reason) {}

    /** Logs and counts a revision once, however often the publish loop comes round to it again. */
    private void refuse(String group, long id, String what, Optional<XdsSnapshots.Served> served, RuntimeException e) {
        String reason = "revision " + id + " " + what + ": " + describe(e);
        NotServed before = notServed.put(group, new NotServed(id, reason));
        if (before != null && before.revision() == id) {
            return;
        }
        outcome("apply_failed");
        log.error(
                "revision {} of group {} {}, keeping {}: {}",
                id,
                group,
                what,
                served.map(s -> "revision " + s.revision()).orElse("nothing"),
                describe(e));
    }

    private static String describe(RuntimeException e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** The groups whose newest revision this replica does not serve (cannot read or build), and why. */
    public Map<String, NotServed> notServed() {
        return Map.copyOf(notServed);
    }

    /**
     * For {@code /readyz}: ready either way, since every replica reads the same revisions and a replica taken out
     * of rotation would stop serving every group, not just the refused one; the detail names what is refused.
     */
    public ReadinessCheck readinessCheck() {
        return ReadinessCheck.of("xds:revisions", () -> {
            Map<String, NotServed> now = new TreeMap<>(notServed);
            if (now.isEmpty()) {
                return ReadinessCheck.Result.ready("every group's newest revision served");
            }
            StringBuilder detail = new StringBuilder("NOT SERVED (each group keeps what it served): ");
            now.forEach((group, n) -> detail.append("group ")
                    .append(group)
                    .append(' ')
                    .append(n.reason())
                    .append("; "));
            return ReadinessCheck.Result.ready(detail.substring(0, detail.length() - 2));
        });
    }

    /**
     * {@code config} (a revision as read: every object a new instance) with the instances of the group's served slice
     * wherever they are equal, so its build and checks take the unchanged virtual hosts whole, as the publishing
     * replica's did, and what they remember by identity is not filled with copies.
     */
    private GatewayConfig reusingServed(String group, GatewayConfig config) {
        return snapshots
                .served(group)
                .flatMap(XdsSnapshots.Served::slice)
                .map(config::reusing)
                .orElse(config);
    }

    /**
     * Validates {@code config} with Envoy's checks run on the resources as this deployment builds and serves them
     * ({@link #buildAll}), which are kept in {@code built} when they pass: a publish builds its resources once. The
     * build runs beside the validator's own checks (its outcome is looked at only when they all passed), so on two
     * cores a publish waits for the longer of the two, not their sum.
     */
    private ValidationResult validateAndBuild(GatewayConfig config, Map<String, GroupResources> built) {
        CompletableFuture<Map<String, GroupResources>> building =
                CompletableFuture.supplyAsync(() -> buildAll(config), BESIDE);
        return validator.validate(config, checked -> {
            if (checked != config) {
                throw new IllegalArgumentException("Envoy's checks asked for another configuration");
            }
            try {
                built.putAll(building.join());
                return List.of();
            } catch (CompletionException e) {
                if (e.getCause() instanceof IllegalStateException refused) {
                    return refusal(refused);
                }
                throw e;
            }
        });
    }

    /**
     * Where a publish's build and its revision write run beside its validation: a virtual thread each, nothing to
     * start or stop.
     */
    private static final Executor BESIDE =
            task -> Thread.ofVirtual().name("publish-build").start(task);

    /** Serves a revision, and drops at once the clusters it removed if no node of the group needs them meanwhile. */
    private void serve(long revision, GroupResources resources, Optional<GatewayConfig> slice) {
        snapshots.serve(revision, resources, slice);
        snapshots.settle(resources.group(), fleet::nodes);
    }

    /** The validator publishes pass; the admin API validates drafts with the same one. */
    public ConfigValidator validator() {
        return validator;
    }

    /** The configuration every group serves now (for re-checking it when the policies change). */
    public List<GatewayConfig> servedConfigs() {
        return snapshots.groups().stream()
                .map(snapshots::served)
                .flatMap(Optional::stream)
                .map(XdsSnapshots.Served::slice)
                .flatMap(Optional::stream)
                .toList();
    }

    /** The revision a group serves now. */
    public Optional<Long> servedRevision(String group) {
        return snapshots.served(group).map(XdsSnapshots.Served::revision);
    }

    /**
     * Builds every group; the validator guarantees the input, the reference check and Envoy's own load-time checks
     * ({@link EnvoyLoadCheck}: what every node of the group would NACK) the output. Throws
     * {@link IllegalStateException} ({@link EnvoyRefusal} for Envoy's checks) when the output fails them.
     */
    public Map<String, GroupResources> buildAll(GatewayConfig config) {
        Map<String, GroupResources> out = new LinkedHashMap<>();
        buildTimer.record(() -> {
            for (GatewayGroup g : config.groups()) {
                GroupResources r = builder.build(config, g.name());
                List<String> dangling = ReferenceCheck.danglingReferences(r);
                if (!dangling.isEmpty()) {
                    throw new IllegalStateException("group " + g.name() + ": " + String.join("; ", dangling));
                }
                List<Problem> refused = EnvoyLoadCheck.problems(r);
                if (!refused.isEmpty()) {
                    throw new EnvoyRefusal(refused);
                }
                out.put(g.name(), r);
            }
        });
        return out;
    }

    /** Resources Envoy would refuse when it loads them: never stored, never served. */
    public static final class EnvoyRefusal extends IllegalStateException {
        private static final long serialVersionUID = 1L;
        private final transient List<Problem> problems;

        EnvoyRefusal(List<Problem> problems) {
            super(problems.stream().map(Problem::toString).collect(Collectors.joining("; ")));
            this.problems = List.copyOf(problems);
        }

        public List<Problem> problems() {
            return problems;
        }
    }

    private static List<Problem> refusal(IllegalStateException e) {
        return e instanceof EnvoyRefusal r
                ? r.problems()
                : List.of(Problem.error(ProblemCode.PUBLISH_SNAPSHOT, "snapshot", e.getMessage()));
    }

    /** Every result label, registered at 0 at start so alert XdsPublishFailed's increase() sees the first one. */
    static final List<String> OUTCOMES = List.of("published", "unchanged", "invalid", "rolled_back", "apply_failed");

    private Counter publishCounter(String result) {
        return Counter.builder("meshguard_xds_publish_total")
                .description("Publishes and rollbacks by result (published, unchanged, invalid, rolled_back, "
                        + "apply_failed)")
                .tag("result", result)
                .register(meters);
    }

    private void outcome(String result) {
        publishCounter(result).increment();
    }
}
