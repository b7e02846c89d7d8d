package io.meshguard.catalog;

import io.meshguard.access.AuthMethod;
import io.meshguard.access.Person;
import io.meshguard.db.TenantScope;
import io.meshguard.db.TenantScopedTransactions;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The catalogue in PostgreSQL (migration V43). Every call runs in a transaction PostgreSQL confines to the caller's
 * tenants ({@link TenantScopedTransactions}), so an object of another tenant is absent here exactly as it is absent
 * from the queries; every state change goes through the entity's {@link Lifecycle} under a row lock, so two operators
 * racing cannot both move a subscription out of pending.
 *
 * <p>Permissions (who may approve, who may publish) are the admin plane's; this class decides only what the model
 * allows.
 */
public final class CatalogStore {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Which side of a subscription acts. Row-level security shows a subscription to its provider and its customer
     * alike; what each may do differs (a customer must not approve its own subscription), so each change names its
     * side and the caller's tenants must include that side's tenant.
     */
    public enum Side { PROVIDER, CUSTOMER }

    private final DataSource dataSource;
    private final TenantScopedTransactions tx;

    public CatalogStore(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.tx = new TenantScopedTransactions(dataSource);
    }

    // ------------------------------------------------------------------ clusters (operators)

    /** Registers or updates a cluster; its gateway groups stay as they are. */
    public Cluster putCluster(Cluster cluster) {
        return putCluster(cluster, Map.of());
    }

    /**
     * Registers or updates a cluster and assigns it {@code groups}: each gateway group named is served by the cluster
     * (again, after a withdrawal) and takes product publishes of exactly the tenants given, the only placement a
     * publish may have (docs/products.md "Where a product is published"). Groups not named stay as they are.
     */
    public Cluster putCluster(Cluster cluster, Map<String, Set<String>> groups) {
        return run(TenantScope.ALL, c -> {
            try (PreparedStatement ps = c.prepareStatement("insert into cluster (id, region, provider, capabilities)"
                    + " values (?, ?, ?, ?) on conflict (id) do update set region = excluded.region,"
                    + " provider = excluded.provider, capabilities = excluded.capabilities")) {
                ps.setString(1, cluster.id());
                ps.setString(2, cluster.region());
                ps.setString(3, cluster.provider().orElse(null));
                ps.setArray(4, c.createArrayOf("varchar", cluster.capabilities().stream().sorted().toArray()));
                ps.executeUpdate();
            }
            for (Map.Entry<String, Set<String>> g : new TreeMap<>(groups).entrySet()) {
                try (PreparedStatement ps = c.prepareStatement("insert into cluster_group (cluster_id, gateway_group,"
                        + " publishing_tenants) values (?, ?, ?) on conflict (cluster_id, gateway_group) do update"
                        + " set publishing_tenants = excluded.publishing_tenants, withdrawn_at = null")) {
                    ps.setString(1, cluster.id());
                    ps.setString(2, g.getKey());
                    ps.setArray(3, c.createArrayOf("varchar", g.getValue().stream().sorted().toArray()));
                    ps.executeUpdate();
                }
            }
            return cluster;
        });
    }

    /**
     * A publish's placement is the operators': its gateway group must be assigned to its cluster, not withdrawn, for
     * the product's tenant. Otherwise a provider could put its host and upstream on another cluster's nodes, or hand a
     * cluster's zone a whole group (every tenant's routes) no operator gave it.
     */
    private static void requirePlacement(Connection c, String clusterId, String group, String tenant)
            throws SQLException {
        if (count(c, "select count(*) from cluster_group where cluster_id = ? and gateway_group = ?"
                + " and withdrawn_at is null and ? = any (publishing_tenants)", clusterId, group, tenant) == 0) {
            throw new CatalogRefusal(CatalogRefusal.Kind.INVALID, "gateway group " + group + " is not assigned to"
                    + " cluster " + clusterId + " for tenant " + tenant + ": an operator assigns a cluster its groups"
                    + " and the tenants that publish into each (PUT /v1/operator/clusters/" + clusterId
                    + ", gateway_groups)");
        }
    }

