package io.meshguard.bench.xds;

import com.zaxxer.hikari.HikariDataSource;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import io.meshguard.xds.store.InMemoryRevisionStore;
import io.meshguard.xds.validate.GatewayEgress;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * xds-controller figures for docs/benchmarks.md. Not a test: prints, asserts nothing. Loopback only, bounded loops.
 * Arguments pick parts: {@code build eds memory publish} (default: all).
 *
 * <ol>
 *   <li>publish-to-client: {@code POST /publish} (HTTP, PostgreSQL, build, push) until a raw ADS subscriber has the
 *       new route version, 100 publishes; baseline: {@code POST /validate} of the same configuration;</li>
 *   <li>snapshot build time and bytes for 100, 1,000 and 10,000 routes;</li>
 *   <li>bytes pushed for an endpoint-only change against a full push (1,000 routes);</li>
 *   <li>heap per connected node with 500 raw ADS subscribers.</li>
 * </ol>
 */
public final class XdsBenchmark {
    private static final String TOKEN = "benchmark-token-0123456789";

    public static void main(String[] args) throws Exception {
        Path tmp = Files.createTempDirectory("xds-bench");
        List<String> parts = args.length == 0 ? List.of("build", "eds", "memory", "publish") : List.of(args);
        if (parts.contains("build")) {
            snapshotBuild();
        }
        if (parts.contains("eds")) {
            endpointOnlyPush();
        }
        if (parts.contains("memory")) {
            memoryPerNode();
        }
        if (parts.contains("publish")) {
            publishToClient(tmp);
        }
        System.exit(0);
    }

    /** One group, {@code routes} routes over routes/10 APIs, one upstream per route pair. */
    static GatewayConfig config(int routes, int endpointPort) {
        GatewayGroup group = new GatewayGroup(
                "bench",
                "prod",
                "eu",
                Optional.of("bank.example"),
                List.of(),
                null,
                0,
                GatewayGroup.ProxylessAuthz.OFF,
                null,
                null);
        List<Upstream> ups = new ArrayList<>();
        List<Api> apis = new ArrayList<>();
        List<Route> rs = new ArrayList<>();
        int apiCount = Math.max(1, routes / 10);
        for (int a = 0; a < apiCount; a++) {
            apis.add(new Api(
                    "api-" + a,
                    "/api" + a,
                    "v2",
                    List.of(),
                    List.of(
                            new Api.ApiVersion(
                                    "v1",
                                    Api.Status.DEPRECATED,
                                    Optional.of(java.time.Instant.EPOCH),
                                    Optional.empty(),
                                    Optional.of("v2")),
                            new Api.ApiVersion("v2", Api.Status.ACTIVE, null, null, null))));
        }
        for (int i = 0; i < routes / 2 + 1; i++) {
            ups.add(new Upstream(
                    "up-" + i,
                    Upstream.Protocol.H2,
                    null,
                    0,
                    List.of(
                            new Upstream.Endpoint("10.0." + (i / 250) + "." + (i % 250), endpointPort, 1),
                            new Upstream.Endpoint("10.1." + (i / 250) + "." + (i % 250), endpointPort, 1)),
                    null,
                    null,
                    null,
                    null,
                    List.of()));
        }
        for (int i = 0; i < routes; i++) {
            int api = i % apiCount;
            String version = i % 2 == 0 ? "v2" : "v1";
            rs.add(new Route(
                    "r-" + i,
                    "bench",
                    "api-" + api,
                    version,
                    Route.Match.prefix("/res" + i),
                    List.of(new Route.Destination("up-" + (i / 2), 90), new Route.Destination("up-" + (i / 2 + 1), 10)),
                    null,
                    null,
                    false,
                    null,
                    null,
                    null,
                    null,
                    "profile-" + (i % 7),
                    null,
                    null));
        }
        return new GatewayConfig(List.of(group), ups, apis, rs);
    }

    /** A controller on loopback for the benches: any free ports, {@code tokenFile}'s admin token, 20 ms debounce. */
    static XdsSettings settings(Path tokenFile, String name, Optional<String> vhdsCluster) {
        return new XdsSettings(
                "127.0.0.1",
                0,
                Optional.of(tokenFile),
                FilterTargets.DEFAULTS,
                Optional.empty(),
                Duration.ofMillis(20),
                Duration.ofMinutes(5),
                Duration.ZERO,
                name,
                io.meshguard.xds.server.AdsPeerPolicy.localDevelopment(),
                vhdsCluster,
                GatewayEgress.UNCHECKED);
    }

    /** {@code routes} with the first route's weights changed for {@code round} (they repeat every 98 rounds). */
    static List<Route> firstRouteReweighted(List<Route> routes, int round) {
        int w = 1 + (round % 98);
        List<Route> rs = new ArrayList<>(routes);
        rs.set(
                0,
                rs.get(0)
                        .withDestinations(
                                List.of(new Route.Destination("up-0", 100 - w), new Route.Destination("up-1", w))));
        return rs;
    }

