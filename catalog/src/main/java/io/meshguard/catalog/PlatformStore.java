package io.meshguard.catalog;

import static io.meshguard.catalog.CatalogRows.count;
import static io.meshguard.catalog.CatalogRows.strings;

import io.meshguard.catalogmodel.Cluster;
import io.meshguard.db.TenantScope;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/** The operators' part of the catalogue: clusters with their gateway groups, and tenants. */
final class PlatformStore {
    private final CatalogTransactions tx;

    PlatformStore(CatalogTransactions tx) {
        this.tx = tx;
    }

    // ------------------------------------------------------------------ clusters (operators)

    /** Registers or updates a cluster; its gateway groups stay as they are. */
    Cluster putCluster(Cluster cluster) {
        return putCluster(cluster, Map.of());
    }

    /**
     * Registers or updates a cluster and assigns it {@code groups}: each gateway group named is served by the cluster
     * (again, after a withdrawal) and takes product publishes of exactly the tenants given, the only placement a
     * publish may have (docs/products.md "Where a product is published"). Groups not named stay as they are.
     */
    Cluster putCluster(Cluster cluster, Map<String, Set<String>> groups) {
        return putCluster(cluster, groups, Map.of());
    }

    /**
     * As above, and for each group named in {@code serviceNamespaces} sets the Kubernetes namespaces each of its
     * tenants' upstreams may name Services in there (its tenants must be among the group's publishing tenants in
     * {@code groups}); a group named only in {@code groups} keeps its namespaces.
     */
    Cluster putCluster(
            Cluster cluster, Map<String, Set<String>> groups, Map<String, Map<String, Set<String>>> serviceNamespaces) {
        for (Map.Entry<String, Map<String, Set<String>>> g : serviceNamespaces.entrySet()) {
            Set<String> tenants = groups.get(g.getKey());
            if (tenants == null || !tenants.containsAll(g.getValue().keySet())) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.INVALID,
                        "service_namespaces." + g.getKey() + ": name the group in gateway_groups too, with every"
                                + " tenant given namespaces among its publishing tenants");
            }
        }
        return tx.run(TenantScope.ALL, c -> {
            try (PreparedStatement ps = c.prepareStatement("insert into cluster (id, region, provider, capabilities)"
                    + " values (?, ?, ?, ?) on conflict (id) do update set region = excluded.region,"
                    + " provider = excluded.provider, capabilities = excluded.capabilities")) {
                ps.setString(1, cluster.id());
                ps.setString(2, cluster.region());
                ps.setString(3, cluster.provider().orElse(null));
                ps.setArray(
                        4,
                        c.createArrayOf(
                                "varchar",
                                cluster.capabilities().stream().sorted().toArray()));
                ps.executeUpdate();
            }
            for (Map.Entry<String, Set<String>> g : new TreeMap<>(groups).entrySet()) {
                try (PreparedStatement ps = c.prepareStatement("insert into cluster_group (cluster_id, gateway_group,"
                        + " publishing_tenants) values (?, ?, ?) on conflict (cluster_id, gateway_group) do update"
                        + " set publishing_tenants = excluded.publishing_tenants, withdrawn_at = null")) {
                    ps.setString(1, cluster.id());
                    ps.setString(2, g.getKey());
                    ps.setArray(
                            3,
                            c.createArrayOf(
                                    "varchar", g.getValue().stream().sorted().toArray()));
                    ps.executeUpdate();
                }
                Map<String, Set<String>> namespaces = serviceNamespaces.get(g.getKey());
                if (namespaces != null) {
                    try (PreparedStatement ps = c.prepareStatement("update cluster_group set service_namespaces ="
                            + " ?::jsonb where cluster_id = ? and gateway_group = ?")) {
                        ps.setString(1, namespacesJson(namespaces));
                        ps.setString(2, cluster.id());
                        ps.setString(3, g.getKey());
                        ps.executeUpdate();
                    }
                }
            }
            return cluster;
        });
    }

    /** {@code {"tenant": ["namespace", ...]}}, names sorted (tenant ids and namespace names need no escaping). */
    private static String namespacesJson(Map<String, Set<String>> namespaces) {
        StringBuilder json = new StringBuilder("{");
        new TreeMap<>(namespaces).forEach((tenant, names) -> {
            if (json.length() > 1) {
                json.append(',');
            }
            json.append('"').append(tenant).append("\":[");
            json.append(String.join(
                    ",", names.stream().sorted().map(n -> '"' + n + '"').toList()));
            json.append(']');
        });
        return json.append('}').toString();
    }

    /**
     * A publish's placement is the operators': its gateway group must be assigned to its cluster, not withdrawn, for
     * the product's tenant. Otherwise a provider could put its host and upstream on another cluster's nodes, or hand a
     * cluster's zone a whole group (every tenant's routes) no operator gave it.
     */
    static void requirePlacement(Connection c, String clusterId, String group, String tenant) throws SQLException {
        if (count(
                        c,
                        "select count(*) from cluster_group where cluster_id = ? and gateway_group = ?"
                                + " and withdrawn_at is null and ? = any (publishing_tenants)",
                        clusterId,
                        group,
                        tenant)
                == 0) {
            throw new CatalogRefusal(
                    CatalogRefusal.Kind.INVALID,
                    "gateway group " + group + " is not assigned to"
                            + " cluster " + clusterId + " for tenant " + tenant
                            + ": an operator assigns a cluster its groups"
                            + " and the tenants that publish into each (PUT /v1/operator/clusters/" + clusterId
                            + ", gateway_groups)");
        }
    }

    /**
     * Decommissions a cluster: its zone registrations, credentials, stream and group assignments go with it. Refused
     * while a product publish names it (withdrawn or not: the publish's history points at it) or while its zone is
     * not revoked (a live zone would keep following central with nobody answering for it).
     */
    void deleteCluster(String id) {
        tx.run(TenantScope.ALL, c -> {
            List<String> zoneRevoked = strings(
                    c, "select coalesce(zone_revoked_at::text, '') from cluster" + " where id = ? for update", id);
            if (zoneRevoked.isEmpty()) {
                throw CatalogRefusal.notFound("cluster", id);
            }
            long publishes = count(c, "select count(*) from product_publish where cluster_id = ?", id);
            if (publishes > 0) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.CONFLICT,
                        "cluster " + id + " is named by " + publishes
                                + " product publish(es): a cluster that carried a product stays, for its history");
            }
            boolean everRegistered = count(c, "select count(*) from zone_registration where cluster_id = ?", id) > 0;
            if (everRegistered && zoneRevoked.get(0).isEmpty()) {
                throw new CatalogRefusal(
                        CatalogRefusal.Kind.CONFLICT,
                        "cluster " + id + " has a zone that is not"
                                + " revoked: revoke it first (meshguard cluster revoke " + id + ")");
            }
            try (PreparedStatement ps = c.prepareStatement("delete from cluster where id = ?")) {
                ps.setString(1, id);
                ps.executeUpdate();
            }
            return null;
        });
    }

    List<Cluster> clusters(TenantScope scope) {
        return tx.run(scope, c -> {
            List<Cluster> out = new ArrayList<>();
            try (PreparedStatement ps =
                            c.prepareStatement("select id, region, provider, capabilities from cluster order by id");
                    ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Cluster(
                            rs.getString(1),
                            rs.getString(2),
                            Optional.ofNullable(rs.getString(3)),
                            Set.of(strings(rs.getArray(4)))));
                }
            }
            return out;
        });
    }

    // ------------------------------------------------------------------ tenants (operators)

    /** Creates {@code tenant} unless it exists; true when this call created it (creating twice is not an error). */
    boolean createTenant(Tenant tenant) {
        return tx.run(TenantScope.ALL, c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "insert into tenant (id, display_name) values (?, ?) on conflict (id) do nothing")) {
                ps.setString(1, tenant.id());
                ps.setString(2, tenant.displayName().orElse(null));
                return ps.executeUpdate() == 1;
            }
        });
    }

    /** Every tenant, by id. */
    List<Tenant> tenants() {
        return tx.run(TenantScope.ALL, c -> {
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
}
