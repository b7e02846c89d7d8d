package io.meshguard.envoygateway.apply;

import java.util.List;

/**
 * A resource of the render whose live object differs from it: a field meshguard set was changed or removed by hand
 * (JSON pointers into the object), or the object was deleted.
 *
 * @param revision the revision the render is of
 * @param fields the differing fields ({@code /spec/rules/0/backendRefs/0/weight}); empty when {@code missing}
 * @param missing the object is gone from the cluster
 * @param corrected the zone re-applied the render ({@link DriftMode#CORRECT}); false: left as found and reported
 */
public record Drift(ResourceKey key, long revision, List<String> fields, boolean missing, boolean corrected) {
    public Drift {
        fields = List.copyOf(fields);
    }
}
