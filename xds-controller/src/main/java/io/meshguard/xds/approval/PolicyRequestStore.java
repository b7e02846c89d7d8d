package io.meshguard.xds.approval;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.access.Person;
import io.meshguard.xds.model.ConfigJson;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Migration V69's tables: policy requests with their files, diff and report, and the approved bundles extauthz may
 * enforce. Decisions take the request's row lock, so two approvers racing approve once.
 */
public final class PolicyRequestStore {
    /** A decision made under the request's row lock. */
    @FunctionalInterface
    public interface Decision<T> {
        T decide(Connection c, PolicyRequest pending) throws SQLException;
    }

    /** An approved bundle: its digest, the request that approved it, and its files. */
    public record Approved(String digest, long requestId, String approvedBy, Instant approvedAt, PolicyBundle files) {}

    private static final String COLUMNS = "id, policy, state, requested_by, requested_by_person, requested_at, reason,"
            + " digest, base_digest, diff, report::text, decided_by, decided_at, decision_reason";

    private final DataSource dataSource;

    public PolicyRequestStore(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Opens a request for {@code policy}, voiding a pending one it replaces. */
    public PolicyRequest open(
            String policy,
            Person requester,
            Instant at,
            String reason,
            PolicyBundle files,
            Optional<String> baseDigest,
            String diff) {
        long id = PendingRequests.open(
                dataSource, "policy_request", "policy", "policy request", policy, requester.name(), at, c -> {
                    try (PreparedStatement ps = c.prepareStatement("insert into policy_request (policy, requested_by,"
                            + " requested_by_person, requested_at, reason, files, digest, base_digest, diff)"
                            + " values (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?) returning id")) {
                        ps.setString(1, policy);
                        ps.setString(2, requester.name());
                        ps.setString(3, requester.id());
                        ps.setTimestamp(4, Timestamp.from(at));
                        ps.setString(5, reason);
                        ps.setString(6, files.toJson().toString());
                        ps.setString(7, files.digest());
                        ps.setString(8, baseDigest.orElse(null));
                        ps.setString(9, diff);
                        return PendingRequests.insertedId(ps);
                    }
                });
        return get(id).orElseThrow();
    }

    /** Keeps {@code report} with a pending request (replacing an older report). */
    public boolean attachReport(long id, ReplayReport report) {
        return PendingRequests.attachReport(dataSource, "policy_request", "policy request", id, report);
    }

    public Optional<PolicyRequest> get(long id) {
        return requests("where id = ?", id).stream().findFirst();
    }

    /** The newest requests first, at most 100. */
    public List<PolicyRequest> list() {
        return requests("order by id desc limit 100");
    }

    /** The requested files, exactly as stored. */
    public PolicyBundle files(long id) {
        return one("select files::text from policy_request where id = ?", id)
                .map(PolicyRequestStore::bundle)
                .orElseThrow(() -> new IllegalStateException("no policy request " + id));
    }

    /**
     * The newest approved bundle of {@code policy}: what the next request is diffed against, and the one bundle
     * extauthz enforces under {@code policy.require_approval} (an approval supersedes the older ones). Newest by
     * request: one request is pending at a time, so approvals come in request order.
     */
    public Optional<Approved> latestApproved(String policy) {
        String sql = "select a.digest, a.request_id, a.approved_by, a.approved_at, r.files::text from approved_policy a"
                + " join policy_request r on r.id = a.request_id where a.policy = ? order by a.request_id desc"
                + " limit 1";
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, policy);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Approved(
                        rs.getString(1),
                        rs.getLong(2),
                        rs.getString(3),
                        rs.getTimestamp(4).toInstant(),
                        bundle(rs.getString(5))));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the approved policies: " + e.getMessage(), e);
        }
    }

    /**
     * Runs {@code decision} holding the request's row lock, if the request is still pending; the decision writes the
     * outcome with {@link #close}. Empty when the request is not pending.
     */
    public <T> Optional<T> whilePending(long id, Decision<T> decision) {
        return PendingRequests.whilePending(
                dataSource, "policy_request", "policy request", id, this::get, decision::decide);
    }

    /** Writes a decision inside {@link #whilePending}; an approval also lets extauthz enforce the digest. */
    public static void close(
            Connection c, PolicyRequest pending, PolicyRequest.State state, String decider, String reason, Instant at)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("update policy_request set state = ?, decided_by = ?,"
                + " decided_at = ?, decision_reason = ? where id = ?")) {
            ps.setString(1, state.name().toLowerCase(Locale.ROOT));
            ps.setString(2, decider);
            ps.setTimestamp(3, Timestamp.from(at));
            ps.setString(4, reason);
            ps.setLong(5, pending.id());
            ps.executeUpdate();
        }
        if (state == PolicyRequest.State.APPROVED) {
            try (PreparedStatement ps = c.prepareStatement("insert into approved_policy (digest, policy, request_id,"
                    + " approved_by, approved_at) values (?, ?, ?, ?, ?) on conflict (policy, digest) do update set"
                    + " request_id = excluded.request_id, approved_by = excluded.approved_by,"
                    + " approved_at = excluded.approved_at")) {
                ps.setString(1, pending.digest());
                ps.setString(2, pending.policy());
                ps.setLong(3, pending.id());
                ps.setString(4, decider);
                ps.setTimestamp(5, Timestamp.from(at));
                ps.executeUpdate();
            }
        }
    }

    private Optional<String> one(String sql, long id) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read policy request " + id + ": " + e.getMessage(), e);
        }
    }

    private static PolicyBundle bundle(String json) {
        try {
            return PolicyBundle.fromJson(ConfigJson.mapper().readTree(json));
        } catch (IOException e) {
            throw new IllegalStateException("stored policy files are not JSON: " + e.getMessage(), e);
        }
    }

    private List<PolicyRequest> requests(String where, Object... args) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps = c.prepareStatement("select " + COLUMNS + " from policy_request " + where)) {
            for (int i = 0; i < args.length; i++) {
                ps.setLong(i + 1, (Long) args[i]);
            }
            List<PolicyRequest> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String report = rs.getString(11);
                    JsonNode reportJson =
                            report == null ? null : ConfigJson.mapper().readTree(report);
                    out.add(new PolicyRequest(
                            rs.getLong(1),
                            rs.getString(2),
                            PolicyRequest.State.valueOf(rs.getString(3).toUpperCase(Locale.ROOT)),
                            rs.getString(4),
                            rs.getString(5),
                            rs.getTimestamp(6).toInstant(),
                            rs.getString(7),
                            rs.getString(8),
                            Optional.ofNullable(rs.getString(9)),
                            rs.getString(10),
                            Optional.ofNullable(reportJson).map(ReplayReport::fromJson),
                            Optional.ofNullable(rs.getString(12)),
                            Optional.ofNullable(rs.getTimestamp(13)).map(Timestamp::toInstant),
                            Optional.ofNullable(rs.getString(14))));
                }
            }
            return out;
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("cannot read policy requests: " + e.getMessage(), e);
        }
    }
}
