package io.meshguard.console;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.meshguard.access.AdminCaller;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.CodeFlowClient;
import io.meshguard.access.Scope;
import io.meshguard.access.SignedInToken;
import io.meshguard.access.http.AdminRouter;
import io.meshguard.access.http.QueryString;
import io.meshguard.access.http.RequestLoop;
import io.meshguard.catalog.service.OperationRefused;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.http.ErrorKind;
import io.meshguard.xds.revision.RevisionActions;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console on the controller's admin port, under {@code /console}: server-rendered pages over the same services
 * and the same {@link AdminGate} as the admin API. A person signs in through the issuer (authorization code + PKCE);
 * the server keeps the tokens in a {@link Session} and admits every request with the session's access token for the
 * permission its {@link ConsoleRoutes} entry declares, exactly as the API admits a bearer token. Every response
 * carries {@code Content-Security-Policy: default-src 'self'} (no inline script or style anywhere); every POST must
 * carry the session's CSRF token.
 */
public final class Console implements HttpHandler {
    private static final Logger log = LoggerFactory.getLogger(Console.class);
    private static final int MAX_FORM_BYTES = 64 * 1024;
    static final String SESSION_COOKIE = "mg_console";
    static final String SIGN_IN_COOKIE = "mg_signin";

    private final ConsoleSettings settings;
    private final AdminGate gate;
    private final Sessions sessions;
    private final Optional<CodeFlowClient> signIn;
    private final Pages pages;
    private final Assets assets;
    private final RevisionsScreen revisions;
    private final FleetScreen fleet;
    private final AuditScreen audit;
    private final ValidateScreen validate;
    private final TrafficScreen traffic;
    private final CoverageScreen coverage;
    /** The authz policy files' requests with their replay reports. */
    private final PolicyChangesScreen policyChanges;
    /** MCP tool calls held for two approvers. */
    private final ToolCallsScreen toolCalls;
    /** Approvals and the developer portal: only where the catalogue runs beside the controller. */
    private final Optional<ApprovalsScreen> approvals;

    private final Optional<PortalScreen> portal;
    private final Optional<CatalogConsole> catalogue;
    /** A guarded plan's limit-change requests with their replay reports: where the catalogue runs. */
    private final Optional<PlanChangesScreen> planChanges;

    private final String contentSecurityPolicy;
    /** The admin port's request loop over the console's routes, answering refusals as pages. */
    private final RequestLoop loop;

    /**
     * The console's screens; {@code catalogue}: Approvals and the developer portal over the catalogue's and the API
     * keys' own operations, where the catalogue runs beside the controller.
     */
    public Console(
            ConsoleSettings settings,
            AdminGate gate,
            RevisionsScreen revisions,
            FleetScreen fleet,
            AuditScreen audit,
            ValidateScreen validate,
            TrafficScreen traffic,
            CoverageScreen coverage,
            PolicyChangesScreen policyChanges,
            ToolCallsScreen toolCalls,
            Optional<CatalogConsole> catalogue,
            Clock clock) {
        this.settings = settings;
        this.gate = gate;
        this.sessions = new Sessions(settings, clock);
        // the gate's client: sign-in trusts the issuer's certificate as the token checks do (admin.oidc.tls_ca_file)
        this.signIn = settings.issuer().map(i -> gate.identityProviderClient()
                .map(http -> new CodeFlowClient(i, settings.clientId(), settings.clientSecret(), clock, http))
                .orElseGet(() -> new CodeFlowClient(i, settings.clientId(), settings.clientSecret(), clock)));
        this.pages = new Pages();
        this.assets = new Assets();
        this.revisions = revisions;
        this.fleet = fleet;
        this.audit = audit;
        this.validate = validate;
        this.traffic = traffic;
        this.coverage = coverage;
        this.policyChanges = policyChanges;
        this.toolCalls = toolCalls;
        this.catalogue = catalogue;
        this.approvals = catalogue.map(c -> new ApprovalsScreen(c, gate));
        this.portal = catalogue.map(c -> new PortalScreen(c, gate, clock));
        this.planChanges = catalogue.map(c -> new PlanChangesScreen(c.plans(), policyChanges.audit(), gate));
        // form-action: the sign-out form's redirect goes on to the issuer's end-session page (browsers check
        // form-action on the redirects after a submission, CSP3 §6.3.1)
        String issuerOrigin = settings.issuer()
                .map(i -> {
                    URI u = URI.create(i);
                    return " " + u.getScheme() + "://" + u.getRawAuthority();
                })
                .orElse("");
        this.contentSecurityPolicy =
                "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'" + issuerOrigin;
        this.loop = RequestLoop.of(new AdminRouter(ConsoleRoutes.ROUTES, gate), "controller", this::refusalPage);
    }