    /**
     * Decommissions a cluster: its zone registrations, credentials, stream and group assignments go with it. Refused
     * while a product publish names it (withdrawn or not: the publish's history points at it) or while its zone is
     * not revoked (a live zone would keep following central with nobody answering for it).
     */
    public void deleteCluster(String id) {
        run(TenantScope.ALL, c -> {
            List<String> zoneRevoked = strings(c, "select coalesce(zone_revoked_at::text, '') from cluster"
                    + " where id = ? for update", id);
            if (zoneRevoked.isEmpty()) {
                throw CatalogRefusal.notFound("cluster", id);
            }
            long publishes = count(c, "select count(*) from product_publish where cluster_id = ?", id);
            if (publishes > 0) {
                throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT, "cluster " + id + " is named by " + publishes
                        + " product publish(es): a cluster that carried a product stays, for its history");
            }
            boolean everRegistered = count(c, "select count(*) from zone_registration where cluster_id = ?", id) > 0;
            if (everRegistered && zoneRevoked.get(0).isEmpty()) {
                throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT, "cluster " + id + " has a zone that is not"
                        + " revoked: revoke it first (meshguard cluster revoke " + id + ")");
            }
            try (PreparedStatement ps = c.prepareStatement("delete from cluster where id = ?")) {
                ps.setString(1, id);
                ps.executeUpdate();
            }
            return null;
        });
    }

    public List<Cluster> clusters(TenantScope scope) {
        return run(scope, c -> {
            List<Cluster> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "select id, region, provider, capabilities from cluster order by id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Cluster(rs.getString(1), rs.getString(2), Optional.ofNullable(rs.getString(3)),
                            Set.of(strings(rs.getArray(4)))));
                }
            }
            return out;
        });
    }

    // ------------------------------------------------------------------ tenants (operators)

    /** Creates {@code tenant} unless it exists; true when this call created it (creating twice is not an error). */
    public boolean createTenant(Tenant tenant) {
        return run(TenantScope.ALL, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into tenant (id, display_name) values (?, ?) on conflict (id) do nothing")) {
                ps.setString(1, tenant.id());
                ps.setString(2, tenant.displayName().orElse(null));
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** Every tenant, by id. */
    public List<Tenant> tenants() {
        return run(TenantScope.ALL, c -> {
            List<Tenant> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("select id, display_name from tenant order by id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Tenant(rs.getString(1), Optional.ofNullable(rs.getString(2))));
                }
            }
            return out;
        });
    }

    // ------------------------------------------------------------------ products

    /** Creates a product in {@code tenant}, always as a draft. */
    public Product createProduct(TenantScope scope, Product product, String actor) {
        return run(scope, c -> {
            requireTenant(c, product.tenant());
            try (PreparedStatement ps = c.prepareStatement("insert into product (id, tenant, name, version, description,"
                    + " tags, docs_url, visibility, state, updated_by) values (?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?)")) {
                ps.setString(1, product.id());
                ps.setString(2, product.tenant());
                ps.setString(3, product.name());
                ps.setString(4, product.version());
                ps.setString(5, product.description().orElse(null));
                ps.setArray(6, c.createArrayOf("varchar", product.tags().toArray()));
                ps.setString(7, product.docsUrl().orElse(null));
                ps.setString(8, lower(product.visibility()));
                ps.setString(9, actor);
                ps.executeUpdate();
            }
            writeOperations(c, product.id(), product.operations());
            return readProduct(c, product.id()).orElseThrow();
        });
    }

    public Optional<Product> product(TenantScope scope, String id) {
        return run(scope, c -> readProduct(c, id));
    }

    /** The products the scope may see: its own in every state, others' published public ones. */
    public List<Product> products(TenantScope scope) {
        return run(scope, c -> {
            List<String> ids = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("select id from product order by id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            List<Product> out = new ArrayList<>();
            for (String id : ids) {
                readProduct(c, id).ifPresent(out::add);
            }
            return out;
        });
    }

    /** Replaces the product's operations; each names an API of the product's own tenant. */
    public Product putOperations(TenantScope scope, String productId, List<Product.Operation> operations,
                                 String actor) {
        return run(scope, c -> {
            Product p = ownProductForUpdate(c, productId);
            if (p.state() == ProductState.RETIRED) {
                throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT, "product " + productId + " is retired");
            }
            try (PreparedStatement ps = c.prepareStatement("delete from product_operation where product_id = ?")) {
                ps.setString(1, productId);
                ps.executeUpdate();
            }
            writeOperations(c, productId, operations);
            // served operations change only through a publish (a revision, four eyes), never behind the gateway's
            // back; checked after writing them, so a bad operation is the error a provider sees first
            List<String> served = ids(c, "select id from product_publish where product_id = ? and state = 'published'"
                    + " order by id", productId);
            if (!served.isEmpty()) {
                throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT, "product " + productId + " is served by "
                        + String.join(", ", served) + ": withdraw those publishes before changing its operations");
            }
            touch(c, "product", productId, actor);
            return readProduct(c, productId).orElseThrow();
        });
    }

    public Product moveProduct(TenantScope scope, String productId, ProductState to, String actor) {
        return run(scope, c -> {
            Product p = ownProductForUpdate(c, productId);
            ProductState.LIFECYCLE.move(p.state(), to);
            if (to == ProductState.PUBLISHED && p.operations().isEmpty()) {
                throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT,
                        "product " + productId + " has no operations: nothing to publish");
            }
            if (to == ProductState.RETIRED && count(c, "select count(*) from product_publish where product_id = ?"
                    + " and state = 'published'", productId) > 0) {
                throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT,
                        "product " + productId + " is still published somewhere: withdraw its publishes first");
            }
            setState(c, "product", "id = ?", lower(to), productId);
            touch(c, "product", productId, actor);
            return readProduct(c, productId).orElseThrow();
        });
    }

    // ------------------------------------------------------------------ plans

    /** Creates a plan of one of the scope's products, always staging. */
    public Plan createPlan(TenantScope scope, Plan plan) {
        return run(scope, c -> {
            Product p = ownProductForUpdate(c, plan.productId());
            Set<String> ops = new HashSet<>();
            p.operations().forEach(o -> ops.add(o.id()));
            for (String op : plan.operationLimits().keySet()) {
                if (!ops.contains(op)) {
                    throw new CatalogRefusal(CatalogRefusal.Kind.INVALID,
                            "plan " + plan.name() + " limits operation " + op + ", which product " + p.id()
                                    + " does not have");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("insert into plan (id, product_id, name, state, limits,"
                    + " operation_limits, approval, auth_modes) values (?, ?, ?, 'staging', ?::jsonb, ?::jsonb, ?, ?)")) {
                ps.setString(1, plan.id());
                ps.setString(2, plan.productId());
                ps.setString(3, plan.name());
                ps.setString(4, PlanLimitsJson.write(plan.limits()).toString());
                ps.setString(5, PlanLimitsJson.writeOperations(plan.operationLimits()).toString());
                ps.setString(6, lower(plan.approval()));
                ps.setArray(7, c.createArrayOf("varchar", plan.authModes().stream().map(CatalogStore::lower)
                        .sorted().toArray()));
                ps.executeUpdate();
            }
            return readPlan(c, plan.id()).orElseThrow();
        });
    }

    public List<Plan> plans(TenantScope scope, String productId) {
        return run(scope, c -> {
            List<Plan> out = new ArrayList<>();
            for (String id : ids(c, "select id from plan where product_id = ? order by name", productId)) {
                readPlan(c, id).ifPresent(out::add);
            }
            return out;
        });
    }

    /** Moves a plan; closing it closes every subscription on it in the same transaction. */
    public Plan movePlan(TenantScope scope, String planId, PlanState to, String actor) {
        return run(scope, c -> {
            Plan plan = readPlan(c, planId).orElseThrow(() -> CatalogRefusal.notFound("plan", planId));
            ownProductForUpdate(c, plan.productId());
            PlanState.LIFECYCLE.move(plan.state(), to);
            setState(c, "plan", "id = ?", lower(to), planId);
            if (to == PlanState.CLOSED) {
                try (PreparedStatement ps = c.prepareStatement("update subscription set state = 'closed',"
                        + " decided_by = ?, reason = 'plan closed', updated_at = now()"
                        + " where plan_id = ? and state in ('pending', 'active', 'suspended')")) {
                    ps.setString(1, actor);
                    ps.setString(2, planId);
                    ps.executeUpdate();
                }
            }
            return readPlan(c, planId).orElseThrow();
        });
    }

    // ------------------------------------------------------------------ product publishes

    /**
     * Creates a draft publish of one of the scope's products on {@code clusterId}; its host is
     * {@code {product}.{environment}.{cluster region}.api.{domain}}.
     */
    public ProductPublish createPublish(TenantScope scope, String productId, String clusterId, Environment environment,
                                        AuthMode authMode, String domain, String gatewayGroup) {
        return run(scope, c -> {
            Product product = ownProductForUpdate(c, productId);
            String region = strings(c, "select region from cluster where id = ?", clusterId).stream().findFirst()
                    .orElseThrow(() -> CatalogRefusal.notFound("cluster", clusterId));
            requirePlacement(c, clusterId, gatewayGroup, product.tenant());
            PublishHost host;
            try {
                host = PublishHost.of(productId, environment, region, domain);
            } catch (IllegalArgumentException e) {
                throw new CatalogRefusal(CatalogRefusal.Kind.INVALID, e.getMessage());
            }
            String id = productId + "-" + environment.label() + "-" + clusterId;
            try (PreparedStatement ps = c.prepareStatement("insert into product_publish (id, product_id, cluster_id,"
                    + " environment, auth_mode, state, host, gateway_group) values (?, ?, ?, ?, ?, 'draft', ?, ?)")) {
                ps.setString(1, id);
                ps.setString(2, productId);
                ps.setString(3, clusterId);
                ps.setString(4, environment.label());
                ps.setString(5, lower(authMode));
                ps.setString(6, host.name());
                ps.setString(7, gatewayGroup);
                ps.executeUpdate();
            }
            return readPublish(c, id).orElseThrow();
        });
    }

    public List<ProductPublish> publishes(TenantScope scope, String productId) {
        return run(scope, c -> {
            List<ProductPublish> out = new ArrayList<>();
            for (String id : ids(c, "select id from product_publish where product_id = ? order by id", productId)) {
                readPublish(c, id).ifPresent(out::add);
            }
            return out;
        });
    }

    /**
     * Publishes or withdraws; a product must be published (or deprecated) before any publish of it serves. The
     * gateway group is made to serve its publishes as they stand after the move, inside this transaction: when
     * {@code gateway} refuses, the publish does not move.
     *
     * @return the publish and what the gateway did (a revision, or a request waiting for approval)
     */
    public Moved movePublish(TenantScope scope, String publishId, PublishState to, GatewayServing gateway,
                             GatewayServing.Change change) {
        return run(scope, c -> {
            ProductPublish pub = readPublish(c, publishId)
                    .orElseThrow(() -> CatalogRefusal.notFound("product publish", publishId));
            Product product = ownProductForUpdate(c, pub.productId());
            PublishState.LIFECYCLE.move(pub.state(), to);
            if (to == PublishState.PUBLISHED && product.state() != ProductState.PUBLISHED
                    && product.state() != ProductState.DEPRECATED) {
                throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT,
                        "product " + product.id() + " is " + lower(product.state()) + ": publish the product first");
            }
            String group = strings(c, "select gateway_group from product_publish where id = ?", publishId).get(0);
            if (to == PublishState.PUBLISHED) {
                // an assignment withdrawn since the draft was made no longer places it
                requirePlacement(c, pub.cluster(), group, product.tenant());
            }
            setState(c, "product_publish", "id = ?", lower(to), publishId);
            ServedProduct moved = new ServedProduct(pub.id(), product.id(), group, pub.host(), pub.authMode(),
                    product.operations());
            GatewayServing.Served served = gateway.serve(moved, to == PublishState.PUBLISHED, change);
            if (served.request().isPresent()) {
                // a protected group: the publish keeps its state (takes no subscriptions, is not compiled into the
                // next publish) until a second person approves the request
                try (PreparedStatement ps = c.prepareStatement("update product_publish set state = ?,"
                        + " pending_request = ?, pending_state = ? where id = ?")) {
                    ps.setString(1, lower(pub.state()));
                    ps.setLong(2, served.request().get());
                    ps.setString(3, lower(to));
                    ps.setString(4, publishId);
                    ps.executeUpdate();
                }
            }
            if (served.revision().isPresent()) {
                try (PreparedStatement ps = c.prepareStatement("update product_publish set revision = ? where id = ?")) {
                    ps.setLong(1, served.revision().get());
                    ps.setString(2, publishId);
                    ps.executeUpdate();
                }
            }
            return new Moved(readPublish(c, publishId).orElseThrow(), served);
        });
    }

    /**
     * The second person's decision on publish request {@code request}: an approval ({@code revision} present) moves the
     * product publish that waits in it to the state it asked for, served by that revision; a rejection leaves it where
     * it was. A system action (the decider holds {@code revision:approve} on the gateway group).
     */
    public void publishRequestDecided(long request, Optional<Long> revision) {
        run(TenantScope.ALL, c -> {
            String sql = revision.isPresent()
                    ? "update product_publish set state = pending_state, revision = ?, updated_at = now(),"
                            + " pending_request = null, pending_state = null where pending_request = ?"
                    : "update product_publish set pending_request = null, pending_state = null"
                            + " where pending_request = ?";
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                int i = 1;
                if (revision.isPresent()) {
                    ps.setLong(i++, revision.get());
                }
                ps.setLong(i, request);
                return ps.executeUpdate();
            }
        });
    }

    /** A moved publish and what its gateway group did about it. */
    public record Moved(ProductPublish publish, GatewayServing.Served gateway) {
    }

    /**
     * Every published publish by gateway group, with its product's operations: what the controller compiles into each
     * group's revision on any publish (so a draft publish keeps serving the products). Read across tenants.
     */
    public Map<String, List<ServedProduct>> servedProducts() {
        return servedProducts(-1);
    }

    /**
     * As {@link #servedProducts()}, with the publishes waiting in publish request {@code request} as that request asks
     * (what its approval would serve).
     */
    public Map<String, List<ServedProduct>> servedProducts(long request) {
        return run(TenantScope.ALL, c -> {
            Map<String, List<ServedProduct>> out = new java.util.TreeMap<>();
            for (ServedProduct p : servedProducts(c, request)) {
                out.computeIfAbsent(p.gatewayGroup(), g -> new ArrayList<>()).add(p);
            }
            return out;
        });
    }

    private static List<ServedProduct> servedProducts(Connection c, long request) throws SQLException {
        List<ServedProduct> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select pp.id, pp.product_id, pp.gateway_group, pp.host,"
                + " pp.auth_mode from product_publish pp join product p on p.id = pp.product_id"
                + " where (case when pp.pending_request = ? then pp.pending_state else pp.state end) = 'published'"
                + " and p.state in ('published', 'deprecated') order by pp.id")) {
            ps.setLong(1, request);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new ServedProduct(rs.getString(1), rs.getString(2), rs.getString(3),
                            new PublishHost(rs.getString(4)), AuthMode.valueOf(rs.getString(5).toUpperCase(
                                    java.util.Locale.ROOT)), readOperations(c, rs.getString(2))));
                }
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ applications

    public Application createApplication(TenantScope scope, Application application, String owner) {
        return run(scope, c -> {
            requireTenant(c, application.tenant());
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into application (id, tenant, name, owner, state) values (?, ?, ?, ?, 'active')")) {
                ps.setString(1, application.id());
                ps.setString(2, application.tenant());
                ps.setString(3, application.name());
                ps.setString(4, owner);
                ps.executeUpdate();
            }
            return readApplication(c, application.id()).orElseThrow();
        });
    }

    public List<Application> applications(TenantScope scope) {
        return run(scope, c -> {
            List<Application> out = new ArrayList<>();
            for (String id : ids(c, "select id from application order by id")) {
                readApplication(c, id).ifPresent(out::add);
            }
            return out;
        });
    }

    public Application moveApplication(TenantScope scope, String id, ApplicationState to) {
        return run(scope, c -> {
            Application app = lockApplication(c, id);
            ApplicationState.LIFECYCLE.move(app.state(), to);
            setState(c, "application", "id = ?", lower(to), id);
            return readApplication(c, id).orElseThrow();
        });
    }

    // ------------------------------------------------------------------ subscriptions

    /**
     * Subscribes one of the scope's applications to a plan of a published product publish. The plan's approval decides
     * whether the subscription starts active or pending; the provider's tenant is taken from the product, never from
     * the caller.
     */
    public Subscription subscribe(TenantScope scope, String applicationId, String publishId, String planId,
                                  String actor) {
        return subscribe(scope, applicationId, publishId, planId, byName(actor));
    }

    /** As above, by the person who asks (whom a manual plan's approval may not come from). */
    public Subscription subscribe(TenantScope scope, String applicationId, String publishId, String planId,
                                  Person actor) {
        return run(scope, c -> {
            Application app = lockApplication(c, applicationId);
            ProductPublish pub = readPublish(c, publishId)
                    .filter(p -> p.state() == PublishState.PUBLISHED)
                    .orElseThrow(() -> CatalogRefusal.notFound("product publish", publishId));
            Plan plan = readPlan(c, planId).orElseThrow(() -> CatalogRefusal.notFound("plan", planId));
            if (!plan.productId().equals(pub.productId())) {
                throw new CatalogRefusal(CatalogRefusal.Kind.INVALID,
                        "plan " + planId + " is not a plan of product " + pub.productId());
            }
            if (!plan.state().acceptsSubscriptions()) {
                throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT,
                        "plan " + plan.name() + " is " + lower(plan.state()) + " and takes no new subscriptions");
            }
            if (!plan.authModes().contains(pub.authMode())) {
                throw new CatalogRefusal(CatalogRefusal.Kind.INVALID, "plan " + plan.name() + " does not admit "
                        + lower(pub.authMode()) + ", the auth mode of " + publishId);
            }
            if (count(c, "select count(*) from subscription where application_id = ? and publish_id = ?"
                    + " and state in ('pending', 'active', 'suspended')", applicationId, publishId) > 0) {
                throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT, "application " + applicationId
                        + " already has a subscription on " + publishId + ": change its plan instead");
            }
            String providerTenant = strings(c, "select tenant from product where id = ?", pub.productId()).get(0);
            String id = "sub-" + UUID.randomUUID();
            try (PreparedStatement ps = c.prepareStatement("insert into subscription (id, application_id, publish_id,"
                    + " plan_id, state, provider_tenant, customer_tenant, requested_by, requested_by_person)"
                    + " values (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
                ps.setString(1, id);
                ps.setString(2, applicationId);
                ps.setString(3, publishId);
                ps.setString(4, planId);
                ps.setString(5, lower(plan.initialSubscriptionState()));
                ps.setString(6, providerTenant);
                ps.setString(7, app.tenant());
                ps.setString(8, actor.name());
                ps.setString(9, actor.id());
                ps.executeUpdate();
            }
            return readSubscription(c, id).orElseThrow();
        });
    }

    /** Subscriptions the scope may see from either side (both sides see their shared rows). */
    public List<Subscription> subscriptions(TenantScope scope) {
        return run(scope, c -> {
            List<Subscription> out = new ArrayList<>();
            for (String id : ids(c, "select id from subscription order by created_at, id")) {
                readSubscription(c, id).ifPresent(out::add);
            }
            return out;
        });
    }

    /** Subscriptions on the scope's own products ({@link Side#PROVIDER}) or of its own applications. */
    public List<Subscription> subscriptions(TenantScope scope, Side side) {
        String column = side == Side.PROVIDER ? "provider_tenant" : "customer_tenant";
        return run(scope, c -> {
            List<Subscription> out = new ArrayList<>();
            for (String[] row : rows(c, "select id, " + column + " from subscription order by created_at, id")) {
                if (scope.includes(row[1])) {
                    readSubscription(c, row[0]).ifPresent(out::add);
                }
            }
            return out;
        });
    }

    /**
     * Who is behind each subscription on the scope's own products, by subscription id. The subscription rows are read
     * in the scope (row-level security); the application's name and the customer's display name are then read for
     * exactly those subscriptions, because a provider sees no row of another tenant's {@code application} table —
     * a name through a subscription to its own product, nothing else.
     */
    public Map<String, Subscriber> subscribers(TenantScope scope) {
        return subscribers(scope, Optional.of(Side.PROVIDER));
    }

    /** As above, from either side ({@code side} empty: every subscription the scope may see). */
    private Map<String, Subscriber> subscribers(TenantScope scope, Optional<Side> side) {
        List<String[]> subs = run(scope, c -> rows(c, "select id, provider_tenant, customer_tenant, application_id,"
                + " coalesce(requested_by, '') from subscription order by created_at, id")).stream()
                .filter(r -> side.isEmpty() || scope.includes(side.get() == Side.PROVIDER ? r[1] : r[2])).toList();
        if (subs.isEmpty()) {
            return Map.of();
        }
        String[] apps = subs.stream().map(r -> r[3]).distinct().toArray(String[]::new);
        String[] tenants = subs.stream().map(r -> r[2]).distinct().toArray(String[]::new);
        Map<String, String> appNames = new java.util.HashMap<>();
        Map<String, String> tenantNames = new java.util.HashMap<>();
        run(TenantScope.ALL, c -> {
            try (PreparedStatement ps = c.prepareStatement("select id, name from application where id = any (?)")) {
                ps.setArray(1, c.createArrayOf("varchar", apps));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        appNames.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("select id, coalesce(display_name, id) from tenant"
                    + " where id = any (?)")) {
                ps.setArray(1, c.createArrayOf("varchar", tenants));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        tenantNames.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            return null;
        });
        Map<String, Subscriber> out = new java.util.LinkedHashMap<>();
        for (String[] r : subs) {
            out.put(r[0], new Subscriber(r[0], r[2], tenantNames.getOrDefault(r[2], r[2]), r[3],
                    appNames.getOrDefault(r[3], r[3]), r[4]));
        }
        return out;
    }

    /**
     * Every plan quota counted in its current period for the live subscriptions the scope may see (as provider or
     * customer): extauthz's {@code quota_usage} count under the subscription's counter against its plan's limit.
     * The counters and plans are read for exactly those subscriptions (the counter's caller names an application,
     * which no tenant policy on {@code quota_usage} resolves).
     */
    public List<PlanQuotaUse> planQuotasInUse(TenantScope scope) {
        Map<String, Subscriber> who = subscribers(scope, Optional.empty());
        List<Subscription> live = subscriptions(scope).stream().filter(s -> who.containsKey(s.id()))
                .filter(s -> s.state() == SubscriptionState.ACTIVE || s.state() == SubscriptionState.SUSPENDED)
                .toList();
        if (live.isEmpty()) {
            return List.of();
        }
        // one read of the counters and one per distinct plan, not one per subscription
        Map<String, Subscription> byCaller = new java.util.HashMap<>();
        live.forEach(s -> byCaller.put(s.quotaCaller(), s));
        return run(TenantScope.ALL, c -> {
            Map<String, Optional<Plan>> plans = new java.util.HashMap<>();
            List<PlanQuotaUse> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("select caller, quota, used, period_start from quota_usage"
                    + " where caller = any (?) and period_end > now() and (quota = 'subscription'"
                    + " or quota like 'subscription/%') order by caller, quota")) {
                ps.setArray(1, c.createArrayOf("varchar", byCaller.keySet().toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        Subscription s = byCaller.get(rs.getString(1));
                        String counter = rs.getString(2);
                        Optional<Plan> plan = plans.get(s.planId());
                        if (plan == null) {
                            plan = readPlan(c, s.planId());
                            plans.put(s.planId(), plan);
                        }
                        String operation = counter.substring(counter.indexOf('/') + 1);
                        Optional<CalendarQuota> quota = plan.flatMap(p -> counter.equals("subscription")
                                ? p.limits().quota()
                                : Optional.ofNullable(p.operationLimits().get(operation)).flatMap(PlanLimits::quota));
                        if (quota.isPresent()) {
                            out.add(new PlanQuotaUse(who.get(s.id()), plan.get().name(), counter, rs.getLong(3),
                                    quota.get().limit(), rs.getDate(4).toLocalDate()));
                        }
                    }
                }
            }
            return out;
        });
    }

    /** Approves, rejects, suspends, resumes or closes; the actor and reason are kept with the row. */
    public Subscription moveSubscription(TenantScope scope, Side side, String id, SubscriptionState to, String actor,
                                         String reason) {
        return moveSubscription(scope, side, id, to, byName(actor), reason);
    }

    /**
     * As above, by a person: who asked for a pending subscription never approves it (a provider and a customer in one
     * tenant would otherwise be one person deciding alone).
     */
    public Subscription moveSubscription(TenantScope scope, Side side, String id, SubscriptionState to, Person actor,
                                         String reason) {
        return run(scope, c -> {
            Subscription s = lockSubscription(c, id, scope, side);
            SubscriptionState.LIFECYCLE.move(s.state(), to);
            if (to == SubscriptionState.ACTIVE && s.state() == SubscriptionState.PENDING) {
                if (askedBy(c, id, actor)) {
                    throw new CatalogRefusal(CatalogRefusal.Kind.FORBIDDEN, actor.name() + " asked for subscription "
                            + id + "; another person must approve it");
                }
                Plan plan = readPlan(c, s.planId()).orElseThrow();
                if (plan.state() == PlanState.CLOSED) {
                    throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT, "plan " + plan.name() + " is closed");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("update subscription set state = ?, decided_by = ?,"
                    + " reason = ?, updated_at = now() where id = ?")) {
                ps.setString(1, lower(to));
                ps.setString(2, actor.name());
                ps.setString(3, reason);
                ps.setString(4, id);
                ps.executeUpdate();
            }
            return readSubscription(c, id).orElseThrow();
        });
    }

    /**
     * Moves a live subscription to another published plan of the same product. The subscription keeps its id, so its
     * credentials keep working and its quota counters (keyed by subscription) carry over: docs/products.md.
     */
    public Subscription changePlan(TenantScope scope, Side side, String id, String planId, String actor,
                                   String reason) {
        return run(scope, c -> {
            Subscription s = lockSubscription(c, id, scope, side);
            Plan current = readPlan(c, s.planId()).orElseThrow();
            Plan next = readPlan(c, planId).orElseThrow(() -> CatalogRefusal.notFound("plan", planId));
            if (!next.productId().equals(current.productId())) {
                throw new CatalogRefusal(CatalogRefusal.Kind.INVALID,
                        "plan " + planId + " is not a plan of product " + current.productId());
            }
            if (!next.state().acceptsSubscriptions()) {
                throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT,
                        "plan " + next.name() + " is " + lower(next.state()) + " and takes no new subscriptions");
            }
            if (side == Side.CUSTOMER && next.approval() == Plan.Approval.MANUAL) {
                throw new CatalogRefusal(CatalogRefusal.Kind.CONFLICT, "plan " + next.name()
                        + " needs the provider's approval: ask the provider to move the subscription");
            }
            Subscription moved = s.onPlan(planId);
            try (PreparedStatement ps = c.prepareStatement("update subscription set plan_id = ?, decided_by = ?,"
                    + " reason = ?, updated_at = now() where id = ?")) {
                ps.setString(1, moved.planId());
                ps.setString(2, actor);
                ps.setString(3, reason);
                ps.setString(4, id);
                ps.executeUpdate();
            }
            return readSubscription(c, id).orElseThrow();
        });
    }

    /**
     * Usage of one subscription since {@code from}, for the side that asks (each sees only its own subscriptions).
     * Counted from extauthz's audit rows that name the subscription (every decision made on it, admitted or refused):
     * calls refused before any subscription was found (an unknown key, no subscription) belong to none, and another
     * subscription of the same application counts its own.
     */
    public SubscriptionUsage usage(TenantScope scope, Side side, String subscriptionId, Instant from) {
        Subscription s = run(scope, c -> lockSubscriptionShared(c, subscriptionId, scope, side));
        return run(TenantScope.ALL, c -> {
            long calls = 0;
            long allowed = 0;
            Map<String, Long> refused = new TreeMap<>();
            Map<String, Long> byCredential = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("select decision, reason,"
                    + " coalesce(details->>'api_key_id', client_id) as credential, count(*) from audit_event"
                    + " where kind = 'authz_decision' and occurred_at >= ? and details->>'"
                    + SubscriptionUsage.AUDIT_DETAIL + "' = ?"
                    + " group by decision, reason, credential")) {
                ps.setTimestamp(1, Timestamp.from(from));
                ps.setString(2, s.id());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long n = rs.getLong(4);
                        calls += n;
                        if ("allow".equals(rs.getString(1))) {
                            allowed += n;
                        } else {
                            refused.merge(rs.getString(2), n, Long::sum);
                        }
                        byCredential.merge(rs.getString(3), n, Long::sum);
                    }
                }
            }
            // the counters are the application's on this publish, never the plan's or the subscription's: a plan
            // change and a new subscription after a closed one carry what was used over
            Map<String, SubscriptionUsage.QuotaUsed> quotas = new TreeMap<>();
            try (PreparedStatement ps = c.prepareStatement("select quota, used, period_start, period_end"
                    + " from quota_usage where caller = ? and period_end > now()")) {
                ps.setString(1, s.quotaCaller());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        quotas.put(rs.getString(1), new SubscriptionUsage.QuotaUsed(rs.getLong(2),
                                rs.getDate(3).toLocalDate(), rs.getTimestamp(4).toInstant()));
                    }
                }
            }
            return new SubscriptionUsage(s.id(), from, calls, allowed, refused, byCredential, quotas);
        });
    }

    // ------------------------------------------------------------------ credentials

    /**
     * Binds a credential (an API key's id or a Keycloak client id) to one of the scope's applications. The key and
     * the subscriptions it names must be the application's own: PostgreSQL checks the foreign keys without row-level
     * security, so another tenant's key (or a subscription of another application) would otherwise bind, and its
     * owner's calls would be decided by this application's subscriptions.
     */
    public Credential addCredential(TenantScope scope, Credential credential) {
        return run(scope, c -> {
            Application app = lockApplication(c, credential.applicationId());
            if (credential.kind() == AuthMode.APIKEY) {
                // read under the scope's row-level security: another tenant's key is as absent as a missing one
                List<String> keyTenant = strings(c, "select tenant from api_keys where key_id = ?", credential.id());
                if (keyTenant.isEmpty() || !keyTenant.get(0).equals(app.tenant())) {
                    throw new CatalogRefusal(CatalogRefusal.Kind.NOT_FOUND, "API key " + credential.id()
                            + " not found in tenant " + app.tenant() + ", application " + app.id() + "'s");
                }
            }
            try (PreparedStatement ps = c.prepareStatement("insert into credential (id, kind, application_id, tenant,"
                    + " state, api_key_id, expires_at) values (?, ?, ?, ?, 'active', ?, ?)")) {
                ps.setString(1, credential.id());
                ps.setString(2, lower(credential.kind()));
                ps.setString(3, app.id());
                ps.setString(4, app.tenant());
                ps.setString(5, credential.kind() == AuthMode.APIKEY ? credential.id() : null);
                ps.setTimestamp(6, credential.expiresAt().map(t -> Timestamp.from(t.truncatedTo(ChronoUnit.MICROS)))
                        .orElse(null));
                ps.executeUpdate();
            }
            for (String sub : credential.subscriptionIds()) {
                if (!lockSubscription(c, sub, scope, Side.CUSTOMER).applicationId().equals(app.id())) {
                    throw new CatalogRefusal(CatalogRefusal.Kind.NOT_FOUND, "subscription " + sub
                            + " not found among application " + app.id() + "'s");
                }
                try (PreparedStatement ps = c.prepareStatement("insert into credential_subscription (kind,"
                        + " credential_id, subscription_id) values (?, ?, ?)")) {
                    ps.setString(1, lower(credential.kind()));
                    ps.setString(2, credential.id());
                    ps.setString(3, sub);
                    ps.executeUpdate();
                }
            }
            return readCredential(c, credential.kind(), credential.id()).orElseThrow();
        });
    }

    /**
     * Rotates (the predecessor keeps working until {@code overlapEndsAt}), revokes or expires a credential.
     * {@code overlapEndsAt} is required for rotation and ignored otherwise.
     */
    public Credential moveCredential(TenantScope scope, AuthMode kind, String id, CredentialState to,
                                     Optional<Instant> overlapEndsAt) {
        return run(scope, c -> {
            Credential cr = readCredential(c, kind, id, true)
                    .orElseThrow(() -> CatalogRefusal.notFound("credential", id));
            CredentialState.LIFECYCLE.move(cr.state(), to);
            if (to == CredentialState.ROTATING && overlapEndsAt.isEmpty()) {
                throw new CatalogRefusal(CatalogRefusal.Kind.INVALID, "rotation needs the end of the overlap window");
            }
            try (PreparedStatement ps = c.prepareStatement("update credential set state = ?, overlap_ends_at = ?,"
                    + " updated_at = now() where kind = ? and id = ?")) {
                ps.setString(1, lower(to));
                // PostgreSQL keeps microseconds and rounds: truncate so a window never ends later than asked
                ps.setTimestamp(2, to == CredentialState.ROTATING
                        ? Timestamp.from(overlapEndsAt.orElseThrow().truncatedTo(ChronoUnit.MICROS)) : null);
                ps.setString(3, lower(kind));
                ps.setString(4, id);
                ps.executeUpdate();
            }
            return readCredential(c, kind, id).orElseThrow();
        });
    }

    public List<Credential> credentials(TenantScope scope) {
        return run(scope, CatalogStore::credentialsIn);
    }

    // ------------------------------------------------------------------ the snapshot extauthz decides from

    /**
     * Every publish, plan, application, credential and subscription, read in one repeatable-read transaction so the
     * snapshot is one consistent state; {@code version} is the caller's (the controller numbers what it pushes).
     */
    public SubscriptionSnapshot snapshot(long version) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            c.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            c.setReadOnly(true);
            try {
                List<ProductPublish> publishes = new ArrayList<>();
                for (String id : ids(c, "select id from product_publish")) {
                    readPublish(c, id).ifPresent(publishes::add);
                }
                List<Plan> plans = new ArrayList<>();
                for (String id : ids(c, "select id from plan")) {
                    readPlan(c, id).ifPresent(plans::add);
                }
                List<Application> apps = new ArrayList<>();
                for (String id : ids(c, "select id from application")) {
                    readApplication(c, id).ifPresent(apps::add);
                }
                List<Subscription> subs = new ArrayList<>();
                for (String id : ids(c, "select id from subscription")) {
                    readSubscription(c, id).ifPresent(subs::add);
                }
                List<Credential> creds = credentialsIn(c);
                c.commit();
                return new SubscriptionSnapshot(version, publishes, plans, apps, creds, subs);
            } finally {
                c.rollback();
                c.setReadOnly(false);
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the catalogue: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ rows

    private static List<Credential> credentialsIn(Connection c) throws SQLException {
        List<Credential> out = new ArrayList<>();
        for (String[] k : rows(c, "select kind, id from credential order by kind, id")) {
            readCredential(c, AuthMode.valueOf(k[0].toUpperCase(Locale.ROOT)), k[1]).ifPresent(out::add);
        }
        return out;
    }

    private static Optional<Product> readProduct(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select id, tenant, name, version, description, tags, docs_url,"
                + " visibility, state from product where id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Product(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        Optional.ofNullable(rs.getString(5)), Arrays.asList(strings(rs.getArray(6))),
                        Optional.ofNullable(rs.getString(7)), upper(Product.Visibility.class, rs.getString(8)),
                        upper(ProductState.class, rs.getString(9)), readOperations(c, id)));
            }
        }
    }

    private static List<Product.Operation> readOperations(Connection c, String productId) throws SQLException {
        List<Product.Operation> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select o.id, a.name, o.method, o.path from product_operation o"
                + " join api a on a.id = o.api_id where o.product_id = ? order by o.id")) {
            ps.setString(1, productId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Product.Operation(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
                }
            }
        }
        return out;
    }

    private static void writeOperations(Connection c, String productId, List<Product.Operation> operations)
            throws SQLException {
        for (Product.Operation op : operations) {
            // the API is looked up under the caller's scope: another tenant's API is as absent as a missing one
            List<String> api = strings(c, "select a.id::text from api a join product p on p.tenant = a.tenant"
                    + " where a.name = ? and p.id = ?", op.api(), productId);
            if (api.isEmpty()) {
                throw new CatalogRefusal(CatalogRefusal.Kind.INVALID, "operation " + op.id() + ": API " + op.api()
                        + " not found in the product's tenant");
            }
            try (PreparedStatement ps = c.prepareStatement("insert into product_operation (product_id, id, api_id,"
                    + " method, path) values (?, ?, ?, ?, ?)")) {
                ps.setString(1, productId);
                ps.setString(2, op.id());
                ps.setLong(3, Long.parseLong(api.get(0)));
                ps.setString(4, op.method());
                ps.setString(5, op.path());
                ps.executeUpdate();
            }
        }
    }

    private static Optional<Plan> readPlan(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select id, product_id, name, state, limits::text,"
                + " operation_limits::text, approval, auth_modes from plan where id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Set<AuthMode> modes = EnumSet.noneOf(AuthMode.class);
                for (String m : strings(rs.getArray(8))) {
                    modes.add(upper(AuthMode.class, m));
                }
                try {
                    return Optional.of(new Plan(rs.getString(1), rs.getString(2), rs.getString(3),
                            upper(PlanState.class, rs.getString(4)),
                            PlanLimitsJson.parse(JSON.readTree(rs.getString(5)), "plan " + id + " limits"),
                            PlanLimitsJson.parseOperations(JSON.readTree(rs.getString(6)), "plan " + id),
                            upper(Plan.Approval.class, rs.getString(7)), modes));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new SQLException("plan " + id + ": stored limits are not JSON", e);
                }
            }
        }
    }

    private static Optional<ProductPublish> readPublish(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select id, product_id, cluster_id, environment, auth_mode,"
                + " state, host from product_publish where id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new ProductPublish(rs.getString(1), rs.getString(2), rs.getString(3),
                        upper(Environment.class, rs.getString(4)), upper(AuthMode.class, rs.getString(5)),
                        upper(PublishState.class, rs.getString(6)), new PublishHost(rs.getString(7))));
            }
        }
    }

    private static Optional<Application> readApplication(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select id, tenant, name, state from application where id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Application(rs.getString(1), rs.getString(2), rs.getString(3),
                        upper(ApplicationState.class, rs.getString(4)))) : Optional.empty();
            }
        }
    }

    private static Optional<Subscription> readSubscription(Connection c, String id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select id, application_id, publish_id, plan_id, state"
                + " from subscription where id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new Subscription(rs.getString(1), rs.getString(2), rs.getString(3),
                        rs.getString(4), upper(SubscriptionState.class, rs.getString(5)))) : Optional.empty();
            }
        }
    }

    private static Optional<Credential> readCredential(Connection c, AuthMode kind, String id) throws SQLException {
        return readCredential(c, kind, id, false);
    }

    private static Optional<Credential> readCredential(Connection c, AuthMode kind, String id, boolean lock)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select id, application_id, state, expires_at, overlap_ends_at"
                + " from credential where kind = ? and id = ?" + (lock ? " for update" : ""))) {
            ps.setString(1, lower(kind));
            ps.setString(2, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Credential cr = new Credential(rs.getString(1), kind, rs.getString(2),
                        upper(CredentialState.class, rs.getString(3)),
                        Optional.ofNullable(rs.getTimestamp(4)).map(Timestamp::toInstant),
                        Optional.ofNullable(rs.getTimestamp(5)).map(Timestamp::toInstant),
                        Set.copyOf(strings(c, "select subscription_id from credential_subscription"
                                + " where kind = ? and credential_id = ?", lower(kind), id)));
                return Optional.of(cr);
            }
        }
    }

    private static Product ownProductForUpdate(Connection c, String productId) throws SQLException {
        // "for update" only returns rows the scope may change (the catalogue policy is select-only), so another
        // tenant's published product is as absent here as a missing one
        if (strings(c, "select id from product where id = ? for update", productId).isEmpty()) {
            throw CatalogRefusal.notFound("product", productId);
        }
        return readProduct(c, productId).orElseThrow();
    }

    private static Application lockApplication(Connection c, String id) throws SQLException {
        if (strings(c, "select id from application where id = ? for update", id).isEmpty()) {
            throw CatalogRefusal.notFound("application", id);
        }
        return readApplication(c, id).orElseThrow();
    }

    /** Whether {@code person} asked for subscription {@code id} (by subject; by name for rows kept before V61). */
    private static boolean askedBy(Connection c, String id, Person person) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select requested_by, requested_by_person from subscription"
                + " where id = ?")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
                String subject = rs.getString(2);
                return subject == null ? person.name().equals(rs.getString(1)) : subject.equals(person.id());
            }
        }
    }

    /** A person known by name only: the token file's names, tests and benches. */
    private static Person byName(String actor) {
        return new Person("token " + actor, actor, AuthMethod.LOCAL);
    }

    private static Subscription lockSubscription(Connection c, String id, TenantScope scope, Side side)
            throws SQLException {
        return sideOf(c, id, scope, side, " for update");
    }

    private static Subscription lockSubscriptionShared(Connection c, String id, TenantScope scope, Side side)
            throws SQLException {
        return sideOf(c, id, scope, side, "");
    }

    private static Subscription sideOf(Connection c, String id, TenantScope scope, Side side, String lock)
            throws SQLException {
        List<String> tenant = strings(c, "select " + (side == Side.PROVIDER ? "provider_tenant" : "customer_tenant")
                + " from subscription where id = ?" + lock, id);
        // the other side's view of the row is not enough: it answers as if the subscription did not exist
        if (tenant.isEmpty() || !scope.includes(tenant.get(0))) {
            throw CatalogRefusal.notFound("subscription", id);
        }
        return readSubscription(c, id).orElseThrow();
    }

    private static void setState(Connection c, String table, String where, String state, String id)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("update " + table + " set state = ?, updated_at = now() where "
                + where)) {
            ps.setString(1, state);
            ps.setString(2, id);
            if (ps.executeUpdate() != 1) {
                throw CatalogRefusal.notFound(table.replace('_', ' '), id);
            }
        }
    }

    private static void touch(Connection c, String table, String id, String actor) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("update " + table + " set updated_by = ?, updated_at = now()"
                + " where id = ?")) {
            ps.setString(1, actor);
            ps.setString(2, id);
            ps.executeUpdate();
        }
    }

    private static long count(Connection c, String sql, String... args) throws SQLException {
        return Long.parseLong(strings(c, sql, args).get(0));
    }

    private static List<String> ids(Connection c, String sql, String... args) throws SQLException {
        return strings(c, sql, args);
    }

    private static List<String> strings(Connection c, String sql, String... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setString(i + 1, args[i]);
            }
            List<String> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    private static List<String[]> rows(Connection c, String sql) throws SQLException {
        List<String[]> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                String[] row = new String[n];
                for (int i = 0; i < n; i++) {
                    row[i] = rs.getString(i + 1);
                }
                out.add(row);
            }
        }
        return out;
    }

    private static String[] strings(Array array) throws SQLException {
        return array == null ? new String[0] : (String[]) array.getArray();
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    private static <E extends Enum<E>> E upper(Class<E> type, String name) {
        return Enum.valueOf(type, name.toUpperCase(Locale.ROOT));
    }

    private <T> T run(TenantScope scope, TenantScopedTransactions.SqlWork<T> work) {
        try {
            return tx.inScope(scope, work);
        } catch (SQLException e) {
            throw translate(e);
        }
    }

    // PostgreSQL's SQLSTATEs: a unique key means the object exists, a foreign key that a named object does not (or is
    // another tenant's), a check or row-level-security refusal that the row is not the caller's to write.
    private static RuntimeException translate(SQLException e) {
        String state = Optional.ofNullable(e.getSQLState()).orElse("");
        return switch (state) {
            case "23505" -> duplicate(e);
            case "23503" -> missingReference(e);
            case "23514" -> badValue(e);
            case "22001" -> new CatalogRefusal(CatalogRefusal.Kind.INVALID, "a value is longer than its field allows"
                    + LENGTH.matcher(detail(e)).results().map(r -> " (" + r.group(1) + " characters)").findFirst()
                    .orElse(""));
            case "42501" -> new CatalogRefusal(CatalogRefusal.Kind.NOT_FOUND, "not found");
            default -> new IllegalStateException("catalogue store: " + e.getMessage(), e);
        };
    }

    // PostgreSQL's foreign-key message names the referenced table (Detail: Key (col)=(value) is not present in table
    // "t"); the value is left out when the row's table has row-level security, as the catalogue's have. Said in
    // words, never as SQL. Tenants are checked before each insert that names one (requireTenant), so this is the
    // fallback for a tenant deleted in between and for other references.
    private static final java.util.regex.Pattern MISSING_KEY = java.util.regex.Pattern.compile(
            "Key (?:\\([a-z_]+\\)=\\((.*)\\) )?is not present in table \"([a-z_]+)\"");

    private static CatalogRefusal missingReference(SQLException e) {
        java.util.regex.Matcher m = MISSING_KEY.matcher(Optional.ofNullable(e.getMessage()).orElse(""));
        if (!m.find()) {
            return new CatalogRefusal(CatalogRefusal.Kind.INVALID, "names an object that does not exist");
        }
        String table = m.group(2).replace('_', ' ');
        if (m.group(1) == null) {
            return new CatalogRefusal(CatalogRefusal.Kind.INVALID, "names a " + table + " that does not exist");
        }
        return m.group(2).equals("tenant") ? Tenant.unknown(m.group(1))
                : new CatalogRefusal(CatalogRefusal.Kind.INVALID, table + " '" + m.group(1) + "' does not exist");
    }

    /** Refuses, in words, a row for a tenant the database does not have (before PostgreSQL's foreign key would). */
    private static void requireTenant(Connection c, String tenant) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select 1 from tenant where id = ?")) {
            ps.setString(1, tenant);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw Tenant.unknown(tenant);
                }
            }
        }
    }

    private static final java.util.regex.Pattern CONSTRAINT = java.util.regex.Pattern.compile(
            "(?:relation \"([a-z_]+)\" violates check )?constraint \"([a-z_]+)\"");
    private static final java.util.regex.Pattern DUPLICATE_KEY = java.util.regex.Pattern.compile(
            "Key \\(([a-z_, ]+)\\)=\\((.*)\\) already exists");
    private static final java.util.regex.Pattern LENGTH = java.util.regex.Pattern.compile("varying\\(([0-9]+)\\)");

    /** A unique constraint, in words: {@code product_pk} → "a product 'payments' already exists". */
    private static CatalogRefusal duplicate(SQLException e) {
        String message = Optional.ofNullable(e.getMessage()).orElse("");
        java.util.regex.Matcher c = CONSTRAINT.matcher(message);
        String what = c.find() ? c.group(2).replaceFirst("_(pk|key|unique)$", "").replace('_', ' ') : "object";
        java.util.regex.Matcher k = DUPLICATE_KEY.matcher(message);
        return new CatalogRefusal(CatalogRefusal.Kind.CONFLICT, "a " + what
                + (k.find() ? " with " + k.group(1) + " '" + k.group(2) + "'" : " with that id") + " already exists");
    }

    /** A check constraint, in words: {@code product_id_check} on relation product → "id: not allowed for a product". */
    private static CatalogRefusal badValue(SQLException e) {
        java.util.regex.Matcher c = CONSTRAINT.matcher(Optional.ofNullable(e.getMessage()).orElse(""));
        if (!c.find() || c.group(1) == null) {
            return new CatalogRefusal(CatalogRefusal.Kind.INVALID, "a value is not allowed here");
        }
        String table = c.group(1);
        String field = c.group(2).replaceFirst("^" + table + "_", "").replaceFirst("_check$", "").replace('_', ' ');
        return new CatalogRefusal(CatalogRefusal.Kind.INVALID, field + ": a value not allowed for a "
                + table.replace('_', ' '));
    }

    private static String detail(SQLException e) {
        String m = Optional.ofNullable(e.getMessage()).orElse("");
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }
}
