package io.meshguard.xds.snapshot;

import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.snapshot.GroupTranslator.Translation;
import java.util.List;

/**
 * Turns one gateway group of a validated {@link GatewayConfig} into Envoy xDS resources ({@link GroupResources}:
 * LDS, RDS, CDS, EDS): {@link GroupTranslator} translates, one translator per concern, and {@link RouteChangeTracker}
 * starts a group's translation from its last one when only its routes changed.
 * Pure function of its input: the same config gives byte-identical resources, so content-hash versions are stable.
 */
public final class SnapshotBuilder {
    private final GroupTranslator translator;
    private final RouteChangeTracker changes;

    public SnapshotBuilder(FilterTargets targets) {
        this(targets, RememberedParts.SHARED, RememberedParts.SHARED);
    }

    /**
     * @param builtParts built routes, listeners, clusters and load assignments by their inputs: shared by every
     *     builder, or a fresh one's own
     * @param builtHosts built virtual hosts and upstream parts by the identity of what they are built from: the shared
     *     parts, or a one-off's own
     */
    private SnapshotBuilder(FilterTargets targets, RememberedParts builtParts, RememberedParts builtHosts) {
        RouteTranslator routes = new RouteTranslator(builtParts, builtHosts);
        this.translator = new GroupTranslator(targets, builtParts, builtHosts, routes);
        this.changes = new RouteChangeTracker(routes);
    }

    /** Builds the resources of one group; the config must have passed validation. */
    public GroupResources build(GatewayConfig config, String groupName) {
        GatewayGroup group = config.group(groupName)
                .orElseThrow(() -> new IllegalArgumentException("unknown group '" + groupName + "'"));
        List<Route> routes = config.routesOf(groupName);
        List<Api> apis = config.apisOf(groupName);
        List<Upstream> upstreams = config.upstreamsOf(groupName);
        Translation translation = changes.sinceLast(group, routes, apis, upstreams)
                .orElseGet(() -> translator.translate(group, routes, apis, upstreams));
        changes.remember(group, routes, apis, upstreams, translation);
        return translation.resources();
    }

    /** A builder that remembers nothing built before: every route built from its inputs (a from-scratch build). */
    public static SnapshotBuilder fresh(FilterTargets targets) {
        RememberedParts own = RememberedParts.bounded();
        return new SnapshotBuilder(targets, own, own);
    }

    /**
     * A builder for one build of a configuration that arrived whole (new instances, never seen again): it shares the
     * routes and clusters remembered by their content, but keeps the virtual hosts it builds, remembered by the
     * identity of their objects, to itself, so they leave with it instead of pushing out the draft's.
     */
    public static SnapshotBuilder forOneOff(FilterTargets targets) {
        return new SnapshotBuilder(targets, RememberedParts.SHARED, RememberedParts.unbounded());
    }

    /** The number of routes built anew so far by every builder (monotonic; compare two readings). */
    public static long routesBuilt() {
        return RouteTranslator.routesBuilt();
    }

    /** The number of virtual hosts built anew so far by every builder (monotonic; compare two readings). */
    public static long virtualHostsBuilt() {
        return RouteTranslator.virtualHostsBuilt();
    }
}
