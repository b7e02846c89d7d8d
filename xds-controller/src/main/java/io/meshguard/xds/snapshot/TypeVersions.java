package io.meshguard.xds.snapshot;

import com.google.protobuf.Message;
import io.meshguard.xds.model.ChangedPlaces;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * One version per xDS resource type, each a hash of that type's content: a change to endpoints only changes the EDS
 * version, so only EDS is pushed; publishing identical content pushes nothing.
 */
public record TypeVersions(String listeners, String routes, String clusters, String endpoints) {

    public static TypeVersions of(GroupResources r) {
        return new TypeVersions(hash(r.listeners()), hash(r.routes()), hash(r.clusters()), hash(r.endpoints()));
    }

    /**
     * As {@link #of(GroupResources)}, taking {@code before}'s version of each type whose list holds the same instances
     * in the same order as {@code earlier}'s: a publish's unchanged types (a group's thousand clusters when a route
     * changed) cost a comparison of references, not a thousand digest look-ups.
     */
    public static TypeVersions of(GroupResources r, GroupResources earlier, TypeVersions before) {
        return new TypeVersions(
                ChangedPlaces.sameInstances(r.listeners(), earlier.listeners())
                        ? before.listeners()
                        : hash(r.listeners()),
                ChangedPlaces.sameInstances(r.routes(), earlier.routes()) ? before.routes() : hash(r.routes()),
                ChangedPlaces.sameInstances(r.clusters(), earlier.clusters()) ? before.clusters() : hash(r.clusters()),
                ChangedPlaces.sameInstances(r.endpoints(), earlier.endpoints())
                        ? before.endpoints()
                        : hash(r.endpoints()));
    }

    /**
     * SHA-256 over the resources' own digests ({@link ResourceDigests}: deterministic serialization), in order, first
     * 16 hex digits.
     */
    public static String hash(List<? extends Message> resources) {
        MessageDigest digest = ResourceDigests.sha256();
        for (Message m : resources) {
            digest.update(ResourceDigests.of(m));
        }
        return HexFormat.of().formatHex(digest.digest(), 0, 8);
    }

    /** The version of one type URL, empty for a type the controller does not serve. */
    public String forTypeUrl(String typeUrl) {
        if (typeUrl.endsWith("Listener")) {
            return listeners;
        } else if (typeUrl.endsWith("RouteConfiguration")) {
            return routes;
        } else if (typeUrl.endsWith("Cluster")) {
            return clusters;
        } else if (typeUrl.endsWith("ClusterLoadAssignment")) {
            return endpoints;
        } else if (typeUrl.endsWith("VirtualHost")) {
            // VHDS: a node's ACK names the route version its virtual hosts came with
            return routes;
        }
        return "";
    }
}
