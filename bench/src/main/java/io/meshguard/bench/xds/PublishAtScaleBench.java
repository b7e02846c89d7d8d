package io.meshguard.bench.xds;

import static io.meshguard.bench.xds.XdsBenchmark.pct;

import com.zaxxer.hikari.HikariDataSource;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.meshguard.audit.trail.CheckpointDirectory;
import io.meshguard.audit.trail.CheckpointKeys;
import io.meshguard.audit.trail.TrailCheckpointSettings;
import io.meshguard.audit.trail.TrailCheckpointer;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.db.PgChannelListener;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.store.PgRevisionStore;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-route publish through the HTTP admin API as a pipeline makes it (four eyes off), at several group sizes, with
 * 500 raw ADS nodes: {@code java -cp ... PublishAtScaleBench publish [routes,...] [nodes] [rounds]} or
 * {@code ... PublishAtScaleBench trail [routes] [pairs] [calls-per-block]}. Not a test: prints, asserts nothing.
 *
 * <p>{@code publish}: per round, {@code PUT /routes/bench/r-0} (one destination weight changed, timed on its own),
 * then {@code POST /publish}: call start → revision stored (the revision's {@code NOTIFY}, seen by a separate
 * {@code LISTEN} connection, i.e. after commit), → the call's answer, → every ADS node has ACKed the new routes. The
 * baseline in the same round: {@code POST /validate} of the same draft. Warm-up rounds: a fifth of the rounds, or
 * {@code -Dbench.warmup=N}. {@code -Dbench.replicas=2}: a second controller on the same database, as the manifests
 * run two, serving every other node; it hears of each publish by {@code NOTIFY} and reads the revision from
 * PostgreSQL, and its nodes' ACKs are timed on their own too.
 *
 * <p>{@code trail}: the same admin call (PUT + publish) with the signed admin-trail checkpoints running at the shipped
 * interval ({@code audit.admin_trail.checkpoint.interval}) against none, in alternating blocks (paired, order swapped
 * every pair); prints the median per-call time of each and their ratio.
 */
public final class PublishAtScaleBench {
    private static final String TOKEN = "benchmark-token-0123456789";

    private final HikariDataSource ds;
    private final XdsController xds;
    /** The publishing controller first, then the others (same database, their own ADS ports). */
    private final List<XdsController> replicas = new ArrayList<>();

    private final StatusHttpServer http;
    private final HttpClient client = HttpClient.newHttpClient();
    private final String base;
    private final AtomicLong storedAt = new AtomicLong();
    private final PgChannelListener stored;
    private int runs;

    /** How the bench's nodes take their routes. */
    private enum Nodes {
        /** Raw SotW nodes subscribed to both tables (Envoy's and the proxyless clients'), as before. */
        BOTH_TABLES,
        /** Envoy gateways: their own table only, whole, over RDS. */
        ENVOY_RDS,
        /** Envoy gateways: their table's shell over RDS, its virtual hosts over VHDS. */
        ENVOY_VHDS
    }

