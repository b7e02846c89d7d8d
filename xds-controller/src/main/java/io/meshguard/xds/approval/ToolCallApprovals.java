package io.meshguard.xds.approval;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.access.Person;
import io.meshguard.access.http.AdminRequest;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.xds.change.ConfigChangeAudit;
import io.meshguard.xds.model.ConfigJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Two people for a high-risk MCP tool call (docs/agents.md "Two people for high-risk tools"): the DLP server holds the
 * call and opens a row of {@code mcp_tool_approval}; here two approvers decide it under the four-eyes rules of the
 * other flows ({@link PendingRequests}: one decision under the row's lock; {@link Person#maySecond}: break-glass is
 * nobody's second person). Neither the delegating user (the caller) nor the agent's owner may approve; one person
 * counts once however often they approve. The second distinct approval makes the call runnable, once, by the client's
 * retry with the reference (the DLP server checks the binding). A call nobody decided before its expiry is closed as
 * expired with a deny row of the admin trail.
 */
public final class ToolCallApprovals {
    /** Approvals a call needs. */
    public static final int APPROVERS = 2;

    /** What an approver sees of a held call: the binding, the masked arguments, who approved so far. */
    public record ToolCall(
            long id,
            String state,
            String caller,
            String callerIssuer,
            String agent,
            String agentOwner,
            String server,
            String tool,
            String argsDigest,
            JsonNode maskedArguments,
            String policyVersion,
            Instant requestedAt,
            Instant expiresAt,
            List<String> approvedBy,
            Optional<String> decisionReason) {}

    private static final String TABLE = "mcp_tool_approval";
    private static final String COLUMNS = "id, state, caller, caller_issuer, agent, agent_owner, server, tool,"
            + " args_digest, masked_args::text, policy_version, requested_at, expires_at, decision_reason";

    private final DataSource dataSource;
    private final ConfigChangeAudit audit;
    private final Clock clock;

    public ToolCallApprovals(DataSource dataSource, ConfigChangeAudit audit, Clock clock) {
        this.dataSource = dataSource;
        this.audit = audit;
        this.clock = clock;
    }

    /** The held calls, newest first (at most 100), after closing those past their expiry. */
    public List<ToolCall> list(String requestId) {
        expire(requestId);
        List<ToolCall> out = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
                PreparedStatement ps =
                        c.prepareStatement("select " + COLUMNS + " from " + TABLE + " order by id desc limit 100")) {
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(row(c, rs));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot list tool call approvals: " + e.getMessage(), e);
        }
        return out;
    }

    public Optional<ToolCall> get(long id) {
        try (Connection c = dataSource.getConnection()) {
            return get(c, id);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read tool call approval " + id + ": " + e.getMessage(), e);
        }
    }

    /**
     * Records {@code approver}'s approval; the second distinct person's makes the call runnable.
     *
     * @throws AdminJson.Refusal 404 unknown, 409 not pending (or expired now, or already approved by this person), 403
     *     break-glass, the caller or the agent's owner
     */
    public ToolCall approve(long id, Person approver, String reason, String requestId) {
        AdminRequest.requireReason(reason);
        ToolCall call = get(id).orElseThrow(() -> new AdminJson.Refusal(404, "no tool call approval " + id));
        if (!call.state().equals("pending")) {
            throw new AdminJson.Refusal(409, "tool call approval " + id + " is " + call.state());
        }
        if (!approver.maySecond()) {
            throw new AdminJson.Refusal(
                    403,
                    "the break-glass token is no second person: tool call approval " + id
                            + " needs signed-in people with tool-call:approve");
        }
        if (isPerson(approver, call.caller(), call.callerIssuer())) {
            throw new AdminJson.Refusal(
                    403, approver.name() + " delegated this call to the agent; two other people must approve it");
        }
        if (!call.agentOwner().isEmpty() && isPerson(approver, call.agentOwner(), "")) {
            throw new AdminJson.Refusal(
                    403, approver.name() + " owns agent " + call.agent() + "; two other people must approve its call");
        }
        Instant now = now();
        Optional<ToolCall> decided =
                PendingRequests.whilePending(dataSource, TABLE, "tool call approval", id, this::get, (c, pending) -> {
                    if (!now.isBefore(pending.expiresAt())) {
                        close(c, id, "expired", "expired before its approvals", now);
                        return get(c, id).orElseThrow();
                    }
                    try (PreparedStatement ps = c.prepareStatement("insert into mcp_tool_approval_vote (approval_id,"
                            + " approver_id, approver_name, approved_at, reason) values (?, ?, ?, ?, ?)"
                            + " on conflict do nothing")) {
                        ps.setLong(1, id);
                        ps.setString(2, approver.id());
                        ps.setString(3, approver.name());
                        ps.setTimestamp(4, Timestamp.from(now));
                        ps.setString(5, reason);
                        if (ps.executeUpdate() == 0) {
                            throw new AdminJson.Refusal(
                                    409,
                                    approver.name() + " already approved tool call approval " + id
                                            + "; it needs another person");
                        }
                    }
                    if (approvers(c, id).size() >= APPROVERS) {
                        try (PreparedStatement ps = c.prepareStatement("update " + TABLE
                                + " set state = 'approved', decided_at = ?, decision_reason = ? where id = ?")) {
                            ps.setTimestamp(1, Timestamp.from(now));
                            ps.setString(2, reason);
                            ps.setLong(3, id);
                            ps.executeUpdate();
                        }
                    }
                    return get(c, id).orElseThrow();
                });
        ToolCall after = decided.orElseThrow(
                () -> new AdminJson.Refusal(409, "tool call approval " + id + " was decided meanwhile"));
        if (after.state().equals("expired")) {
            trailDenied(after, requestId);
            throw new AdminJson.Refusal(409, "tool call approval " + id + " expired at " + after.expiresAt());
        }
        audit.record(new ConfigChangeAudit.ConfigChange(
                approver.name(),
                after.state().equals("approved") ? "tool_call_approved" : "tool_call_approval",
                "tool-approvals/" + id,
                "approved " + after.tool() + " on " + after.server() + " for " + after.agent() + " ("
                        + after.approvedBy().size() + "/" + APPROVERS + "): " + reason,
                requestId));
        return after;
    }

    /** Rejects a pending call: it never runs. Anyone with {@code tool-call:approve}, the caller too (a withdrawal). */
    public ToolCall reject(long id, Person decider, String reason, String requestId) {
        AdminRequest.requireReason(reason);
        if (get(id).isEmpty()) {
            throw new AdminJson.Refusal(404, "no tool call approval " + id);
        }
        Instant now = now();
        Optional<ToolCall> done =
                PendingRequests.whilePending(dataSource, TABLE, "tool call approval", id, this::get, (c, pending) -> {
                    close(c, id, "rejected", decider.name() + ": " + reason, now);
                    return get(c, id).orElseThrow();
                });
        ToolCall r = done.orElseThrow(() -> new AdminJson.Refusal(409, "tool call approval " + id + " is not pending"));
        audit.record(new ConfigChangeAudit.ConfigChange(
                decider.name(), "tool_call_rejected", "tool-approvals/" + id, reason, requestId));
        return r;
    }

    /**
     * Closes every pending or approved-but-unused call past its expiry: each gets a deny row of the admin trail
     * ({@code tool_call_expired}), naming the call and never its arguments. The list runs it; so can a schedule.
     *
     * @return how many were closed
     */
    public int expire(String requestId) {
        Instant now = now();
        List<ToolCall> closed = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("update " + TABLE + " set state = 'expired',"
                    + " decided_at = ?, decision_reason = 'expired before the call ran'"
                    + " where state in ('pending', 'approved') and expires_at <= ? returning id")) {
                ps.setTimestamp(1, Timestamp.from(now));
                ps.setTimestamp(2, Timestamp.from(now));
                List<Long> ids = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                    }
                }
                for (long id : ids) {
                    get(c, id).ifPresent(closed::add);
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot expire tool call approvals: " + e.getMessage(), e);
        }
        closed.forEach(t -> trailDenied(t, requestId));
        return closed.size();
    }

    private void trailDenied(ToolCall t, String requestId) {
        audit.record(new ConfigChangeAudit.ConfigChange(
                "meshguard",
                "tool_call_expired",
                "tool-approvals/" + t.id(),
                "denied: " + t.tool() + " on " + t.server() + " for caller " + t.caller() + " via agent " + t.agent()
                        + " was not approved and run before " + t.expiresAt() + " ("
                        + t.approvedBy().size() + "/"
                        + APPROVERS + " approvals)",
                requestId));
    }

    /**
     * Whether {@code p} is the person of subject {@code subject}: the same verified identity ({@code oidc <issuer>
     * <sub>}) or, failing closed, any person whose subject is that subject.
     */
    private static boolean isPerson(Person p, String subject, String issuer) {
        if (subject.isEmpty()) {
            return false;
        }
        return p.id().equals("oidc " + issuer + " " + subject)
                || p.id().endsWith(" " + subject)
                || p.id().equals(subject);
    }

    private static void close(Connection c, long id, String state, String reason, Instant at) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "update " + TABLE + " set state = ?, decided_at = ?, decision_reason = ? where id = ?")) {
            ps.setString(1, state);
            ps.setTimestamp(2, Timestamp.from(at));
            ps.setString(3, reason);
            ps.setLong(4, id);
            ps.executeUpdate();
        }
    }

    private Optional<ToolCall> get(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select " + COLUMNS + " from " + TABLE + " where id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(c, rs)) : Optional.empty();
            }
        }
    }

    private static List<String> approvers(Connection c, long id) throws SQLException {
        List<String> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "select approver_name from mcp_tool_approval_vote where approval_id = ? order by approved_at")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private static ToolCall row(Connection c, ResultSet rs) throws SQLException {
        long id = rs.getLong(1);
        JsonNode masked;
        try {
            masked = ConfigJson.mapper().readTree(rs.getString(10));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("tool call approval " + id + " holds unreadable arguments", e);
        }
        return new ToolCall(
                id,
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getString(6),
                rs.getString(7),
                rs.getString(8),
                rs.getString(9),
                masked,
                rs.getString(11),
                rs.getTimestamp(12).toInstant(),
                rs.getTimestamp(13).toInstant(),
                approvers(c, id),
                Optional.ofNullable(rs.getString(14)));
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }
}
