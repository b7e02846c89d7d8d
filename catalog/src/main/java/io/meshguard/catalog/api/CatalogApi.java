package io.meshguard.catalog.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.meshguard.access.AdminCaller;
import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminEvents;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminOperation;
import io.meshguard.access.AdminOperations;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.KeycloakClients;
import io.meshguard.access.http.AdminEndpoint;
import io.meshguard.access.http.AdminRequest;
import io.meshguard.catalog.CatalogRefusal;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.CatalogStore.Side;
import io.meshguard.catalog.GatewayServing;
import io.meshguard.catalog.PlanChangeReplay;
import io.meshguard.catalog.PlanLimitsJson;
import io.meshguard.catalog.Tenant;
import io.meshguard.catalog.api.CatalogService.SubscriptionChange;
import io.meshguard.catalog.service.AdmittedCall;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.SubscriptionUsage;
import io.meshguard.catalogmodel.TransitionRefused;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.http.ErrorKind;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The catalogue's admin API, one path per persona: {@code /v1/provider/…} (products, plans, product publishes,
 * approvals), {@code /v1/customer/…} (the published catalogue, applications, subscriptions, credentials) and
 * {@code /v1/operator/…} (clusters). Every operation is a row of {@link #OPERATIONS}: its permission, checked by the
 * one {@link AdminGate}, and its line in the OpenAPI document come from that row, so no route ships without either.
 * Every change is an {@link AdminEvent} for the hash-chained admin trail.
 */
public final class CatalogApi implements HttpHandler {

    /** The longest request body the API reads; catalogue objects are small. */
    static final int MAX_BODY = 256 * 1024;

    /** A request admitted by the gate. */
    private record Call(AdminRequest request) {
        HttpExchange exchange() {
            return request.exchange();
        }

        AdmittedCall who() {
            return new AdmittedCall(request.admission(), request.requestId());
        }

        String segment(int i) {
            return request.segment(i);
        }

        TenantScope scope() {
            return request.scope();
        }

        /** The JSON object sent; a read sends none. */
        JsonNode body() {
            return request.route().method().equals("GET") ? CatalogJson.MAPPER.nullNode() : request.body();
        }

        AdminCaller caller() {
            return request.caller();
        }

        String requestId() {
            return request.requestId();
        }
    }

    @FunctionalInterface
    private interface Handler {
        JsonNode handle(CatalogApi api, Call call);
    }

    /**
     * One row of the table being declared: the shared {@link AdminOperation} and the fields its body may carry (checked
     * strictly before the handler runs; their schema is the operation's request body in the OpenAPI document).
     */
    private record Operation(BodyFields body, AdminOperation<Handler> bare) {
        /** The same operation taking a JSON body of these fields ({@link BodyFields#of}). */
        Operation takes(String... fields) {
            BodyFields taken = BodyFields.of(fields);
            return new Operation(taken, bare.takes(taken.schema()));
        }

        /** The operation as the table holds it: its handler refuses a body with a field it does not take. */
        AdminOperation<Handler> declared() {
            Handler handler = bare.handler();
            return bare.handledBy((api, call) -> {
                body.check(call.body());
                return handler.handle(api, call);
            });
        }
    }

    private static final List<Operation> OPERATIONS = List.of(
            op(
                    AdminRoute.system("GET", "/v1/operator/clusters", "cluster:read"),
                    "List clusters",
                    (a, c) -> CatalogJson.list(a.store.clusters(c.scope()), CatalogJson::cluster)),
            op(
                            AdminRoute.system("PUT", "/v1/operator/clusters/{id}", "cluster:update"),
                            "Register or update a cluster",
                            CatalogApi::putCluster)
                    .takes(
                            "region:string!",
                            "provider:string",
                            "capabilities:array",
                            "gateway_groups:object",
                            "service_namespaces:object"),
            op(
                            AdminRoute.system("DELETE", "/v1/operator/clusters/{id}", "cluster:delete"),
                            "Decommission a cluster (its zone revoked first; never one a product publish names)",
                            CatalogApi::deleteCluster)
                    .takes("reason:string!"),
            op(
                    AdminRoute.system("GET", "/v1/operator/tenants", "tenant:read"),
                    "List tenants",
                    (a, c) -> CatalogJson.list(a.store.tenants(), CatalogJson::tenant)),
            created(
                            AdminRoute.system("POST", "/v1/operator/tenants", "tenant:create"),
                            "Create a tenant (idempotent: an existing one is left as it is)",
                            CatalogApi::createTenant)
                    .takes("id:string!", "display_name:string"),
            op(
                    AdminRoute.tenant("GET", "/v1/provider/products", "product:read"),
                    "List the tenant's products",
                    (a, c) -> CatalogJson.list(
                            a.store.products(c.scope()).stream()
                                    .filter(p -> c.scope().includes(p.tenant()))
                                    .toList(),
                            CatalogJson::product)),
            created(
                            AdminRoute.tenant("POST", "/v1/provider/products", "product:create"),
                            "Create a draft product",
                            CatalogApi::createProduct)
                    .takes(
                            "id:string!",
                            "tenant:string",
                            "name:string!",
                            "version:string",
                            "description:string",
                            "tags:array",
                            "docs_url:string",
                            "visibility:string",
                            "operations:array"),
            op(
                    AdminRoute.tenant("GET", "/v1/provider/products/{id}", "product:read"),
                    "Show a product",
                    (a, c) -> CatalogJson.product(a.ownProduct(c, c.segment(3)))),
            op(
                            AdminRoute.tenant("PUT", "/v1/provider/products/{id}/operations", "product:update"),
                            "Replace a product's operations",
                            CatalogApi::putOperations)
                    .takes("operations:array!"),
            op(
                            AdminRoute.tenant("POST", "/v1/provider/products/{id}/state", "product:lifecycle"),
                            "Publish, deprecate or retire a product",
                            CatalogApi::moveProduct)
                    .takes("state:string!", "reason:string"),
            op(
                    AdminRoute.tenant("GET", "/v1/provider/products/{id}/plans", "plan:read"),
                    "List a product's plans",
                    (a, c) -> CatalogJson.list(
                            a.store.plans(
                                    c.scope(), a.ownProduct(c, c.segment(3)).id()),
                            CatalogJson::plan)),
            created(
                            AdminRoute.tenant("POST", "/v1/provider/products/{id}/plans", "plan:create"),
                            "Create a staging plan",
                            CatalogApi::createPlan)
                    .takes(
                            "name:string!",
                            "auth_modes:array!",
                            "limits:object",
                            "operation_limits:object",
                            "approval:string"),
            op(
                            AdminRoute.tenant("POST", "/v1/provider/plans/{id}/state", "plan:lifecycle"),
                            "Publish, deprecate or close a plan (closing closes its subscriptions)",
                            CatalogApi::movePlan)
                    .takes("state:string!", "reason:string"),
            op(
                            AdminRoute.tenant("PUT", "/v1/provider/plans/{id}/limits", "plan:create"),
                            "Edit the limits of a plan with no live subscription whose product is not published (a"
                                    + " guarded plan's limits are requested: change-requests)",
                            CatalogApi::editPlanLimits)
                    .takes("limits:object!", "operation_limits:object"),
            created(
                            AdminRoute.tenant("POST", "/v1/provider/plans/{id}/change-requests", "plan:change"),
                            "Request new limits for a plan with subscribers or a published product, with the replay"
                                    + " report of its recorded decisions (who would now get 429, or no longer)",
                            CatalogApi::requestPlanChange)
                    .takes("limits:object!", "operation_limits:object", "reason:string!"),
            op(
                    AdminRoute.tenant("GET", "/v1/provider/plan-change-requests", "plan:read"),
                    "Plan-change requests, newest first",
                    (a, c) -> CatalogJson.list(a.planChanges.list(c.who()), CatalogJson::planChange)),
            op(
                    AdminRoute.tenant("GET", "/v1/provider/plan-change-requests/{id}", "plan:read"),
                    "A plan-change request with its limits before and requested and its replay report",
                    (a, c) -> CatalogJson.planChange(a.planChanges.show(c.who(), requestId(c)))),
            op(
                    AdminRoute.tenant("POST", "/v1/provider/plan-change-requests/{id}/report", "plan:change"),
                    "Compute a pending plan-change request's replay report again",
                    (a, c) -> CatalogJson.planChange(a.planChanges.recompute(c.who(), requestId(c)))),
            op(
                            AdminRoute.tenant("POST", "/v1/provider/plan-change-requests/{id}/approve", "plan:approve"),
                            "Approve a plan-change request (not its requester; needs a report computed since it was"
                                    + " requested): the requested limits apply",
                            (a, c) -> CatalogJson.planChange(
                                    a.planChanges.approve(c.who(), requestId(c), text(c, "reason"))))
                    .takes("reason:string!"),
            op(
                            AdminRoute.tenant("POST", "/v1/provider/plan-change-requests/{id}/reject", "plan:approve"),
                            "Reject (or, as its requester, withdraw) a plan-change request",
                            (a, c) -> CatalogJson.planChange(
                                    a.planChanges.reject(c.who(), requestId(c), text(c, "reason"))))
                    .takes("reason:string!"),
            op(
                    AdminRoute.tenant("GET", "/v1/provider/products/{id}/product-publishes", "publish:read"),
                    "List a product's publishes",
                    (a, c) -> CatalogJson.list(
                            a.store.publishes(
                                    c.scope(), a.ownProduct(c, c.segment(3)).id()),
                            CatalogJson::publish)),
            created(
                            AdminRoute.tenant("POST", "/v1/provider/products/{id}/product-publishes", "publish:create"),
                            "Create a draft publish on a cluster and environment",
                            CatalogApi::createPublish)
                    .takes("cluster:string!", "environment:string!", "auth_mode:string!", "gateway_group:string!"),
            op(
                            AdminRoute.tenant("POST", "/v1/provider/product-publishes/{id}/state", "publish:lifecycle"),
                            "Publish or withdraw a product publish",
                            CatalogApi::movePublish)
                    .takes("state:string!", "reason:string"),
            op(
                    AdminRoute.tenant("GET", "/v1/provider/subscriptions", "subscription:read"),
                    "Subscriptions to the tenant's products",
                    (a, c) -> CatalogJson.list(
                            a.store.subscriptions(c.scope(), Side.PROVIDER), CatalogJson::subscription)),
            op(
                    AdminRoute.tenant("GET", "/v1/provider/subscriptions/{id}/usage", "subscription:read"),
                    "Calls and refusals by reason of a subscription to the tenant's product (?hours=24)",
                    (a, c) -> a.usage(c, Side.PROVIDER)),
            op(
                            AdminRoute.tenant(
                                    "POST", "/v1/provider/subscriptions/{id}/approve", "subscription:approve"),
                            "Approve a pending subscription",
                            (a, c) -> a.moveSubscription(c, Side.PROVIDER, SubscriptionChange.APPROVE))
                    .takes("reason:string!"),
            op(
                            AdminRoute.tenant("POST", "/v1/provider/subscriptions/{id}/reject", "subscription:approve"),
                            "Reject a pending subscription",
                            (a, c) -> a.moveSubscription(c, Side.PROVIDER, SubscriptionChange.REJECT))
                    .takes("reason:string!"),
            op(
                            AdminRoute.tenant(
                                    "POST", "/v1/provider/subscriptions/{id}/suspend", "subscription:suspend"),
                            "Suspend a subscription",
                            (a, c) -> a.moveSubscription(c, Side.PROVIDER, SubscriptionChange.SUSPEND))
                    .takes("reason:string!"),
            op(
                            AdminRoute.tenant("POST", "/v1/provider/subscriptions/{id}/resume", "subscription:suspend"),
                            "Resume a suspended subscription",
                            (a, c) -> a.moveSubscription(c, Side.PROVIDER, SubscriptionChange.RESUME))
                    .takes("reason:string!"),
            op(
                            AdminRoute.tenant("POST", "/v1/provider/subscriptions/{id}/close", "subscription:suspend"),
                            "Close a subscription",
                            (a, c) -> a.moveSubscription(c, Side.PROVIDER, SubscriptionChange.CLOSE))
                    .takes("reason:string!"),
            op(
                            AdminRoute.tenant("POST", "/v1/provider/subscriptions/{id}/plan", "subscription:plan"),
                            "Move a subscription to another plan, keeping its credentials",
                            (a, c) -> a.changePlan(c, Side.PROVIDER))
                    .takes("plan:string!", "reason:string!"),
            op(
                    AdminRoute.tenant("GET", "/v1/customer/products", "catalog:read"),
                    "The published catalogue",
                    (a, c) -> CatalogJson.list(
                            a.store.products(c.scope()).stream()
                                    .filter(p -> p.state() == ProductState.PUBLISHED)
                                    .toList(),
                            CatalogJson::product)),
            op(
                    AdminRoute.tenant("GET", "/v1/customer/products/{id}/plans", "catalog:read"),
                    "A published product's plans open to subscription",
                    (a, c) -> CatalogJson.list(
                            a
                                    .store
                                    .plans(
                                            c.scope(),
                                            a.publishedProduct(c, c.segment(3)).id())
                                    .stream()
                                    .filter(p -> p.state().acceptsSubscriptions())
                                    .toList(),
                            CatalogJson::plan)),
            op(
                    AdminRoute.tenant("GET", "/v1/customer/product-publishes/{id}/openapi.json", "catalog:read"),
                    "The API a published product publish sells, as OpenAPI 3.1: its host, the operations its gateway"
                            + " serves now, the credential it takes, its plans' limits (x-meshguard-limits)",
                    (a, c) -> ProductApis.openApi(a.productApis.sold(c.scope(), c.segment(3)))),
            op(
                    AdminRoute.tenant("GET", "/v1/customer/applications", "application:read"),
                    "The tenant's applications",
                    (a, c) -> CatalogJson.list(a.store.applications(c.scope()), CatalogJson::application)),
            created(
                            AdminRoute.tenant("POST", "/v1/customer/applications", "application:create"),
                            "Create an application",
                            CatalogApi::createApplication)
                    .takes("id:string", "tenant:string", "name:string!"),
            op(
                            AdminRoute.tenant("POST", "/v1/customer/applications/{id}/name", "application:create"),
                            "Rename an application: the name must be free in its tenant (409 MG-APPLICATION-001"
                                    + " otherwise)",
                            (a, c) -> CatalogJson.application(
                                    a.service.renameApplication(c.who(), c.segment(3), text(c, "name"))))
                    .takes("name:string!"),
            op(
                            AdminRoute.tenant("POST", "/v1/customer/applications/{id}/suspend", "application:suspend"),
                            "Suspend an application: every call it makes is refused (application_suspended), whatever its"
                                    + " subscriptions say",
                            (a, c) -> a.moveApplication(c, ApplicationState.SUSPENDED))
                    .takes("reason:string!"),
            op(
                            AdminRoute.tenant("POST", "/v1/customer/applications/{id}/resume", "application:suspend"),
                            "Resume a suspended application",
                            (a, c) -> a.moveApplication(c, ApplicationState.ACTIVE))
                    .takes("reason:string!"),
            op(
                    AdminRoute.tenant("GET", "/v1/customer/subscriptions", "subscription:read"),
                    "The tenant's applications' subscriptions",
                    (a, c) -> CatalogJson.list(
                            a.store.subscriptions(c.scope(), Side.CUSTOMER), CatalogJson::subscription)),
            op(
                    AdminRoute.tenant("GET", "/v1/customer/subscriptions/{id}/usage", "subscription:read"),
                    "Calls and refusals by reason of one of the tenant's subscriptions (?hours=24)",
                    (a, c) -> a.usage(c, Side.CUSTOMER)),
            created(
                            AdminRoute.tenant("POST", "/v1/customer/subscriptions", "subscription:create"),
                            "Subscribe an application to a plan of a product publish",
                            CatalogApi::subscribe)
                    .takes("application:string!", "product_publish:string!", "plan:string!"),
            op(
                            AdminRoute.tenant("POST", "/v1/customer/subscriptions/{id}/plan", "subscription:plan"),
                            "Move to another plan that needs no approval",
                            (a, c) -> a.changePlan(c, Side.CUSTOMER))
                    .takes("plan:string!", "reason:string!"),
            op(
                            AdminRoute.tenant("POST", "/v1/customer/subscriptions/{id}/close", "subscription:close"),
                            "Close a subscription",
                            (a, c) -> a.moveSubscription(c, Side.CUSTOMER, SubscriptionChange.CLOSE))
                    .takes("reason:string!"),
            op(
                    AdminRoute.tenant("GET", "/v1/customer/credentials", "credential:read"),
                    "The tenant's credentials",
                    (a, c) -> CatalogJson.list(a.store.credentials(c.scope()), CatalogJson::credential)),
            created(
                            AdminRoute.tenant("POST", "/v1/customer/credentials", "credential:create"),
                            "Bind an API key or a Keycloak client to an application",
                            CatalogApi::addCredential)
                    .takes(
                            "kind:string!",
                            "application:string!",
                            "id:string",
                            "subscriptions:array",
                            "expires_at:string"),
            op(
                            AdminRoute.tenant(
                                    "POST", "/v1/customer/credentials/{kind}/{id}/rotate", "credential:rotate"),
                            "Rotate to a successor; the predecessor works for the overlap window",
                            CatalogApi::rotate)
                    .takes("successor:string", "overlap:string"),
            op(
                            AdminRoute.tenant(
                                    "POST", "/v1/customer/credentials/{kind}/{id}/revoke", "credential:revoke"),
                            "Revoke a credential",
                            CatalogApi::revoke)
                    .takes("reason:string!"),
            op(AdminRoute.open("GET", "/v1/openapi.json"), "This document", (a, c) -> {
                throw new IllegalStateException("the open document is answered before admission");
            }));

    /** The operations as declared: the gate admits from their routes and the API dispatches to their handlers. */
    private static final AdminOperations<Handler> TABLE =
            new AdminOperations<>(OPERATIONS.stream().map(Operation::declared).toList());
    /** Every route, for the route-coverage test and the server that mounts them. */
    public static final List<AdminRoute> ROUTES = TABLE.routes();

    /** The declared operations (route, summary, status, body): what the port's OpenAPI document lists. */
    public static List<? extends AdminOperation<?>> operations() {
        return TABLE.all();
    }
    /** The path prefix to mount. */
    public static final String PREFIX = "/v1/";

    private final CatalogStore store;
    private final CatalogService service;
    private final PlanChanges planChanges;
    private final AdminEndpoint<CatalogApi> endpoint;
    private final Clock clock;
    private final String domain;
    private final GatewayServing gateway;
    private final ProductApis productApis;
    /** What {@code GET /v1/openapi.json} answers: the admin port's one document where it is mounted there. */

    /**
     * @param domain the DNS domain publishes are served under ({@code {product}.{env}.{region}.api.{domain}})
     * @param gateway serves a product publish as a revision of its gateway group (the xDS controller)
     */
    public CatalogApi(
            CatalogStore store,
            AdminGate gate,
            AdminEvents events,
            Clock clock,
            String domain,
            GatewayServing gateway) {
        this(store, gate, events, clock, domain, Optional.empty(), gateway);
    }

    /**
     * @param keycloak where OAuth2 credentials are created (client credentials); empty: only API keys can be bound
     */
    public CatalogApi(
            CatalogStore store,
            AdminGate gate,
            AdminEvents events,
            Clock clock,
            String domain,
            Optional<KeycloakClients> keycloak,
            GatewayServing gateway) {
        this(store, gate, events, clock, domain, keycloak, gateway, openApiBytes());
    }

    /**
     * @param openApi the document {@code GET /v1/openapi.json} answers: on the controller's admin port, the port's one
     *     document (the same bytes as {@code /openapi.json}), which lists this API's operations among the others
     */
    public CatalogApi(
            CatalogStore store,
            AdminGate gate,
            AdminEvents events,
            Clock clock,
            String domain,
            Optional<KeycloakClients> keycloak,
            GatewayServing gateway,
            byte[] openApi) {
        this(new CatalogService(store, gate, events, clock, keycloak), gate, domain, gateway, openApi);
    }

    /**
     * The REST adapter of {@code service}: the same service the console calls, so both surfaces run the same checks
     * and write the same trail rows.
     */
    public CatalogApi(CatalogService service, AdminGate gate, String domain, GatewayServing gateway, byte[] openApi) {
        this(service, gate, domain, gateway, openApi, PlanChangeReplay.NONE);
    }

    /**
     * @param planReplay replays a plan change over the recorded decisions (the controller's audit), for the report a
     *     plan-change request carries; {@link PlanChangeReplay#NONE}: requests open without one and cannot be approved
     */
    public CatalogApi(
            CatalogService service,
            AdminGate gate,
            String domain,
            GatewayServing gateway,
            byte[] openApi,
            PlanChangeReplay planReplay) {
        this.service = service;
        this.planChanges = new PlanChanges(service, planReplay, PlanChanges.DEFAULT_WINDOW);
        this.store = service.store();
        this.endpoint = AdminEndpoint.of(
                        this,
                        TABLE.<AdminEndpoint.Handler<CatalogApi>>map(h -> (api, r) -> h.handle(api, new Call(r))),
                        gate,
                        "controller",
                        MAX_BODY)
                .withOpenDocument(openApi)
                .refusing(CatalogRefusal.class, CatalogService::refusal)
                .refusing(TransitionRefused.class, ErrorKind.CONFLICT);
        this.clock = service.clock();
        this.domain = domain;
        this.gateway = gateway;
        this.productApis = new ProductApis(store, gateway, service::tokenEndpoint);
    }

    /** The typed service this API adapts (the console's way to the same operations). */
    public CatalogService service() {
        return service;
    }

    /** What each published product publish sells, for the portal: the same reads as the OpenAPI operation. */
    public ProductApis productApis() {
        return productApis;
    }

    /** Four eyes on a guarded plan's limits, as this API's plan-change operations call it (the console's too). */
    public PlanChanges planChanges() {
        return planChanges;
    }

    private static Operation op(AdminRoute route, String summary, Handler handler) {
        return new Operation(BodyFields.NONE, AdminOperation.of(route, summary, handler));
    }

    /** An operation that creates an object: 201. */
    private static Operation created(AdminRoute route, String summary, Handler handler) {
        return new Operation(BodyFields.NONE, AdminOperation.created(route, summary, handler));
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        endpoint.handle(exchange);
    }

    // ------------------------------------------------------------------ operator

    private JsonNode putCluster(Call c) {
        Set<String> caps = new LinkedHashSet<>();
        c.body().path("capabilities").forEach(n -> caps.add(n.asText()));
        Map<String, Set<String>> groups = gatewayGroups(c.body().path("gateway_groups"));
        Map<String, Map<String, Set<String>>> namespaces =
                serviceNamespaces(c.body().path("service_namespaces"));
        Cluster cluster = store.putCluster(
                new Cluster(c.segment(3), required(c, "region"), optional(c, "provider"), caps), groups, namespaces);
        ObjectNode out = (ObjectNode) CatalogJson.cluster(cluster);
        ObjectNode assigned = out.putObject("gateway_groups");
        groups.forEach((g, tenants) -> tenants.stream().sorted().forEach(assigned.withArray(g)::add));
        if (!namespaces.isEmpty()) {
            ObjectNode given = out.putObject("service_namespaces");
            namespaces.forEach((g, byTenant) -> byTenant.forEach(
                    (t, names) -> names.stream().sorted().forEach(given.with(g).withArray(t)::add)));
        }
        return changed(
                c,
                "cluster:update",
                "cluster/" + cluster.id(),
                "registered" + (groups.isEmpty() ? "" : ", groups " + new java.util.TreeMap<>(groups)),
                "",
                out);
    }

    private JsonNode deleteCluster(Call c) {
        String why = requiredReason(c);
        store.deleteCluster(c.segment(3));
        return changed(
                c,
                "cluster:delete",
                "cluster/" + c.segment(3),
                "decommissioned: " + why,
                "",
                CatalogJson.MAPPER.createObjectNode().put("deleted", c.segment(3)));
    }

    /**
     * {@code {"group": {"tenant": ["namespace", ...]}}}: the Kubernetes namespaces a tenant's upstreams may name
     * Services in, in a group the cluster serves.
     */
    private static Map<String, Map<String, Set<String>>> serviceNamespaces(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return Map.of();
        }
        String shape = "service_namespaces: an object of group name to an object of tenant to the namespaces its"
                + " upstreams may name Services in, e.g. {\"edge-prod\": {\"acme\": [\"acme-apps\"]}}";
        if (!node.isObject()) {
            throw new AdminJson.Refusal(422, shape);
        }
        Map<String, Map<String, Set<String>>> out = new java.util.TreeMap<>();
        for (var g : (Iterable<Map.Entry<String, JsonNode>>) node::fields) {
            if (!g.getKey().matches("[a-z0-9][a-z0-9._-]{0,62}")
                    || !g.getValue().isObject()) {
                throw new AdminJson.Refusal(422, shape);
            }
            Map<String, Set<String>> byTenant = new java.util.TreeMap<>();
            for (var t : (Iterable<Map.Entry<String, JsonNode>>) g.getValue()::fields) {
                if (!io.meshguard.db.TenantScope.validId(t.getKey())
                        || !t.getValue().isArray()) {
                    throw new AdminJson.Refusal(422, shape);
                }
                Set<String> names = new java.util.TreeSet<>();
                for (JsonNode n : t.getValue()) {
                    if (!n.isTextual() || !n.asText().matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
                        throw new AdminJson.Refusal(
                                422,
                                "service_namespaces." + g.getKey() + "." + t.getKey()
                                        + ": a list of Kubernetes namespace names");
                    }
                    names.add(n.asText());
                }
                byTenant.put(t.getKey(), names);
            }
            out.put(g.getKey(), byTenant);
        }
        return out;
    }

    /** {@code {"group": ["tenant", ...]}}: the gateway groups a cluster serves and who may publish into each. */
    private static Map<String, Set<String>> gatewayGroups(JsonNode node) {
        if (node.isMissingNode() || node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new AdminJson.Refusal(
                    422,
                    "gateway_groups: an object of group name to the tenants that publish"
                            + " into it, e.g. {\"edge-prod\": [\"acme\"]}");
        }
        Map<String, Set<String>> out = new java.util.TreeMap<>();
        for (var e : (Iterable<Map.Entry<String, JsonNode>>) node::fields) {
            if (!e.getKey().matches("[a-z0-9][a-z0-9._-]{0,62}")) {
                throw new AdminJson.Refusal(422, "gateway_groups: '" + e.getKey() + "' is not a group name");
            }
            Set<String> tenants = new java.util.TreeSet<>();
            for (JsonNode t : e.getValue()) {
                if (!t.isTextual() || !io.meshguard.db.TenantScope.validId(t.asText())) {
                    throw new AdminJson.Refusal(422, "gateway_groups." + e.getKey() + ": a list of tenant ids");
                }
                tenants.add(t.asText());
            }
            if (!e.getValue().isArray()) {
                throw new AdminJson.Refusal(422, "gateway_groups." + e.getKey() + ": a list of tenant ids");
            }
            out.put(e.getKey(), tenants);
        }
        return out;
    }

    private JsonNode createTenant(Call c) {
        Tenant tenant = new Tenant(required(c, "id"), optional(c, "display_name"));
        boolean created = store.createTenant(tenant);
        com.fasterxml.jackson.databind.node.ObjectNode body =
                (com.fasterxml.jackson.databind.node.ObjectNode) CatalogJson.tenant(tenant);
        body.put("created", created);
        return changed(
                c,
                "tenant:create",
                "tenant/" + tenant.id(),
                created ? "created" : "already existed",
                tenant.id(),
                body);
    }

    // ------------------------------------------------------------------ provider

    private JsonNode createProduct(Call c) {
        String tenant = tenantFor(c);
        List<Product.Operation> ops = operations(c.body().path("operations"));
        List<String> tags = new ArrayList<>();
        c.body().path("tags").forEach(t -> tags.add(t.asText()));
        Product.Visibility visibility =
                parseEnum(Product.Visibility.class, c.body().path("visibility").asText("private"), "visibility");
        Product p = store.createProduct(
                c.scope(),
                new Product(
                        required(c, "id"),
                        tenant,
                        required(c, "name"),
                        c.body().path("version").asText("1"),
                        optional(c, "description"),
                        tags,
                        optional(c, "docs_url"),
                        visibility,
                        ProductState.DRAFT,
                        ops),
                c.caller().actor());
        return changed(c, "product:create", "product/" + p.id(), "created draft", p.tenant(), CatalogJson.product(p));
    }

    private JsonNode putOperations(Call c) {
        Product p = store.putOperations(
                c.scope(),
                ownProduct(c, c.segment(3)).id(),
                operations(c.body().path("operations")),
                c.caller().actor());
        return changed(
                c, "product:update", "product/" + p.id(), "operations replaced", p.tenant(), CatalogJson.product(p));
    }

    private JsonNode moveProduct(Call c) {
        ProductState to = parseEnum(ProductState.class, required(c, "state"), "state");
        Product p = store.moveProduct(
                c.scope(), ownProduct(c, c.segment(3)).id(), to, c.caller().actor());
        return changed(
                c,
                "product:lifecycle",
                "product/" + p.id(),
                "now " + CatalogJson.lower(to) + reason(c),
                p.tenant(),
                CatalogJson.product(p));
    }

    private JsonNode createPlan(Call c) {
        Product p = ownProduct(c, c.segment(3));
        Set<AuthMode> modes = new LinkedHashSet<>();
        c.body().path("auth_modes").forEach(m -> modes.add(parseEnum(AuthMode.class, m.asText(), "auth_modes")));
        if (modes.isEmpty()) {
            throw new AdminJson.Refusal(422, "auth_modes: name at least one of none, apikey, oauth2");
        }
        String name = required(c, "name");
        Plan plan = store.createPlan(
                c.scope(),
                new Plan(
                        p.id() + "-" + name,
                        p.id(),
                        name,
                        PlanState.STAGING,
                        PlanLimitsJson.parse(c.body().get("limits"), "limits"),
                        PlanLimitsJson.parseOperations(c.body().get("operation_limits"), "operation_limits"),
                        parseEnum(Plan.Approval.class, c.body().path("approval").asText("auto"), "approval"),
                        modes));
        return changed(c, "plan:create", "plan/" + plan.id(), "created staging", p.tenant(), CatalogJson.plan(plan));
    }

    private JsonNode movePlan(Call c) {
        PlanState to = parseEnum(PlanState.class, required(c, "state"), "state");
        Plan plan = store.movePlan(c.scope(), c.segment(3), to, c.caller().actor());
        return changed(
                c,
                "plan:lifecycle",
                "plan/" + plan.id(),
                "now " + CatalogJson.lower(to) + reason(c),
                "",
                CatalogJson.plan(plan));
    }

    private JsonNode editPlanLimits(Call c) {
        String planId = c.segment(3);
        return CatalogJson.plan(planChanges.edit(
                c.who(), planId, PlanLimitsJson.parse(c.body().get("limits"), "limits"), operationLimits(c, planId)));
    }

    private JsonNode requestPlanChange(Call c) {
        String planId = c.segment(3);
        return CatalogJson.planChange(planChanges.request(
                c.who(),
                planId,
                PlanLimitsJson.parse(c.body().get("limits"), "limits"),
                operationLimits(c, planId),
                text(c, "reason")));
    }

    /** The requested per-operation limits; left out, the plan's current ones stay (a product-wide change alone). */
    private Map<String, io.meshguard.catalogmodel.PlanLimits> operationLimits(Call c, String planId) {
        JsonNode ops = c.body().get("operation_limits");
        if (ops == null || ops.isNull()) {
            return CatalogService.refusing(() -> store.planChanges().target(c.scope(), planId))
                    .plan()
                    .operationLimits();
        }
        return PlanLimitsJson.parseOperations(ops, "operation_limits");
    }

    private static long requestId(Call c) {
        try {
            return Long.parseLong(c.segment(3));
        } catch (NumberFormatException e) {
            throw new AdminJson.Refusal(404, "plan-change request " + c.segment(3) + " not found");
        }
    }

    private JsonNode createPublish(Call c) {
        Product p = ownProduct(c, c.segment(3));
        var pub = store.createPublish(
                c.scope(),
                p.id(),
                required(c, "cluster"),
                parseEnum(Environment.class, required(c, "environment"), "environment"),
                parseEnum(AuthMode.class, required(c, "auth_mode"), "auth_mode"),
                domain,
                required(c, "gateway_group"));
        return changed(
                c,
                "publish:create",
                "product-publish/" + pub.id(),
                "created draft on " + pub.host().name(),
                p.tenant(),
                CatalogJson.publish(pub));
    }

    private JsonNode movePublish(Call c) {
        PublishState to = parseEnum(PublishState.class, required(c, "state"), "state");
        String why = reason(c);
        CatalogStore.Moved moved = store.movePublish(
                c.scope(),
                c.segment(3),
                to,
                gateway,
                new GatewayServing.Change(
                        c.caller().actor(),
                        "product publish " + c.segment(3) + " " + CatalogJson.lower(to) + why,
                        c.requestId(),
                        c.caller().person()));
        ObjectNode out = (ObjectNode) CatalogJson.publish(moved.publish());
        ObjectNode served = out.putObject("gateway");
        moved.gateway().revision().ifPresent(r -> served.put("revision", r));
        moved.gateway().request().ifPresent(r -> served.put("publish_request", r));
        if (moved.gateway().request().isPresent()) {
            c.exchange().getResponseHeaders().set("x-meshguard-awaiting-approval", "true");
        }
        return changed(
                c,
                "publish:lifecycle",
                "product-publish/" + moved.publish().id(),
                "now "
                        + CatalogJson.lower(to)
                        + moved.gateway()
                                .revision()
                                .map(r -> ", served by revision " + r)
                                .orElse(", waiting in publish request "
                                        + moved.gateway().request().orElse(0L))
                        + why,
                ownProduct(c, moved.publish().productId()).tenant(),
                out);
    }

    private JsonNode moveSubscription(Call c, Side side, SubscriptionChange change) {
        return CatalogJson.subscription(
                service.moveSubscription(c.who(), side, c.segment(3), change, text(c, "reason")));
    }

    private JsonNode changePlan(Call c, Side side) {
        requiredReason(c);
        return CatalogJson.subscription(
                service.changePlan(c.who(), side, c.segment(3), required(c, "plan"), text(c, "reason")));
    }

    private JsonNode usage(Call c, Side side) {
        int hours = 24;
        Optional<String> asked = c.request().query("hours");
        if (asked.isPresent()) {
            String v = asked.get();
            if (!v.matches("[0-9]{1,4}") || Integer.parseInt(v) < 1 || Integer.parseInt(v) > 24 * 93) {
                throw new AdminJson.Refusal(422, "hours: a whole number from 1 to 2232 (93 days)");
            }
            hours = Integer.parseInt(v);
        }
        SubscriptionUsage u =
                store.usage(c.scope(), side, c.segment(3), clock.instant().minus(Duration.ofHours(hours)));
        ObjectNode out = CatalogJson.MAPPER
                .createObjectNode()
                .put("subscription", u.subscription())
                .put("from", u.from().toString())
                .put("calls", u.calls())
                .put("allowed", u.allowed());
        ObjectNode refused = out.putObject("refused_by_reason");
        u.refusedByReason().forEach(refused::put);
        ObjectNode byCredential = out.putObject("by_credential");
        u.byCredential().forEach(byCredential::put);
        ObjectNode quotas = out.putObject("quotas");
        u.quotas().forEach((counter, q) -> quotas.putObject(counter)
                .put("used", q.used())
                .put("period_start", q.periodStart().toString())
                .put("period_end", q.periodEnd().toString()));
        return out;
    }

    // ------------------------------------------------------------------ customer

    private JsonNode createApplication(Call c) {
        return CatalogJson.application(service.createApplication(
                c.who(),
                new CatalogService.NewApplication(
                        Optional.ofNullable(c.body().path("id").textValue()), optional(c, "tenant"), text(c, "name"))));
    }

    private JsonNode moveApplication(Call c, ApplicationState to) {
        return CatalogJson.application(service.moveApplication(c.who(), c.segment(3), to, text(c, "reason")));
    }

    private JsonNode subscribe(Call c) {
        return CatalogJson.subscription(service.subscribe(
                c.who(),
                new CatalogService.NewSubscription(
                        text(c, "application"), text(c, "product_publish"), text(c, "plan"))));
    }

    private JsonNode addCredential(Call c) {
        AuthMode kind = parseEnum(AuthMode.class, required(c, "kind"), "kind");
        Set<String> subs = new LinkedHashSet<>();
        c.body().path("subscriptions").forEach(s -> subs.add(s.asText()));
        String application = required(c, "application");
        CatalogService.BoundCredential bound = service.addCredential(
                c.who(), new CatalogService.NewCredential(kind, application, optional(c, "id"), subs, expiresAt(c)));
        if (bound.clientSecret().isEmpty()) {
            return CatalogJson.credential(bound.credential());
        }
        // the secret is in this answer only: not in the trail, the digest or any log
        return ((ObjectNode) CatalogJson.credential(bound.credential()).deepCopy())
                .put("client_secret", bound.clientSecret().get())
                .put("client_secret_shown_once", true);
    }

    /**
     * The credential's own end ({@code expires_at}, ISO-8601 with an offset): after it the product routes answer
     * {@code credential_expired}, whatever the key or client itself still allows.
     */
    private static Optional<Instant> expiresAt(Call c) {
        String text = c.body().path("expires_at").asText("");
        if (text.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(java.time.OffsetDateTime.parse(text).toInstant());
        } catch (java.time.format.DateTimeParseException e) {
            throw new AdminJson.Refusal(
                    422, "expires_at: '" + text + "' is not a time with an offset, e.g." + " 2027-01-31T00:00:00Z");
        }
    }

    private JsonNode rotate(Call c) {
        AuthMode kind = parseEnum(AuthMode.class, c.segment(3), "kind");
        if (kind == AuthMode.OAUTH2) {
            CatalogService.NewClientSecret fresh = service.renewClientSecret(c.who(), c.segment(4));
            return ((ObjectNode) CatalogJson.credential(fresh.credential()).deepCopy())
                    .put("client_secret", fresh.clientSecret())
                    .put("client_secret_shown_once", true);
        }
        Duration overlap = CatalogService.overlap(c.body().path("overlap").asText("24h"));
        String successor = required(c, "successor");
        return CatalogService.rotationJson(service.rotateCredential(c.who(), kind, c.segment(4), successor, overlap));
    }

    private JsonNode revoke(Call c) {
        AuthMode kind = parseEnum(AuthMode.class, c.segment(3), "kind");
        return CatalogJson.credential(service.revokeCredential(c.who(), kind, c.segment(4), text(c, "reason")));
    }

    // ------------------------------------------------------------------ helpers

    Product ownProduct(Call c, String id) {
        return store.product(c.scope(), id)
                .filter(p -> c.scope().includes(p.tenant()))
                .orElseThrow(() -> new CatalogRefusal(CatalogRefusal.Kind.NOT_FOUND, "product " + id + " not found"));
    }

    /** A product the caller's catalogue lists: a missing or unpublished one is 404, as in the listing. */
    private Product publishedProduct(Call c, String id) {
        return store.product(c.scope(), id)
                .filter(p -> p.state() == ProductState.PUBLISHED)
                .orElseThrow(() -> new CatalogRefusal(CatalogRefusal.Kind.NOT_FOUND, "product " + id + " not found"));
    }

    /** The tenant a new object belongs to: named in the body, or the caller's only tenant. */
    private static String tenantFor(Call c) {
        return CatalogService.tenantFor(c.scope(), optional(c, "tenant"));
    }

    private JsonNode changed(Call c, String action, String target, String outcome, String tenant, JsonNode after) {
        service.recorded(c.who(), action, target, outcome, tenant, after);
        return after;
    }

    private static List<Product.Operation> operations(JsonNode node) {
        if (!node.isMissingNode() && !node.isArray()) {
            throw new AdminJson.Refusal(422, "operations: a list of {id, api, method, path}");
        }
        List<Product.Operation> ops = new ArrayList<>();
        for (JsonNode o : node) {
            ops.add(new Product.Operation(
                    o.path("id").asText(),
                    o.path("api").asText(),
                    o.path("method").asText().toUpperCase(Locale.ROOT),
                    o.path("path").asText()));
        }
        return ops;
    }

    private static String required(Call c, String field) {
        JsonNode v = c.body().path(field);
        if (!v.isTextual() || v.asText().isBlank()) {
            throw new AdminJson.Refusal(422, field + ": required");
        }
        return v.asText();
    }

    private static Optional<String> optional(Call c, String field) {
        return Optional.ofNullable(c.body().path(field).textValue());
    }

    private static String requiredReason(Call c) {
        return CatalogService.requiredReason(text(c, "reason"));
    }

    /** A text field as given, empty when absent (the service says which are required). */
    private static String text(Call c, String field) {
        return c.body().path(field).asText("");
    }

    private static String reason(Call c) {
        String why = c.body().path("reason").asText("").strip();
        return why.isEmpty() ? "" : ": " + why;
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String text, String field) {
        for (E e : type.getEnumConstants()) {
            if (e.name().toLowerCase(Locale.ROOT).equals(text)) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name().toLowerCase(Locale.ROOT));
        }
        throw new AdminJson.Refusal(422, field + ": one of " + names + ", got '" + text + "'");
    }

    /** OpenAPI 3.1 from the operation table: each operation with its summary and {@code x-meshguard-permission}. */
    static JsonNode openApiDocument() {
        return AdminOperations.document("meshguard catalogue API", "", TABLE.all());
    }

    private static byte[] openApiBytes() {
        try {
            return CatalogJson.MAPPER.writeValueAsBytes(openApiDocument());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("the catalogue's OpenAPI document cannot be written", e);
        }
    }
}
