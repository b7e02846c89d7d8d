package io.meshguard.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.access.AdminGate;
import io.meshguard.access.Scope;
import io.meshguard.catalog.CatalogRefusal;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.CatalogStore.Side;
import io.meshguard.catalog.api.ApplicationKeys;
import io.meshguard.catalog.api.CatalogService;
import io.meshguard.catalog.api.ProductApis;
import io.meshguard.catalog.service.AdmittedCall;
import io.meshguard.catalog.service.OperationRefused;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.CalendarQuota;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.Limit;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionUsage;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.AdminJson;
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
import java.util.function.Supplier;

/**
 * The developer portal, for customers: the published catalogue, the tenant's applications, subscribing to a plan,
 * API keys (shown once, rotated with an overlap, revoked) and each subscription's usage against its plan's quotas.
 * Reads go to the catalogue's store with the caller's tenants; changes call the typed services the REST API adapts
 * ({@link CatalogService}, {@link ApplicationKeys}), so permissions, tenant scoping and the admin trail are the API's. A new key's text
 * is in the one page after its creation (the session's one-time message) and nowhere else: meshguard keeps its
 * SHA-256 only.
 */
public final class PortalScreen {
    static final ObjectMapper JSON = new ObjectMapper();
    /** The overlaps a rotation offers: the catalogue accepts up to 30 days. */
    static final List<String> OVERLAPS = List.of("1h", "24h", "7d");
    /** Where the portal serves a publish's OpenAPI document (followed by the publish id). */
    static final String OPENAPI = "/console/portal/openapi/";

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
                            .toList(),
                    live.stream()
                            .map(x -> api(catalogue.apis().sold(read, x.id())))
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

    /** What a publish sells, as the portal shows it: the example calls its first operation. */
    static CatalogViews.ApiRow api(ProductApis.Sold sold) {
        return new CatalogViews.ApiRow(
                sold.publish().id(),
                sold.server(),
                sold.credential(),
                OPENAPI + sold.publish().id(),
                sold.operations().stream()
                        .map(o -> new CatalogViews.OperationRow(o.method(), o.path(), o.version(), o.deprecated()))
                        .toList(),
                sold.operations().stream().findFirst().map(sold::exampleCall).orElse(""));
    }

    /**
     * The OpenAPI document of a publish the caller may see, as {@code GET /v1/customer/product-publishes/{id}/
     * openapi.json} answers it, under the console's session (a browser carries no admin token); 404 for a publish it
     * may not see, as for one that does not exist.
     */
    byte[] openApi(Console.Request req) {
        try {
            return ProductApis.openApi(catalogue.apis().sold(req.tenants(), req.segment(3)))
                    .toPrettyString()
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } catch (CatalogRefusal e) {
            throw new AdminJson.Refusal(404, e.getMessage());
        }
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
        return answered(() -> {
            Application app = catalogue
                    .catalog()
                    .createApplication(
                            who(req),
                            new CatalogService.NewApplication(Optional.empty(), Optional.empty(), req.param("name")));
            return new Console.Answer(201, "Application " + app.name() + " created.");
        });
    }

    Console.Answer subscribe(Console.Request req) {
        return answered(() -> {
            Subscription s = catalogue
                    .catalog()
                    .subscribe(
                            who(req),
                            new CatalogService.NewSubscription(
                                    req.param("application"), req.param("product_publish"), req.param("plan")));
            String state = lower(s.state());
            return new Console.Answer(
                    201,
                    "Subscription " + s.id() + " is " + state
                            + (state.equals("pending")
                                    ? ": the provider approves it before its keys are admitted."
                                    : "."));
        });
    }

    /**
     * A new API key for an application, minted and bound to it in one transaction ({@link ApplicationKeys#issue}):
     * a refused binding leaves no key, so no key exists that the portal did not hand out.
     */
    Console.Answer createKey(Console.Request req) {
        return answered(() -> {
            ApplicationKeys.IssuedKey issued = catalogue
                    .keys()
                    .issue(who(req), req.param("application"), "developer portal: key for " + req.param("application"));
            // the key is named after its application
            return new Console.Answer(
                    201,
                    "New API key " + issued.key().keyId() + " for "
                            + issued.key().name() + ". Copy it now: it is "
                            + "shown this once (meshguard keeps only its SHA-256).",
                    issued.text());
        });
    }

    /**
     * Rotation with overlap: the successor key and the credential's rotation with the same window in one transaction
     * ({@link ApplicationKeys#rotate}), so the predecessor's subscriptions follow the successor or nothing changes.
     * An OAuth2 client gets a new secret instead (Keycloak keeps one per client), shown once.
     */
    Console.Answer rotate(Console.Request req) {
        String kind = req.segment(3);
        String id = req.segment(4);
        String overlap = OVERLAPS.contains(req.param("overlap")) ? req.param("overlap") : "24h";
        return answered(() -> {
            if (kind.equals("oauth2")) {
                CatalogService.NewClientSecret fresh = catalogue.catalog().renewClientSecret(who(req), id);
                return new Console.Answer(
                        200,
                        "New client secret for " + id + ". Copy it now: it is shown this " + "once.",
                        fresh.clientSecret());
            }
            if (!kind.equals("apikey")) {
                return refused(404, "credential not found");
            }
            ApplicationKeys.RotatedKey rotated = catalogue
                    .keys()
                    .rotate(
                            who(req),
                            id,
                            CatalogService.overlap(overlap),
                            "developer portal: rotation, overlap " + overlap);
            return new Console.Answer(
                    200,
                    "Key " + id + " rotated: it keeps working for " + overlap + ". New key "
                            + rotated.successor().keyId() + ". Copy it now: it is shown this once.",
                    rotated.text());
        });
    }

    /**
     * Revokes in the catalogue (extauthz refuses it from the pushed state) and, for an API key, in the key store, in
     * one transaction.
     */
    Console.Answer revoke(Console.Request req) {
        String kind = req.segment(3);
        String id = req.segment(4);
        return answered(() -> {
            if (kind.equals("apikey")) {
                catalogue.keys().revoke(who(req), id, req.param("reason"));
            } else {
                catalogue.catalog().revokeCredential(who(req), parseKind(kind), id, req.param("reason"));
            }
            return new Console.Answer(200, "Credential " + id + " revoked.");
        });
    }

    // ------------------------------------------------------------------ helpers

    static AdmittedCall who(Console.Request req) {
        return new AdmittedCall(req.admitted(), req.requestId());
    }

    /** The service's answer, or its refusal as the page says it ("Refused: …" with the API's status). */
    static Console.Answer answered(Supplier<Console.Answer> change) {
        try {
            return change.get();
        } catch (OperationRefused e) {
            return refused(e.status(), e.getMessage());
        }
    }

    private static AuthMode parseKind(String kind) {
        for (AuthMode m : AuthMode.values()) {
            if (lower(m).equals(kind)) {
                return m;
            }
        }
        throw new OperationRefused(
                422,
                "kind: one of "
                        + java.util.Arrays.stream(AuthMode.values())
                                .map(PortalScreen::lower)
                                .toList() + ", got '" + kind + "'");
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
