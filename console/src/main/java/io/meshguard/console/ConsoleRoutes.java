package io.meshguard.console;

import com.sun.net.httpserver.HttpExchange;
import io.meshguard.access.AdminRoute;
import java.io.IOException;
import java.util.List;

/**
 * Every console operation with the permission it needs and the page that serves it, declared like the admin API's
 * ({@code AdminApi.ROUTES}): the gate admits each request by this table, {@link Console} serves the page of the row it
 * admitted, and the route-coverage test checks it. Path segment 0 is
 * {@code console}, so a gateway route's group is one segment further than in the API.
 */
public final class ConsoleRoutes {
    private ConsoleRoutes() {}

    /** What serves an admitted request (a signed-in person the gate admitted for the route's permission). */
    @FunctionalInterface
    interface Page {
        void serve(Console console, Console.Request request) throws IOException;
    }

    /** What serves a request before anyone is signed in (signing in and out, the jar's assets). */
    @FunctionalInterface
    interface OpenPage {
        void serve(Console console, HttpExchange exchange, List<String> segments, String requestId) throws IOException;
    }

    /** One console operation: its route (method, path, permission, scope) and the page that serves it. */
    sealed interface Operation permits Open, Admitted {
        AdminRoute route();
    }

    record Open(AdminRoute route, OpenPage page) implements Operation {}

    record Admitted(AdminRoute route, Page page) implements Operation {}

    private static Operation open(String method, String path, OpenPage page) {
        return new Open(AdminRoute.open(method, path), page);
    }

    private static Operation page(AdminRoute route, Page page) {
        return new Admitted(route, page);
    }

    /** One held tool call's decisions: {@code /approve} and {@code /reject} below it. */
    private static final String HELD_CALL = "/console/tool-approvals/{id}";

