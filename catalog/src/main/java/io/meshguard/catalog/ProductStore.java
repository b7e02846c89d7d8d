package io.meshguard.catalog;

import static io.meshguard.catalog.CatalogRows.count;
import static io.meshguard.catalog.CatalogRows.ids;
import static io.meshguard.catalog.CatalogRows.lower;
import static io.meshguard.catalog.CatalogRows.ownProductForUpdate;
import static io.meshguard.catalog.CatalogRows.readPlan;
import static io.meshguard.catalog.CatalogRows.readProduct;
import static io.meshguard.catalog.CatalogRows.requireTenant;
import static io.meshguard.catalog.CatalogRows.setState;
import static io.meshguard.catalog.CatalogRows.touch;
import static io.meshguard.catalog.CatalogRows.writeOperations;

import io.meshguard.catalogmodel.Lifecycle;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.db.TenantScope;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Products and their plans, each moved through its {@link Lifecycle} under a row lock. */
final class ProductStore {
    private final CatalogTransactions tx;

    ProductStore(CatalogTransactions tx) {
        this.tx = tx;
    }

    // ------------------------------------------------------------------ products

    /** Creates a product in {@code tenant}, always as a draft. */
    Product createProduct(TenantScope scope, Product product, String actor) {
        return tx.run(scope, c -> {
            requireTenant(c, product.tenant());
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into product (id, tenant, name, version, description,"
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

    Optional<Product> product(TenantScope scope, String id) {
        return tx.run(scope, c -> readProduct(c, id));
    }

    /** The products the scope may see: its own in every state, others' published public ones. */
    List<Product> products(TenantScope scope) {
        return tx.run(scope, c -> {
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
    Product putOperations(TenantScope scope, String productId, List<Product.Operation> operations, String actor) {
        return tx.run(scope, c -> {
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
            List<String> served = ids(
                    c,
                    "select id from product_publish where product_id = ? and state = 'published'" + " order by id",
                    productId);
            if (!served.isEmpty()) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.CONFLICT,
                        "product " + productId + " is served by " + String.join(", ", served)
                                + ": withdraw those publishes before changing its operations");
            }
            touch(c, "product", productId, actor);
            return readProduct(c, productId).orElseThrow();
        });
    }

    Product moveProduct(TenantScope scope, String productId, ProductState to, String actor) {
        return tx.run(scope, c -> {
            Product p = ownProductForUpdate(c, productId);
            ProductState.LIFECYCLE.move(p.state(), to);
            if (to == ProductState.PUBLISHED && p.operations().isEmpty()) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.CONFLICT,
                        "product " + productId + " has no operations: nothing to publish");
            }
            if (to == ProductState.RETIRED
                    && count(
                                    c,
                                    "select count(*) from product_publish where product_id = ?"
                                            + " and state = 'published'",
                                    productId)
                            > 0) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.CONFLICT,
                        "product " + productId + " is still published somewhere: withdraw its publishes first");
            }
            setState(c, "product", "id = ?", lower(to), productId);
            touch(c, "product", productId, actor);
            return readProduct(c, productId).orElseThrow();
        });
    }

    // ------------------------------------------------------------------ plans

    /** Creates a plan of one of the scope's products, always staging. */
    Plan createPlan(TenantScope scope, Plan plan) {
        return tx.run(scope, c -> {
            Product p = ownProductForUpdate(c, plan.productId());
            Set<String> ops = new HashSet<>();
            p.operations().forEach(o -> ops.add(o.id()));
            for (String op : plan.operationLimits().keySet()) {
                if (!ops.contains(op)) {
                    throw new CatalogRefusal(
                            CatalogRefusal.Kind.INVALID,
                            "plan " + plan.name() + " limits operation " + op + ", which product " + p.id()
                                    + " does not have");
                }
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into plan (id, product_id, name, state, limits,"
                            + " operation_limits, approval, auth_modes) values (?, ?, ?, 'staging', ?::jsonb, ?::jsonb, ?, ?)")) {
                ps.setString(1, plan.id());
                ps.setString(2, plan.productId());
                ps.setString(3, plan.name());
                ps.setString(4, PlanLimitsJson.write(plan.limits()).toString());
                ps.setString(
                        5,
                        PlanLimitsJson.writeOperations(plan.operationLimits()).toString());
                ps.setString(6, lower(plan.approval()));
                ps.setArray(
                        7,
                        c.createArrayOf(
                                "varchar",
                                plan.authModes().stream()
                                        .map(CatalogRows::lower)
                                        .sorted()
                                        .toArray()));
                ps.executeUpdate();
            }
            return readPlan(c, plan.id()).orElseThrow();
        });
    }

    List<Plan> plans(TenantScope scope, String productId) {
        return tx.run(scope, c -> {
            List<Plan> out = new ArrayList<>();
            for (String id : ids(c, "select id from plan where product_id = ? order by name", productId)) {
                readPlan(c, id).ifPresent(out::add);
            }
            return out;
        });
    }

    /** Moves a plan; closing it closes every subscription on it in the same transaction. */
    Plan movePlan(TenantScope scope, String planId, PlanState to, String actor) {
        return tx.run(scope, c -> {
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
}
