package io.meshguard.catalog;

import io.meshguard.access.Person;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.CredentialState;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Lifecycle;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanQuotaUse;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.ServedProduct;
import io.meshguard.catalogmodel.Subscriber;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.catalogmodel.SubscriptionUsage;
import io.meshguard.catalogmodel.TenantCatalog;
import io.meshguard.db.TenantScope;
import io.meshguard.db.TenantScopedTransactions;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

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

    /**
     * Which side of a subscription acts. Row-level security shows a subscription to its provider and its customer
     * alike; what each may do differs (a customer must not approve its own subscription), so each change names its
     * side and the caller's tenants must include that side's tenant.
     */
    public enum Side {
        PROVIDER,
        CUSTOMER
    }

    private final PlatformStore platform;
    private final ProductStore products;
    private final PublishStore publishes;
    private final SubscriptionStore subscriptions;
    private final CredentialStore credentials;
    private final SnapshotReader snapshots;
    private final CatalogTransactions tx;
    private final PlanChangeStore planChanges;

    public CatalogStore(DataSource dataSource) {
        CatalogTransactions tx = new CatalogTransactions(Objects.requireNonNull(dataSource, "dataSource"));
        this.platform = new PlatformStore(tx);
        this.products = new ProductStore(tx);
        this.publishes = new PublishStore(tx);
        this.subscriptions = new SubscriptionStore(tx);
        this.credentials = new CredentialStore(tx);
        this.snapshots = new SnapshotReader(tx);
        this.tx = tx;
        this.planChanges = new PlanChangeStore(tx);
    }

    /** Changes of plans' limits: direct while unguarded, else requested and approved (four eyes). */
    public PlanChangeStore planChanges() {
        return planChanges;
    }

    /** Registers or updates a cluster; its gateway groups stay as they are. */
    public Cluster putCluster(Cluster cluster) {
        return platform.putCluster(cluster);
    }

    /**
     * Registers or updates a cluster and assigns it {@code groups}: each gateway group named is served by the cluster
     * (again, after a withdrawal) and takes product publishes of exactly the tenants given, the only placement a
     * publish may have (docs/products.md "Where a product is published"). Groups not named stay as they are.
     */
    public Cluster putCluster(Cluster cluster, Map<String, Set<String>> groups) {
        return platform.putCluster(cluster, groups);
    }

    /**
     * As above, also setting, for each group named in {@code serviceNamespaces}, the Kubernetes namespaces each of its
     * tenants' upstreams may name Services in ({@code {"group": {"tenant": ["namespace"]}}}).
     */
    public Cluster putCluster(
            Cluster cluster, Map<String, Set<String>> groups, Map<String, Map<String, Set<String>>> serviceNamespaces) {
        return platform.putCluster(cluster, groups, serviceNamespaces);
    }

    /**
     * Decommissions a cluster: its zone registrations, credentials, stream and group assignments go with it. Refused
     * while a product publish names it (withdrawn or not: the publish's history points at it) or while its zone is
     * not revoked (a live zone would keep following central with nobody answering for it).
     */
    public void deleteCluster(String id) {
        platform.deleteCluster(id);
    }

    public List<Cluster> clusters(TenantScope scope) {
        return platform.clusters(scope);
    }

    /** Creates {@code tenant} unless it exists; true when this call created it (creating twice is not an error). */
    public boolean createTenant(Tenant tenant) {
        return platform.createTenant(tenant);
    }

    /** Every tenant, by id. */
    public List<Tenant> tenants() {
        return platform.tenants();
    }

    /** Creates a product in {@code tenant}, always as a draft. */
    public Product createProduct(TenantScope scope, Product product, String actor) {
        return products.createProduct(scope, product, actor);
    }

    public Optional<Product> product(TenantScope scope, String id) {
        return products.product(scope, id);
    }

    /** The products the scope may see: its own in every state, others' published public ones. */
    public List<Product> products(TenantScope scope) {
        return products.products(scope);
    }

    /** Replaces the product's operations; each names an API of the product's own tenant. */
    public Product putOperations(
            TenantScope scope, String productId, List<Product.Operation> operations, String actor) {
        return products.putOperations(scope, productId, operations, actor);
    }

    public Product moveProduct(TenantScope scope, String productId, ProductState to, String actor) {
        return products.moveProduct(scope, productId, to, actor);
    }

    /** Creates a plan of one of the scope's products, always staging. */
    public Plan createPlan(TenantScope scope, Plan plan) {
        return products.createPlan(scope, plan);
    }

    public List<Plan> plans(TenantScope scope, String productId) {
        return products.plans(scope, productId);
    }

    /** Moves a plan; closing it closes every subscription on it in the same transaction. */
    public Plan movePlan(TenantScope scope, String planId, PlanState to, String actor) {
        return products.movePlan(scope, planId, to, actor);
    }

    /**
     * Creates a draft publish of one of the scope's products on {@code clusterId}; its host is
     * {@code {product}.{environment}.{cluster region}.api.{domain}}.
     */
    public ProductPublish createPublish(
            TenantScope scope,
            String productId,
            String clusterId,
            Environment environment,
            AuthMode authMode,
            String domain,
            String gatewayGroup) {
        return publishes.createPublish(scope, productId, clusterId, environment, authMode, domain, gatewayGroup);
    }

    /** A publish the scope may see: of its own products, or of others' public ones. */
    public Optional<ProductPublish> publish(TenantScope scope, String id) {
        return publishes.publish(scope, id);
    }

    public List<ProductPublish> publishes(TenantScope scope, String productId) {
        return publishes.publishes(scope, productId);
    }

    /**
     * Publishes or withdraws; a product must be published (or deprecated) before any publish of it serves. The
     * gateway group is made to serve its publishes as they stand after the move, inside this transaction: when
     * {@code gateway} refuses, the publish does not move.
     *
     * @return the publish and what the gateway did (a revision, or a request waiting for approval)
     */
    public Moved movePublish(
            TenantScope scope,
            String publishId,
            PublishState to,
            GatewayServing gateway,
            GatewayServing.Change change) {
        return publishes.movePublish(scope, publishId, to, gateway, change);
    }

    /**
     * The second person's decision on publish request {@code request}: an approval ({@code revision} present) moves the
     * product publish that waits in it to the state it asked for, served by that revision; a rejection leaves it where
     * it was. A system action (the decider holds {@code revision:approve} on the gateway group).
     */
    public void publishRequestDecided(long request, Optional<Long> revision) {
        publishes.publishRequestDecided(request, revision);
    }

    /**
     * Every published publish by gateway group, with its product's operations: what the controller compiles into each
     * group's revision on any publish (so a draft publish keeps serving the products). Read across tenants.
     */
    public Map<String, List<ServedProduct>> servedProducts() {
        return publishes.servedProducts();
    }

    /**
     * As {@link #servedProducts()}, with the publishes waiting in publish request {@code request} as that request asks
     * (what its approval would serve).
     */
    public Map<String, List<ServedProduct>> servedProducts(long request) {
        return publishes.servedProducts(request);
    }

    public Application createApplication(TenantScope scope, Application application, String owner) {
        return subscriptions.createApplication(scope, application, owner);
    }

    public List<Application> applications(TenantScope scope) {
        return subscriptions.applications(scope);
    }

    /** Renames one of the scope's applications; a name another application of its tenant has is refused. */
    public Application renameApplication(TenantScope scope, String id, String name) {
        return subscriptions.renameApplication(scope, id, name);
    }

    public Application moveApplication(TenantScope scope, String id, ApplicationState to) {
        return subscriptions.moveApplication(scope, id, to);
    }

    /**
     * Subscribes one of the scope's applications to a plan of a published product publish. The plan's approval decides
     * whether the subscription starts active or pending; the provider's tenant is taken from the product, never from
     * the caller.
     */
    public Subscription subscribe(
            TenantScope scope, String applicationId, String publishId, String planId, String actor) {
        return subscriptions.subscribe(scope, applicationId, publishId, planId, actor);
    }

    /** As above, by the person who asks (whom a manual plan's approval may not come from). */
    public Subscription subscribe(
            TenantScope scope, String applicationId, String publishId, String planId, Person actor) {
        return subscriptions.subscribe(scope, applicationId, publishId, planId, actor);
    }

    /** Subscriptions the scope may see from either side (both sides see their shared rows). */
    public List<Subscription> subscriptions(TenantScope scope) {
        return subscriptions.subscriptions(scope);
    }

    /** Subscriptions on the scope's own products ({@link Side#PROVIDER}) or of its own applications. */
    public List<Subscription> subscriptions(TenantScope scope, Side side) {
        return subscriptions.subscriptions(scope, side);
    }

    /**
     * Who is behind each subscription on the scope's own products, by subscription id. The subscription rows are read
     * in the scope (row-level security); the application's name and the customer's display name are then read for
     * exactly those subscriptions, because a provider sees no row of another tenant's {@code application} table —
     * a name through a subscription to its own product, nothing else.
     */
    public Map<String, Subscriber> subscribers(TenantScope scope) {
        return subscriptions.subscribers(scope);
    }

    /**
     * Every plan quota counted in its current period for the live subscriptions the scope may see (as provider or
     * customer): extauthz's {@code quota_usage} count under the subscription's counter against its plan's limit.
     * The counters and plans are read for exactly those subscriptions (the counter's caller names an application,
     * which no tenant policy on {@code quota_usage} resolves).
     */
    public List<PlanQuotaUse> planQuotasInUse(TenantScope scope) {
        return subscriptions.planQuotasInUse(scope);
    }

    /** Approves, rejects, suspends, resumes or closes; the actor and reason are kept with the row. */
    public Subscription moveSubscription(
            TenantScope scope, Side side, String id, SubscriptionState to, String actor, String reason) {
        return subscriptions.moveSubscription(scope, side, id, to, actor, reason);
    }

    /**
     * As above, by a person: who asked for a pending subscription never approves it (a provider and a customer in one
     * tenant would otherwise be one person deciding alone).
     */
    public Subscription moveSubscription(
            TenantScope scope, Side side, String id, SubscriptionState to, Person actor, String reason) {
        return subscriptions.moveSubscription(scope, side, id, to, actor, reason);
    }

    /**
     * Moves a live subscription to another published plan of the same product. The subscription keeps its id, so its
     * credentials keep working and its quota counters (keyed by subscription) carry over: docs/products.md.
     */
    public Subscription changePlan(
            TenantScope scope, Side side, String id, String planId, String actor, String reason) {
        return subscriptions.changePlan(scope, side, id, planId, actor, reason);
    }

    /**
     * Usage of one subscription since {@code from}, for the side that asks (each sees only its own subscriptions).
     * Counted from extauthz's audit rows that name the subscription (every decision made on it, admitted or refused):
     * calls refused before any subscription was found (an unknown key, no subscription) belong to none, and another
     * subscription of the same application counts its own.
     */
    public SubscriptionUsage usage(TenantScope scope, Side side, String subscriptionId, Instant from) {
        return subscriptions.usage(scope, side, subscriptionId, from);
    }

    /**
     * Binds a credential (an API key's id or a Keycloak client id) to one of the scope's applications. The key and
     * the subscriptions it names must be the application's own: PostgreSQL checks the foreign keys without row-level
     * security, so another tenant's key (or a subscription of another application) would otherwise bind, and its
     * owner's calls would be decided by this application's subscriptions.
     */
    public Credential addCredential(TenantScope scope, Credential credential) {
        return credentials.addCredential(scope, credential);
    }

    /**
     * Rotates (the predecessor keeps working until {@code overlapEndsAt}), revokes or expires a credential.
     * {@code overlapEndsAt} is required for rotation and ignored otherwise.
     */
    public Credential moveCredential(
            TenantScope scope, AuthMode kind, String id, CredentialState to, Optional<Instant> overlapEndsAt) {
        return credentials.moveCredential(scope, kind, id, to, overlapEndsAt);
    }

    /**
     * Runs {@code work} in one transaction confined to {@code scope}: what it writes with the {@code Connection}
     * methods below (and with other stores' methods taking the same connection, such as the API keys') commits
     * together or not at all. A refusal or SQL error inside rolls all of it back; SQL errors come out said in words.
     */
    public <T> T inTransaction(TenantScope scope, TenantScopedTransactions.SqlWork<T> work) {
        return tx.run(scope, work);
    }

    /** {@link #addCredential(TenantScope, Credential)} inside {@link #inTransaction} (its connection and scope). */
    public Credential addCredential(Connection c, TenantScope scope, Credential credential) throws SQLException {
        return CredentialStore.addCredential(c, scope, credential);
    }

    /** {@link #moveCredential(TenantScope, AuthMode, String, CredentialState, Optional)} inside {@link #inTransaction}. */
    public Credential moveCredential(
            Connection c, AuthMode kind, String id, CredentialState to, Optional<Instant> overlapEndsAt)
            throws SQLException {
        return CredentialStore.moveCredential(c, kind, id, to, overlapEndsAt);
    }

    /** One credential read (and locked) inside {@link #inTransaction}; absent when the scope does not see it. */
    public Optional<Credential> credential(Connection c, AuthMode kind, String id) throws SQLException {
        return CatalogRows.readCredential(c, kind, id, true);
    }

    public List<Credential> credentials(TenantScope scope) {
        return credentials.credentials(scope);
    }

    /**
     * Every publish, plan, application, credential and subscription, read in one repeatable-read transaction so the
     * snapshot is one consistent state; {@code version} is the caller's (the controller numbers what it pushes).
     */
    public SubscriptionSnapshot snapshot(long version) {
        return snapshots.snapshot(version);
    }

    /**
     * What each of {@code tenants} contributes to the subscription state (every tenant's when empty), read in one
     * repeatable-read transaction with one query per table: a change that names its tenant is reread for the cost of
     * that tenant's rows. Each tenant named is in the answer, {@link TenantCatalog#isEmpty() empty} when it holds
     * nothing.
     */
    public Map<String, TenantCatalog> tenantCatalogs(Optional<Set<String>> tenants) {
        return snapshots.tenants(tenants);
    }

    /** A moved publish and what its gateway group did about it. */
    public record Moved(ProductPublish publish, GatewayServing.Served gateway) {}
}