    private PublishAtScaleBench(HikariDataSource ds, Path tmp, Optional<String> vhdsCluster) throws Exception {
        this.ds = ds;
        Path tokenFile = tmp.resolve("token");
        Files.writeString(tokenFile, TOKEN + "\n");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        for (int i = 0; i < Integer.getInteger("bench.replicas", 1); i++) {
            replicas.add(XdsController.create(
                    XdsBenchmark.settings(tokenFile, "bench-" + i, vhdsCluster),
                    ds,
                    i == 0 ? registry : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT),
                    c -> {}));
        }
        xds = replicas.get(0);
        http = new StatusHttpServer("bench", HttpServerSettings.onPort(0), registry);
        xds.mountAdminApi(http);
        for (XdsController replica : replicas) {
            replica.start();
        }
        http.start();
        base = "http://127.0.0.1:" + http.port();
        stored = new PgChannelListener(
                        ds,
                        PgRevisionStore.CHANNEL,
                        Duration.ZERO,
                        Duration.ofHours(1),
                        () -> storedAt.set(System.nanoTime()))
                .start("bench-stored");
    }

    public static void main(String[] args) throws Exception {
        String part = args.length > 0 ? args[0] : "publish";
        Path tmp = Files.createTempDirectory("publish-bench");
        try (LocalPostgres pg = LocalPostgres.start(tmp.resolve("pgdata"), 0);
                HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("xds-bench"))) {
            Migrations.apply(ds);
            PublishAtScaleBench bench = new PublishAtScaleBench(
                    ds, tmp, part.equals("envoy") ? Optional.of("meshguard-xds") : Optional.empty());
            if (part.equals("envoy")) {
                // the same controller (VHDS on for Envoy nodes), its nodes taking whole tables over RDS, then
                // virtual hosts over VHDS, alternating so drift in the machine shows as a difference between pairs
                int routes = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
                int nodes = args.length > 2 ? Integer.parseInt(args[2]) : 500;
                int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 30;
                int pairs = args.length > 4 ? Integer.parseInt(args[4]) : 2;
                // -Dbench.nodes=ENVOY_VHDS (or ENVOY_RDS): that kind only, e.g. under a profiler
                List<Nodes> kinds = System.getProperty("bench.nodes") == null
                        ? List.of(Nodes.ENVOY_RDS, Nodes.ENVOY_VHDS)
                        : List.of(Nodes.valueOf(System.getProperty("bench.nodes")));
                for (int p = 0; p < pairs; p++) {
                    for (Nodes kind : kinds) {
                        bench.publish(routes, nodes, rounds, kind);
                    }
                }
            } else if (part.equals("trail")) {
                bench.trail(
                        tmp,
                        args.length > 1 ? Integer.parseInt(args[1]) : 200,
                        args.length > 2 ? Integer.parseInt(args[2]) : 8,
                        args.length > 3 ? Integer.parseInt(args[3]) : 40);
            } else {
                List<Integer> sizes = args.length > 1
                        ? java.util.Arrays.stream(args[1].split(","))
                                .map(Integer::parseInt)
                                .toList()
                        : List.of(200, 2_000);
                int nodes = args.length > 2 ? Integer.parseInt(args[2]) : 500;
                int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 60;
                for (int routes : sizes) {
                    bench.publish(routes, nodes, rounds, Nodes.BOTH_TABLES);
                }
            }
            bench.stored.close();
            bench.http.close();
            bench.replicas.forEach(XdsController::close);
        }
        System.exit(0);
    }

    private void publish(int routes, int nodes, int rounds, Nodes kind) throws Exception {
        GatewayConfig c = XdsBenchmark.config(routes, 8080);
        send("PUT", "/config", ConfigJson.write(c));
        send("POST", "/publish", "{\"reason\":\"initial " + routes + "\"}");
        GroupResources r = xds.core().snapshots().served("bench").orElseThrow().resources();
        long initial = xds.core().snapshots().served("bench").orElseThrow().revision();
        waitFor(() -> replicas.stream().allMatch(x -> x.core()
                .snapshots()
                .served("bench")
                .map(s -> s.revision() == initial)
                .orElse(false)));
        // ten channels per replica; node i on replica i % replicas
        List<ManagedChannel> channels = new ArrayList<>();
        for (int i = 0; i < 10 * replicas.size(); i++) {
            channels.add(NettyChannelBuilder.forAddress(
                            "127.0.0.1", replicas.get(i % replicas.size()).adsPort())
                    .usePlaintext()
                    .maxInboundMessageSize(64 * 1024 * 1024)
                    .build());
        }
        boolean envoy = kind != Nodes.BOTH_TABLES;
        List<String> tables = envoy
                ? List.of(io.meshguard.xds.snapshot.EnvoyNames.envoyRoutes(8080))
                : r.routes().stream().map(x -> x.getName()).toList();
        List<RawAdsSubscriber> subs = new ArrayList<>();
        List<RawVhdsSubscriber> vhds = new ArrayList<>();
        java.util.function.BooleanSupplier connected = () -> subs.stream().allMatch(s -> s.responses.get() >= 4)
                && vhds.stream().allMatch(v -> v.responses.get() >= 1);
        String run = kind + "-" + runs++;
        for (int i = 0; i < nodes; i++) {
            if (i % 50 == 0) {
                // in batches: 500 full pushes of a 2,000-route group at once outlast any timeout on a shared machine
                waitFor(connected);
            }
            // i % channels.size() % replicas.size() == i % replicas.size(): channel j serves replica j % replicas
            ManagedChannel ch = channels.get(i % channels.size());
            io.envoyproxy.envoy.config.core.v3.Node.Builder node = io.envoyproxy.envoy.config.core.v3.Node.newBuilder()
                    .setId("node-" + routes + "-" + run + "-" + i)
                    .setCluster("bench");
            if (envoy) {
                // Envoy's snapshot (RDS: whole tables; VHDS: shells), as a gateway's node names itself
                node.setUserAgentName(kind == Nodes.ENVOY_VHDS ? "envoy" : "envoy-rds");
            }
            subs.add(new RawAdsSubscriber(
                    ch,
                    node.build(),
                    tables,
                    r.endpoints().stream().map(x -> x.getClusterName()).toList()));
            if (kind == Nodes.ENVOY_VHDS) {
                vhds.add(new RawVhdsSubscriber(ch, node.build()));
            }
        }
        waitFor(() -> subs.stream().allMatch(s -> s.responses.get() >= 4));
        String configJson = ConfigJson.write(c);
        // the controller compiles its validator and builder hot paths only after some publishes; a short warm-up
        // measures the interpreter (-Dbench.warmup=60 for the steady state a long-running controller is in)
        int warm = Integer.getInteger("bench.warmup", Math.max(2, rounds / 5));
        List<Long> put = new ArrayList<>();
        List<Long> toStored = new ArrayList<>();
        List<Long> toAnswer = new ArrayList<>();
        List<Long> toAllAcked = new ArrayList<>();
        List<Long> storedToAcked = new ArrayList<>();
        List<Long> storedToOthersAcked = new ArrayList<>();
        List<Long> validate = new ArrayList<>();
        long bytesBefore = 0;
        for (int i = 0; i < warm + rounds; i++) {
            if (i == warm) {
                bytesBefore = received(subs, vhds);
            }
            int w = 1 + (i % 98);
            Route first = c.routes().get(0);
            Route changed = first.withDestinations(
                    List.of(new Route.Destination("up-0", 100 - w), new Route.Destination("up-1", w)));
            long p0 = System.nanoTime();
            send("PUT", "/routes/bench/" + first.name(), ConfigJson.write(changed));
            long p1 = System.nanoTime();
            String before = subs.get(0).versions.get(RawAdsSubscriber.RDS);
            storedAt.set(0);
            long t0 = System.nanoTime();
            send("POST", "/publish", "{\"reason\":\"weight " + w + "\"}");
            long t1 = System.nanoTime();
            waitFor(() -> storedAt.get() != 0);
            long ts = storedAt.get();
            String next = xds.core()
                    .snapshots()
                    .served("bench")
                    .orElseThrow()
                    .versions()
                    .routes();
            if (next.equals(before)) {
                throw new IllegalStateException("the publish did not change the routes");
            }
            // an ACK of this publish's version made after it started: the weights repeat every 98 rounds, and so does
            // the content's version, so an ACK recorded for it 98 rounds ago must not count
            List<Map<String, Long>> acks = kind == Nodes.ENVOY_VHDS
                    ? vhds.stream().map(v -> v.ackedAtNanos).toList()
                    : subs.stream().map(x -> x.ackedAtNanos).toList();
            String key = kind == Nodes.ENVOY_VHDS ? next : RawAdsSubscriber.RDS + "@" + next;
            waitFor(() -> acks.stream().allMatch(a -> a.getOrDefault(key, Long.MIN_VALUE) >= t0));
            long last = acks.stream().mapToLong(a -> a.get(key)).max().orElseThrow();
            long lastOnOthers = java.util.stream.IntStream.range(0, acks.size())
                    .filter(n -> n % replicas.size() != 0)
                    .mapToLong(n -> acks.get(n).get(key))
                    .max()
                    .orElse(ts);
            long v0 = System.nanoTime();
            send("POST", "/validate", configJson);
            long v1 = System.nanoTime();
            if (i >= warm) {
                put.add(p1 - p0);
                toStored.add(ts - t0);
                toAnswer.add(t1 - t0);
                toAllAcked.add(last - t0);
                storedToAcked.add(last - ts);
                storedToOthersAcked.add(lastOnOthers - ts);
                validate.add(v1 - v0);
            }
        }
        System.out.printf(
                "%,d routes, %d ADS nodes (%s) on %d replica(s), %d publishes after %d warm-up (ms p50 / p99):%n",
                routes, nodes, kind, replicas.size(), rounds, warm);
        row("POST /publish start → revision stored", toStored);
        row("POST /publish start → its answer", toAnswer);
        row("POST /publish start → all nodes ACKed", toAllAcked);
        row("revision stored → all nodes ACKed", storedToAcked);
        if (replicas.size() > 1) {
            row("… the other replicas' nodes", storedToOthersAcked);
        }
        row("PUT /routes/… (the change itself)", put);
        row("baseline POST /validate, same draft", validate);
        System.out.printf(
                "  bytes all nodes received per measured publish (mean): %,d%n",
                (received(subs, vhds) - bytesBefore) / rounds);
        subs.forEach(RawAdsSubscriber::close);
        vhds.forEach(RawVhdsSubscriber::close);
        for (ManagedChannel ch : channels) {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static long received(List<RawAdsSubscriber> subs, List<RawVhdsSubscriber> vhds) {
        return subs.stream().mapToLong(x -> x.bytes.get()).sum()
                + vhds.stream().mapToLong(x -> x.bytes.get()).sum();
    }

    private void trail(Path tmp, int routes, int pairs, int calls) throws Exception {
        GatewayConfig c = XdsBenchmark.config(routes, 8080);
        send("PUT", "/config", ConfigJson.write(c));
        send("POST", "/publish", "{\"reason\":\"initial\"}");
        Path key = CheckpointKeys.ensure(tmp.resolve("k.pem"), tmp.resolve("k.pub"));
        Duration interval = TrailCheckpointSettings.INTERVAL.defaultValue();
        int[] n = {0};
        List<Double> off = new ArrayList<>();
        List<Double> on = new ArrayList<>();
        long checkpoints = 0;
        List<Double> cpuOff = new ArrayList<>();
        List<Double> cpuOn = new ArrayList<>();
        long checkpointCpu = 0;
        long checkpointCalls = 0;
        for (int p = -1; p < pairs; p++) { // pair -1: warm-up
            for (int half = 0; half < 2; half++) {
                boolean signed = (half == 0) == (p % 2 == 0);
                SimpleMeterRegistry meters = new SimpleMeterRegistry();
                Optional<TrailCheckpointer> cp = signed
                        ? Optional.of(new TrailCheckpointer(
                                ds,
                                CheckpointKeys.readPrivate(key),
                                new CheckpointDirectory(tmp.resolve("checkpoints"), "bench"),
                                Clock.systemUTC(),
                                interval,
                                meters))
                        : Optional.empty();
                cp.ifPresent(TrailCheckpointer::start);
                long t0 = System.nanoTime();
                long cpu0 = processCpuNanos();
                for (int i = 0; i < calls; i++) {
                    adminCall(c, n[0]++);
                }
                double perCall = (System.nanoTime() - t0) / (double) calls;
                if (p >= 0) {
                    (signed ? cpuOn : cpuOff).add((processCpuNanos() - cpu0) / (double) calls);
                }
                if (cp.isPresent()) {
                    checkpointCpu += threadCpuNanos("admin-trail-checkpoints");
                    checkpointCalls += calls;
                    cp.get().close();
                    checkpoints += (long) meters.get("meshguard.admin_trail.checkpoints")
                            .counter()
                            .count();
                }
                if (p >= 0) {
                    (signed ? on : off).add(perCall);
                }
            }
        }
        double medOff = median(off);
        double medOn = median(on);
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < off.size(); i++) {
            ratios.add(on.get(i) / off.get(i));
        }
        System.out.printf(
                "admin call (PUT /routes/… + POST /publish, %,d routes), %d pairs of %d calls, checkpoint interval %s:%n",
                routes, pairs, calls, interval);
        System.out.printf("  checkpoints off         %8.2f ms per call (median of blocks)%n", medOff / 1e6);
        System.out.printf(
                "  checkpoints on          %8.2f ms per call (median of blocks; %d checkpoints written)%n",
                medOn / 1e6, checkpoints);
        System.out.printf(
                "  ratio on / off          %8.3f (median of the per-pair ratios %.3f, range %.3f–%.3f)%n",
                medOn / medOff,
                median(ratios),
                ratios.stream().mapToDouble(Double::doubleValue).min().orElseThrow(),
                ratios.stream().mapToDouble(Double::doubleValue).max().orElseThrow());
        // wall time on a shared machine moves by tens of percent; CPU says what the checkpoints cost
        System.out.printf(
                "  process CPU per call    %8.2f ms off, %.2f ms on (median of blocks); the checkpointer's own thread:"
                        + " %.1f us per call = %.2f %% of a call's CPU%n",
                median(cpuOff) / 1e6,
                median(cpuOn) / 1e6,
                checkpointCpu / 1e3 / checkpointCalls,
                100.0 * checkpointCpu / checkpointCalls / median(cpuOff));
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** CPU time of the live thread named {@code name} (the checkpointer's timer: started per block, so per block). */
    private static long threadCpuNanos(String name) {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(name)) {
                sum += Math.max(0, threads.getThreadCpuTime(t.threadId()));
            }
        }
        return sum;
    }

    private void adminCall(GatewayConfig c, int i) throws Exception {
        int w = 1 + (i % 98);
        Route first = c.routes().get(0);
        send(
                "PUT",
                "/routes/bench/" + first.name(),
                ConfigJson.write(first.withDestinations(
                        List.of(new Route.Destination("up-0", 100 - w), new Route.Destination("up-1", w)))));
        send("POST", "/publish", "{\"reason\":\"weight " + w + "\"}");
    }

    private static double median(List<Double> xs) {
        List<Double> s = xs.stream().sorted().toList();
        return s.get(s.size() / 2);
    }

    private static void row(String what, List<Long> nanos) {
        System.out.printf("  %-42s %8.1f / %8.1f%n", what, pct(nanos, 50), pct(nanos, 99));
        if (Boolean.getBoolean("bench.raw")) {
            // every sample, in ms and in order: p99 of a few dozen rounds is their maximum
            System.out.println("    "
                    + nanos.stream().map(n -> String.format("%.0f", n / 1e6)).toList());
        }
    }

    private void send(String method, String path, String body) throws Exception {
        XdsBenchmark.send(client, base, method, path, body);
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("condition not met within 300 s");
            }
            Thread.sleep(0, 200_000);
        }
    }
}
