package io.meshguard.dlpserver.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.sql.DataSource;

/**
 * The gateway's side of a tool call held for two approvers (docs/agents.md "Two people for high-risk tools"): the first
 * call opens a pending row bound to the call, the client's retry with the reference redeems it once. The approvers'
 * side (who may approve, two distinct people) is the controller's admin API; both meet in {@code mcp_tool_approval}.
 *
 * <p>The arguments are bound by an HMAC-SHA256 over their canonical JSON (object keys sorted, no spaces), keyed with a
 * key that lives outside the database: someone who reads the row cannot confirm a guessed argument value with it.
 */
public final class McpToolApprovals {

    /**
     * What a call is bound to.
     *
     * @param caller the delegating user's subject (extauthz's {@code x-user-id})
     * @param callerIssuer the issuer that vouched for it ({@code x-auth-issuer})
     * @param agent the agent acting for it: the OAuth client ({@code x-client-id})
     * @param agentOwner the person owning the agent (the profile's {@code agent_owners}), empty when unknown
     * @param server the MCP server: the route, else host and path
     * @param argsDigest {@link #digest} of {@code params.arguments}
     * @param policyVersion the digest of the dlp.yaml in force
     */
    public record Call(
            String caller,
            String callerIssuer,
            String agent,
            String agentOwner,
            String server,
            String tool,
            String argsDigest,
            String policyVersion) {
        public Call {
            Objects.requireNonNull(caller, "caller");
            Objects.requireNonNull(callerIssuer, "callerIssuer");
            Objects.requireNonNull(agent, "agent");
            Objects.requireNonNull(agentOwner, "agentOwner");
            Objects.requireNonNull(server, "server");
            Objects.requireNonNull(tool, "tool");
            Objects.requireNonNull(argsDigest, "argsDigest");
            Objects.requireNonNull(policyVersion, "policyVersion");
        }
    }

    /** A pending approval just opened. */
    public record Held(long id, String reference, Instant expiresAt) {}

    /** What a retry carrying a reference gets. */
    public sealed interface Redemption {}

    /** The approved call runs; the approval is spent. */
    public record Runs(long id) implements Redemption {}

    /**
     * The call does not run.
     *
     * @param code the problem code the answer and the decision row carry
     * @param message why, naming fields and never values
     */
    public record Refused(String code, String message) implements Redemption {}

    /**
     * The caller stopped waiting before the lookup committed (its stream was reset, or the lookup took too long): the
     * transaction rolled back, so no approval was opened or spent for a call whose client never hears of it.
     */
    public static final class Abandoned extends RuntimeException {
        public Abandoned() {
            super("nobody waits for this tool call approval any more; rolled back", null, false, false);
        }
    }

    private static final ObjectMapper CANONICAL =
            new ObjectMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private final DataSource dataSource;
    private final SecretKeySpec key;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    /**
     * @param key the HMAC key of argument digests, at least 32 bytes, kept outside the database (a file the
     *     deployment mounts); changing it voids every open approval, as their digests no longer match
     */
    public McpToolApprovals(DataSource dataSource, byte[] key, Clock clock) {
        if (key.length < 32) {
            throw new IllegalArgumentException("the approval HMAC key needs at least 32 bytes, got " + key.length);
        }
        this.dataSource = dataSource;
        this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
        this.clock = clock;
    }

    /** The HMAC-SHA256 (hex) of {@code arguments} in canonical JSON; an absent argument object digests as {@code {}}. */
    public String digest(Optional<JsonNode> arguments) {
        try {
            Object plain =
                    CANONICAL.convertValue(arguments.orElseGet(() -> CANONICAL.createObjectNode()), Object.class);
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return HexFormat.of().formatHex(mac.doFinal(CANONICAL.writeValueAsBytes(plain)));
        } catch (GeneralSecurityException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot digest tool arguments: " + e.getMessage(), e);
        }
    }