    static void snapshotBuild() {
        for (int n : new int[] {100, 1_000, 10_000}) {
            GatewayConfig c = config(n, 8080);
            // warm up for ~3 s so the JIT has compiled the builder before timing; a fresh builder each time: a build
            // from scratch, not one taking unchanged routes from the builds before (what a publish does)
            long warmUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            GroupResources r = SnapshotBuilder.fresh(FilterTargets.DEFAULTS).build(c, "bench");
            while (System.nanoTime() < warmUntil) {
                r = SnapshotBuilder.fresh(FilterTargets.DEFAULTS).build(c, "bench");
            }
            long[] build = new long[9];
            long[] serialize = new long[9];
            for (int i = 0; i < build.length; i++) {
                SnapshotBuilder builder = SnapshotBuilder.fresh(FilterTargets.DEFAULTS);
                long t = System.nanoTime();
                r = builder.build(c, "bench");
                build[i] = System.nanoTime() - t;
                t = System.nanoTime();
                long bytes = 0;
                for (var m : r.routes()) {
                    bytes += m.toByteArray().length;
                }
                for (var m : r.clusters()) {
                    bytes += m.toByteArray().length;
                }
                for (var m : r.endpoints()) {
                    bytes += m.toByteArray().length;
                }
                for (var m : r.listeners()) {
                    bytes += m.toByteArray().length;
                }
                serialize[i] = System.nanoTime() - t + (bytes < 0 ? 1 : 0);
            }
            Arrays.sort(build);
            Arrays.sort(serialize);
            System.out.printf(
                    "snapshot build %,6d routes: median %.1f ms (max %.1f), %,d bytes, %d clusters;"
                            + " baseline serializing the result: %.1f ms, ratio %.1f%n",
                    n,
                    build[4] / 1e6,
                    build[8] / 1e6,
                    r.totalBytes(),
                    r.clusters().size(),
                    serialize[4] / 1e6,
                    (double) build[4] / serialize[4]);
        }
    }