    /** Ends the live streams (the fleet screen's), so the admin port's stop does not wait for them. */
    public void closeStreams() {
        fleet.close();
    }

    /** The paths to mount on the admin port. */
    public static final String PREFIX = "/console";

    /** One admitted request: who, for which tenants, with the parsed query and form. */
    record Request(
            HttpExchange exchange,
            AdminRoute route,
            List<String> segments,
            Map<String, String> query,
            Map<String, String> form,
            Session session,
            AdminGate.Admitted admitted,
            TenantScope tenants,
            String requestId) {
        AdminCaller caller() {
            return admitted.caller();
        }

        String param(String name) {
            return form.getOrDefault(name, query.getOrDefault(name, "")).strip();
        }

        String segment(int i) {
            return segments.get(i);
        }

        RevisionActions.Actor actor() {
            return new RevisionActions.Actor(caller().person(), requestId);
        }

        boolean htmx() {
            return exchange.getRequestHeaders().getFirst("HX-Request") != null;
        }
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        exchange.setAttribute(Pages.STARTED, System.nanoTime());
        var headers = exchange.getResponseHeaders();
        headers.set("Content-Security-Policy", contentSecurityPolicy);
        headers.set("X-Content-Type-Options", "nosniff");
        headers.set("X-Frame-Options", "DENY");
        // the callback's query carries the code: no Referer leaves with it
        headers.set("Referrer-Policy", "no-referrer");
        loop.handle(exchange, this::serve);
    }

    private void serve(RequestLoop.Call call) throws IOException {
        HttpExchange exchange = call.exchange();
        AdminRoute route = call.route().orElseThrow(() -> loop.unrouted(call));
        ConsoleRoutes.Operation operation = ConsoleRoutes.OPERATIONS.stream()
                .filter(o -> o.route().equals(route))
                .findFirst()
                .orElseThrow();
        exchange.getResponseHeaders()
                .set("Cache-Control", route.path().startsWith("/console/assets/") ? "max-age=3600" : "no-store");
        switch (operation) {
            case ConsoleRoutes.Open open -> open.page().serve(this, exchange, call.segments(), call.requestId());
            case ConsoleRoutes.Admitted page -> admitted(exchange, page, call.segments(), call.requestId());
        }
    }

    /**
     * A refusal with a page of its own (a title and a way back that fit where it happened); the loop answers it with
     * its status, as every refusal.
     */
    static final class Refused extends AdminJson.Refusal {
        private static final long serialVersionUID = 1L;
        private final transient Views.Message page;

        Refused(ErrorKind kind, Views.Message page) {
            this(kind.status(), page);
        }

        Refused(int status, Views.Message page) {
            super(status, page.text());
            this.page = page;
        }
    }

    /** How the console shows the loop's refusals: a message page with the refusal's status, never cached. */
    private void refusalPage(HttpExchange ex, AdminJson.Refusal refusal, String requestId) throws IOException {
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        pages.message(ex, refusal.status(), refusal instanceof Refused r ? r.page : page(refusal, requestId));
    }

    private static Views.Message page(AdminJson.Refusal refusal, String requestId) {
        if (refusal.status() == ErrorKind.INTERNAL.status()) {
            return new Views.Message(
                    "Something went wrong",
                    "The controller log has the details under request " + requestId + ".",
                    PREFIX,
                    "Console home");
        }
        String title =
                switch (refusal.status()) {
                    case 403 -> "Not allowed";
                    case 404 -> "Not found";
                    case 503 -> "Unavailable";
                    default -> "Refused";
                };
        return new Views.Message(title, refusal.getMessage(), PREFIX, "Console home");
    }

    // ------------------------------------------------------------------ signing in and out

    /** {@code GET /console}: the first screen of a signed-in caller, else the welcome page. */
    void home(HttpExchange ex, String requestId) throws IOException {
        Optional<Session> s = session(ex).flatMap(this::refreshed);
        if (s.isPresent()) {
            land(ex, s.get(), requestId);
        } else {
            pages.message(
                    ex,
                    200,
                    new Views.Message(
                            "Welcome",
                            "Revisions, approvals, the fleet " + "and the audit log of this control plane.",
                            "/console/signin",
                            "Sign in"));
        }
    }

