package io.meshguard.access;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Every permission a meshguard admin route declares ({@code resource:action}). The access file may name only these
 * (a typo or a stale name fails the start, file:line), and each server's route-coverage test checks its routes
 * use only these. A new admin route adds its permission here.
 */
public final class Permissions {
    private Permissions() {}

    /** The xDS controller's admin API (xds-controller AdminApi). */
    public static final List<String> CONTROLLER = List.of(
            "config:read",
            "config:replace",
            "config:validate",
            "group:read",
            "group:update",
            "group:delete",
            "group:protect",
            // the group's gateway template kind: which data plane serves it
            "group:template",
            "upstream:read",
            "upstream:update",
            "upstream:delete",
            "api:read",
            "api:update",
            "api:delete",
            "route:read",
            "route:update",
            "route:delete",
            "revision:read",
            "revision:publish",
            "revision:rollback",
            "revision:approve",
            "render:read",
            "fleet:read",
            "policy:read",
            "policy:request",
            "policy:approve",
            // MCP tool calls held for two approvers (xds-controller PolicyRequestApi, /tool-approvals)
            "tool-call:read",
            "tool-call:approve");

    /** extauthz's {@code /quotas} endpoint (extauthz-server QuotaAdminApi). */
    public static final List<String> QUOTAS = List.of("quota:read", "quota:adjust", "quota:reset");

    /** extauthz's {@code /apikeys} endpoint (extauthz-server ApiKeyAdminApi). */
    public static final List<String> APIKEYS =
            List.of("apikey:read", "apikey:create", "apikey:rotate", "apikey:revoke");

    /** The audit log and the admin trail through the admin plane (xds-controller AuditAdminApi). */
    public static final List<String> AUDIT = List.of("audit:read", "audit:export", "audit:verify");

    /** The catalogue's API (catalog CatalogApi): operators, providers and customers. */
    public static final List<String> CATALOG = List.of(
            "cluster:read",
            "cluster:update",
            "cluster:delete",
            "tenant:read",
            "tenant:create",
            "product:read",
            "product:create",
            "product:update",
            "product:lifecycle",
            "plan:read",
            "plan:create",
            "plan:lifecycle",
            // a guarded plan's limits: requested with a replay report, approved by another person
            "plan:change",
            "plan:approve",
            "publish:read",
            "publish:create",
            "publish:lifecycle",
            "subscription:read",
            "subscription:create",
            "subscription:approve",
            "subscription:suspend",
            "subscription:plan",
            "subscription:close",
            "catalog:read",
            "application:read",
            "application:create",
            "application:suspend",
            "credential:read",
            "credential:create",
            "credential:rotate",
            "credential:revoke");

    /**
     * Zone controllers (xds-controller ZoneAdminApi): a registration token lets a cluster follow central, a revocation
     * cuts it off; both are operator decisions apart from editing a cluster's labels ({@code cluster:update}).
     */
    public static final List<String> ZONES = List.of("cluster:register", "cluster:revoke");

    /**
     * Proof of coverage (console CoverageScreen, the controller's {@code GET /audit/coverage}): every protected
     * service's requests joined with the Checks and DLP sessions, across tenants, so the bank's (system scope) only.
     */
    public static final List<String> COVERAGE = List.of("coverage:read");

    public static final Set<String> ALL;

    static {
        TreeSet<String> all = new TreeSet<>(CONTROLLER);
        all.addAll(QUOTAS);
        all.addAll(APIKEYS);
        all.addAll(CATALOG);
        all.addAll(AUDIT);
        all.addAll(ZONES);
        all.addAll(COVERAGE);
        ALL = Set.copyOf(all);
    }
}
