package io.meshguard.bench.catalog;

import com.zaxxer.hikari.HikariDataSource;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalogmodel.AccessDecision;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.PlanState;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ProductState;
import io.meshguard.catalogmodel.PublishState;
import io.meshguard.catalogmodel.SubscriptionState;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.db.TenantScope;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.extauthz.subscription.SubscriptionStateClient;
import io.meshguard.testing.CatalogSamples;
import io.meshguard.xds.subscription.CatalogSnapshotFeed;
import io.meshguard.xds.subscription.SubscriptionStateService;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.postgresql.PGConnection;

/**
 * How long a suspension (or a resumption) takes to reach every extauthz replica: a real PostgreSQL, the controller's
 * snapshot feed and subscription state service on real gRPC, three replicas' clients. Each probe changes one
 * subscription and waits until all three replicas decide the new way. Baseline in the same run: a bare PostgreSQL
 * NOTIFY from one connection to a LISTEN on another (the floor any database-driven push has).
 *
 * <pre>java -cp … io.meshguard.bench.catalog.RevocationLatencyBench [probes=1000]</pre>
 */
public final class RevocationLatencyBench {

    public static void main(String[] args) throws Exception {
        int probes = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        LocalPostgres pg = LocalPostgres.start(Files.createTempDirectory("meshguard-bench-pg"), 0);
        HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("meshguard-bench"));
        Migrations.apply(ds);
        CatalogStore store = new CatalogStore(ds);
        String subscription = seed(ds, store);
        SubscriptionStateService service = new SubscriptionStateService();
        Server server =
                NettyServerBuilder.forPort(0).addService(service).build().start();
        CatalogSnapshotFeed feed = new CatalogSnapshotFeed(ds, store, service, Duration.ofSeconds(30)).start();
        List<ManagedChannel> channels = new ArrayList<>();
        List<SubscriptionStateClient> replicas = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
                    .usePlaintext()
                    .build();
            channels.add(ch);
            replicas.add(
                    new SubscriptionStateClient(ch, "replica-" + i, Duration.ofSeconds(10), Clock.systemUTC()).start());
        }
        try {
            waitUntil(replicas, true);
            long[] notify = notifyRoundTrips(ds, probes, 0);
            TenantScope acme = TenantScope.of(Set.of("acme"));
            long[] push = new long[probes];
            boolean active = true;
            for (int i = 0; i < probes; i++) {
                long t0 = System.nanoTime();
                store.moveSubscription(
                        acme,
                        CatalogStore.Side.PROVIDER,
                        subscription,
                        active ? SubscriptionState.SUSPENDED : SubscriptionState.ACTIVE,
                        "bench",
                        "probe " + i);
                active = !active;
                waitUntil(replicas, active);
                push[i] = System.nanoTime() - t0;
            }
            print("NOTIFY -> LISTEN (baseline)", notify);
            print("suspend/resume -> all 3 replicas decide anew", push);
            System.out.printf(
                    "ratio p50 %.1fx, p99 %.1fx; goal p99 <= 2000 ms: %s%n",
                    pct(push, 50) / pct(notify, 50),
                    pct(push, 99) / pct(notify, 99),
                    pct(push, 99) / 1e6 <= 2000 ? "met" : "MISSED");
        } finally {
            replicas.forEach(SubscriptionStateClient::close);
            channels.forEach(ManagedChannel::shutdownNow);
            feed.close();
            server.shutdownNow();
            ds.close();
            pg.close();
        }
    }

    private static void waitUntil(List<SubscriptionStateClient> replicas, boolean granted) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!replicas.stream().allMatch(r -> r.current()
                .map(s -> s.decide("payments-dev-local", AuthMode.APIKEY, "bench00000000001", Instant.now())
                                instanceof AccessDecision.Granted
                        == granted)
                .orElse(false))) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("replicas did not converge within 30 s");
            }
            LockSupport.parkNanos(50_000);
        }
    }

    /**
     * Round trips of {@code probes} plain NOTIFYs to a LISTENing connection: the floor any pushed change is measured
     * against. {@code pauseNanos} between probes (0: none).
     */
    static long[] notifyRoundTrips(HikariDataSource ds, int probes, long pauseNanos) throws Exception {
        long[] out = new long[probes];
        try (Connection listen = ds.getConnection();
                Connection send = ds.getConnection();
                Statement l = listen.createStatement();
                Statement s = send.createStatement()) {
            l.execute("LISTEN bench_baseline");
            PGConnection pg = listen.unwrap(PGConnection.class);
            for (int i = 0; i < probes; i++) {
                long t0 = System.nanoTime();
                s.execute("NOTIFY bench_baseline");
                while (true) {
                    var notes = pg.getNotifications(1000);
                    if (notes != null && notes.length > 0) {
                        break;
                    }
                }
                out[i] = System.nanoTime() - t0;
                if (pauseNanos > 0) {
                    LockSupport.parkNanos(pauseNanos);
                }
            }
        }
        return out;
    }

    private static String seed(HikariDataSource ds, CatalogStore store) throws Exception {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            s.execute("insert into tenant (id) values ('acme'), ('initech')");
            s.execute("insert into api (name, tenant) values ('payments-api', 'acme')");
            s.execute("insert into api_keys (key_id, secret_sha256, name, owner, tenant, tier) values "
                    + "('bench00000000001', decode(repeat('00', 32), 'hex'), 'k', 'o', 'initech', 'free')");
        }
        TenantScope acme = TenantScope.of(Set.of("acme"));
        TenantScope initech = TenantScope.of(Set.of("initech"));
        store.putCluster(new Cluster("local", "local", Optional.empty(), Set.of()), Map.of("local", Set.of("acme")));
        store.createProduct(
                acme,
                CatalogSamples.draftProduct(
                        "payments",
                        "acme",
                        "Payments",
                        "1",
                        List.of(new Product.Operation("charge", "payments-api", "POST", "/charges"))),
                "bench");
        store.moveProduct(acme, "payments", ProductState.PUBLISHED, "bench");
        store.createPlan(acme, CatalogSamples.freePlan("payments-free", "payments", PlanState.STAGING));
        store.movePlan(acme, "payments-free", PlanState.PUBLISHED, "bench");
        store.createPublish(acme, "payments", "local", Environment.DEV, AuthMode.APIKEY, "example.test", "local");
        // the subscription state is under test, not the gateway's routes: a publish that any revision serves
        store.movePublish(
                acme,
                "payments-dev-local",
                PublishState.PUBLISHED,
                (publish, serve, change) -> new io.meshguard.catalog.GatewayServing.Served(
                        java.util.Optional.of(1L), java.util.Optional.empty()),
                new io.meshguard.catalog.GatewayServing.Change("alice", "seed", "seed"));
        store.createApplication(initech, new Application("app", "initech", "App", ApplicationState.ACTIVE), "bench");
        String id = store.subscribe(initech, "app", "payments-dev-local", "payments-free", "bench")
                .id();
        store.addCredential(initech, CatalogSamples.activeApiKey("bench00000000001"));
        return id;
    }

    /** The {@code p}th percentile of {@code values} (nearest rank). */
    static double pct(long[] values, double p) {
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[(int) Math.min(sorted.length - 1, Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    private static void print(String what, long[] ns) {
        System.out.printf(
                "%-48s p50 %7.2f ms  p90 %7.2f ms  p99 %7.2f ms  max %7.2f ms  (n=%d)%n",
                what, pct(ns, 50) / 1e6, pct(ns, 90) / 1e6, pct(ns, 99) / 1e6, pct(ns, 100) / 1e6, ns.length);
    }
}
