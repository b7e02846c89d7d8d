package io.meshguard.envoygateway.apply;

import java.util.List;

/**
 * What one apply of a revision did on the cluster.
 *
 * @param applied resources sent with server-side apply (new, or different from the live object)
 * @param unchanged resources whose live object already matched the render: nothing was sent
 * @param pruned objects with the group's labels that the render no longer has, deleted (a withdrawal, a rollback, a
 *     removed route)
 * @param refused resources the API server refused (a field-manager conflict under {@link DriftMode#REPORT}, a
 *     validation the bundled schemas missed), each with the server's message; the rest of the revision is applied
 */
public record ApplyOutcome(
        long revision,
        List<ResourceKey> applied,
        List<ResourceKey> unchanged,
        List<ResourceKey> pruned,
        List<String> refused) {
    public ApplyOutcome {
        applied = List.copyOf(applied);
        unchanged = List.copyOf(unchanged);
        pruned = List.copyOf(pruned);
        refused = List.copyOf(refused);
    }
}
