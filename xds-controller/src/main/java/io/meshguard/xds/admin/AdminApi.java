package io.meshguard.xds.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.meshguard.access.AdminCaller;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminOperation;
import io.meshguard.access.AdminOperations;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.http.AdminEndpoint;
import io.meshguard.access.http.AdminRequest;
import io.meshguard.db.TenantScope;
import io.meshguard.envoygateway.render.RenderedResources;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.ErrorKind;
import io.meshguard.xds.approval.FourEyes;
import io.meshguard.xds.change.ConfigChangeAudit;
import io.meshguard.xds.change.RevisionDiff;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.TemplateKind;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.product.ProductPublisher;
import io.meshguard.xds.revision.RevisionActions;
import io.meshguard.xds.server.NodeStatus;
import io.meshguard.xds.server.Publisher;
import io.meshguard.xds.snapshot.EnvoyJson;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.store.Ownership;
import io.meshguard.xds.store.PgGatewayStore;
import io.meshguard.xds.store.Revision;
import io.meshguard.xds.store.RevisionStore;
import io.meshguard.xds.store.StoreException;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.HostOwnership;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ProblemCode;
import io.meshguard.xds.validate.ServiceNamespaces;
import io.meshguard.xds.validate.ValidationResult;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * The admin REST API (JSON) on the status HTTP port: CRUD of the draft configuration with whole-configuration
 * validation on every change, publish, rollback, revisions and their diff, rendered resources, and the fleet.
 * Every call but {@code GET /openapi.json} passes the {@link AdminGate} for the permission its {@link #ROUTES} entry
 * declares; every change is a {@code config_change} audit event.
 * The paths and methods are exactly {@link #ENDPOINTS}, which the OpenAPI document must match.
 */
public final class AdminApi implements HttpHandler {
    private static final int MAX_BODY_BYTES = 8 * 1024 * 1024;

    /** One operation of the API, path segments in {@code {braces}} are parameters. */
    public record Endpoint(String method, String path) {}

    @FunctionalInterface
    private interface Handler {
        JsonNode handle(AdminApi api, Call call);
    }

    /**
     * Every operation with the permission it needs, the scope of its target, its summary and its handler: the gate
     * admits from this table, {@link #handle} dispatches to the handler of the admitted row, and {@code openapi.json}
     * must show each row's {@code x-meshguard-permission} (the route-coverage test reads this table).
     */
    private static final AdminOperations<Handler> OPERATIONS = AdminOperations.of(
            op(
                    AdminRoute.tenant("GET", "/config", "config:read"),
                    "The whole draft configuration",
                    (a, c) -> tree(a.visible(c))),
            op(
                    AdminRoute.system("PUT", "/config", "config:replace"),
                    "Replace the whole draft (what `meshguard xds apply` sends); validated first",
                    (a, c) -> a.replaceAll(c)),
            op(
                    AdminRoute.system("GET", "/groups", "group:read"),
                    "All gateway groups of the draft",
                    (a, c) -> tree(a.draft.load().groups())),
            op(
                    AdminRoute.gateway("GET", "/groups/{name}", "group:read", 1),
                    "One gateway group",
                    (a, c) -> tree(a.draft.load().group(c.segment(1)).orElseThrow(() -> notFound(c)))),
            op(
                    AdminRoute.gateway("PUT", "/groups/{name}", "group:update", 1),
                    "Create or replace a gateway group; the whole draft is validated",
                    (a, c) -> a.putGroup(c)),
            op(
                    AdminRoute.gateway("DELETE", "/groups/{name}", "group:delete", 1),
                    "Delete a gateway group; refused when something still references it",
                    (a, c) -> a.change(
                            c,
                            "delete",
                            g -> new GatewayConfig(
                                    without(g.groups(), x -> x.name().equals(c.segment(1)), c),
                                    g.upstreams(),
                                    g.apis(),
                                    g.routes()))),
            // which data plane serves the group: its own permission, so that editing a group (group:update) never
            // moves it to another data plane; the kind reaches a gateway only through a publish (four eyes on a
            // protected group) and MG-GROUP-006 checks the render of the kind being published
            op(
                    AdminRoute.gateway("PUT", "/groups/{name}/template", "group:template", 1),
                    "Set the group's gateway template kind: meshguard (its own gateway over ADS) or envoy-gateway"
                            + " (Gateway API resources); takes effect with the group's next publish",
                    (a, c) -> a.putTemplateKind(c)),
            op(
                    AdminRoute.gateway("PUT", "/groups/{name}/protection", "group:protect", 1),
                    "Protect a gateway group: publishes to it need a second person's approval",
                    (a, c) -> a.protect(c)),
            // a gateway owner publishes and rolls back its own group (the system-wide /publish and /rollback are the
            // platform's): two owners of a protected group are one who publishes and one who approves
            op(
                    AdminRoute.gateway("POST", "/groups/{name}/publish", "revision:publish", 1),
                    "Publish this group's draft alone (its gateway owners' publish): the other groups keep serving"
                            + " what they serve",
                    (a, c) -> a.groupPublish(c)),
            op(
                    AdminRoute.gateway("POST", "/groups/{name}/rollback/{revision}", "revision:rollback", 1),
                    "Serve an earlier revision of this group again, as a new revision (its gateway owners' rollback;"
                            + " another group's revision is 404)",
                    (a, c) -> a.groupRollback(c)),
            // unprotecting lowers the bar for everyone after: a system-wide decision
            op(
                    AdminRoute.system("DELETE", "/groups/{name}/protection", "group:protect"),
                    "Unprotect a gateway group (system scope)",
                    (a, c) -> a.unprotect(c)),
            // a group's owners list its revisions and requests here; the unscoped lists below need system scope
            op(
                    AdminRoute.gateway("GET", "/groups/{name}/revisions", "revision:read", 1),
                    "Published revisions of one gateway group, newest first (at most 100): what the group's owners"
                            + " may list",
                    (a, c) -> a.groupListing(c, group -> tree(a.revisions.list(group, 100)))),
            op(
                    AdminRoute.gateway("GET", "/groups/{name}/publish-requests", "revision:read", 1),
                    "Publish requests of one protected gateway group, newest first: what the group's owners may list",
                    (a, c) -> a.groupListing(c, group -> tree(a.fourEyes.store().list(group)))),
            op(
                    AdminRoute.tenant("GET", "/upstreams", "upstream:read"),
                    "All upstreams of the draft",
                    (a, c) -> tree(a.visible(c).upstreams())),
            op(
                    AdminRoute.tenant("GET", "/upstreams/{name}", "upstream:read"),
                    "One upstream",
                    (a, c) -> tree(a.visible(c).upstream(c.segment(1)).orElseThrow(() -> notFound(c)))),
            op(
                    AdminRoute.tenant("PUT", "/upstreams/{name}", "upstream:update"),
                    "Create or replace a upstream; the whole draft is validated",
                    (a, c) -> a.putUpstream(c)),
            op(
                    AdminRoute.tenant("DELETE", "/upstreams/{name}", "upstream:delete"),
                    "Delete a upstream; refused when something still references it",
                    (a, c) -> a.change(
                            a.owned(c, Kind.UPSTREAM),
                            "delete",
                            g -> new GatewayConfig(
                                    g.groups(),
                                    without(g.upstreams(), u -> u.name().equals(c.segment(1)), c),
                                    g.apis(),
                                    g.routes()))),
            op(
                    AdminRoute.tenant("GET", "/apis", "api:read"),
                    "All APIs of the draft",
                    (a, c) -> tree(a.visible(c).apis())),
            op(
                    AdminRoute.tenant("GET", "/apis/{name}", "api:read"),
                    "One API",
                    (a, c) -> tree(a.visible(c).api(c.segment(1)).orElseThrow(() -> notFound(c)))),
            op(
                    AdminRoute.tenant("PUT", "/apis/{name}", "api:update"),
                    "Create or replace a API; the whole draft is validated",
                    (a, c) -> a.putApi(c)),
            op(
                    AdminRoute.tenant("DELETE", "/apis/{name}", "api:delete"),
                    "Delete a API; refused when something still references it",
                    (a, c) -> a.change(
                            a.owned(c, Kind.API),
                            "delete",
                            g -> new GatewayConfig(
                                    g.groups(),
                                    g.upstreams(),
                                    without(g.apis(), x -> x.name().equals(c.segment(1)), c),
                                    g.routes()))),
            op(
                    AdminRoute.tenant("GET", "/routes", "route:read"),
                    "All routes of the draft",
                    (a, c) -> tree(a.visible(c).routes())),
            op(
                    AdminRoute.tenant("GET", "/routes/{group}/{name}", "route:read"),
                    "One route",
                    (a, c) -> tree(a.visible(c).routes().stream()
                            .filter(r ->
                                    r.group().equals(c.segment(1)) && r.name().equals(c.segment(2)))
                            .findFirst()
                            .orElseThrow(() -> notFound(c)))),
            op(
                    AdminRoute.tenant("PUT", "/routes/{group}/{name}", "route:update"),
                    "Create or replace a route; the whole draft is validated",
                    (a, c) -> a.putRoute(c)),
            op(
                    AdminRoute.tenant("DELETE", "/routes/{group}/{name}", "route:delete"),
                    "Delete a route",
                    (a, c) -> a.change(
                            a.owned(c, Kind.ROUTE),
                            "delete",
                            g -> new GatewayConfig(
                                    g.groups(),
                                    g.upstreams(),
                                    g.apis(),
                                    without(
                                            g.routes(),
                                            r -> r.group().equals(c.segment(1))
                                                    && r.name().equals(c.segment(2)),
                                            c)))),
            op(
                    AdminRoute.tenant("POST", "/validate", "config:validate"),
                    "Validate a configuration without storing it",
                    (a, c) -> tree(a.oneOffValidator
                            .validate(read(c, GatewayConfig.class))
                            .problems())),
            op(
                    AdminRoute.system("POST", "/publish", "revision:publish"),
                    "Validate, build and serve the draft: a new revision for each group that changed",
                    (a, c) -> a.publish(c)),
            op(
                    AdminRoute.system("POST", "/rollback/{revision}", "revision:rollback"),
                    "Serve an earlier revision of its group again, as a new revision",
                    (a, c) -> a.rollback(c)),
            op(
                    AdminRoute.system("GET", "/publish-requests", "revision:read"),
                    "Publish requests of protected groups, newest first (?group=)",
                    (a, c) -> tree(a.fourEyes.store().list(query(c, "group")))),
            op(
                    AdminRoute.gateway("GET", "/publish-requests/{group}/{id}", "revision:read", 1),
                    "One publish request: requester, authors, diff, replay report (counts, flip groups, sample request"
                            + " ids), decision",
                    (a, c) -> tree(a.fourEyes
                            .store()
                            .get(number(c, 2))
                            .filter(r -> r.group().equals(c.segment(1)))
                            .orElseThrow(() -> notFound(c)))),
            op(
                    AdminRoute.gateway("POST", "/publish-requests/{group}/{id}/report", "revision:publish", 1),
                    "Compute the request's replay report again on its requested content (the last 30 days)",
                    (a, c) -> tree(a.actions.recompute(actor(c), c.segment(1), number(c, 2)))),
            op(
                    AdminRoute.gateway("POST", "/publish-requests/{group}/{id}/approve", "revision:approve", 1),
                    "Approve and publish exactly the requested content (not by its requester or authors; needs a"
                            + " replay report computed since the request)",
                    (a, c) -> a.decide(c)),
            op(
                    AdminRoute.gateway("POST", "/publish-requests/{group}/{id}/reject", "revision:approve", 1),
                    "Reject a publish request",
                    (a, c) -> a.decide(c)),
            op(
                    AdminRoute.tenant("GET", "/revisions", "revision:read"),
                    "Published revisions, newest first (at most 100)",
                    (a, c) -> a.revisionList(c)),
            op(
                    AdminRoute.tenant("GET", "/revisions/{revision}", "revision:read"),
                    "One revision with its configuration",
                    (a, c) -> a.visibleRevision(c, a.revisions.get(number(c, 1)).orElseThrow(() -> notFound(c)))),
            op(
                    AdminRoute.tenant("GET", "/revisions/{from}/diff/{to}", "revision:read"),
                    "Field-level differences between two revisions",
                    (a, c) -> a.diff(c)),
            op(
                    AdminRoute.gateway("GET", "/render/{group}", "render:read", 1),
                    "The exact xDS resources of a group's revision as Envoy JSON; for a group of template kind"
                            + " envoy-gateway, the Gateway API and Envoy Gateway resources its cluster applies",
                    (a, c) -> a.render(c)),
            op(
                    AdminRoute.system("GET", "/fleet", "fleet:read"),
                    "Every node: group, streams, ACKed versions per type, revision, last NACK",
                    (a, c) -> tree(a.fleet.get())),
            op(AdminRoute.open("GET", "/openapi.json"), "This document", (a, c) -> {
                throw new IllegalStateException("the open document is answered before admission");
            }));

    /** The declared operations (route, summary, status, body): what the port's OpenAPI document lists. */
    public static List<? extends AdminOperation<?>> operations() {
        return OPERATIONS.all();
    }

    /** The routes of {@link #OPERATIONS}, in the order the gate matches them. */
    public static final List<AdminRoute> ROUTES = OPERATIONS.routes();

    /**
     * Every route served on the controller's admin port: this API's, {@link AuditAdminApi#ROUTES},
     * {@link PolicyRequestApi#ROUTES} (with the held tool calls) and, where central's
     * zone hub runs, {@link io.meshguard.xds.zone.ZoneAdminApi#ROUTES}. The OpenAPI document lists exactly these, each
     * with its {@code x-meshguard-permission}.
     */
    public static final List<AdminRoute> PORT_ROUTES = java.util.stream.Stream.of(
                    ROUTES, AuditAdminApi.ROUTES, PolicyRequestApi.ROUTES, io.meshguard.xds.zone.ZoneAdminApi.ROUTES)
            .flatMap(List::stream)
            .toList();

    public static final List<Endpoint> ENDPOINTS =
            PORT_ROUTES.stream().map(r -> new Endpoint(r.method(), r.path())).toList();

    /** Top-level path prefixes to mount on the HTTP server. */
    public static final List<String> PREFIXES = List.of(
            "/config",
            "/groups",
            "/upstreams",
            "/apis",
            "/routes",
            "/validate",
            "/publish",
            "/publish-requests",
            "/rollback",
            "/revisions",
            "/render",
            "/fleet",
            "/openapi.json");

    private final PgGatewayStore draft;
    private final RevisionStore revisions;
    private final Publisher publisher;
    private final Supplier<List<NodeStatus>> fleet;
    private final AdminEndpoint<AdminApi> endpoint;
    private final ConfigChangeAudit audit;
    private final ConfigValidator validator;
    /** For configurations that arrive whole in a request: remembers nothing of them (see its Javadoc). */
    private final ConfigValidator oneOffValidator;

    private final FourEyes fourEyes;
    /** Compiles the published products into every publish of the draft (docs/products.md). */
    private final ProductPublisher products;
    /** Publish, approve, reject and rollback: the same code the console calls. */
    private final RevisionActions actions;

    public AdminApi(
            PgGatewayStore draft,
            RevisionStore revisions,
            Publisher publisher,
            Supplier<List<NodeStatus>> fleet,
            BearerTokens tokens,
            ConfigChangeAudit audit,
            FourEyes fourEyes,
            ProductPublisher products) {
        this(
                draft,
                revisions,
                publisher,
                fleet,
                AdminGate.local(tokens, "xds.admin.token_file"),
                audit,
                fourEyes,
                products);
    }

    /**
     * With the admin plane's gate: OIDC callers with roles from the access file, or the token file. A caller's
     * tenants are those of its grants that carry the operation's permission (every tenant at system scope): APIs,
     * upstreams and routes of other tenants do not exist for it (404), and what it creates belongs to its tenant.
     */
    public AdminApi(
            PgGatewayStore draft,
            RevisionStore revisions,
            Publisher publisher,
            Supplier<List<NodeStatus>> fleet,
            AdminGate gate,
            ConfigChangeAudit audit,
            FourEyes fourEyes,
            ProductPublisher products) {
        this(draft, revisions, publisher, fleet, gate, audit, fourEyes, products, AdminPortDocument.controller());
    }

    /**
     * @param openApi what {@code GET /openapi.json} answers: the port's one document ({@link AdminPortDocument}),
     *     listing also what else the caller mounted on the port (the catalogue, the API keys)
     */
    public AdminApi(
            PgGatewayStore draft,
            RevisionStore revisions,
            Publisher publisher,
            Supplier<List<NodeStatus>> fleet,
            AdminGate gate,
            ConfigChangeAudit audit,
            FourEyes fourEyes,
            ProductPublisher products,
            byte[] openApi) {
        this.fourEyes = fourEyes;
        this.products = products;
        this.draft = draft;
        this.revisions = revisions;
        this.publisher = publisher;
        this.validator = publisher.validator();
        this.oneOffValidator = validator.forOneOff();
        this.fleet = fleet;
        this.endpoint = AdminEndpoint.of(
                        this,
                        OPERATIONS.<AdminEndpoint.Handler<AdminApi>>map(
                                h -> (api, request) -> h.handle(api, new Call(request))),
                        gate,
                        "controller",
                        MAX_BODY_BYTES)
                .withOpenDocument(openApi)
                .refusing(RevisionActions.Refused.class, WithProblems::new)
                // what the store refuses is a conflict; the database being away never gets here: the request loop
                // answers that 503 with Retry-After before any row (io.meshguard.db.DatabaseOutage)
                .refusing(StoreException.class, ErrorKind.CONFLICT);
        this.audit = audit;
        this.actions = new RevisionActions(revisions, publisher, fourEyes, products, audit);
    }

    /**
     * The hand-written OpenAPI document shipped in the jar (the repository's {@code openapi.json}): the schemas of the
     * controller's operations, which {@link AdminPortDocument} starts from.
     */
    public static byte[] openApiDocument() {
        try (InputStream in = AdminApi.class.getResourceAsStream("/openapi.json")) {
            if (in == null) {
                throw new IllegalStateException("openapi.json is missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read openapi.json", e);
        }
    }

    /** A refused publish or rollback: its status, and the problems that refused it beside the error. */
    private static final class WithProblems extends AdminJson.Refusal {
        private static final long serialVersionUID = 1L;
        private final transient List<Problem> problems;

        WithProblems(RevisionActions.Refused refused) {
            super(refused.status(), refused.getMessage());
            this.problems = refused.problems();
        }

        @Override
        public ObjectNode body() {
            ObjectNode out = super.body();
            if (!problems.isEmpty()) {
                out.set("problems", tree(problems));
            }
            return out;
        }
    }

    /** An admitted call, as this API's handlers read it. */
    private record Call(AdminRequest request) {
        HttpExchange exchange() {
            return request.exchange();
        }

        AdminCaller caller() {
            return request.caller();
        }

        String requestId() {
            return request.requestId();
        }

        List<String> segments() {
            return request.segments();
        }

        /** The tenants whose objects the call reaches (every tenant on system and gateway routes). */
        TenantScope scope() {
            return request.scope();
        }

        /** Whether the caller holds the route's permission at system scope (a gateway owner's call does not). */
        boolean systemWide() {
            return request.systemWide();
        }

        /** The actor as the trail names it. */
        String actor() {
            return request.actor();
        }

        String segment(int i) {
            return request.segment(i);
        }

        /** Answers with {@code code} instead of 200 (202 for a publish that became requests). */
        void answer(int code) {
            request.answer(code);
        }
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        endpoint.handle(exchange);
    }

    private static AdminOperation<Handler> op(AdminRoute route, String summary, Handler handler) {
        return AdminOperation.of(route, summary, handler);
    }

    /** {@code GET /groups/{name}/revisions|publish-requests}: the group's own lists, for its gateway owners. */
    private JsonNode groupListing(Call call, java.util.function.Function<Optional<String>, JsonNode> list) {
        String group = call.segment(1);
        if (draft.load().group(group).isEmpty()
                && revisions.list(Optional.of(group), 1).isEmpty()) {
            throw notFound(call);
        }
        return list.apply(Optional.of(group));
    }

    // ------------------------------------------------------------------ tenants

    /** What a tenant owns. */
    private enum Kind {
        API,
        UPSTREAM,
        ROUTE
    }

    /**
     * The draft as the caller may see it: every gateway group (operators' objects, which tenants route through), and
     * only its tenants' APIs, upstreams and routes. Read twice over: the owners come from a transaction PostgreSQL
     * confines to the caller's tenants, and each owner is checked against the scope again here.
     */
    private GatewayConfig visible(Call call) {
        GatewayConfig all = draft.load();
        if (call.scope().all()) {
            return all;
        }
        return draft.ownership(call.scope()).visibleIn(all, call.scope());
    }

    /**
     * A revision as the caller may see it. A tenant-scoped caller gets its tenants' objects of the configuration and
     * nothing about the people and changes of the whole group: no actor, no reason, no approval (whose requester,
     * approver, authors and diff describe every tenant's changes).
     */
    private JsonNode visibleRevision(Call call, Revision r) {
        if (call.scope().all()) {
            return withApproval(tree(r), r.id());
        }
        ObjectNode out = (ObjectNode) tree(r);
        out.set("config", tree(draft.ownership(call.scope()).visibleIn(r.config(), call.scope())));
        out.remove(List.of("actor", "reason"));
        return out;
    }

    /** {@code GET /revisions}: for a tenant-scoped caller without who published each one and why (as above). */
    private JsonNode revisionList(Call call) {
        List<Revision.Summary> list = revisions.list(query(call, "group"), 100);
        if (call.scope().all()) {
            return tree(list);
        }
        com.fasterxml.jackson.databind.node.ArrayNode out = ConfigJson.mapper().createArrayNode();
        for (Revision.Summary s : list) {
            ObjectNode n = (ObjectNode) tree(s);
            n.remove(List.of("actor", "reason"));
            out.add(n);
        }
        return out;
    }

    /**
     * The call, when the object it names exists and belongs to one of the caller's tenants; 404 otherwise, so a
     * caller cannot tell another tenant's object from none.
     */
    private Call owned(Call call, Kind kind) {
        if (!call.scope().all() && !visibleName(call, kind)) {
            throw notFound(call);
        }
        return call;
    }

    private boolean visibleName(Call call, Kind kind) {
        Ownership owners = draft.ownership(call.scope());
        String owner =
                switch (kind) {
                    case API -> owners.apis().get(call.segment(1));
                    case UPSTREAM -> owners.upstreams().get(call.segment(1));
                    case ROUTE -> owners.routes().get(Ownership.routeKey(call.segment(1), call.segment(2)));
                };
        return Ownership.ownedBy(owner, call.scope());
    }

    /**
     * The tenant a PUT writes for: an existing object keeps its own (and must be the caller's, else 404); a new one
     * belongs to {@code ?tenant=}, which must be one of the caller's, or to the caller's only tenant. Names are
     * global: a name another tenant holds answers 404, as if it did not exist.
     */
    private String tenantForPut(Call call, Kind kind, boolean exists) {
        if (exists) {
            owned(call, kind);
        }
        Optional<String> asked = query(call, "tenant");
        if (asked.isPresent()) {
            if (!TenantScope.validId(asked.get()) || !call.scope().includes(asked.get())) {
                throw new AdminJson.Refusal(403, "tenant '" + asked.get() + "' is not one of yours");
            }
            return asked.get();
        }
        if (call.scope().all()) {
            return PgGatewayStore.DEFAULT_TENANT;
        }
        if (call.scope().tenants().size() != 1) {
            throw new AdminJson.Refusal(
                    ErrorKind.INVALID,
                    "you act for several tenants " + call.scope().tenants()
                            + ": say which one owns the new object with ?tenant=");
        }
        return call.scope().tenants().iterator().next();
    }

    /**
     * A tenant's route goes only into a gateway group an operator assigned to the route's tenant, and may only serve
     * its own tenant's APIs and send to its own tenant's upstreams: the route's tenant,
     * not any tenant of the caller (a caller acting for acme and globex must not bind acme's route to globex's
     * upstream, as PostgreSQL checks no tenant on the reference).
     */
    private void referencesVisible(Call call, Route r, String tenant) {
        if (call.scope().all()) {
            return;
        }
        TenantScope own = TenantScope.of(java.util.Set.of(tenant));
        GatewayConfig mine = draft.ownership(own).visibleIn(draft.load(), own);
        List<Problem> problems = new ArrayList<>();
        // the group is the operators': a tenant's route goes only where an operator assigned the group to the tenant
        // (as a product publish does), else it would put the tenant's host and upstream on any group's gateways
        if (!draft.assignedTo(r.group(), tenant)) {
            problems.add(Problem.error(
                    ProblemCode.ROUTE_GROUP_NOT_IN_TENANTS,
                    "routes[" + r.group() + "/" + r.name() + "].group",
                    "gateway group " + r.group() + " is not assigned to tenant " + tenant
                            + ": an operator assigns groups and the tenants that publish into each"
                            + " (PUT /v1/operator/clusters/{id}, gateway_groups)"));
        }
        if (mine.api(r.api()).isEmpty()) {
            problems.add(Problem.error(
                    ProblemCode.ROUTE_API_NOT_IN_TENANTS,
                    "routes[" + r.group() + "/" + r.name() + "].api",
                    "no API '" + r.api() + "' in tenant " + tenant + ", the route's"));
        }
        for (Route.Destination d : r.destinations()) {
            if (mine.upstream(d.upstream()).isEmpty()) {
                problems.add(Problem.error(
                        ProblemCode.ROUTE_UPSTREAM_NOT_IN_TENANTS,
                        "routes[" + r.group() + "/" + r.name() + "].destinations",
                        "no upstream '" + d.upstream() + "' in tenant " + tenant + ", the route's"));
            }
        }
        if (!problems.isEmpty()) {
            throw new RevisionActions.Refused(
                    422, "the route names what your tenants do not own; nothing was changed", problems);
        }
    }

    // ------------------------------------------------------------------ changes

    private JsonNode putGroup(Call call) {
        JsonNode body = readTree(call);
        GatewayGroup asked;
        try {
            asked = ConfigJson.mapper().treeToValue(body, GatewayGroup.class);
        } catch (JsonProcessingException e) {
            throw new AdminJson.Refusal(ErrorKind.MALFORMED, "invalid JSON: " + ConfigJson.describe(e));
        }
        sameName(call, asked.name(), call.segment(1));
        TemplateKind stored =
                draft.load().group(asked.name()).map(GatewayGroup::templateKind).orElse(TemplateKind.MESHGUARD);
        // a body without the field keeps the stored kind (clients that predate it); naming another kind needs
        // group:template, on its own route
        if (body.has("template_kind") && asked.templateKind() != stored) {
            throw new AdminJson.Refusal(
                    409,
                    "template_kind is " + stored.wire() + "; change it with PUT /groups/" + asked.name()
                            + "/template (permission group:template), not with the group's other settings");
        }
        GatewayGroup g = asked.withTemplateKind(stored);
        return change(
                call,
                "upsert",
                c -> new GatewayConfig(
                        replaced(c.groups(), x -> x.name().equals(g.name()), g), c.upstreams(), c.apis(), c.routes()));
    }

    private JsonNode putTemplateKind(Call call) {
        if (!call.segment(2).equals("template")) {
            throw notFound(call);
        }
        String group = call.segment(1);
        // an unknown kind is refused by TemplateKind.of (422), naming the kinds there are
        TemplateKind kind = TemplateKind.of(AdminRequest.requiredText(readTree(call), "kind"));
        if (draft.load().group(group).isEmpty()) {
            throw notFound(call);
        }
        // the whole draft is validated with the new kind, so a group whose routes Envoy Gateway cannot serve is
        // refused here (MG-GROUP-006) as well as at its next publish
        return change(
                call,
                "template " + kind.wire(),
                c -> new GatewayConfig(
                        c.groups().stream()
                                .map(x -> x.name().equals(group) ? x.withTemplateKind(kind) : x)
                                .toList(),
                        c.upstreams(),
                        c.apis(),
                        c.routes()));
    }

    private JsonNode putUpstream(Call call) {
        Upstream u = read(call, Upstream.class);
        sameName(call, u.name(), call.segment(1));
        String tenant = tenantForPut(
                call, Kind.UPSTREAM, draft.load().upstream(u.name()).isPresent());
        return change(
                call,
                "upsert",
                c -> new GatewayConfig(
                        c.groups(), replaced(c.upstreams(), x -> x.name().equals(u.name()), u), c.apis(), c.routes()),
                tenant);
    }

    private JsonNode putApi(Call call) {
        Api a = read(call, Api.class);
        sameName(call, a.name(), call.segment(1));
        String tenant = tenantForPut(call, Kind.API, draft.load().api(a.name()).isPresent());
        return change(
                call,
                "upsert",
                c -> new GatewayConfig(
                        c.groups(),
                        c.upstreams(),
                        replaced(c.apis(), x -> x.name().equals(a.name()), a),
                        c.routes()),
                tenant);
    }

    private JsonNode putRoute(Call call) {
        Route r = read(call, Route.class);
        sameName(call, r.group(), call.segment(1));
        sameName(call, r.name(), call.segment(2));
        boolean exists = draft.load().routes().stream()
                .anyMatch(x -> x.group().equals(r.group()) && x.name().equals(r.name()));
        String tenant = tenantForPut(call, Kind.ROUTE, exists);
        referencesVisible(call, r, tenant);
        return change(
                call,
                "upsert",
                c -> new GatewayConfig(
                        c.groups(),
                        c.upstreams(),
                        c.apis(),
                        replaced(
                                c.routes(),
                                x -> x.group().equals(r.group()) && x.name().equals(r.name()),
                                r)),
                tenant);
    }

    private JsonNode replaceAll(Call call) {
        GatewayConfig next = read(call, GatewayConfig.class);
        return change(call, "apply", c -> next);
    }

    private JsonNode change(Call call, String action, UnaryOperator<GatewayConfig> edit) {
        return change(call, action, edit, PgGatewayStore.DEFAULT_TENANT);
    }

    /**
     * Applies a change to the draft when the whole resulting configuration is valid; warnings are returned. What the
     * change creates belongs to {@code tenant}.
     */
    private JsonNode change(Call call, String action, UnaryOperator<GatewayConfig> edit, String tenant) {
        // Validated inside the edit (under the draft lock) to refuse; its warnings are what the answer reports, since
        // the draft written is the configuration validated.
        java.util.concurrent.atomic.AtomicReference<GatewayConfig> before =
                new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<GatewayConfig> attempted =
                new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicReference<ValidationResult> checked =
                new java.util.concurrent.atomic.AtomicReference<>();
        String object = String.join("/", call.segments());
        ConfigChangeAudit.ConfigChange recorded =
                new ConfigChangeAudit.ConfigChange(call.actor(), action, object, "draft changed", call.requestId());
        GatewayConfig written;
        // who owns each API, read before the draft's lock is taken (no call out while holding it)
        Ownership owners = draft.ownership(TenantScope.ALL);
        Map<String, String> apiTenants = owners.apis();
        Map<String, Map<String, java.util.Set<String>>> namespaces = draft.serviceNamespaces();
        try {
            written = draft.edit(
                    current -> {
                        before.set(current);
                        GatewayConfig next = edit.apply(current);
                        attempted.set(next);
                        ValidationResult check = validator.validate(next);
                        checked.set(check);
                        if (!check.valid()) {
                            throw new RevisionActions.Refused(
                                    422, "the configuration would be invalid; nothing was changed", check.problems());
                        }
                        List<Problem> taken = HostOwnership.newClashes(
                                current, next, api -> apiTenant(apiTenants, current, api, tenant));
                        if (!taken.isEmpty()) {
                            throw new RevisionActions.Refused(
                                    422,
                                    "the change would serve a hostname or path space another tenant serves; nothing"
                                            + " was changed",
                                    taken);
                        }
                        List<Problem> foreign = ServiceNamespaces.newViolations(
                                current,
                                next,
                                u -> objectTenant(
                                        owners.upstreams(), current.upstream(u).isEmpty(), u, tenant),
                                PgGatewayStore.DEFAULT_TENANT,
                                namespaces);
                        if (!foreign.isEmpty()) {
                            throw new RevisionActions.Refused(
                                    422,
                                    "the change would send to a Service in a namespace not assigned to its tenant;"
                                            + " nothing was changed",
                                    foreign);
                        }
                        return next;
                    },
                    tenant,
                    c -> audit.recordWithin(c, recorded)); // the trail row commits with the change, or neither
        } catch (RevisionActions.Refused e) {
            if (call.scope().all() || e.problems().isEmpty() || attempted.get() == null) {
                throw e;
            }
            List<Problem> shown = VisibleProblems.of(
                    e.problems(),
                    draft.ownership(call.scope()).visibleIn(attempted.get(), call.scope()),
                    call.segments());
            throw new RevisionActions.Refused(
                    e.status(),
                    e.getMessage()
                            + (shown.size() < e.problems().size()
                                    ? " (problems in objects outside your tenants are not shown)"
                                    : ""),
                    shown);
        }
        ValidationResult result = checked.get();
        // who changed which group's slice: the authors a publish request of that group lists (none may approve it)
        fourEyes.recordAuthors(before.get(), written, call.caller().person());
        audit.recordCommitted(recorded);
        // the warnings describe the whole configuration: a tenant-scoped caller sees those of what it may read
        List<Problem> warnings = call.scope().all()
                ? result.warnings()
                : VisibleProblems.of(
                        result.warnings(),
                        draft.ownership(call.scope()).visibleIn(written, call.scope()),
                        call.segments());
        return ConfigJson.mapper().createObjectNode().put("changed", object).set("warnings", tree(warnings));
    }

    /**
     * The tenant of an API for the host-ownership check: its recorded owner; for an API this change creates, the
     * change's tenant; for one created since the owners were read (a concurrent change), an owner of its own, which
     * clashes with everyone (closed).
     */
    private static String apiTenant(
            Map<String, String> recorded, GatewayConfig current, String api, String changeTenant) {
        return objectTenant(recorded, current.api(api).isEmpty(), api, changeTenant);
    }

    /**
     * An object's tenant: its recorded owner; for one this change creates ({@code isNew}), the change's tenant; for
     * one created since the owners were read, an owner of its own that no assignment names (closed).
     */
    private static String objectTenant(Map<String, String> recorded, boolean isNew, String name, String changeTenant) {
        String owner = recorded.get(name);
        if (owner != null) {
            return owner;
        }
        return isNew ? changeTenant : "\u0000unknown:" + name;
    }

    /** What a publish of a draft that equals every group's served revision answers (no revision is written). */
    public static final String NOTHING_TO_PUBLISH = "nothing to publish: the draft equals what is served";

    private JsonNode publish(Call call) {
        return publish(call, Optional.empty());
    }

    private JsonNode groupPublish(Call call) {
        if (!call.segment(2).equals("publish")) {
            throw notFound(call);
        }
        return publish(call, Optional.of(call.segment(1)));
    }

    private JsonNode publish(Call call, Optional<String> only) {
        String reason = readTree(call).path("reason").asText("");
        // the whole draft is validated; a gateway owner is shown its own group's problems and a count of the rest
        Optional<String> ownGroup = only.filter(g -> !call.systemWide());
        RevisionActions.Published result;
        try {
            result = actions.publish(actor(call), reason, only);
        } catch (RevisionActions.Refused e) {
            if (ownGroup.isEmpty() || e.problems().isEmpty()) {
                throw e;
            }
            List<Problem> shown = problemsOfGroup(e.problems(), ownGroup.get());
            // what blocks or warns elsewhere is counted; notes (info) about other groups' objects are not problems
            long hidden = e.problems().stream()
                    .filter(p -> !shown.contains(p) && p.severity() != Problem.Severity.INFO)
                    .count();
            throw new RevisionActions.Refused(
                    e.status(),
                    e.getMessage()
                            + (hidden == 0
                                    ? ""
                                    : " (" + hidden
                                            + " problem(s) outside group " + ownGroup.get()
                                            + " are not shown: an operator sees them with"
                                            + " POST /validate)"),
                    shown);
        }
        ObjectNode out = ConfigJson.mapper().createObjectNode();
        out.set(
                "revisions",
                tree(result.revisions().values().stream().map(Revision::summary).toList()));
        out.set("requests", tree(result.requests()));
        out.set(
                "warnings",
                tree(ownGroup.isEmpty() ? result.warnings() : problemsOfGroup(result.warnings(), ownGroup.get())));
        if (!result.requests().isEmpty()) {
            call.answer(202);
        } else if (result.revisions().isEmpty()) {
            out.put("note", NOTHING_TO_PUBLISH);
        }
        return out;
    }

    private List<Problem> problemsOfGroup(List<Problem> problems, String group) {
        return VisibleProblems.ofGroup(
                problems, products.compiledDraft().config().slice(group), group);
    }

    // ------------------------------------------------------------------ four eyes

    private JsonNode protect(Call call) {
        requireProtectionPath(call);
        String group = call.segment(1);
        if (draft.load().group(group).isEmpty()) {
            throw notFound(call);
        }
        String reason = requiredReason(call);
        fourEyes.store().protect(group, call.actor(), reason);
        audit.record(new ConfigChangeAudit.ConfigChange(
                call.actor(),
                "protect",
                "group/" + group,
                "publishes need a second person's approval: " + reason,
                call.requestId()));
        return tree(fourEyes.store().protection(group).orElseThrow());
    }

    private JsonNode unprotect(Call call) {
        requireProtectionPath(call);
        String reason = requiredReason(call);
        if (!fourEyes.store().unprotect(call.segment(1))) {
            throw notFound(call);
        }
        audit.record(new ConfigChangeAudit.ConfigChange(
                call.actor(),
                "unprotect",
                "group/" + call.segment(1),
                "publishes no longer need a second person: " + reason,
                call.requestId()));
        return ConfigJson.mapper().createObjectNode().put("unprotected", call.segment(1));
    }

    private void requireProtectionPath(Call call) {
        if (!call.segment(2).equals("protection")) {
            throw notFound(call);
        }
    }

    private JsonNode decide(Call call) {
        String group = call.segment(1);
        long id = number(call, 2);
        String verb = call.segment(3);
        String reason = requiredReason(call);
        if (verb.equals("reject")) {
            return tree(actions.reject(actor(call), group, id, reason));
        }
        if (!verb.equals("approve")) {
            throw notFound(call);
        }
        FourEyes.Published published = actions.approve(actor(call), group, id, reason);
        ObjectNode out = (ObjectNode) tree(published.revision().summary());
        out.set("request", tree(fourEyes.store().get(id).orElseThrow()));
        return out;
    }

    private static RevisionActions.Actor actor(Call call) {
        return new RevisionActions.Actor(call.caller().person(), call.requestId());
    }

    /** A revision with who requested and who approved it, when an approval published it. */
    private JsonNode withApproval(JsonNode revision, long id) {
        fourEyes.approvalOf(id).ifPresent(a -> ((ObjectNode) revision).set("approval", tree(a)));
        return revision;
    }

    private static String requiredReason(Call call) {
        return AdminRequest.requireReason(
                readTree(call).path("reason").asText("").strip());
    }

    private JsonNode rollback(Call call) {
        return rollback(call, number(call, 1), Optional.empty());
    }

    private JsonNode groupRollback(Call call) {
        if (!call.segment(2).equals("rollback")) {
            throw notFound(call);
        }
        return rollback(call, number(call, 3), Optional.of(call.segment(1)));
    }

    private JsonNode rollback(Call call, long id, Optional<String> of) {
        String reason = readTree(call).path("reason").asText("");
        RevisionActions.RolledBack rolled = actions.rollback(actor(call), id, reason, of);
        Revision r = rolled.revision();
        ObjectNode out = (ObjectNode) tree(r.summary());
        out.put("draft_differs", rolled.draftDiffers());
        out.set(
                "warnings",
                tree(
                        rolled.draftDiffers()
                                ? List.of(Problem.warning(
                                        ProblemCode.PUBLISH_DRAFT_DIFFERS,
                                        "draft",
                                        "the draft still differs from revision " + id + " for group " + r.group()
                                                + ": the next publish serves the draft again unless it is changed"))
                                : List.of()));
        return out;
    }

    private JsonNode diff(Call call) {
        if (!call.segment(2).equals("diff")) {
            throw notFound(call);
        }
        Revision from = revisions.get(number(call, 1)).orElseThrow(() -> notFound(call));
        Revision to = revisions.get(number(call, 3)).orElseThrow(() -> notFound(call));
        ObjectNode out = ConfigJson.mapper().createObjectNode();
        out.put("from", from.id()).put("to", to.id());
        GatewayConfig fromConfig = from.config();
        GatewayConfig toConfig = to.config();
        if (!call.scope().all()) {
            Ownership owners = draft.ownership(call.scope());
            fromConfig = owners.visibleIn(fromConfig, call.scope());
            toConfig = owners.visibleIn(toConfig, call.scope());
        }
        out.set("changes", tree(RevisionDiff.diff(fromConfig, toConfig)));
        return out;
    }

    private JsonNode render(Call call) {
        String group = call.segment(1);
        Optional<String> rev = query(call, "revision");
        GatewayConfig config;
        long revisionId = 0;
        if (rev.isPresent()) {
            long id = parseLong(rev.get(), "revision");
            Revision r = revisions
                    .get(id)
                    .filter(x -> x.group().equals(group))
                    .orElseThrow(() -> new AdminJson.Refusal(404, "group " + group + " has no revision " + id));
            config = r.config();
            revisionId = id;
        } else {
            Revision r = revisions.latestPerGroup().get(group);
            if (r == null) {
                throw new AdminJson.Refusal(404, "group " + group + " has no published revision");
            }
            config = r.config();
            revisionId = r.id();
        }
        // a group Envoy Gateway serves: the resources its zone applies, to review as kubectl would show them
        Optional<RenderedResources> applied = validator.templateRender(config, group, revisionId);
        if (applied.isPresent()) {
            ObjectNode out = ConfigJson.mapper().createObjectNode();
            out.put("group", group);
            out.put("revision", revisionId);
            out.put("template_kind", TemplateKind.ENVOY_GATEWAY.wire());
            applied.get().resources().forEach(out.putArray("resources")::add);
            return out;
        }
        GroupResources resources = publisher.buildAll(config).get(group);
        return EnvoyJson.render(resources, revisionId);
    }

    // ------------------------------------------------------------------ helpers

    private static <T> List<T> replaced(List<T> list, java.util.function.Predicate<T> same, T value) {
        List<T> out = new ArrayList<>();
        boolean found = false;
        for (T x : list) {
            if (same.test(x)) {
                out.add(value);
                found = true;
            } else {
                out.add(x);
            }
        }
        if (!found) {
            out.add(value);
        }
        return out;
    }

    private static <T> List<T> without(List<T> list, java.util.function.Predicate<T> match, Call call) {
        List<T> out = list.stream().filter(match.negate()).toList();
        if (out.size() == list.size()) {
            throw notFound(call);
        }
        return out;
    }

    private static void sameName(Call call, String inBody, String inPath) {
        if (!inPath.equals(inBody)) {
            throw new AdminJson.Refusal(
                    ErrorKind.INVALID, "the body names '" + inBody + "' but the path names '" + inPath + "'");
        }
    }

    private static AdminJson.Refusal notFound(Call call) {
        return new AdminJson.Refusal(
                404, "not found: " + call.exchange().getRequestURI().getPath());
    }

    private static <T> T read(Call call, Class<T> type) {
        return call.request().body(type, ConfigJson.mapper(), ConfigJson::describe);
    }

    private static JsonNode readTree(Call call) {
        return call.request().body();
    }

    private static long number(Call call, int segment) {
        return parseLong(call.segment(segment), "revision");
    }

    private static long parseLong(String text, String what) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new AdminJson.Refusal(ErrorKind.MALFORMED, what + " must be a number, got '" + text + "'");
        }
    }

    private static Optional<String> query(Call call, String name) {
        return call.request().query(name);
    }

    private static JsonNode tree(Object value) {
        return ConfigJson.mapper().valueToTree(value);
    }
}
