package io.meshguard.audit.approval;

import io.meshguard.runtime.policy.PolicyError;
import io.meshguard.runtime.policy.PolicyInvalidException;
import io.meshguard.runtime.policy.PolicyParser;
import io.meshguard.runtime.policy.PolicyReload;
import io.meshguard.runtime.policy.PolicySource;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Four eyes on the policy files a server enforces (docs/operate/change-policy.md "Policy changes"): extauthz with {@code
 * policy.require_approval}, the DLP server with {@code dlp.require_approval}. The server keeps reading its files (GitOps
 * stays), but takes only files whose digest a second person approved ({@code approved_policy}, written by the
 * controller's policy requests for this policy's name). Files without an approval are refused like invalid files: the
 * policy in force stays, {@code /readyz} says "not approved", the reload is counted as refused, the log says so and the
 * admin trail gets the refused reload. So someone who can edit the ConfigMap alone cannot change what is enforced; at
 * first install the server stays not ready until the files it reads are approved.
 *
 * <p>One gate for both servers (they share this module, not each other): {@link #gate} wraps a server's parser, {@link
 * #refusal} answers for files a server parses itself. An approval arriving later is noticed by {@link #recheck} (the
 * server calls it on its background schedule): when the approved set changed, the refused files are read again.
 */
public final class ApprovedPolicies {
    private static final Logger LOG = LoggerFactory.getLogger(ApprovedPolicies.class);

    private final String policy;
    private final DataSource dataSource;
    /** 1 while the newest files wait for an approval. */
    private final AtomicInteger unapproved = new AtomicInteger();

    private final AtomicReference<String> approvalsSeen = new AtomicReference<>("");

    /** @param policy the policy's name as requests and approvals name it ({@code authz}, {@code dlp}) */
    public ApprovedPolicies(String policy, DataSource dataSource, MeterRegistry registry) {
        this.policy = policy;
        this.dataSource = dataSource;
        Gauge.builder("meshguard.policy.approval.required", () -> 1)
                .description("1: only policy files a second person approved are enforced (policy.require_approval)")
                .tag("policy", policy)
                .register(registry);
        Gauge.builder("meshguard.policy.unapproved", unapproved, AtomicInteger::get)
                .description("1 while the newest policy files are not enforced because no approval names their digest")
                .tag("policy", policy)
                .register(registry);
    }

    /** {@code parser}, taking only files an approval names: others are refused with why, as invalid files are. */
    public <T> PolicyParser<T> gate(PolicyParser<T> parser) {
        return sources -> {
            T parsed = parser.parse(sources);
            Optional<String> refusal = refusal(sources);
            if (refusal.isPresent()) {
                throw new PolicyInvalidException(
                        List.of(new PolicyError(sources.get(0).fileName(), 0, refusal.get())));
            }
            return parsed;
        };
    }

    /**
     * Why {@code sources} (already parsed and valid) may not be enforced, or empty when the newest approval of the
     * policy names their digest. A refusal is logged and shown by {@code meshguard_policy_unapproved}.
     */
    public Optional<String> refusal(List<PolicySource> sources) {
        String digest = PolicyReload.digestOf(sources);
        Optional<String> refusal = refusal(digest);
        if (refusal.isPresent()) {
            unapproved.set(1);
            LOG.atWarn()
                    .addKeyValue("event", "policy_unapproved")
                    .addKeyValue("policy", policy)
                    .addKeyValue("digest", digest)
                    .log("policy {}: files {} are not enforced: {}", policy, digest, refusal.get());
            return refusal;
        }
        unapproved.set(0);
        return Optional.empty();
    }

    /**
     * Reads the refused files again, through {@code rereadRefused}, when the approvals changed since the last look.
     */
    public void recheck(Runnable rereadRefused) {
        String now;
        try {
            now = approvalsState();
        } catch (SQLException e) {
            return; // the next look tries again; what is enforced stays
        }
        String before = approvalsSeen.getAndSet(now);
        if (!now.equals(before) && unapproved.get() == 1) {
            rereadRefused.run();
        }
    }

    /**
     * An approval is of a transition, to the bundle it names from the one before: only the newest approval of the
     * policy is enforceable. A bundle approved once and replaced by a later approval is not enforced again (whoever
     * can edit the files would otherwise put back what the security team replaced, alone); going back to it is a new
     * request, whose approval makes it the newest again. Newest is by request: a policy has one pending request at a
     * time (a newer one voids it), so approvals come in request order whatever the deciding replicas' clocks say.
     */
    private Optional<String> refusal(String digest) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "select digest from approved_policy where policy = ?" + " order by request_id desc limit 1")) {
            ps.setString(1, policy);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.of("not approved: no approval names digest " + digest + " (four eyes on policy "
                            + policy + "; request it with " + requestCommand() + ")");
                }
                String newest = rs.getString(1);
                if (newest.equals(digest)) {
                    return Optional.empty();
                }
                return Optional.of(
                        approvedOnce(c, digest)
                                ? "not approved: digest " + digest
                                        + " was approved once but a newer approval replaced it"
                                        + " (digest " + newest + "); going back to it is a new request"
                                        + " (" + requestCommand() + ")"
                                : "not approved: no approval names digest " + digest + " (the newest approved is "
                                        + newest
                                        + "; request it with " + requestCommand() + ")");
            }
        } catch (SQLException e) {
            return Optional.of("approval of digest " + digest + " cannot be confirmed (" + e.getMessage() + ")");
        }
    }

    private String requestCommand() {
        return "`meshguard policy requests open --policy " + policy + "`";
    }

    private boolean approvedOnce(Connection c, String digest) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("select 1 from approved_policy where policy = ? and digest = ?")) {
            ps.setString(1, policy);
            ps.setString(2, digest);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private String approvalsState() throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "select count(*), coalesce(max(approved_at)::text, '') from approved_policy where policy = ?")) {
            ps.setString(1, policy);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) + "@" + rs.getString(2);
            }
        }
    }
}
