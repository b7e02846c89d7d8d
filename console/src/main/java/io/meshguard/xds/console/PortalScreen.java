package io.meshguard.xds.console;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.access.AdminAnswer;
import io.meshguard.access.AdminGate;
import io.meshguard.access.Scope;
import io.meshguard.catalog.Application;
import io.meshguard.catalog.AuthMode;
import io.meshguard.catalog.CalendarQuota;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.CatalogStore.Side;
import io.meshguard.catalog.CredentialState;
import io.meshguard.catalog.Limit;
import io.meshguard.catalog.Plan;
import io.meshguard.catalog.PlanLimits;
import io.meshguard.catalog.Product;
import io.meshguard.catalog.ProductPublish;
import io.meshguard.catalog.ProductState;
import io.meshguard.catalog.PublishState;
import io.meshguard.catalog.Subscription;
import io.meshguard.catalog.SubscriptionUsage;
import io.meshguard.db.TenantScope;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The developer portal, for customers: the published catalogue, the tenant's applications, subscribing to a plan,
 * API keys (shown once, rotated with an overlap, revoked) and each subscription's usage against its plan's quotas.
 * Reads go to the catalogue's store with the caller's tenants; changes run the API's own operations — the
 * catalogue's and the API keys' — so permissions, tenant scoping and the admin trail are the API's. A new key's text
 * is in the one page after its creation (the session's one-time message) and nowhere else: meshguard keeps its
 * SHA-256 only.
 */
public final class PortalScreen {
    static final ObjectMapper JSON = new ObjectMapper();
    /** The overlaps a rotation offers: the catalogue accepts up to 30 days. */
    static final List<String> OVERLAPS = List.of("1h", "24h", "7d");

    private final CatalogConsole catalogue;
    private final AdminGate gate;
    private final Clock clock;

    public PortalScreen(CatalogConsole catalogue, AdminGate gate, Clock clock) {
        this.catalogue = catalogue;
        this.gate = gate;
        this.clock = clock;
    }

    CatalogViews.Portal page(Console.Request req, Views.Chrome chrome) {
        CatalogStore store = catalogue.store();
        TenantScope read = req.tenants();
        Map<String, Plan> plansById = new HashMap<>();
        Map<String, ProductPublish> publishesById = new HashMap<>();
        List<CatalogViews.ProductRow> products = new ArrayList<>();
        for (Product p : store.products(read)) {
            if (p.state() != ProductState.PUBLISHED) {
                continue;
            }
            List<ProductPublish> live = store.publishes(read, p.id()).stream()
                    .filter(x -> x.state() == PublishState.PUBLISHED)
                    .toList();
            live.forEach(x -> publishesById.put(x.id(), x));
            List<Plan> plans = store.plans(read, p.id());
            plans.forEach(x -> plansById.put(x.id(), x));
            products.add(new CatalogViews.ProductRow(
                    p.id(),
                    p.name(),
                    p.description().orElse(""),
                    live.stream()
                            .map(x ->
                                    new CatalogViews.Choice(x.id(), x.host().name() + " (" + lower(x.authMode()) + ")"))
                            .toList(),
                    plans.stream()
                            .filter(x -> x.state().acceptsSubscriptions())
                            .map(x -> new CatalogViews.PlanRow(
                                    x.id(),
                                    x.name(),
                                    x.approval() == Plan.Approval.AUTO ? "automatic" : "needs the provider's approval",
                                    limits(x.limits())))
                            .toList()));
        }
        List<Application> apps =
                may(req, "application:read") ? store.applications(scope(req, "application:read")) : List.of();
        Map<String, String> appNames = new HashMap<>();
        apps.forEach(a -> appNames.put(a.id(), a.name()));
        List<CatalogViews.SubscriptionRow> subscriptions = new ArrayList<>();
        if (may(req, "subscription:read")) {
            TenantScope subs = scope(req, "subscription:read");
            for (Subscription s : store.subscriptions(subs, Side.CUSTOMER)) {
                subscriptions.add(subscriptionRow(store, subs, s, appNames, publishesById, plansById));
            }
        }
        boolean mayRotate = may(req, "credential:rotate") && may(req, "apikey:rotate");
        boolean mayRevoke = may(req, "credential:revoke");
        List<CatalogViews.CredentialRow> credentials = !may(req, "credential:read")
                ? List.of()
                : store.credentials(scope(req, "credential:read")).stream()
                        .map(c -> {
                            boolean usable = c.state() == CredentialState.ACTIVE;
                            return new CatalogViews.CredentialRow(
                                    c.id(),
                                    lower(c.kind()),
                                    appNames.getOrDefault(c.applicationId(), c.applicationId()),
                                    lower(c.state()),
                                    c.overlapEndsAt().map(RevisionsScreen::time).orElse(""),
                                    usable
                                            && (mayRotate
                                                    || c.kind() == AuthMode.OAUTH2 && may(req, "credential:rotate")),
                                    mayRevoke && (usable || c.state() == CredentialState.ROTATING));
                        })
                        .toList();
        return new CatalogViews.Portal(
                chrome,
                products,
                apps.stream()
                        .map(a -> new CatalogViews.ApplicationRow(a.id(), a.name(), lower(a.state())))
                        .toList(),
                apps.stream()
                        .map(a -> new CatalogViews.Choice(a.id(), a.name()))
                        .toList(),
                subscriptions,
                credentials,
                may(req, "application:create"),
                may(req, "subscription:create"),
                may(req, "credential:create") && may(req, "apikey:create"));
    }

    private CatalogViews.SubscriptionRow subscriptionRow(
            CatalogStore store,
            TenantScope scope,
            Subscription s,
            Map<String, String> appNames,
            Map<String, ProductPublish> publishes,
            Map<String, Plan> plans) {
        Instant now = clock.instant();
        SubscriptionUsage day = store.usage(scope, Side.CUSTOMER, s.id(), now.minus(Duration.ofDays(1)));
        SubscriptionUsage month = store.usage(scope, Side.CUSTOMER, s.id(), now.minus(Duration.ofDays(30)));
        Optional<Plan> plan = Optional.ofNullable(plans.get(s.planId()));
        // every quota the plan sets, with this period's count (0 before the first call), and any other counter held
        Map<String, Optional<CalendarQuota>> counters = new TreeMap<>();
        plan.flatMap(p -> p.limits().quota()).ifPresent(q -> counters.put("subscription", Optional.of(q)));
        plan.ifPresent(p -> p.operationLimits()
                .forEach((op, l) -> l.quota().ifPresent(q -> counters.put("subscription/" + op, Optional.of(q)))));
        month.quotas().keySet().forEach(k -> counters.putIfAbsent(k, Optional.empty()));
        List<CatalogViews.QuotaRow> quotas = counters.entrySet().stream()
                .map(e -> {
                    Optional<SubscriptionUsage.QuotaUsed> used =
                            Optional.ofNullable(month.quotas().get(e.getKey()));
                    return new CatalogViews.QuotaRow(
                            e.getKey().equals("subscription")
                                    ? "plan quota"
                                    : "operation " + e.getKey().substring("subscription/".length()),
                            used.map(SubscriptionUsage.QuotaUsed::used).orElse(0L),
                            e.getValue().map(q -> String.valueOf(q.limit())).orElse(""),
                            e.getValue().map(q -> "per " + lower(q.period())).orElse(""),
                            used.map(u -> RevisionsScreen.time(u.periodEnd())).orElse(""));
                })
                .toList();
        ProductPublish pub = publishes.get(s.publishId());
        return new CatalogViews.SubscriptionRow(
                s.id(),
                appNames.getOrDefault(s.applicationId(), s.applicationId()),
                pub == null ? s.publishId() : pub.host().name(),
                plan.map(Plan::name).orElse(s.planId()),
                lower(s.state()),
                day.calls(),
                day.calls() - day.allowed(),
                month.calls(),
                quotas);
    }

    // ------------------------------------------------------------------ changes

    Console.Answer createApplication(Console.Request req) {
        ObjectNode body = JSON.createObjectNode().put("name", req.param("name"));
        AdminAnswer a = catalog(req, "/v1/customer/applications", body);
        return a.ok()
                ? new Console.Answer(
                        a.status(), "Application " + a.body().path("name").asText() + " created.")
                : refused(a.status(), a.error());
    }

    Console.Answer subscribe(Console.Request req) {
        ObjectNode body = JSON.createObjectNode()
                .put("application", req.param("application"))
                .put("product_publish", req.param("product_publish"))
                .put("plan", req.param("plan"));
        AdminAnswer a = catalog(req, "/v1/customer/subscriptions", body);
        if (!a.ok()) {
            return refused(a.status(), a.error());
        }
        String state = a.body().path("state").asText();
        return new Console.Answer(
                a.status(),
                "Subscription " + a.body().path("id").asText() + " is " + state
                        + (state.equals("pending") ? ": the provider approves it before its keys are admitted." : "."));
    }

    /**
     * A new API key for an application: created by the API keys' own operation (its hash stored, its trail rows
     * written), then bound to the application by the catalogue's. If the binding is refused the key is revoked at
     * once, so no key exists that the portal did not hand out.
     */
    Console.Answer createKey(Console.Request req) {
        Optional<Application> app = application(req, "credential:create", req.param("application"));
        if (app.isEmpty()) {
            return refused(404, "application " + req.param("application") + " not found");
        }
        AdminAnswer created = keys(
                req,
                "/apikeys",
                JSON.createObjectNode()
                        .put("name", app.get().name())
                        .put("owner", app.get().id())
                        .put("tenant", app.get().tenant())
                        .put("reason", "developer portal: key for " + app.get().id()));
        if (!created.ok()) {
            return refused(created.status(), created.error());
        }
        String keyId = created.body().path("key_id").asText();
        AdminAnswer bound = catalog(
                req,
                "/v1/customer/credentials",
                JSON.createObjectNode()
                        .put("kind", "apikey")
                        .put("id", keyId)
                        .put("application", app.get().id()));
        if (!bound.ok()) {
            keys(
                    req,
                    "/apikeys/" + keyId + "/revoke",
                    JSON.createObjectNode().put("reason", "developer portal: binding refused: " + bound.error()));
            return refused(bound.status(), bound.error());
        }
        return new Console.Answer(
                201,
                "New API key " + keyId + " for " + app.get().name() + ". Copy it now: it is "
                        + "shown this once (meshguard keeps only its SHA-256).",
                created.body().path("key").asText());
    }

    /**
     * Rotation with overlap: the key store's successor (the predecessor keeps working for the overlap) and the
     * catalogue's credential rotation with the same window, so the predecessor's subscriptions follow the successor.
     * An OAuth2 client gets a new secret instead (Keycloak keeps one per client), shown once.
     */
    Console.Answer rotate(Console.Request req) {
        String kind = req.segment(3);
        String id = req.segment(4);
        String overlap = OVERLAPS.contains(req.param("overlap")) ? req.param("overlap") : "24h";
        String credentialPath = "/v1/customer/credentials/" + ApprovalsScreen.encode(kind) + "/"
                + ApprovalsScreen.encode(id) + "/rotate";
        if (kind.equals("oauth2")) {
            AdminAnswer a = catalog(req, credentialPath, JSON.createObjectNode());
            return a.ok()
                    ? new Console.Answer(
                            200,
                            "New client secret for " + id + ". Copy it now: it is shown this " + "once.",
                            a.body().path("client_secret").asText())
                    : refused(a.status(), a.error());
        }
        if (!visibleCredential(req, "credential:rotate", id)) {
            return refused(404, "credential not found");
        }
        long grace = overlap.endsWith("h")
                ? Duration.ofHours(Long.parseLong(overlap.replace("h", ""))).toSeconds()
                : Duration.ofDays(Long.parseLong(overlap.replace("d", ""))).toSeconds();
        AdminAnswer next = keys(
                req,
                "/apikeys/" + id + "/rotate",
                JSON.createObjectNode()
                        .put("grace_seconds", grace)
                        .put("reason", "developer portal: rotation, overlap " + overlap));
        if (!next.ok()) {
            return refused(next.status(), next.error());
        }
        String successor = next.body().path("key_id").asText();
        AdminAnswer a = catalog(
                req,
                credentialPath,
                JSON.createObjectNode().put("successor", successor).put("overlap", overlap));
        if (!a.ok()) {
            keys(
                    req,
                    "/apikeys/" + successor + "/revoke",
                    JSON.createObjectNode()
                            .put("reason", "developer portal: catalogue rotation refused: " + a.error()));
            return refused(a.status(), a.error());
        }
        return new Console.Answer(
                200,
                "Key " + id + " rotated: it keeps working for " + overlap + ". New key " + successor
                        + ". Copy it now: it is shown this once.",
                next.body().path("key").asText());
    }

    /** Revokes in the catalogue first (extauthz refuses it from the pushed state), then in the key store. */
    Console.Answer revoke(Console.Request req) {
        String kind = req.segment(3);
        String id = req.segment(4);
        AdminAnswer a = catalog(
                req,
                "/v1/customer/credentials/" + ApprovalsScreen.encode(kind) + "/" + ApprovalsScreen.encode(id)
                        + "/revoke",
                JSON.createObjectNode().put("reason", req.param("reason")));
        if (!a.ok()) {
            return refused(a.status(), a.error());
        }
        if (kind.equals("apikey")) {
            AdminAnswer k = keys(
                    req, "/apikeys/" + id + "/revoke", JSON.createObjectNode().put("reason", req.param("reason")));
            if (!k.ok()) {
                return new Console.Answer(
                        200,
                        "Credential " + id + " revoked in the catalogue; the key store " + "refused: " + k.error());
            }
        }
        return new Console.Answer(200, "Credential " + id + " revoked.");
    }

    // ------------------------------------------------------------------ helpers

    private AdminAnswer catalog(Console.Request req, String path, JsonNode body) {
        return catalogue.catalog().invokeAdmitted(req.exchange(), "POST", path, req.admitted(), body, req.requestId());
    }

    private AdminAnswer keys(Console.Request req, String path, JsonNode body) {
        return catalogue.keys().invokeAdmitted(req.exchange(), "POST", path, req.admitted(), body, req.requestId());
    }

    private Optional<Application> application(Console.Request req, String permission, String id) {
        return !may(req, permission)
                ? Optional.empty()
                : catalogue.store().applications(scope(req, permission)).stream()
                        .filter(a -> a.id().equals(id))
                        .findFirst();
    }

    private boolean visibleCredential(Console.Request req, String permission, String id) {
        return may(req, permission)
                && catalogue.store().credentials(scope(req, permission)).stream()
                        .anyMatch(c -> c.kind() == AuthMode.APIKEY && c.id().equals(id));
    }

    private boolean may(Console.Request req, String permission) {
        return gate.permits(req.caller(), permission, Scope.ANY_TENANT);
    }

    private TenantScope scope(Console.Request req, String permission) {
        return gate.tenantsOf(req.caller(), permission);
    }

    private static Console.Answer refused(int status, String error) {
        return new Console.Answer(status, "Refused: " + error);
    }

    static String limits(PlanLimits limits) {
        List<String> parts = new ArrayList<>();
        for (Limit l : limits.rates()) {
            parts.add(l.requests() + " per " + human(l.per()));
        }
        limits.quota().ifPresent(q -> parts.add(q.limit() + " per " + lower(q.period())));
        return parts.isEmpty() ? "no limits" : String.join(", ", parts);
    }

    private static String human(Duration d) {
        return d.toDays() > 0 && d.toHoursPart() == 0
                ? d.toDays() + " d"
                : d.toHours() > 0 && d.toMinutesPart() == 0
                        ? d.toHours() + " h"
                        : d.toMinutes() > 0 && d.toSecondsPart() == 0 ? d.toMinutes() + " min" : d.toSeconds() + " s";
    }

    static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }
}