    static void endpointOnlyPush() throws Exception {
        try (XdsCore core = core()) {
            GatewayConfig c = config(1_000, 8080);
            core.publisher().publish(c, "bench", "initial");
            GroupResources r = core.snapshots().served("bench").orElseThrow().resources();
            ManagedChannel ch = channel(core);
            RawAdsSubscriber s = subscriber(ch, "full", r);
            waitFor(() -> s.responses.get() >= 4);
            long full = s.bytes.get();
            long before = s.bytes.get();
            long responses = s.responses.get();
            String eds = s.versions.get(RawAdsSubscriber.EDS);
            GatewayConfig moved = new GatewayConfig(
                    c.groups(),
                    c.upstreams().stream()
                            .map(u -> u.name().equals("up-7")
                                    ? u.withEndpoints(List.of(new Upstream.Endpoint("10.9.9.9", 8080, 1)))
                                    : u)
                            .toList(),
                    c.apis(),
                    c.routes());
            core.publisher().publish(moved, "bench", "one endpoint");
            waitFor(() -> !eds.equals(s.versions.get(RawAdsSubscriber.EDS)));
            Thread.sleep(300);
            long delta = s.bytes.get() - before;
            System.out.printf(
                    "endpoint-only change, 1,000 routes: %d response(s), %,d bytes vs full push %,d bytes"
                            + " = %.1f %%%n",
                    s.responses.get() - responses, delta, full, 100.0 * delta / full);
            s.close();
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    static void memoryPerNode() throws Exception {
        try (XdsCore core = core()) {
            core.publisher().publish(config(100, 8080), "bench", "initial");
            GroupResources r = core.snapshots().served("bench").orElseThrow().resources();
            ManagedChannel ch = channel(core);
            RawAdsSubscriber warm = subscriber(ch, "warm", r);
            waitFor(() -> warm.responses.get() >= 4);
            long base = usedHeapAfterGc();
            List<RawAdsSubscriber> subs = new ArrayList<>();
            for (int i = 0; i < 500; i++) {
                subs.add(subscriber(ch, "node-" + i, r));
            }
            waitFor(() -> subs.stream().allMatch(x -> x.responses.get() >= 4));
            long loaded = usedHeapAfterGc();
            System.out.printf(
                    "500 raw ADS subscribers (100 routes, one shared client channel): heap +%,d KiB,"
                            + " %.1f KiB per node (server and client stream state together)%n",
                    (loaded - base) / 1024, (loaded - base) / 1024.0 / 500);
            subs.forEach(RawAdsSubscriber::close);
            warm.close();
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    static void publishToClient(Path tmp) throws Exception {
        LocalPostgres pg = LocalPostgres.start(tmp.resolve("pgdata"), 0);
        HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("xds-bench"));
        Migrations.apply(ds);
        Path tokenFile = tmp.resolve("token");
        Files.writeString(tokenFile, TOKEN + "\n");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        XdsController xds = XdsController.create(settings(tokenFile, "bench", Optional.empty()), ds, registry, c -> {});
        StatusHttpServer http = new StatusHttpServer("bench", HttpServerSettings.onPort(0), registry);
        xds.mountAdminApi(http);
        xds.start();
        http.start();
        HttpClient client = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + http.port();
        GatewayConfig c = config(100, 8080);
        send(client, base, "PUT", "/config", ConfigJson.write(c));
        send(client, base, "POST", "/publish", "{\"reason\":\"initial\"}");
        GroupResources r = xds.core().snapshots().served("bench").orElseThrow().resources();
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", xds.adsPort())
                .usePlaintext()
                .build();
        RawAdsSubscriber s = subscriber(ch, "watcher", r);
        waitFor(() -> s.responses.get() >= 4);

        int runs = 120;
        List<Long> publish = new ArrayList<>();
        List<Long> validate = new ArrayList<>();
        String configJson = ConfigJson.write(c);
        for (int i = 0; i < runs; i++) {
            int w = 1 + (i % 98);
            Route first = c.routes().get(0);
            Route changed = first.withDestinations(
                    List.of(new Route.Destination("up-0", 100 - w), new Route.Destination("up-1", w)));
            send(client, base, "PUT", "/routes/bench/" + first.name(), ConfigJson.write(changed));
            String before = s.versions.get(RawAdsSubscriber.RDS);
            long t0 = System.nanoTime();
            send(client, base, "POST", "/publish", "{\"reason\":\"weight " + w + "\"}");
            waitFor(() -> !before.equals(s.versions.get(RawAdsSubscriber.RDS)));
            long seen = s.arrivedAtNanos.get(RawAdsSubscriber.RDS + "@" + s.versions.get(RawAdsSubscriber.RDS));
            long v0 = System.nanoTime();
            send(client, base, "POST", "/validate", configJson);
            long v1 = System.nanoTime();
            if (i >= 20) {
                publish.add(seen - t0);
                validate.add(v1 - v0);
            }
        }
        System.out.printf(
                "publish-to-client p50 %.1f ms, p99 %.1f ms (POST /publish → raw ADS client has the new"
                        + " RDS; 100 publishes after 20 warm-up, 100 routes, PostgreSQL)%n",
                pct(publish, 50), pct(publish, 99));
        System.out.printf(
                "baseline POST /validate of the same config: p50 %.1f ms, p99 %.1f ms%n",
                pct(validate, 50), pct(validate, 99));
        s.close();
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        http.close();
        xds.close();
        ds.close();
        pg.close();
    }

    /** Calls the admin API at {@code base} with the benchmark token; anything but 200 fails the run. */
    static void send(HttpClient client, String base, String method, String path, String body) throws Exception {
        HttpResponse<String> r = client.send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .header("Authorization", "Bearer " + TOKEN)
                        .method(method, HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(method + " " + path + " → " + r.statusCode() + " " + r.body());
        }
    }

    /** The {@code p}th percentile of {@code nanos} in ms (nearest rank). */
    static double pct(List<Long> nanos, int p) {
        List<Long> s = nanos.stream().sorted().toList();
        int i = (int) Math.ceil(p / 100.0 * s.size()) - 1;
        return s.get(Math.max(0, Math.min(s.size() - 1, i))) / 1e6;
    }

    private static XdsCore core() throws Exception {
        return new XdsCore(
                        new InetSocketAddress("127.0.0.1", 0),
                        FilterTargets.DEFAULTS,
                        new InMemoryRevisionStore(Clock.systemUTC()),
                        Optional.empty(),
                        s -> {},
                        new SimpleMeterRegistry(),
                        Clock.systemUTC())
                .start();
    }

    private static ManagedChannel channel(XdsCore core) {
        return NettyChannelBuilder.forAddress("127.0.0.1", core.adsPort())
                .usePlaintext()
                .maxInboundMessageSize(64 * 1024 * 1024)
                .build();
    }

    private static RawAdsSubscriber subscriber(ManagedChannel ch, String id, GroupResources r) {
        return new RawAdsSubscriber(
                ch,
                id,
                "bench",
                r.routes().stream().map(x -> x.getName()).toList(),
                r.endpoints().stream().map(x -> x.getClusterName()).toList());
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("condition not met within 60 s");
            }
            Thread.onSpinWait();
            Thread.sleep(0, 100_000);
        }
    }

    private static long usedHeapAfterGc() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(200);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
