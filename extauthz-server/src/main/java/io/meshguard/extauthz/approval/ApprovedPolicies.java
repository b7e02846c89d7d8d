package io.meshguard.extauthz.approval;

import io.meshguard.runtime.policy.PolicyError;
import io.meshguard.runtime.policy.PolicyInvalidException;
import io.meshguard.runtime.policy.PolicyParser;
import io.meshguard.runtime.policy.PolicyReload;
import io.meshguard.runtime.policy.PolicySource;
import io.meshguard.runtime.policy.PolicyWatcher;
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
 * {@code policy.require_approval} (docs/operator-guide.md "Policy changes"): extauthz keeps reading its
 * files (GitOps stays), but takes only files whose digest a second person approved ({@code approved_policy},
 * written by the controller's policy requests). Files without an approval are refused like invalid files: the policy
 * in force stays, {@code /readyz} says "newer files rejected: not approved", {@code meshguard_policy_reload_total
 * {result="invalid"}} counts it, the log says so and the admin trail gets the refused reload. So someone who can
 * edit the ConfigMap alone cannot change what is enforced; at first install extauthz stays not ready until the files
 * it reads are approved.
 *
 * <p>An approval arriving later is noticed by {@link #recheck} (the server calls it on its background schedule): when
 * the approved set changed, the refused files are read again.
 *
 * @param <T> the parsed policy
 */
public final class ApprovedPolicies<T> implements PolicyParser<T> {
    private static final Logger LOG = LoggerFactory.getLogger(ApprovedPolicies.class);

    private final String policy;
    private final PolicyParser<T> parser;
    private final DataSource dataSource;
    /** 1 while the newest files wait for an approval. */
    private final AtomicInteger unapproved = new AtomicInteger();

    private final AtomicReference<String> approvalsSeen = new AtomicReference<>("");

    public ApprovedPolicies(String policy, PolicyParser<T> parser, DataSource dataSource, MeterRegistry registry) {
        this.policy = policy;
        this.parser = parser;
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

    @Override
    public T parse(List<PolicySource> sources) throws PolicyInvalidException {
        T parsed = parser.parse(sources);
        String digest = PolicyReload.digestOf(sources);
        Optional<String> refusal = refusal(digest);
        if (refusal.isPresent()) {
            unapproved.set(1);
            LOG.atWarn()
                    .addKeyValue("event", "policy_unapproved")
                    .addKeyValue("policy", policy)
                    .addKeyValue("digest", digest)
                    .log("policy {}: files {} are not enforced: {}", policy, digest, refusal.get());
            throw new PolicyInvalidException(
                    List.of(new PolicyError(sources.get(0).fileName(), 0, refusal.get())));
        }
        unapproved.set(0);
        return parsed;
    }

    /** Reads the refused files again when the approvals changed since the last look. */
    public void recheck(PolicyWatcher<T> watcher) {
        String now;
        try {
            now = approvalsState();
        } catch (SQLException e) {
            return; // the next look tries again; what is enforced stays
        }
        String before = approvalsSeen.getAndSet(now);
        if (!now.equals(before) && unapproved.get() == 1) {
            watcher.reloadRefused();
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
                    return Optional.of("not approved: no approval names digest " + digest
                            + " (policy.require_approval; request it with `meshguard policy requests open`)");
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
                                        + " (`meshguard policy requests open`)"
                                : "not approved: no approval names digest " + digest + " (the newest approved is "
                                        + newest
                                        + "; policy.require_approval; request it with `meshguard policy requests open`)");
            }
        } catch (SQLException e) {
            return Optional.of("approval of digest " + digest + " cannot be confirmed (" + e.getMessage() + ")");
        }
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
