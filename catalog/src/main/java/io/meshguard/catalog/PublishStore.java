package io.meshguard.catalog;

import static io.meshguard.catalog.CatalogRows.ids;
import static io.meshguard.catalog.CatalogRows.lower;
import static io.meshguard.catalog.CatalogRows.ownProductForUpdate;
import static io.meshguard.catalog.CatalogRows.readOperations;
import static io.meshguard.catalog.CatalogRows.readPublish;
import static io.meshguard.catalog.CatalogRows.setState;
import static io.meshguard.catalog.CatalogRows.strings;

import io.meshguard.catalog.CatalogStore.Moved;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.catalogmodel.PublishHost;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.ServedProduct;
import io.meshguard.db.TenantScope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Product publishes: a product served on a cluster's gateway group in one environment, and what the gateways serve. */
final class PublishStore {
    private final CatalogTransactions tx;

    PublishStore(CatalogTransactions tx) {
        this.tx = tx;
    }

    // ------------------------------------------------------------------ product publishes

    /**
     * Creates a draft publish of one of the scope's products on {@code clusterId}; its host is
     * {@code {product}.{environment}.{cluster region}.api.{domain}}.
     */
    ProductPublish createPublish(
            TenantScope scope,
            String productId,
            String clusterId,
            Environment environment,
            AuthMode authMode,
            String domain,
            String gatewayGroup) {
        return tx.run(scope, c -> {
            Product product = ownProductForUpdate(c, productId);
            String region = strings(c, "select region from cluster where id = ?", clusterId).stream()
                    .findFirst()
                    .orElseThrow(() -> CatalogRefusal.notFound("cluster", clusterId));
            PlatformStore.requirePlacement(c, clusterId, gatewayGroup, product.tenant());
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

    Optional<ProductPublish> publish(TenantScope scope, String id) {
        return tx.run(scope, c -> readPublish(c, id));
    }

    List<ProductPublish> publishes(TenantScope scope, String productId) {
        return tx.run(scope, c -> {
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
    Moved movePublish(
            TenantScope scope,
            String publishId,
            PublishState to,
            GatewayServing gateway,
            GatewayServing.Change change) {
        return tx.run(scope, c -> {
            ProductPublish pub =
                    readPublish(c, publishId).orElseThrow(() -> CatalogRefusal.notFound("product publish", publishId));
            Product product = ownProductForUpdate(c, pub.productId());
            PublishState.LIFECYCLE.move(pub.state(), to);
            if (to == PublishState.PUBLISHED
                    && product.state() != ProductState.PUBLISHED
                    && product.state() != ProductState.DEPRECATED) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.CONFLICT,
                        "product " + product.id() + " is " + lower(product.state()) + ": publish the product first");
            }
            String group = strings(c, "select gateway_group from product_publish where id = ?", publishId)
                    .get(0);
            if (to == PublishState.PUBLISHED) {
                // an assignment withdrawn since the draft was made no longer places it
                PlatformStore.requirePlacement(c, pub.cluster(), group, product.tenant());
            }
            setState(c, "product_publish", "id = ?", lower(to), publishId);
            ServedProduct moved =
                    new ServedProduct(pub.id(), product.id(), group, pub.host(), pub.authMode(), product.operations());
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
                try (PreparedStatement ps =
                        c.prepareStatement("update product_publish set revision = ? where id = ?")) {
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
    void publishRequestDecided(long request, Optional<Long> revision) {
        tx.run(TenantScope.ALL, c -> {
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

    /**
     * Every published publish by gateway group, with its product's operations: what the controller compiles into each
     * group's revision on any publish (so a draft publish keeps serving the products). Read across tenants.
     */
    Map<String, List<ServedProduct>> servedProducts() {
        return servedProducts(-1);
    }

    /**
     * As {@link #servedProducts()}, with the publishes waiting in publish request {@code request} as that request asks
     * (what its approval would serve).
     */
    Map<String, List<ServedProduct>> servedProducts(long request) {
        return tx.run(TenantScope.ALL, c -> {
            Map<String, List<ServedProduct>> out = new java.util.TreeMap<>();
            for (ServedProduct p : servedProducts(c, request)) {
                out.computeIfAbsent(p.gatewayGroup(), g -> new ArrayList<>()).add(p);
            }
            return out;
        });
    }

    static List<ServedProduct> servedProducts(Connection c, long request) throws SQLException {
        List<ServedProduct> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("select pp.id, pp.product_id, pp.gateway_group, pp.host,"
                + " pp.auth_mode from product_publish pp join product p on p.id = pp.product_id"
                + " where (case when pp.pending_request = ? then pp.pending_state else pp.state end) = 'published'"
                + " and p.state in ('published', 'deprecated') order by pp.id")) {
            ps.setLong(1, request);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new ServedProduct(
                            rs.getString(1),
                            rs.getString(2),
                            rs.getString(3),
                            new PublishHost(rs.getString(4)),
                            AuthMode.valueOf(rs.getString(5).toUpperCase(java.util.Locale.ROOT)),
                            readOperations(c, rs.getString(2))));
                }
            }
        }
        return out;
    }
}
