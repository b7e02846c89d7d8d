package io.meshguard.console;

import io.meshguard.access.AdminGate;
import io.meshguard.access.Scope;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.CatalogStore.Side;
import io.meshguard.catalog.api.CatalogService;
import io.meshguard.catalog.service.OperationRefused;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.Subscriber;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.db.TenantScope;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Approvals, for providers: subscriptions to the caller's tenants' products — pending ones to approve or reject,
 * live ones to suspend, resume or move to another plan, each with a reason. Reads go to the catalogue's store with
 * the caller's tenants; every change calls the catalogue's typed service ({@link CatalogService}) that the REST API
 * adapts, so another tenant's subscription is 404 and the admin trail row is the API's.
 */
public final class ApprovalsScreen {
    private final CatalogConsole catalogue;
    private final AdminGate gate;

    public ApprovalsScreen(CatalogConsole catalogue, AdminGate gate) {
        this.catalogue = catalogue;
        this.gate = gate;
    }

    CatalogViews.Approvals page(Console.Request req, Views.Chrome chrome) {
        CatalogStore store = catalogue.store();
        TenantScope read = req.tenants();
        Set<String> approvable = ids(req, "subscription:approve");
        Set<String> suspendable = ids(req, "subscription:suspend");
        Set<String> plannable = ids(req, "subscription:plan");
        Map<String, ProductPublish> publishes = new HashMap<>();
        Map<String, Product> products = new HashMap<>();
        Map<String, List<Plan>> plans = new HashMap<>();
        for (Product p : store.products(read)) {
            if (read.includes(p.tenant())) {
                products.put(p.id(), p);
                store.publishes(read, p.id()).forEach(pub -> publishes.put(pub.id(), pub));
                plans.put(p.id(), store.plans(read, p.id()));
            }
        }
        Map<String, Subscriber> subscribers = store.subscribers(read);
        List<CatalogViews.ProviderRow> rows = store.subscriptions(read, Side.PROVIDER).stream()
                .map(s -> {
                    Optional<Subscriber> who = Optional.ofNullable(subscribers.get(s.id()));
                    ProductPublish pub = publishes.get(s.publishId());
                    String productId = pub == null ? "" : pub.productId();
                    Product product = products.get(productId);
                    List<CatalogViews.Choice> others = plans.getOrDefault(productId, List.of()).stream()
                            .filter(p -> p.state().acceptsSubscriptions() && !p.id().equals(s.planId()))
                            .map(p -> new CatalogViews.Choice(p.id(), p.name()))
                            .toList();
                    boolean live = s.state() == SubscriptionState.ACTIVE || s.state() == SubscriptionState.SUSPENDED;
                    return new CatalogViews.ProviderRow(
                            s.id(),
                            who.map(w -> new CatalogViews.Named(w.customerName(), w.customerTenant()))
                                    .orElse(new CatalogViews.Named("", "")),
                            who.map(w -> new CatalogViews.Named(w.applicationName(), w.applicationId()))
                                    .orElse(new CatalogViews.Named(s.applicationId(), s.applicationId())),
                            Views.Person.of(who.map(Subscriber::requestedBy).orElse("")),
                            product == null ? productId : product.name(),
                            pub == null ? s.publishId() : pub.host().name(),
                            s.planId(),
                            s.state().name().toLowerCase(Locale.ROOT),
                            s.state() == SubscriptionState.PENDING && approvable.contains(s.id()),
                            s.state() == SubscriptionState.ACTIVE && suspendable.contains(s.id()),
                            s.state() == SubscriptionState.SUSPENDED && suspendable.contains(s.id()),
                            live && plannable.contains(s.id()) && !others.isEmpty(),
                            others,
                            "/console/audit?route=subscription%2F" + encode(s.id()) + "&since=90d");
                })
                .toList();
        return new CatalogViews.Approvals(
                chrome,
                rows.stream().filter(r -> r.state().equals("pending")).toList(),
                rows.stream().filter(r -> !r.state().equals("pending")).toList());
    }

    /** The subscriptions the caller holds {@code permission} on as their provider. */
    private Set<String> ids(Console.Request req, String permission) {
        if (!gate.permits(req.caller(), permission, Scope.ANY_TENANT)) {
            return Set.of();
        }
        return catalogue.store().subscriptions(gate.tenantsOf(req.caller(), permission), Side.PROVIDER).stream()
                .map(Subscription::id)
                .collect(Collectors.toSet());
    }

    /** approve, reject, suspend, resume or plan: the catalogue service's operation of the same name. */
    Console.Answer change(Console.Request req) {
        String id = req.segment(3);
        String verb = req.segment(4);
        return PortalScreen.answered(() -> {
            Subscription s = verb.equals("plan")
                    ? catalogue
                            .catalog()
                            .changePlan(
                                    PortalScreen.who(req), Side.PROVIDER, id, req.param("plan"), req.param("reason"))
                    : catalogue
                            .catalog()
                            .moveSubscription(
                                    PortalScreen.who(req), Side.PROVIDER, id, change(verb), req.param("reason"));
            return new Console.Answer(
                    200,
                    switch (verb) {
                        case "approve" ->
                            "Subscription " + id + " approved: its application's credentials are admitted now.";
                        case "reject" -> "Subscription " + id + " rejected.";
                        case "suspend" -> "Subscription " + id + " suspended: every call is refused from now on.";
                        case "resume" -> "Subscription " + id + " resumed.";
                        default ->
                            "Subscription " + id + " is now on plan " + s.planId() + " ("
                                    + s.state().name().toLowerCase(Locale.ROOT)
                                    + "); the quota used so far carries over.";
                    });
        });
    }

    private static CatalogService.SubscriptionChange change(String verb) {
        for (CatalogService.SubscriptionChange c : CatalogService.SubscriptionChange.values()) {
            if (c.verb().equals(verb)) {
                return c;
            }
        }
        throw new OperationRefused(404, "no operation " + verb);
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
