package io.meshguard.console;

import io.meshguard.access.AdminRoute;
import java.util.List;

/**
 * Every console operation with the permission it needs, declared like the admin API's ({@code AdminApi.ROUTES}):
 * the gate admits each request by this table, and the route-coverage test checks it. Path segment 0 is
 * {@code console}, so a gateway route's group is one segment further than in the API.
 */
public final class ConsoleRoutes {
    private ConsoleRoutes() {}

    public static final List<AdminRoute> ROUTES = List.of(
            // signing in and out, and the jar's own scripts and styles: no permission, no caller yet
            AdminRoute.open("GET", "/console"),
            AdminRoute.open("GET", "/console/signin"),
            // local mode only (no issuer): the admin token file's token, checked by the gate like a bearer token
            AdminRoute.open("POST", "/console/signin"),
            AdminRoute.open("GET", "/console/callback"),
            AdminRoute.open("POST", "/console/signout"),
            AdminRoute.open("GET", "/console/assets/{file}"),
            AdminRoute.tenant("GET", "/console/revisions", "revision:read"),
            // one group's timeline and requests: for its gateway owners, who approve its publish requests
            AdminRoute.gateway("GET", "/console/revisions/{group}", "revision:read", 2),
            AdminRoute.system("POST", "/console/publish", "revision:publish"),
            AdminRoute.gateway("POST", "/console/publish-requests/{group}/{id}/approve", "revision:approve", 2),
            AdminRoute.gateway("POST", "/console/publish-requests/{group}/{id}/reject", "revision:approve", 2),
            AdminRoute.system("POST", "/console/rollback/{revision}", "revision:rollback"),
            AdminRoute.system("GET", "/console/fleet", "fleet:read"),
            AdminRoute.system("GET", "/console/fleet/events", "fleet:read"),
            AdminRoute.tenant("GET", "/console/audit", "audit:read"),
            // the admin API's export code: a trail row first, then the stream (CSV with formulas neutralised)
            AdminRoute.tenant("GET", "/console/audit/export", "audit:export"),
            // Approvals and the developer portal: each POST is the catalogue's (or the API keys') operation of the
            // same path below /v1, with its permission; the screen calls that very operation (CatalogService)
            AdminRoute.tenant("GET", "/console/approvals", "subscription:read"),
            AdminRoute.tenant("POST", "/console/provider/subscriptions/{id}/approve", "subscription:approve"),
            AdminRoute.tenant("POST", "/console/provider/subscriptions/{id}/reject", "subscription:approve"),
            AdminRoute.tenant("POST", "/console/provider/subscriptions/{id}/suspend", "subscription:suspend"),
            AdminRoute.tenant("POST", "/console/provider/subscriptions/{id}/resume", "subscription:suspend"),
            AdminRoute.tenant("POST", "/console/provider/subscriptions/{id}/plan", "subscription:plan"),
            // a guarded plan's limit changes: GET/POST /v1/provider/plan-change-requests…'s permissions
            AdminRoute.tenant("GET", "/console/plan-changes", "plan:read"),
            AdminRoute.tenant("GET", "/console/plan-changes/{id}", "plan:read"),
            AdminRoute.tenant("POST", "/console/provider/plan-change-requests/{id}/approve", "plan:approve"),
            AdminRoute.tenant("POST", "/console/provider/plan-change-requests/{id}/reject", "plan:approve"),
            AdminRoute.tenant("GET", "/console/portal", "catalog:read"),
            AdminRoute.tenant("POST", "/console/customer/applications", "application:create"),
            AdminRoute.tenant("POST", "/console/customer/subscriptions", "subscription:create"),
            // a new API key: the API keys' POST /apikeys (apikey:create, checked when it runs) and then this binding
            AdminRoute.tenant("POST", "/console/customer/credentials", "credential:create"),
            AdminRoute.tenant("POST", "/console/customer/credentials/{kind}/{id}/rotate", "credential:rotate"),
            AdminRoute.tenant("POST", "/console/customer/credentials/{kind}/{id}/revoke", "credential:revoke"),
            // the draft's problems: POST /validate's permission (the console checks the stored draft, not a body)
            AdminRoute.tenant("GET", "/console/validate", "config:validate"),
            // what each problem code means (the Validate screen links here): the same permission as the screen
            AdminRoute.tenant("GET", "/console/problem-codes", "config:validate"),
            // traffic and security from the audit rows: GET /audit/events' permission and tenant scoping
            AdminRoute.tenant("GET", "/console/traffic", "audit:read"),
            // proof of coverage per namespace and service: the join reads every tenant's rows, so the bank's only
            AdminRoute.system("GET", "/console/coverage", "coverage:read"),
            // the authz policy files' requests: POST /policy-requests/{id}/approve|reject's permissions
            AdminRoute.system("GET", "/console/policy-requests", "policy:read"),
            AdminRoute.system("GET", "/console/policy-requests/{id}", "policy:read"),
            AdminRoute.system("POST", "/console/policy-requests/{id}/approve", "policy:approve"),
            AdminRoute.system("POST", "/console/policy-requests/{id}/reject", "policy:approve"));
}