    void asset(HttpExchange ex, List<String> segments) throws IOException {
        assets.serve(ex, segments.get(2));
    }

    /**
     * The first screen this caller's roles open, in the navigation's order: a customer lands on the developer portal,
     * a gateway owner on its group's revisions, not on a screen that answers 403.
     */
    private void land(HttpExchange ex, Session s, String requestId) throws IOException {
        String source = ex.getRemoteAddress().getAddress().getHostAddress();
        switch (gate.authenticate("Bearer " + s.token().accessToken(), source, requestId, PREFIX)) {
            case AdminGate.Refused r
            when r.status() == 401 -> {
                sessions.end(s.id());
                signInFirst(ex);
            }
            case AdminGate.Refused r ->
                throw new Refused(
                        r.status(), new Views.Message("Unavailable", r.message(), "/console", "Console home"));
            case AdminGate.Admitted a -> {
                List<Views.NavItem> screens = nav(a.caller(), "");
                if (screens.isEmpty()) {
                    throw new Refused(
                            ErrorKind.FORBIDDEN,
                            new Views.Message(
                                    "No screen for you yet",
                                    "You are signed in as "
                                            + a.caller().displayName()
                                            + ", but none of your roles opens a console screen. An "
                                            + "administrator grants roles in the identity provider (see policies/access.yaml).",
                                    "/console/signin",
                                    "Sign in as someone else"));
                }
                redirect(ex, landing(a.caller(), screens).href());
            }
        }
    }

    /**
     * The first screen of the navigation, except for a reader of the trail (audit without any right to change the
     * mesh's configuration, as an auditor): Audit, where that work is, rather than revisions it may only look at.
     */
    private Views.NavItem landing(AdminCaller caller, List<Views.NavItem> screens) {
        boolean changesConfig = CHANGES_CONFIG.stream().anyMatch(p -> gate.permits(caller, p, Scope.ANY_TENANT));
        return screens.stream()
                .filter(n -> !changesConfig && n.href().equals("/console/audit"))
                .findFirst()
                .orElse(screens.get(0));
    }

    private static final List<String> CHANGES_CONFIG =
            List.of("revision:publish", "route:update", "api:update", "config:replace");

    void startSignIn(HttpExchange ex) throws IOException {
        if (signIn.isEmpty()) {
            tokenSignInForm(ex, "");
            return;
        }
        String next = safeNext(query(ex).getOrDefault("next", PREFIX));
        CodeFlowClient.Started started = signIn.get().start(settings.redirectUri());
        String browser = CodeFlowClient.random(24);
        sessions.startSignIn(
                new Sessions.Pending(started.state(), started.verifier(), browser, next, java.time.Instant.now()));
        // binds the callback to this browser: a code and state sent to someone else's browser do not sign it in
        ex.getResponseHeaders().add("Set-Cookie", cookie(SIGN_IN_COOKIE, browser, "/console/callback", (int)
                Sessions.SIGN_IN_WINDOW.toSeconds()));
        redirect(ex, started.authorizeUri().toString());
    }

    /**
     * Local mode (no issuer, plain {@code meshguard up}): the admin token file's token, typed once; the session keeps
     * it and every request is admitted with it, as the API admits it. The form is bound to this browser by a
     * double-submitted random value, so another site cannot sign a browser in as someone else.
     */
    private void tokenSignInForm(HttpExchange ex, String error) throws IOException {
        String binding = CodeFlowClient.random(24);
        ex.getResponseHeaders().add("Set-Cookie", cookie(SIGN_IN_COOKIE, binding, "/console/signin", (int)
                Sessions.SIGN_IN_WINDOW.toSeconds()));
        pages.send(
                ex,
                error.isEmpty() ? 200 : 401,
                pages.bytes(
                        "signin.jte",
                        new Views.TokenSignIn(binding, safeNext(query(ex).getOrDefault("next", PREFIX)), error)));
    }

