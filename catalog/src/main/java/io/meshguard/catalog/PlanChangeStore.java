package io.meshguard.catalog;

import static io.meshguard.catalog.CatalogRows.count;
import static io.meshguard.catalog.CatalogRows.ids;
import static io.meshguard.catalog.CatalogRows.lower;
import static io.meshguard.catalog.CatalogRows.ownProductForUpdate;
import static io.meshguard.catalog.CatalogRows.readPlan;
import static io.meshguard.catalog.CatalogRows.upper;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.access.Person;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.db.TenantScope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Plan-change requests in PostgreSQL ({@code plan_change_request}, V71), confined to the caller's tenants like every
 * catalogue row. A plan's limits change here only: directly while nobody can be affected (no live subscription, the
 * product not published), otherwise by approving a request, in the transaction that closes it.
 */
public final class PlanChangeStore {
    private static final String COLUMNS = "id, plan_id, tenant, state, requested_by, requested_by_person,"
            + " requested_at, reason, limits_before, operation_limits_before, limits, operation_limits, report,"
            + " report_computed_at, decided_by, decided_at, decision_reason";

    private final CatalogTransactions tx;

    PlanChangeStore(CatalogTransactions tx) {
        this.tx = tx;
    }

    /**
     * A plan of the scope's products as its change would touch it: its product, and the subscriptions on it.
     *
     * @param liveSubscriptions pending, active or suspended subscriptions on the plan (whose calls a change decides)
     * @param subscriptions every subscription ever on the plan (the replay lists their rows kept without plan facts)
     */
    public record Target(Plan plan, Product product, long liveSubscriptions, Set<String> subscriptions) {
        public Target {
            subscriptions = Set.copyOf(subscriptions);
        }

        /** Whether a change of its limits needs four eyes: someone's calls depend on them, or may soon. */
        public boolean guarded() {
            return liveSubscriptions > 0 || product.state() == ProductState.PUBLISHED;
        }
    }

    /** The plan {@code planId} of one of the scope's own products. */
    public Target target(TenantScope scope, String planId) {
        return tx.run(scope, c -> target(c, planId));
    }

    private static Target target(Connection c, String planId) throws SQLException {
        Plan plan = readPlan(c, planId).orElseThrow(() -> CatalogRefusal.notFound("plan", planId));
        // another tenant's published plan is readable (the catalogue) but not its to change: absent, as elsewhere
        Product product = ownProductForUpdate(c, plan.productId());
        long live = count(
                c,
                "select count(*) from subscription where plan_id = ? and state in ('pending', 'active', 'suspended')",
                planId);
        Set<String> all = new LinkedHashSet<>(ids(c, "select id from subscription where plan_id = ?", planId));
        return new Target(plan, product, live, all);
    }

