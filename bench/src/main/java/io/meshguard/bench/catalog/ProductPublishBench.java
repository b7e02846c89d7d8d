package io.meshguard.bench.catalog;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.GatewayServing;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.PlanLimits;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.db.TenantScope;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.testing.CatalogSamples;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What publishing a product with 200 operations to 3 clusters costs: each publish is a revision of its
 * cluster's gateway group (compile 200 operations into routes, validate, build the Envoy resources, store the revision),
 * on a real PostgreSQL. Baseline in the same run: a draft publish of one group whose 200 routes all changed (validate,
 * build, store), the work any operator's publish of that size does.
 *
 * <p>Run: {@code java -cp bench.jar io.meshguard.bench.catalog.ProductPublishBench [rounds]}.
 */
public final class ProductPublishBench {
    private static final int OPERATIONS = 200;
    private static final int CLUSTERS = 3;
    private static final TenantScope DEFAULT = TenantScope.of(Set.of("default"));

    private ProductPublishBench() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        LocalPostgres pg = LocalPostgres.start(Files.createTempDirectory("meshguard-bench-pg"), 0);
        HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("meshguard-bench"));
        Migrations.apply(ds);
        XdsController xds = XdsController.create(
                XdsSettings.onLoopback("bench", Optional.empty()), ds, new SimpleMeterRegistry(), c -> {});
        xds.start();
        try {
            xds.draft().replace(config(15_000));
            xds.publisher().publish(xds.draft().load(), "bench", "seed");
            CatalogStore store = new CatalogStore(ds);
            seedCatalogue(store);
            GatewayServing gateway = xds.productServing();

            long[] perCluster = new long[rounds * CLUSTERS];
            long[] allClusters = new long[rounds];
            long[] baseline = new long[rounds];
            for (int r = 0; r < rounds; r++) {
                long all = 0;
                for (int c = 0; c < CLUSTERS; c++) {
                    String publish = "payments-prod-c" + c;
                    long t0 = System.nanoTime();
                    store.movePublish(
                            DEFAULT,
                            publish,
                            PublishState.PUBLISHED,
                            gateway,
                            new GatewayServing.Change("bench", "round " + r, "bench"));
                    long took = System.nanoTime() - t0;
                    perCluster[r * CLUSTERS + c] = took;
                    all += took;
                }
                allClusters[r] = all;
                for (int c = 0; c < CLUSTERS; c++) {
                    store.movePublish(
                            DEFAULT,
                            "payments-prod-c" + c,
                            PublishState.WITHDRAWN,
                            gateway,
                            new GatewayServing.Change("bench", "round " + r, "bench"));
                }
                // the baseline: every one of the 200 routes changes, one draft publish of the group that holds them
                xds.draft().replace(config(16_000 + r));
                long t0 = System.nanoTime();
                xds.publisher().publish(xds.draft().load(), "bench", "baseline " + r);
                baseline[r] = System.nanoTime() - t0;
            }
            System.out.printf(
                    "JDK %s, %d processors, %d rounds%n",
                    Runtime.version(), Runtime.getRuntime().availableProcessors(), rounds);
            System.out.println("| what | p50 ms | max ms | vs baseline |");
            System.out.println("|---|---:|---:|---:|");
            double base = median(baseline);
            row("baseline: draft publish, one group, 200 changed routes", baseline, base);
            row("product publish to one cluster (200 operations)", perCluster, base);
            row("product publish to 3 clusters, one after another", allClusters, base);
        } finally {
            xds.close();
            ds.close();
            pg.close();
        }
        System.exit(0);
    }

    /** Three groups (one per cluster); the API's 200 routes live in the first, with {@code timeoutMs}. */
    private static GatewayConfig config(long timeoutMs) {
        List<GatewayGroup> groups = new ArrayList<>();
        for (int c = 0; c < CLUSTERS; c++) {
            groups.add(new GatewayGroup(
                    "g" + c,
                    "prod",
                    "r" + c,
                    Optional.empty(),
                    List.of(),
                    null,
                    8080,
                    null,
                    Optional.empty(),
                    Map.of()));
        }
        Upstream up = io.meshguard.xds.model.ConfigJson.read("""
                {"name": "payments", "protocol": "http1", "endpoints": [{"address": "10.1.0.7", "port": 8080}]}""", Upstream.class);
        Api api = new Api(
                "payments",
                "/payments",
                "v1",
                List.of(),
                List.of(new Api.ApiVersion("v1", Api.Status.ACTIVE, null, null, null)));
        List<Route> routes = new ArrayList<>();
        for (int i = 0; i < OPERATIONS; i++) {
            routes.add(new Route(
                    "op-" + i,
                    "g0",
                    "payments",
                    "v1",
                    new Route.Match(Optional.empty(), Optional.of("/op-" + i), Optional.empty(), List.of(), List.of()),
                    List.of(new Route.Destination("payments", 100)),
                    Optional.of(timeoutMs),
                    null,
                    false,
                    null,
                    null,
                    null,
                    null,
                    "payments",
                    null,
                    null));
        }
        return new GatewayConfig(groups, List.of(up), List.of(api), routes);
    }

    private static void seedCatalogue(CatalogStore store) {
        List<Product.Operation> ops = new ArrayList<>();
        for (int i = 0; i < OPERATIONS; i++) {
            ops.add(new Product.Operation("op-" + i, "payments", i % 2 == 0 ? "GET" : "POST", "/op-" + i));
        }
        store.createProduct(DEFAULT, CatalogSamples.draftProduct("payments", "default", "Payments", "1", ops), "bench");
        store.moveProduct(DEFAULT, "payments", ProductState.PUBLISHED, "bench");
        store.createPlan(
                DEFAULT,
                new Plan(
                        "payments-gold",
                        "payments",
                        "gold",
                        PlanState.STAGING,
                        PlanLimits.NONE,
                        Map.of(),
                        Plan.Approval.AUTO,
                        Set.of(AuthMode.APIKEY)));
        for (int c = 0; c < CLUSTERS; c++) {
            store.putCluster(
                    new Cluster("c" + c, "r" + c, Optional.empty(), Set.of()),
                    Map.of("g" + c, Set.of(DEFAULT.tenants().iterator().next())));
            store.createPublish(
                    DEFAULT, "payments", "c" + c, Environment.PROD, AuthMode.APIKEY, "bank.example", "g" + c);
        }
    }

    private static void row(String what, long[] ns, double base) {
        System.out.printf(
                "| %s | %.1f | %.1f | %.2f |%n",
                what, median(ns) / 1e6, Arrays.stream(ns).max().orElse(0) / 1e6, median(ns) / base);
    }

    private static double median(long[] values) {
        long[] s = values.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