    void tokenSignIn(HttpExchange ex) throws IOException {
        Map<String, String> form = form(ex);
        String binding = cookies(ex).getOrDefault(SIGN_IN_COOKIE, "");
        if (signIn.isPresent()
                || binding.isEmpty()
                || !Sessions.constantTimeEquals(binding, form.getOrDefault("_signin", ""))) {
            throw new Refused(
                    ErrorKind.FORBIDDEN,
                    new Views.Message(
                            "Refused", "This sign-in form was not this browser's.", "/console/signin", "Sign in"));
        }
        String token = form.getOrDefault("token", "").strip();
        String source = ex.getRemoteAddress().getAddress().getHostAddress();
        if (token.isEmpty()
                || gate.authenticateOnly("Bearer " + token, source, "console-sign-in", "/console/signin")
                        .isPresent()) {
            tokenSignInForm(ex, "That is not a token of the admin token file.");
            return;
        }
        Session s = sessions.open(new SignedInToken(
                "token-file", "console", token, "", java.time.Instant.now().plus(settings.absolute())));
        ex.getResponseHeaders().add("Set-Cookie", cookie(SIGN_IN_COOKIE, "", "/console/signin", 0));
        ex.getResponseHeaders().add("Set-Cookie", cookie(SESSION_COOKIE, s.id(), PREFIX, -1));
        redirect(ex, safeNext(form.getOrDefault("next", PREFIX)));
    }

    void finishSignIn(HttpExchange ex) throws IOException {
        Map<String, String> q = query(ex);
        ex.getResponseHeaders().add("Set-Cookie", cookie(SIGN_IN_COOKIE, "", "/console/callback", 0));
        Optional<Sessions.Pending> pending = cookies(ex).containsKey(SIGN_IN_COOKIE)
                ? sessions.finishSignIn(q.getOrDefault("state", ""), cookies(ex).get(SIGN_IN_COOKIE))
                : Optional.empty();
        if (pending.isEmpty() || signIn.isEmpty()) {
            throw new Refused(
                    ErrorKind.MALFORMED,
                    new Views.Message(
                            "Sign-in expired",
                            "This sign-in was not started here, was " + "used already or took too long.",
                            "/console/signin",
                            "Sign in again"));
        }
        if (q.containsKey("error") || !q.containsKey("code")) {
            throw new Refused(
                    ErrorKind.UNAUTHENTICATED,
                    new Views.Message(
                            "Sign-in refused",
                            "The identity provider answered: " + q.getOrDefault("error", "no code"),
                            "/console/signin",
                            "Try again"));
        }
        SignedInToken token;
        try {
            token = signIn.get().exchange(q.get("code"), pending.get().verifier(), settings.redirectUri());
        } catch (IOException e) {
            // the identity provider, not this server, failed: the table's row for it, logged by the loop with the
            // request id
            throw new Refused(
                    ErrorKind.UNAVAILABLE,
                    new Views.Message(
                            "Sign-in failed",
                            "The identity provider did not give a token: " + e.getMessage(),
                            "/console/signin",
                            "Try again"));
        }
        Session s = sessions.open(token);
        ex.getResponseHeaders().add("Set-Cookie", cookie(SESSION_COOKIE, s.id(), PREFIX, -1));
        // Not a redirect: a redirect chain that began at the issuer is cross-site, and browsers leave Strict cookies
        // off every request in it (RFC 6265bis, "same-site" requests and redirects). A page that moves on by itself
        // starts a same-site navigation, which carries the new session cookie.
        pages.send(
                ex,
                200,
                pages.bytes("signed-in.jte", new Views.SignedIn(pending.get().next())));
    }

    void signOut(HttpExchange ex) throws IOException {
        Optional<Session> s = session(ex);
        Map<String, String> form = form(ex);
        if (s.isPresent() && !Sessions.constantTimeEquals(s.get().csrf(), form.getOrDefault("_csrf", ""))) {
            throw new Refused(
                    ErrorKind.FORBIDDEN,
                    new Views.Message("Refused", "The form was not this session's.", "/console", "Console home"));
        }
        s.ifPresent(x -> sessions.end(x.id()));
        ex.getResponseHeaders().add("Set-Cookie", cookie(SESSION_COOKIE, "", PREFIX, 0));
        // the id token names the issuer's session: without it Keycloak asks whether to log out, and a browser that
        // leaves that page keeps a session the next sign-in uses without a password
        String idToken = s.map(x -> x.token().idToken()).orElse("");
        Optional<URI> endSession = signIn.flatMap(c -> c.endSession(idToken, settings.publicUrl() + "/console"));
        if (endSession.isPresent()) {
            redirect(ex, endSession.get().toString());
        } else {
            pages.message(
                    ex,
                    200,
                    new Views.Message(
                            "Signed out", "Your console session has ended.", "/console/signin", "Sign in again"));
        }
    }

    // ------------------------------------------------------------------ admitted requests

