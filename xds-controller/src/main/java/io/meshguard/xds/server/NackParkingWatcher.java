package io.meshguard.xds.server;

import io.envoyproxy.controlplane.cache.ConfigWatcher;
import io.envoyproxy.controlplane.cache.DeltaResponse;
import io.envoyproxy.controlplane.cache.DeltaWatch;
import io.envoyproxy.controlplane.cache.DeltaXdsRequest;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.XdsRequest;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.meshguard.contract.peer.ClientText;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Stops java-control-plane 1.0.49's NACK resend storm. After a NACK, SimpleCache sees the client's last accepted
 * version (older than the snapshot) and the never-ACKed names as "new", and answers at once with the same rejected
 * resources — about 1,500 times a second per client. Here a NACK is answered as if the client held the version it
 * rejected, so the watch stays parked until the configuration actually changes. The rejected version comes from the
 * nonce of the NACK, looked up per stream by {@link AdsStreams}, so a snapshot set between the response and the NACK
 * is still delivered.
 *
 * <p>It also fixes the opposite gap: SimpleCache remembers the names of its last response as "known" even after the
 * client unsubscribed from some of them (grpc-java does when a route stops using a cluster). When the client subscribes
 * to them again, with an unchanged version, SimpleCache would answer nothing and the client would wait forever; those
 * names are taken out of the known set so they are sent.
 *
 * <p>And it answers the subset: in ADS mode SimpleCache answers nothing when one requested name is missing from the
 * snapshot. A client still subscribed to a cluster that the new routes no longer use would then never get the cluster
 * the new routes need (grpc-java keeps the old one until the new one resolves): a deadlock. Missing names are taken out
 * of the request, so the client gets what exists; for listeners and clusters an absent name means "deleted".
 */
public final class NackParkingWatcher implements ConfigWatcher {
    private final SimpleCache<String> cache;
    private final AdsStreams streams;
    private final NodeGroupMapper groups;

    public NackParkingWatcher(SimpleCache<String> cache, AdsStreams streams, NodeGroupMapper groups) {
        this.cache = cache;
        this.streams = streams;
        this.groups = groups;
    }

    @Override
    public Watch createWatch(
            boolean ads,
            XdsRequest request,
            Set<String> knownResourceNames,
            Consumer<Response> responseConsumer,
            boolean hasClusterChanged,
            boolean allowDefaultEmptyEdsUpdate) {
        XdsRequest effective = request;
        Set<String> known = knownResourceNames;
        Set<String> again = streams.takeNewlySubscribed(request.v3Request());
        if (!again.isEmpty()) {
            Set<String> remaining = new HashSet<>(knownResourceNames);
            remaining.removeAll(again);
            known = remaining;
        }
        if (request.hasErrorDetail()) {
            Optional<String> rejected = streams.takeRejectedVersion(request.v3Request());
            if (rejected.isPresent()) {
                effective = XdsRequest.create(request.v3Request().toBuilder()
                        .setVersionInfo(rejected.get())
                        .build());
                // the rejected names were never ACKed; unless they count as known, SimpleCache treats them as new
                // resource hints and answers immediately again
                Set<String> all = new HashSet<>(known);
                all.addAll(request.getResourceNamesList());
                known = all;
            }
        }
        effective = printableNames(effective);
        if (ads) {
            effective = onlyExisting(effective);
        }
        return cache.createWatch(
                ads, effective, known, responseConsumer, hasClusterChanged, allowDefaultEmptyEdsUpdate);
    }

    /**
     * Resource names are client text, and SimpleCache logs the names of a request it cannot answer ("not responding in
     * ADS mode ... for request [...]", java-control-plane {@code cache/.../SimpleCache.java}). A name with control
     * characters or over {@link ClientText#MAX_CHARS} is escaped here; no such name can exist in a snapshot (the
     * validator admits lowercase tokens only), so the answer is the same: not found.
     */
    private static XdsRequest printableNames(XdsRequest request) {
        List<String> names = request.getResourceNamesList();
        if (names.stream().allMatch(ClientText::printable)) {
            return request;
        }
        return XdsRequest.create(request.v3Request().toBuilder()
                .clearResourceNames()
                .addAllResourceNames(names.stream().map(ClientText::escape).toList())
                .build());
    }

    private XdsRequest onlyExisting(XdsRequest request) {
        List<String> names = request.getResourceNamesList();
        if (names.isEmpty()) {
            return request;
        }
        Snapshot snapshot = cache.getSnapshot(groups.hash(request.v3Request().getNode()));
        if (snapshot == null) {
            return request;
        }
        Set<String> existing = snapshot.resources(request.getTypeUrl()).keySet();
        List<String> present = names.stream().filter(existing::contains).toList();
        if (present.size() == names.size() || present.isEmpty()) {
            // all there, or nothing to send (an empty name list would mean "everything")
            return request;
        }
        return XdsRequest.create(request.v3Request().toBuilder()
                .clearResourceNames()
                .addAllResourceNames(present)
                .build());
    }

    @Override
    public DeltaWatch createDeltaWatch(
            DeltaXdsRequest request,
            String requesterVersion,
            Map<String, String> resourceVersions,
            Set<String> pendingResources,
            boolean isWildcard,
            Consumer<DeltaResponse> responseConsumer,
            boolean hasClusterChanged) {
        // a delta NACK: java-control-plane keeps the client's last ACKed versions and the rejected names pending, so
        // SimpleCache sends the same resources again at once (thousands a second per client); as for state of the
        // world, the client counts as holding what it rejected, and the watch waits for the configuration to change
        Map<String, String> held = resourceVersions;
        Set<String> pending = pendingResources;
        if (request.hasErrorDetail()) {
            Optional<Map<String, String>> rejected = streams.takeRejectedDelta(request.v3Request());
            if (rejected.isPresent()) {
                Map<String, String> all = new java.util.HashMap<>(resourceVersions);
                all.putAll(rejected.get());
                held = all;
                Set<String> waiting = new HashSet<>(pendingResources);
                waiting.removeAll(rejected.get().keySet());
                pending = waiting;
            }
        }
        return cache.createDeltaWatch(
                request, requesterVersion, held, pending, isWildcard, responseConsumer, hasClusterChanged);
    }
}