    /**
     * Changes an unguarded plan's limits at once (nobody's calls depend on them yet: nothing to replay).
     *
     * @throws CatalogRefusal CONFLICT when the plan is guarded: its change must be requested
     */
    public Plan editLimits(TenantScope scope, String planId, PlanLimits limits, Map<String, PlanLimits> operations) {
        return tx.run(scope, c -> {
            Target t = target(c, planId);
            if (t.guarded()) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.CONFLICT,
                        "plan " + planId + " " + guardedBecause(t)
                                + ": its limits change through a plan-change request (POST /v1/provider/plans/"
                                + planId + "/change-requests), approved by a second person");
            }
            checkOperations(t, operations);
            writeLimits(c, planId, limits, operations);
            return readPlan(c, planId).orElseThrow();
        });
    }

    /** Why a plan's limits are under four eyes, in words. */
    public static String guardedBecause(Target t) {
        return t.liveSubscriptions() > 0
                ? "has " + t.liveSubscriptions() + " live subscription" + (t.liveSubscriptions() == 1 ? "" : "s")
                : "belongs to published product " + t.product().id();
    }

    /**
     * Opens a request for exactly {@code limits} and {@code operations}; a pending request for the same plan is voided
     * (a changed request is a new request, with its own report).
     */
    public PlanChangeRequest open(
            TenantScope scope,
            String planId,
            Person requester,
            String requestedBy,
            Instant at,
            String reason,
            PlanLimits limits,
            Map<String, PlanLimits> operations) {
        return tx.run(scope, c -> {
            Target t = target(c, planId);
            checkOperations(t, operations);
            if (PlanLimitsJson.write(limits)
                            .equals(PlanLimitsJson.write(t.plan().limits()))
                    && PlanLimitsJson.writeOperations(operations)
                            .equals(PlanLimitsJson.writeOperations(t.plan().operationLimits()))) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.CONFLICT,
                        "plan " + planId + " already has these limits: nothing to request");
            }
            try (PreparedStatement ps = c.prepareStatement("update plan_change_request set state = 'voided',"
                    + " decided_by = ?, decided_at = ?, decision_reason = 'replaced by a newer request'"
                    + " where plan_id = ? and state = 'pending'")) {
                ps.setString(1, requestedBy);
                ps.setTimestamp(2, Timestamp.from(at));
                ps.setString(3, planId);
                ps.executeUpdate();
            }
            long id;
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into plan_change_request (plan_id, tenant, requested_by, requested_by_person,"
                            + " requested_at, reason, limits_before, operation_limits_before, limits, operation_limits)"
                            + " values (?, ?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb, ?::jsonb) returning id")) {
                ps.setString(1, planId);
                ps.setString(2, t.product().tenant());
                ps.setString(3, requestedBy);
                ps.setString(4, requester.id());
                ps.setTimestamp(5, Timestamp.from(at));
                ps.setString(6, reason);
                ps.setString(7, PlanLimitsJson.write(t.plan().limits()).toString());
                ps.setString(
                        8,
                        PlanLimitsJson.writeOperations(t.plan().operationLimits())
                                .toString());
                ps.setString(9, PlanLimitsJson.write(limits).toString());
                ps.setString(10, PlanLimitsJson.writeOperations(operations).toString());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
            }
            return read(c, id).orElseThrow();
        });
    }

    public Optional<PlanChangeRequest> get(TenantScope scope, long id) {
        return tx.run(scope, c -> read(c, id));
    }

    /** The scope's requests, newest first (at most {@code limit}). */
    public List<PlanChangeRequest> list(TenantScope scope, int limit) {
        return tx.run(scope, c -> {
            List<PlanChangeRequest> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "select " + COLUMNS + " from plan_change_request order by requested_at desc, id desc limit ?")) {
                ps.setInt(1, limit);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(row(rs));
                    }
                }
            }
            return out;
        });
    }

    /** Keeps {@code report} with a still pending request; false when it was decided meanwhile. */
    public boolean attachReport(TenantScope scope, long id, PlanChangeReport report) {
        return tx.run(scope, c -> {
            try (PreparedStatement ps = c.prepareStatement("update plan_change_request set report = ?::jsonb,"
                    + " report_computed_at = ? where id = ? and state = 'pending'")) {
                ps.setString(1, reportJson(report).toString());
                ps.setTimestamp(2, Timestamp.from(report.computedAt()));
                ps.setLong(3, id);
                return ps.executeUpdate() == 1;
            }
        });
    }

    /**
     * Closes a pending request under its row lock, so two deciders decide it once; an approval writes the requested
     * limits to the plan in the same transaction, and only over the limits the request was made against.
     *
     * @return the closed request; empty when it was no longer pending
     * @throws CatalogRefusal CONFLICT when approving and the plan's limits are no longer those of the request's start
     */
    public Optional<PlanChangeRequest> decide(
            TenantScope scope, long id, PlanChangeRequest.State to, String decider, String reason, Instant at) {
        return tx.run(scope, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "select id from plan_change_request where id = ? and state = 'pending' for update")) {
                ps.setLong(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                }
            }
            PlanChangeRequest r = read(c, id).orElseThrow();
            if (to == PlanChangeRequest.State.APPROVED) {
                Target t = target(c, r.planId());
                if (!PlanLimitsJson.write(t.plan().limits()).equals(PlanLimitsJson.write(r.limitsBefore()))
                        || !PlanLimitsJson.writeOperations(t.plan().operationLimits())
                                .equals(PlanLimitsJson.writeOperations(r.operationLimitsBefore()))) {
                    throw new CatalogRefusal(
                            CatalogRefusal.Kind.CONFLICT,
                            "plan " + r.planId() + "'s limits changed since request " + id
                                    + " was made: its report is about other limits; request again");
                }
                writeLimits(c, r.planId(), r.limits(), r.operationLimits());
            }
            try (PreparedStatement ps = c.prepareStatement("update plan_change_request set state = ?, decided_by = ?,"
                    + " decided_at = ?, decision_reason = ? where id = ?")) {
                ps.setString(1, lower(to));
                ps.setString(2, decider);
                ps.setTimestamp(3, Timestamp.from(at));
                ps.setString(4, reason);
                ps.setLong(5, id);
                ps.executeUpdate();
            }
            return read(c, id);
        });
    }

    private static void checkOperations(Target t, Map<String, PlanLimits> operations) {
        Set<String> ops = new HashSet<>();
        t.product().operations().forEach(o -> ops.add(o.id()));
        for (String op : operations.keySet()) {
            if (!ops.contains(op)) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.INVALID,
                        "plan " + t.plan().name() + " would limit operation " + op + ", which product "
                                + t.product().id() + " does not have");
            }
        }
    }

    private static void writeLimits(Connection c, String planId, PlanLimits limits, Map<String, PlanLimits> operations)
            throws SQLException {
        // the plan table's trigger tells the controller, which pushes the new limits to every extauthz replica
        try (PreparedStatement ps = c.prepareStatement("update plan set limits = ?::jsonb,"
                + " operation_limits = ?::jsonb, updated_at = now() where id = ?")) {
            ps.setString(1, PlanLimitsJson.write(limits).toString());
            ps.setString(2, PlanLimitsJson.writeOperations(operations).toString());
            ps.setString(3, planId);
            ps.executeUpdate();
        }
    }

    private static Optional<PlanChangeRequest> read(Connection c, long id) throws SQLException {
        try (PreparedStatement ps =
                c.prepareStatement("select " + COLUMNS + " from plan_change_request where id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(row(rs)) : Optional.empty();
            }
        }
    }

    private static PlanChangeRequest row(ResultSet rs) throws SQLException {
        Optional<PlanChangeReport> report = Optional.empty();
        String reportText = rs.getString(13);
        Timestamp computed = rs.getTimestamp(14);
        if (reportText != null && computed != null) {
            ObjectNode stored = (ObjectNode) json(reportText);
            report = Optional.of(new PlanChangeReport(
                    computed.toInstant(),
                    stored.path("decisions").asLong(),
                    stored.path("flipped").asLong(),
                    stored.path("not_replayable").asLong(),
                    stored.path("text").asText(),
                    (ObjectNode) stored.path("detail")));
        }
        Timestamp decidedAt = rs.getTimestamp(16);
        return new PlanChangeRequest(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                upper(PlanChangeRequest.State.class, rs.getString(4)),
                rs.getString(5),
                rs.getString(6),
                rs.getTimestamp(7).toInstant(),
                rs.getString(8),
                PlanLimitsJson.parse(json(rs.getString(9)), "limits_before"),
                PlanLimitsJson.parseOperations(json(rs.getString(10)), "operation_limits_before"),
                PlanLimitsJson.parse(json(rs.getString(11)), "limits"),
                PlanLimitsJson.parseOperations(json(rs.getString(12)), "operation_limits"),
                report,
                Optional.ofNullable(rs.getString(15)),
                Optional.ofNullable(decidedAt).map(Timestamp::toInstant),
                Optional.ofNullable(rs.getString(17)));
    }

    private static ObjectNode reportJson(PlanChangeReport r) {
        ObjectNode o = CatalogRows.JSON.createObjectNode();
        o.put("decisions", r.decisions());
        o.put("flipped", r.flipped());
        o.put("not_replayable", r.notReplayable());
        o.put("text", r.text());
        o.set("detail", r.detail());
        return o;
    }

    private static JsonNode json(String text) {
        try {
            return CatalogRows.JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a stored plan-change request is not JSON: " + e.getOriginalMessage(), e);
        }
    }
}