    /**
     * Opens the pending approval of {@code call}, showing approvers {@code maskedArguments}.
     *
     * @param mayCommit asked once, just before the commit: false rolls back (nobody waits for the reference any more)
     * @throws Abandoned when {@code mayCommit} said no
     */
    public Held hold(Call call, JsonNode maskedArguments, Duration expires, BooleanSupplier mayCommit) {
        byte[] ref = new byte[24];
        random.nextBytes(ref);
        String reference = Base64.getUrlEncoder().withoutPadding().encodeToString(ref);
        Instant now = now();
        Instant expiresAt = now.plus(expires);
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into mcp_tool_approval (reference, caller, caller_issuer, agent, agent_owner, server,"
                            + " tool, args_digest, masked_args, policy_version, requested_at, expires_at)"
                            + " values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?) returning id")) {
                ps.setString(1, reference);
                ps.setString(2, call.caller());
                ps.setString(3, call.callerIssuer());
                ps.setString(4, call.agent());
                ps.setString(5, call.agentOwner());
                ps.setString(6, call.server());
                ps.setString(7, call.tool());
                ps.setString(8, call.argsDigest());
                ps.setString(9, maskedArguments.toString());
                ps.setString(10, call.policyVersion());
                ps.setTimestamp(11, Timestamp.from(now));
                ps.setTimestamp(12, Timestamp.from(expiresAt));
                long id;
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
                commitIf(c, mayCommit);
                return new Held(id, reference, expiresAt);
            } catch (SQLException | RuntimeException e) {
                rollback(c);
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot hold the tool call for approval: " + e.getMessage(), e);
        }
    }

    /**
     * Redeems {@code reference} for {@code call}, once: it runs only when the row is approved, unexpired and bound to
     * exactly this caller, agent, server, tool, argument digest and policy version. A retry that differs in any of them
     * voids the approval (the reference was misused or the situation changed: approving again is the way on); an expired
     * one is closed as expired.
     *
     * @param mayCommit asked just before spending the approval: false rolls back, the approval stays for a retry
     *     (nobody waits to run the call any more)
     * @throws Abandoned when {@code mayCommit} said no
     */
    public Redemption redeem(String reference, Call call, BooleanSupplier mayCommit) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                Redemption r = redeem(c, reference, call);
                if (r instanceof Runs) {
                    commitIf(c, mayCommit);
                } else {
                    c.commit(); // a voided or expired approval stays closed whether or not anybody still waits
                }
                return r;
            } catch (SQLException | RuntimeException e) {
                rollback(c);
                throw e;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot redeem tool call approval: " + e.getMessage(), e);
        }
    }

    private Redemption redeem(Connection c, String reference, Call call) throws SQLException {
        long id;
        String state;
        Instant expiresAt;
        Call bound;
        try (PreparedStatement ps = c.prepareStatement(
                "select id, state, expires_at, caller, caller_issuer, agent, agent_owner, server, tool, args_digest,"
                        + " policy_version from mcp_tool_approval where reference = ? for update")) {
            ps.setString(1, reference);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return new Refused("mcp_approval_unknown", "no tool call approval has this reference");
                }
                id = rs.getLong(1);
                state = rs.getString(2);
                expiresAt = rs.getTimestamp(3).toInstant();
                bound = new Call(
                        rs.getString(4),
                        rs.getString(5),
                        rs.getString(6),
                        rs.getString(7),
                        rs.getString(8),
                        rs.getString(9),
                        rs.getString(10),
                        rs.getString(11));
            }
        }
        boolean open = state.equals("pending") || state.equals("approved");
        if (!open) {
            return new Refused(
                    "mcp_approval_" + state,
                    "tool call approval " + id + " is " + state
                            + (state.equals("used") ? ": an approval runs one call" : ""));
        }
        Optional<String> differs = differs(bound, call);
        if (differs.isPresent()) {
            close(c, id, "voided", "a retry differed in " + differs.get());
            return new Refused(
                    "mcp_approval_mismatch",
                    "the retry differs from the approved call in " + differs.get() + "; approval " + id
                            + " is void, the call must be approved again");
        }
        if (!now().isBefore(expiresAt)) {
            close(c, id, "expired", "expired before the call ran");
            return new Refused("mcp_approval_expired", "tool call approval " + id + " expired at " + expiresAt);
        }
        if (state.equals("pending")) {
            return new Refused(
                    "mcp_approval_pending", "tool call approval " + id + " still waits for its two approvers");
        }
        try (PreparedStatement ps = c.prepareStatement(
                "update mcp_tool_approval set state = 'used', used_at = ? where id = ? and state = 'approved'")) {
            ps.setTimestamp(1, Timestamp.from(now()));
            ps.setLong(2, id);
            ps.executeUpdate();
        }
        return new Runs(id);
    }

    private static void commitIf(Connection c, BooleanSupplier mayCommit) throws SQLException {
        if (!mayCommit.getAsBoolean()) {
            throw new Abandoned();
        }
        c.commit();
    }

    private static void rollback(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is gone: its transaction went with it
        }
    }

    /** Which binding of {@code retry} differs from {@code bound}: names only, never values. */
    private static Optional<String> differs(Call bound, Call retry) {
        if (!bound.caller().equals(retry.caller()) || !bound.callerIssuer().equals(retry.callerIssuer())) {
            return Optional.of("the caller");
        }
        if (!bound.agent().equals(retry.agent())) {
            return Optional.of("the agent");
        }
        if (!bound.server().equals(retry.server())) {
            return Optional.of("the MCP server");
        }
        if (!bound.tool().equals(retry.tool())) {
            return Optional.of("the tool");
        }
        if (!bound.argsDigest().equals(retry.argsDigest())) {
            return Optional.of("the arguments");
        }
        if (!bound.policyVersion().equals(retry.policyVersion())) {
            return Optional.of("the policy version (dlp.yaml changed)");
        }
        return Optional.empty();
    }

    private void close(Connection c, long id, String state, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "update mcp_tool_approval set state = ?, decided_at = coalesce(decided_at, ?), decision_reason = ?"
                        + " where id = ?")) {
            ps.setString(1, state);
            ps.setTimestamp(2, Timestamp.from(now()));
            ps.setString(3, reason);
            ps.setLong(4, id);
            ps.executeUpdate();
        }
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }
}
