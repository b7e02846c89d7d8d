package io.meshguard.audit.trail;

import io.meshguard.runtime.policy.PolicyReload;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Policy reloads as rows of the hash-chained admin trail: which server replica re-read which policy, the files'
 * SHA-256 before and after, and whether they were taken or refused (with why). Who edited the files is not known
 * to the server (a ConfigMap update, a deploy); the digests let that be matched against the change's review. A row
 * the trail cannot take is logged at ERROR with every field; the reload itself has already happened or not.
 */
public final class TrailedPolicyReloads implements Consumer<PolicyReload> {
    private static final Logger LOG = LoggerFactory.getLogger(TrailedPolicyReloads.class);
    /** The width of {@code admin_trail.outcome} (V37). */
    private static final int OUTCOME_WIDTH = 512;
    /** The width of {@code admin_trail.source_address} (V37): a longer replica name is cut there, kept whole in details. */
    private static final int SOURCE_WIDTH = 64;
    /** Kept of a refusal's errors in the row's details. */
    private static final int DETAIL_WIDTH = 4000;

    private final AdminTrail trail;
    private final String server;
    private final String replica;

    /**
     * @param server the reloading server ({@code extauthz}, {@code extproc-dlp}): the row's actor
     * @param replica which replica (host name), the row's source
     */
    public TrailedPolicyReloads(AdminTrail trail, String server, String replica) {
        this.trail = trail;
        this.server = server;
        this.replica = replica;
    }

    @Override
    public void accept(PolicyReload r) {
        String outcome = r.accepted() ? "accepted" : cut("refused: " + r.detail(), OUTCOME_WIDTH);
        Map<String, String> details = new LinkedHashMap<>();
        details.put("policy", r.policy());
        details.put("location", r.location());
        details.put("replica", replica);
        if (!r.accepted()) {
            details.put("error", cut(r.detail(), DETAIL_WIDTH));
        }
        AdminTrailEntry entry = new AdminTrailEntry(
                r.at(),
                server,
                "policy-file",
                Optional.empty(),
                Optional.empty(),
                Optional.of(cut(replica, SOURCE_WIDTH)),
                Optional.empty(),
                "policy_reload",
                "policies/" + r.policy(),
                outcome,
                r.digestBefore(),
                r.digestAfter(),
                details);
        try {
            trail.append(entry);
        } catch (AdminTrail.UnavailableException e) {
            LOG.error(
                    "admin trail unavailable, policy reload kept only in this log: server={} replica={} policy={} "
                            + "location={} before={} after={} outcome={} ({})",
                    server,
                    replica,
                    r.policy(),
                    r.location(),
                    r.digestBefore().orElse("none"),
                    r.digestAfter().orElse("none"),
                    outcome,
                    e.getMessage());
        }
    }

    private static String cut(String s, int width) {
        return s.length() <= width ? s : s.substring(0, width - 1) + "…";
    }
}
