package io.meshguard.xds.product;

import io.meshguard.catalog.CatalogRefusal;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.GatewayServing;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ServedProduct;
import io.meshguard.xds.approval.FourEyes;
import io.meshguard.xds.approval.PublishRequest;
import io.meshguard.xds.change.ConfigChangeAudit;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.server.Publisher;
import io.meshguard.xds.store.PgGatewayStore;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ServiceNamespaces;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Serves the catalogue's product publishes as revisions of their gateway groups: a product publish or withdrawal is
 * one publish of its group (a request where the group is protected), and every publish of the draft keeps the
 * products the catalogue says are published ({@link #compiledDraft()}).
 */
public final class ProductPublisher implements GatewayServing {

    /** The methods a route without a method match answers, as an operation of any method is documented. */
    private static final List<String> ANY_METHOD = List.of("GET", "POST", "PUT", "PATCH", "DELETE");

    private final PgGatewayStore draft;
    private final CatalogStore catalog;
    private final Publisher publisher;
    private final FourEyes fourEyes;
    private final ConfigChangeAudit audit;

    public ProductPublisher(
            PgGatewayStore draft,
            CatalogStore catalog,
            Publisher publisher,
            FourEyes fourEyes,
            ConfigChangeAudit audit) {
        this.draft = draft;
        this.catalog = catalog;
        this.publisher = publisher;
        this.fourEyes = fourEyes;
        this.audit = audit;
    }

    /** The draft with every published product compiled in: what a publish of the draft serves. */
    public ProductRoutes.Compiled compiledDraft() {
        return ProductRoutes.compile(draft.load(), catalog.servedProducts());
    }

    /** The draft as the approval of publish request {@code request} would serve it (its product publishes moved). */
    public ProductRoutes.Compiled compiledDraft(long request) {
        return ProductRoutes.compile(draft.load(), catalog.servedProducts(request));
    }

    @Override
    public Served serve(ServedProduct publish, boolean serve, Change change) {
        String group = publish.gatewayGroup();
        List<ServedProduct> ofGroup = new ArrayList<>(catalog.servedProducts().getOrDefault(group, List.of()));
        ofGroup.removeIf(p -> p.publishId().equals(publish.publishId()));
        if (serve) {
            ofGroup.add(publish);
        }
        GatewayConfig draftNow = draft.load();
        if (draftNow.group(group).isEmpty()) {
            throw new CatalogRefusal(CatalogRefusal.Kind.INVALID, "gateway group " + group + " does not exist");
        }
        ProductRoutes.Compiled compiled = ProductRoutes.compile(draftNow, new TreeMap<>(Map.of(group, ofGroup)));
        if (!compiled.valid()) {
            throw new CatalogRefusal(
                    CatalogRefusal.Kind.INVALID, "the gateway cannot serve it: " + describe(compiled.problems()));
        }
        // its routes may be compiled from the API's routes of another group: the upstreams they bring must name
        // Services only in namespaces assigned to their tenants for this group too
        Map<String, String> upstreamTenants =
                draft.ownership(io.meshguard.db.TenantScope.ALL).upstreams();
        List<Problem> foreign = ServiceNamespaces.newViolations(
                draftNow,
                compiled.config(),
                u -> upstreamTenants.getOrDefault(u, "\u0000unknown:" + u),
                PgGatewayStore.DEFAULT_TENANT,
                draft.serviceNamespaces());
        if (!foreign.isEmpty()) {
            throw new CatalogRefusal(
                    CatalogRefusal.Kind.INVALID,
                    "the gateway cannot serve it: "
                            + String.join(
                                    "; ",
                                    foreign.stream().map(Problem::toString).toList()));
        }
        // a product publish changes the products only: draft edits nobody published yet must not ride along
        GatewayConfig own = ProductRoutes.withoutProducts(compiled.config()).slice(group);
        GatewayConfig servedOwn = publisher
                .servedSlice(group)
                .map(ProductRoutes::withoutProducts)
                .map(c -> c.slice(group))
                .orElse(GatewayConfig.EMPTY);
        boolean published = publisher.servedSlice(group).isPresent();
        if (!own.routes().equals(servedOwn.routes())
                || !own.apis().equals(servedOwn.apis())
                || !own.upstreams().equals(servedOwn.upstreams())
                || published && !own.groups().equals(servedOwn.groups())) {
            throw new CatalogRefusal(
                    CatalogRefusal.Kind.CONFLICT,
                    "gateway group " + group + " has draft changes"
                            + " that are not published: publish or discard them first, so this publish changes the products"
                            + " only");
        }
        if (fourEyes.store().protection(group).isPresent()) {
            PublishRequest request = fourEyes.open(group, compiled.config(), change.person(), change.reason());
            audit.record(new ConfigChangeAudit.ConfigChange(
                    change.actor(),
                    "publish-request",
                    "publish-request/" + group + "/" + request.id(),
                    "protected group " + group + " waits for a second person's approval: " + change.reason(),
                    change.requestId()));
            request.reportRow(change.actor(), change.requestId()).ifPresent(audit::record);
            return new Served(Optional.empty(), Optional.of(request.id()));
        }
        Publisher.Result result = publisher.publish(compiled.config().slice(group), change.actor(), change.reason());
        if (!result.published()) {
            throw new CatalogRefusal(
                    CatalogRefusal.Kind.INVALID, "the gateway refused the revision: " + describe(result.problems()));
        }
        result.revision().ifPresent(r -> {
            audit.record(new ConfigChangeAudit.ConfigChange(
                    change.actor(),
                    "publish",
                    "revision/" + r.id(),
                    "group " + group + ": " + change.reason(),
                    change.requestId()));
            fourEyes.supersededBy(List.of(r), change.actor(), change.requestId(), audit);
        });
        long serving = result.revision()
                .map(r -> r.id())
                .or(() -> publisher.servedRevision(group))
                .orElseThrow(() -> new IllegalStateException("group " + group + " published but serves nothing"));
        return new Served(Optional.of(serving), Optional.empty());
    }

    /**
     * Read from the group's live revision: the product routes it serves for this publish, each at its API's base path
     * and version with the operation's own path template, where that version answers (active or deprecated).
     */
    @Override
    public List<ServedOperation> servedOperations(ServedProduct publish) {
        GatewayConfig live = publisher.servedSlice(publish.gatewayGroup()).orElse(GatewayConfig.EMPTY);
        Map<String, Product.Operation> operations = new TreeMap<>();
        publish.operations().forEach(op -> operations.put(op.id(), op));
        Set<ServedOperation> out = new LinkedHashSet<>();
        for (Route r : live.routes()) {
            Optional<Route.ProductBinding> bound =
                    r.product().filter(b -> b.publish().equals(publish.publishId()));
            Optional<Product.Operation> op = bound.map(b -> operations.get(b.operation()));
            Optional<Api> api = live.api(r.api());
            Optional<Api.ApiVersion> version = api.flatMap(a -> a.version(r.version()));
            if (op.isEmpty()
                    || version.isEmpty()
                    || version.get().status() == Api.Status.SUNSET
                    || version.get().status() == Api.Status.RETIRED) {
                continue;
            }
            String path = api.get().basePath() + "/" + r.version() + op.get().path();
            boolean deprecated = version.get().status() == Api.Status.DEPRECATED;
            for (String method :
                    r.match().methods().isEmpty() ? ANY_METHOD : r.match().methods()) {
                out.add(new ServedOperation(op.get().id(), method, path, r.version(), deprecated));
            }
        }
        return List.copyOf(out);
    }

    /**
     * A second person decided publish request {@code request}: the product publish waiting in it (if one does) moves
     * on an approval and stays where it was on a rejection, so a rejected publish is neither served nor subscribed to.
     */
    public void decided(long request, Optional<Long> revision) {
        catalog.publishRequestDecided(request, revision);
    }

    private static String describe(List<Problem> problems) {
        return String.join(
                "; ", problems.stream().map(p -> p.path() + ": " + p.message()).toList());
    }
}