    static final List<Operation> OPERATIONS = List.of(
            // signing in and out, and the jar's own scripts and styles: no permission, no caller yet
            open("GET", "/console", (c, ex, segments, id) -> c.home(ex, id)),
            open("GET", "/console/signin", (c, ex, segments, id) -> c.startSignIn(ex)),
            // local mode only (no issuer): the admin token file's token, checked by the gate like a bearer token
            open("POST", "/console/signin", (c, ex, segments, id) -> c.tokenSignIn(ex)),
            open("GET", "/console/callback", (c, ex, segments, id) -> c.finishSignIn(ex)),
            open("POST", "/console/signout", (c, ex, segments, id) -> c.signOut(ex)),
            open("GET", "/console/assets/{file}", (c, ex, segments, id) -> c.asset(ex, segments)),
            page(AdminRoute.tenant("GET", "/console/revisions", "revision:read"), Console::revisionsPage),
            // one group's timeline and requests: for its gateway owners, who approve its publish requests
            page(
                    AdminRoute.gateway("GET", "/console/revisions/{group}", "revision:read", 2),
                    Console::groupRevisionsPage),
            page(AdminRoute.system("POST", "/console/publish", "revision:publish"), Console::publish),
            page(
                    AdminRoute.gateway("POST", "/console/publish-requests/{group}/{id}/approve", "revision:approve", 2),
                    (c, r) -> c.decidePublish(r, true)),
            page(
                    AdminRoute.gateway("POST", "/console/publish-requests/{group}/{id}/reject", "revision:approve", 2),
                    (c, r) -> c.decidePublish(r, false)),
            page(AdminRoute.system("POST", "/console/rollback/{revision}", "revision:rollback"), Console::rollback),
            page(AdminRoute.system("GET", "/console/fleet", "fleet:read"), Console::fleetPage),
            page(AdminRoute.system("GET", "/console/fleet/events", "fleet:read"), Console::fleetEvents),
            page(AdminRoute.tenant("GET", "/console/audit", "audit:read"), Console::auditPage),
            // the admin API's export code: a trail row first, then the stream (CSV with formulas neutralised)
            page(AdminRoute.tenant("GET", "/console/audit/export", "audit:export"), Console::auditExport),
            // Approvals and the developer portal: each POST is the catalogue's (or the API keys') operation of the
            // same path below /v1, with its permission; the screen calls that very operation (CatalogService)
            page(AdminRoute.tenant("GET", "/console/approvals", "subscription:read"), Console::approvalsPage),
            page(
                    AdminRoute.tenant("POST", "/console/provider/subscriptions/{id}/approve", "subscription:approve"),
                    Console::changeSubscription),
            page(
                    AdminRoute.tenant("POST", "/console/provider/subscriptions/{id}/reject", "subscription:approve"),
                    Console::changeSubscription),
            page(
                    AdminRoute.tenant("POST", "/console/provider/subscriptions/{id}/suspend", "subscription:suspend"),
                    Console::changeSubscription),
            page(
                    AdminRoute.tenant("POST", "/console/provider/subscriptions/{id}/resume", "subscription:suspend"),
                    Console::changeSubscription),
            page(
                    AdminRoute.tenant("POST", "/console/provider/subscriptions/{id}/plan", "subscription:plan"),
                    Console::changeSubscription),
            // a guarded plan's limit changes: GET/POST /v1/provider/plan-change-requests…'s permissions
            page(AdminRoute.tenant("GET", "/console/plan-changes", "plan:read"), Console::planChangesPage),
            page(AdminRoute.tenant("GET", "/console/plan-changes/{id}", "plan:read"), Console::planChangePage),
            page(
                    AdminRoute.tenant("POST", "/console/provider/plan-change-requests/{id}/approve", "plan:approve"),
                    (c, r) -> c.decidePlanChange(r, true)),
            page(
                    AdminRoute.tenant("POST", "/console/provider/plan-change-requests/{id}/reject", "plan:approve"),
                    (c, r) -> c.decidePlanChange(r, false)),
            page(AdminRoute.tenant("GET", "/console/portal", "catalog:read"), Console::portalPage),
            // GET /v1/customer/product-publishes/{id}/openapi.json's permission and tenant scoping
            page(AdminRoute.tenant("GET", "/console/portal/openapi/{id}", "catalog:read"), Console::portalOpenApi),
            page(
                    AdminRoute.tenant("POST", "/console/customer/applications", "application:create"),
                    (c, r) -> c.customerChange(r, PortalScreen::createApplication)),
            page(
                    AdminRoute.tenant("POST", "/console/customer/subscriptions", "subscription:create"),
                    (c, r) -> c.customerChange(r, PortalScreen::subscribe)),
            // a new API key: the API keys' POST /apikeys (apikey:create, checked when it runs) and then this binding
            page(
                    AdminRoute.tenant("POST", "/console/customer/credentials", "credential:create"),
                    (c, r) -> c.customerChange(r, PortalScreen::createKey)),
            page(
                    AdminRoute.tenant("POST", "/console/customer/credentials/{kind}/{id}/rotate", "credential:rotate"),
                    (c, r) -> c.customerChange(r, PortalScreen::rotate)),
            page(
                    AdminRoute.tenant("POST", "/console/customer/credentials/{kind}/{id}/revoke", "credential:revoke"),
                    (c, r) -> c.customerChange(r, PortalScreen::revoke)),
            // the draft's problems: POST /validate's permission (the console checks the stored draft, not a body)
            page(AdminRoute.tenant("GET", "/console/validate", "config:validate"), Console::validatePage),
            // what each problem code means (the Validate screen links here): the same permission as the screen
            page(AdminRoute.tenant("GET", "/console/problem-codes", "config:validate"), Console::problemCodesPage),
            // traffic and security from the audit rows: GET /audit/events' permission and tenant scoping
            page(AdminRoute.tenant("GET", "/console/traffic", "audit:read"), Console::trafficPage),
            // proof of coverage per namespace and service: the join reads every tenant's rows, so the bank's only
            page(AdminRoute.system("GET", "/console/coverage", "coverage:read"), Console::coveragePage),
            // the authz policy files' requests: POST /policy-requests/{id}/approve|reject's permissions
            page(AdminRoute.system("GET", "/console/policy-requests", "policy:read"), Console::policyRequestsPage),
            page(AdminRoute.system("GET", "/console/policy-requests/{id}", "policy:read"), Console::policyRequestPage),
            page(
                    AdminRoute.system("POST", "/console/policy-requests/{id}/approve", "policy:approve"),
                    (c, r) -> c.decidePolicyRequest(r, true)),
            page(
                    AdminRoute.system("POST", "/console/policy-requests/{id}/reject", "policy:approve"),
                    (c, r) -> c.decidePolicyRequest(r, false)),
            // held MCP tool calls: GET /tool-approvals and POST /tool-approvals/{id}/approve|reject's permissions
            page(AdminRoute.system("GET", "/console/tool-approvals", "tool-call:read"), Console::toolCallsPage),
            page(
                    AdminRoute.system("POST", HELD_CALL + "/approve", "tool-call:approve"),
                    (c, r) -> c.decideToolCall(r, true)),
            page(
                    AdminRoute.system("POST", HELD_CALL + "/reject", "tool-call:approve"),
                    (c, r) -> c.decideToolCall(r, false)));

    /** Every route of the table, for the gate's admissions and the route-coverage tests. */
    public static final List<AdminRoute> ROUTES =
            OPERATIONS.stream().map(Operation::route).toList();
}