    private void admitted(HttpExchange ex, ConsoleRoutes.Admitted operation, List<String> segments, String requestId)
            throws IOException {
        AdminRoute route = operation.route();
        Optional<Session> found = session(ex);
        if (found.isEmpty()) {
            signInFirst(ex);
            return;
        }
        Session s = found.get();
        Map<String, String> form = Map.of();
        if (route.method().equals("POST")) {
            form = form(ex);
            String sent = Optional.ofNullable(ex.getRequestHeaders().getFirst("X-CSRF-Token"))
                    .orElse(form.getOrDefault("_csrf", ""));
            if (!Sessions.constantTimeEquals(s.csrf(), sent)) {
                throw new Refused(
                        ErrorKind.FORBIDDEN,
                        new Views.Message(
                                "Refused",
                                "The form was not this session's (CSRF token "
                                        + "missing or wrong). Reload the page and try again.",
                                "/console",
                                "Console home"));
            }
        }
        Optional<Session> fresh = refreshed(s);
        if (fresh.isEmpty()) {
            signInFirst(ex);
            return;
        }
        s = fresh.get();
        AdminRouter router = loop.router();
        AdminRouter.Outcome outcome = router.admit(ex, "Bearer " + s.token().accessToken(), requestId, segments);
        if (outcome instanceof AdminRouter.Refused r && r.status() == 401) {
            // the session's token is no longer taken: sign in again, and back here
            sessions.end(s.id());
            signInFirst(ex);
            return;
        }
        AdminRouter.Admitted admitted =
                switch (outcome) {
                    case AdminRouter.Admitted a -> a;
                    case AdminRouter.Refused r -> throw new AdminJson.Refusal(r.status(), r.message());
                    case AdminRouter.Unrouted u -> throw new IllegalStateException("a routed page is unrouted");
                };
        TenantScope tenants =
                route.scope().apply(segments).equals(Scope.ANY_TENANT) ? router.tenantsOf(admitted) : TenantScope.ALL;
        operation
                .page()
                .serve(
                        this,
                        new Request(ex, route, segments, query(ex), form, s, admitted.admission(), tenants, requestId));
    }

    // ------------------------------------------------------------------ pages (ConsoleRoutes says which serves what)

    void revisionsPage(Request req) throws IOException {
        pages.render(
                req.exchange(),
                "revisions.jte",
                revisions.page(req, chrome(req, "Revisions", "/console/revisions"), Optional.empty()));
    }

    void groupRevisionsPage(Request req) throws IOException {
        pages.render(
                req.exchange(),
                "revisions.jte",
                revisions.page(
                        req,
                        chrome(req, "Revisions of " + req.segment(2), "/console/revisions/" + req.segment(2)),
                        Optional.of(req.segment(2))));
    }

    void publish(Request req) throws IOException {
        afterAction(req, revisions.publish(req));
    }

    void decidePublish(Request req, boolean approve) throws IOException {
        afterAction(req, revisions.decide(req, approve));
    }

    void rollback(Request req) throws IOException {
        afterAction(req, revisions.rollback(req));
    }

    void policyRequestsPage(Request req) throws IOException {
        pages.render(
                req.exchange(),
                "policy-requests.jte",
                policyChanges.list(chrome(req, "Policy changes", "/console/policy-requests")));
    }

    void policyRequestPage(Request req) throws IOException {
        try {
            pages.render(
                    req.exchange(),
                    "policy-request.jte",
                    policyChanges.page(
                            req, chrome(req, "Policy request " + req.segment(2), "/console/policy-requests")));
        } catch (AdminJson.Refusal e) {
            throw new Refused(
                    e.status(),
                    new Views.Message("Not found", e.getMessage(), "/console/policy-requests", "Policy changes"));
        }
    }

    void decidePolicyRequest(Request req, boolean approve) throws IOException {
        afterAction(req, policyChanges.decide(req, approve));
    }

    void toolCallsPage(Request req) throws IOException {
        pages.render(
                req.exchange(),
                "tool-calls.jte",
                toolCalls.page(req, chrome(req, "Held tool calls", "/console/tool-approvals")));
    }

    void decideToolCall(Request req, boolean approve) throws IOException {
        afterAction(req, toolCalls.decide(req, approve));
    }

    void fleetPage(Request req) throws IOException {
        pages.render(req.exchange(), "fleet.jte", fleet.page(chrome(req, "Fleet", "/console/fleet")));
    }

    void fleetEvents(Request req) throws IOException {
        fleet.stream(req.exchange(), pages);
    }

    void auditPage(Request req) throws IOException {
        pages.render(req.exchange(), "audit.jte", audit.page(req, chrome(req, "Audit", "/console/audit")));
    }

    void auditExport(Request req) throws IOException {
        audit.export(req);
    }

    void approvalsPage(Request req) throws IOException {
        if (approvals.isEmpty()) {
            throw noCatalogue();
        }
        pages.render(
                req.exchange(),
                "approvals.jte",
                approvals.get().page(req, chrome(req, "Approvals", "/console/approvals")));
    }

    void changeSubscription(Request req) throws IOException {
        if (approvals.isEmpty()) {
            throw noCatalogue();
        }
        afterChange(req, approvals.get().change(req));
    }

    void planChangesPage(Request req) throws IOException {
        if (planChanges.isEmpty()) {
            throw noCatalogue();
        }
        pages.render(
                req.exchange(),
                "plan-changes.jte",
                planChanges.get().list(req, chrome(req, "Plan changes", "/console/plan-changes")));
    }

    void planChangePage(Request req) throws IOException {
        if (planChanges.isEmpty()) {
            throw noCatalogue();
        }
        try {
            pages.render(
                    req.exchange(),
                    "plan-change.jte",
                    planChanges
                            .get()
                            .page(req, chrome(req, "Plan-change request " + req.segment(2), "/console/plan-changes")));
        } catch (OperationRefused e) {
            throw new Refused(
                    e.status(),
                    new Views.Message(
                            e.status() == 404 ? "Not found" : "Not allowed",
                            e.getMessage(),
                            "/console/plan-changes",
                            "Plan changes"));
        }
    }

    void decidePlanChange(Request req, boolean approve) throws IOException {
        if (planChanges.isEmpty()) {
            throw noCatalogue();
        }
        afterAction(req, planChanges.get().decide(req, approve));
    }

    void portalPage(Request req) throws IOException {
        if (portal.isEmpty()) {
            throw noCatalogue();
        }
        pages.render(
                req.exchange(),
                "portal.jte",
                portal.get().page(req, chrome(req, "Developer portal", "/console/portal")));
    }

    /** A publish's OpenAPI document, for the portal's link: JSON, downloaded rather than shown as a page. */
    void portalOpenApi(Request req) throws IOException {
        if (portal.isEmpty()) {
            throw noCatalogue();
        }
        byte[] body = portal.get().openApi(req);
        HttpExchange ex = req.exchange();
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.getResponseHeaders()
                .set("Content-Disposition", "attachment; filename=\"" + req.segment(3) + ".openapi.json\"");
        ex.sendResponseHeaders(200, body.length);
        try (java.io.OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
    }

    /** A customer's change on the developer portal: {@code change} is one of {@link PortalScreen}'s operations. */
    void customerChange(Request req, PortalChange change) throws IOException {
        if (portal.isEmpty()) {
            throw noCatalogue();
        }
        afterChange(req, change.apply(portal.get(), req));
    }

    /** One of the developer portal's changes. */
    @FunctionalInterface
    interface PortalChange {
        Answer apply(PortalScreen portal, Request req);
    }

    void validatePage(Request req) throws IOException {
        pages.render(
                req.exchange(),
                "validate.jte",
                validate.page(req.tenants(), chrome(req, "Validate", "/console/validate")));
    }

    void problemCodesPage(Request req) throws IOException {
        pages.render(
                req.exchange(),
                "problem-codes.jte",
                ValidateScreen.reference(chrome(req, "Problem codes", "/console/validate")));
    }

    void trafficPage(Request req) throws IOException {
        pages.render(
                req.exchange(),
                "traffic.jte",
                traffic.page(
                        req.param("window"),
                        req.tenants(),
                        chrome(req, "Traffic & security", "/console/traffic"),
                        catalogue
                                .map(c -> c.store().planQuotasInUse(req.tenants()))
                                .orElse(List.of()),
                        catalogue.isPresent()));
    }

    void coveragePage(Request req) throws IOException {
        pages.render(
                req.exchange(),
                "coverage.jte",
                coverage.page(req.param("window"), req.param("service"), chrome(req, "Coverage", "/console/coverage")));
    }

    /** After a change: its outcome as the next page's message, and back to the screen (POST, redirect, GET). */
    private void afterAction(Request req, Outcome outcome) throws IOException {
        sessions.update(req.session().id(), s -> s.withFlash((outcome.ok() ? "" : "! ") + outcome.message())
                .withSecret(outcome.secret()));
        redirect(req.exchange(), safeNext(req.param("back")));
    }

    /**
     * What an action did, in a sentence for the person who did it; {@code secret}: a credential the next page shows
     * once, apart from the sentence, with a copy button (empty when none).
     */
    record Outcome(boolean ok, String message, String secret) {
        Outcome(boolean ok, String message) {
            this(ok, message, "");
        }
    }

    /** What a catalogue action answered: the API's status, a sentence for the person who did it, a secret shown once. */
    record Answer(int status, String message, String secret) {
        Answer(int status, String message) {
            this(status, message, "");
        }
    }

    /**
     * A refusal the API answers 403 or 404 (no permission, another tenant's object) is answered with that status, as
     * the API would; anything else is the next page's message.
     */
    private void afterChange(Request req, Answer answer) throws IOException {
        if (answer.status() == 403 || answer.status() == 404) {
            throw new AdminJson.Refusal(answer.status(), answer.message());
        }
        afterAction(req, new Outcome(answer.status() < 400, answer.message(), answer.secret()));
    }

    private static Refused noCatalogue() {
        return new Refused(
                ErrorKind.NOT_FOUND,
                new Views.Message(
                        "Not here",
                        "This controller runs without the " + "catalogue, so it has no approvals or developer portal.",
                        "/console",
                        "Console home"));
    }

    private Views.Chrome chrome(Request req, String title, String current) {
        String flash = sessions.takeFlash(req.session().id());
        boolean error = flash.startsWith("! ");
        return new Views.Chrome(
                title,
                req.caller().displayName(),
                req.session().csrf(),
                nav(req.caller(), current),
                error ? flash.substring(2) : flash,
                error,
                sessions.takeSecret(req.session().id()));
    }

    /** The screens {@code caller}'s roles open, each shown only where the gate would admit its page. */
    private List<Views.NavItem> nav(AdminCaller caller, String current) {
        List<Views.NavItem> nav = new ArrayList<>();
        if (gate.permits(caller, "revision:read", Scope.ANY_TENANT)) {
            nav.add(new Views.NavItem("/console/revisions", "Revisions", current.equals("/console/revisions")));
        } else {
            // a gateway owner: the groups it holds revision:read on
            caller.grants().stream()
                    .filter(g -> g.scope().kind().equals("gateway"))
                    .map(g -> g.scope().name())
                    .distinct()
                    .filter(group -> gate.permits(caller, "revision:read", Scope.gateway(group)))
                    .forEach(group -> nav.add(new Views.NavItem(
                            "/console/revisions/" + group,
                            "Revisions · " + group,
                            current.equals("/console/revisions/" + group))));
        }
        if (gate.permits(caller, "config:validate", Scope.ANY_TENANT)) {
            nav.add(new Views.NavItem("/console/validate", "Validate", current.equals("/console/validate")));
        }
        if (gate.permits(caller, "fleet:read", Scope.SYSTEM)) {
            nav.add(new Views.NavItem("/console/fleet", "Fleet", current.equals("/console/fleet")));
        }
        if (gate.permits(caller, "audit:read", Scope.ANY_TENANT)) {
            nav.add(new Views.NavItem("/console/audit", "Audit", current.equals("/console/audit")));
            nav.add(new Views.NavItem("/console/traffic", "Traffic & security", current.equals("/console/traffic")));
        }
        if (gate.permits(caller, "coverage:read", Scope.SYSTEM)) {
            nav.add(new Views.NavItem("/console/coverage", "Coverage", current.equals("/console/coverage")));
        }
        if (gate.permits(caller, "policy:read", Scope.SYSTEM)) {
            nav.add(new Views.NavItem(
                    "/console/policy-requests", "Policy changes", current.equals("/console/policy-requests")));
        }
        if (gate.permits(caller, "tool-call:read", Scope.SYSTEM)) {
            nav.add(new Views.NavItem(
                    "/console/tool-approvals", "Held tool calls", current.equals("/console/tool-approvals")));
        }
        if (planChanges.isPresent() && gate.permits(caller, "plan:read", Scope.ANY_TENANT)) {
            nav.add(new Views.NavItem(
                    "/console/plan-changes", "Plan changes", current.equals("/console/plan-changes")));
        }
        if (approvals.isPresent() && gate.permits(caller, "subscription:approve", Scope.ANY_TENANT)) {
            nav.add(new Views.NavItem("/console/approvals", "Approvals", current.equals("/console/approvals")));
        }
        if (portal.isPresent() && gate.permits(caller, "catalog:read", Scope.ANY_TENANT)) {
            nav.add(new Views.NavItem("/console/portal", "Developer portal", current.equals("/console/portal")));
        }
        return List.copyOf(nav);
    }

    /** The session with a usable access token: refreshed through the issuer when it is about to expire. */
    private Optional<Session> refreshed(Session s) {
        if (s.token().freshAt(java.time.Instant.now(), 30) || signIn.isEmpty()) {
            return Optional.of(s);
        }
        try {
            SignedInToken token = signIn.get().refresh(s.token());
            return Optional.ofNullable(sessions.update(s.id(), x -> x.withToken(token)));
        } catch (IOException e) {
            log.info("console session ends: the token could not be refreshed: {}", e.getMessage());
            sessions.end(s.id());
            return Optional.empty();
        }
    }

    /** Back to sign-in, and to this page after it; htmx requests are told to load the sign-in page whole. */
    private void signInFirst(HttpExchange ex) throws IOException {
        String here = ex.getRequestMethod().equals("GET")
                ? ex.getRequestURI().getRawPath()
                        + (ex.getRequestURI().getRawQuery() == null
                                ? ""
                                : "?" + ex.getRequestURI().getRawQuery())
                : PREFIX;
        String target = "/console/signin?next=" + java.net.URLEncoder.encode(here, StandardCharsets.UTF_8);
        if (ex.getRequestHeaders().getFirst("HX-Request") != null) {
            ex.getResponseHeaders().set("HX-Redirect", target);
            ex.sendResponseHeaders(401, -1);
            return;
        }
        redirect(ex, target);
    }

    // ------------------------------------------------------------------ HTTP helpers

    private Optional<Session> session(HttpExchange ex) {
        String id = cookies(ex).get(SESSION_COOKIE);
        return id == null || id.isEmpty() ? Optional.empty() : sessions.find(id);
    }

    /**
     * The console's cookies: HttpOnly, Secure when reached over TLS; {@code maxAge} -1: session. The session cookie is
     * {@code SameSite=Strict}: no request another site starts, not even a link a user follows, carries it. The
     * sign-in cookie must be {@code Lax}: the issuer's redirect to the callback is a cross-site navigation, and a
     * Strict cookie would not come back with it.
     */
    private String cookie(String name, String value, String path, int maxAge) {
        String sameSite = name.equals(SESSION_COOKIE) ? "Strict" : "Lax";
        return name + "=" + value + "; Path=" + path + "; HttpOnly; SameSite=" + sameSite
                + (settings.secure() ? "; Secure" : "") + (maxAge >= 0 ? "; Max-Age=" + maxAge : "");
    }

    /** Only the console's own pages: never an open redirect to another site. */
    static String safeNext(String next) {
        return (next.equals(PREFIX) || next.startsWith("/console/"))
                        && !next.startsWith("//")
                        && !next.contains("\\")
                        && next.chars().noneMatch(c -> c < 0x21 || c == 0x7f)
                ? next
                : PREFIX;
    }

    /** A path segment or parameter that must be a number: anything else names no {@code what} (404). */
    static long number(String text, String what) {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new AdminJson.Refusal(404, "no " + what + " " + text);
        }
    }

    static void redirect(HttpExchange ex, String location) throws IOException {
        ex.getResponseHeaders().set("Location", location);
        ex.sendResponseHeaders(303, -1);
    }

    private static Map<String, String> cookies(HttpExchange ex) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String header : ex.getRequestHeaders().getOrDefault("Cookie", List.of())) {
            for (String pair : header.split(";")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    out.putIfAbsent(
                            pair.substring(0, eq).strip(),
                            pair.substring(eq + 1).strip());
                }
            }
        }
        return out;
    }

    static Map<String, String> query(HttpExchange ex) {
        return QueryString.parse(ex.getRequestURI().getRawQuery());
    }

    /** A form body ({@code application/x-www-form-urlencoded}), parsed as the query is. */
    private static Map<String, String> form(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] body = in.readNBytes(MAX_FORM_BYTES + 1);
            if (body.length > MAX_FORM_BYTES) {
                throw new AdminJson.Refusal(ErrorKind.TOO_LARGE, "a form longer than " + MAX_FORM_BYTES + " bytes");
            }
            return QueryString.parse(new String(body, StandardCharsets.UTF_8));
        }
    }
}
