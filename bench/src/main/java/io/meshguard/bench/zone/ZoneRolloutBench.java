package io.meshguard.bench.zone;

import com.zaxxer.hikari.HikariDataSource;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.store.PgGatewayStore;
import io.meshguard.xds.store.PgRevisionStore;
import io.meshguard.xds.zone.ZoneCentral;
import io.meshguard.xds.zone.ZoneHubSettings;
import io.meshguard.xds.zone.ZoneSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A publish reaching 10 zones × 50 emulated Envoys (the rollout goal: 95 % ACKed within 5 s, 100 % within
 * 15 s), beside the same publish reaching 500 Envoys on one controller, in the same run: a real PostgreSQL, central's
 * publisher and zone hub, ten zone controllers and 1,000 ADS streams on loopback. Each round changes the group's
 * clusters (CDS: the upstream's connect timeout) and times, per node, publish start → the node ACKs the new CDS version.
 *
 * <p>Run: {@code java -cp bench.jar io.meshguard.bench.zone.ZoneRolloutBench [rounds] [zones] [nodesPerZone]}.
 */
public final class ZoneRolloutBench {
    private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    private static final String GROUP = "edge";

    private ZoneRolloutBench() {}

    /** An emulated Envoy: wildcard CDS, every response ACKed; remembers when it ACKed each version. */
    static final class Envoy {
        final Map<String, Long> ackedAt = new ConcurrentHashMap<>();
        private final StreamObserver<DiscoveryRequest> requests;
        private final Node node;

        Envoy(ManagedChannel channel, String id) {
            node = Node.newBuilder()
                    .setId(id)
                    .setCluster(GROUP)
                    .setUserAgentName("envoy")
                    .build();
            requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                    .streamAggregatedResources(new StreamObserver<>() {
                        @Override
                        public void onNext(DiscoveryResponse r) {
                            send(DiscoveryRequest.newBuilder()
                                    .setNode(node)
                                    .setTypeUrl(r.getTypeUrl())
                                    .setVersionInfo(r.getVersionInfo())
                                    .setResponseNonce(r.getNonce())
                                    .build());
                            ackedAt.putIfAbsent(r.getVersionInfo(), System.nanoTime());
                        }

                        @Override
                        public void onError(Throwable t) {}

                        @Override
                        public void onCompleted() {}
                    });
            send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).build());
        }

        private synchronized void send(DiscoveryRequest r) {
            requests.onNext(r);
        }
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int zoneCount = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        int perZone = args.length > 2 ? Integer.parseInt(args[2]) : 50;
        Path tmp = Files.createTempDirectory("meshguard-bench-zones");
        LocalPostgres pg = LocalPostgres.start(tmp.resolve("pg"), 0);
        HikariDataSource ds = DataSourceFactory.create(pg.dbSettings("meshguard-bench"));
        Migrations.apply(ds);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        PgRevisionStore revisions = new PgRevisionStore(ds);
        PgGatewayStore draft = new PgGatewayStore(ds);
        XdsCore central = new XdsCore(
                        new InetSocketAddress("127.0.0.1", 0),
                        FilterTargets.DEFAULTS,
                        revisions,
                        Optional.empty(),
                        s -> {},
                        meters,
                        Clock.systemUTC())
                .start();
        ZoneCentral hub = new ZoneCentral(
                ds,
                revisions,
                meters,
                new InetSocketAddress("127.0.0.1", 0),
                ZoneHubSettings.DEFAULTS,
                Duration.ofHours(1));
        hub.start();
        List<ZoneController> zones = new ArrayList<>();
        List<ManagedChannel> channels = new ArrayList<>();
        List<Envoy> zoned = new ArrayList<>();
        List<Envoy> direct = new ArrayList<>();
        try {
            publish(draft, central, 0);
            CatalogStore catalog = new CatalogStore(ds);
            for (int z = 0; z < zoneCount; z++) {
                String cluster = "zone-" + z;
                catalog.putCluster(new Cluster(cluster, "region-" + z, Optional.of("aws"), Set.of()));
                hub.hub().registry().assign(cluster, GROUP);
                String token = hub.hub()
                        .registry()
                        .issue(cluster, Duration.ofHours(1), "bench")
                        .secret();
                zones.add(new ZoneController(
                                new ZoneSettings(
                                        cluster,
                                        "127.0.0.1:" + hub.port(),
                                        Optional.of(token),
                                        tmp.resolve(cluster),
                                        Duration.ofSeconds(5),
                                        Duration.ofMillis(100),
                                        Duration.ofSeconds(2),
                                        true,
                                        ZoneSettings.LOOPBACK_REPLICA),
                                new InetSocketAddress("127.0.0.1", 0),
                                FilterTargets.DEFAULTS,
                                Optional.empty(),
                                AdsPeerPolicy.localDevelopment(),
                                new SimpleMeterRegistry())
                        .start());
            }
            for (ZoneController zone : zones) {
                ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", zone.adsPort())
                        .usePlaintext()
                        .build();
                channels.add(ch);
                for (int n = 0; n < perZone; n++) {
                    zoned.add(new Envoy(ch, "zone-envoy-" + zoned.size()));
                }
            }
            ManagedChannel centralChannel = ManagedChannelBuilder.forAddress("127.0.0.1", central.adsPort())
                    .usePlaintext()
                    .build();
            channels.add(centralChannel);
            for (int n = 0; n < zoneCount * perZone; n++) {
                direct.add(new Envoy(centralChannel, "direct-envoy-" + n));
            }
            String first = cdsVersion(central);
            waitFor(zoned, first, Duration.ofSeconds(60));
            waitFor(direct, first, Duration.ofSeconds(60));

            System.out.printf(
                    "JDK %s, %d processors, %d rounds, %d zones x %d nodes; beside %d nodes on one" + " controller%n",
                    Runtime.version(),
                    Runtime.getRuntime().availableProcessors(),
                    rounds,
                    zoneCount,
                    perZone,
                    direct.size());
            System.out.println("| round | path | ACKed ≤ 5 s | ACKed ≤ 15 s | p50 ms | p95 ms | max ms |");
            System.out.println("|---:|---|---:|---:|---:|---:|---:|");
            for (int r = 1; r <= rounds; r++) {
                long t0 = System.nanoTime();
                publish(draft, central, r);
                String version = cdsVersion(central);
                waitFor(zoned, version, Duration.ofSeconds(20));
                waitFor(direct, version, Duration.ofSeconds(20));
                row(
                        r,
                        "10 zones (central → zone → Envoy)".replace("10", String.valueOf(zoneCount)),
                        zoned,
                        version,
                        t0);
                row(r, "one controller (central → Envoy)", direct, version, t0);
            }
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
            for (ZoneController z : zones) {
                z.close();
            }
            hub.close();
            central.close();
            ds.close();
            pg.close();
        }
        System.exit(0);
    }

    private static void publish(PgGatewayStore draft, XdsCore central, int round) {
        GatewayConfig config = GatewayYaml.read("bench.yaml", """
                groups:
                  - {name: edge, environment: prod, region: global, domain: example.com}
                upstreams:
                  - name: backend
                    protocol: http1
                    connect_timeout_ms: %d
                    endpoints: [{address: 10.0.0.1, port: 8080}]
                apis:
                  - {name: status, base_path: /status, default_version: v1, versions: [{version: v1, status: active}]}
                routes:
                  - {name: status, group: edge, api: status, version: v1, match: {path_prefix: /a},
                     destinations: [{upstream: backend, weight: 100}], authz_profile: gateway-status,
                     dlp_profile: default}
                """.formatted(1_000 + round));
        draft.replace(config);
        if (!central.publisher().publish(config, "bench", "round " + round).published()) {
            throw new IllegalStateException("the bench configuration was refused");
        }
    }

    private static String cdsVersion(XdsCore central) {
        return central.snapshots().served(GROUP).orElseThrow().versions().clusters();
    }

    private static void waitFor(List<Envoy> nodes, String version, Duration atMost) throws InterruptedException {
        long deadline = System.nanoTime() + atMost.toNanos();
        while (System.nanoTime() < deadline && !nodes.stream().allMatch(n -> n.ackedAt.containsKey(version))) {
            Thread.sleep(20);
        }
    }

    private static void row(int round, String path, List<Envoy> nodes, String version, long t0) {
        long[] ms = nodes.stream()
                .mapToLong(n -> {
                    Long at = n.ackedAt.get(version);
                    return at == null ? Long.MAX_VALUE : (at - t0) / 1_000_000;
                })
                .sorted()
                .toArray();
        long within5 = Arrays.stream(ms).filter(m -> m <= 5_000).count();
        long within15 = Arrays.stream(ms).filter(m -> m <= 15_000).count();
        System.out.printf(
                "| %d | %s | %.1f %% | %.1f %% | %s | %s | %s |%n",
                round,
                path,
                100.0 * within5 / ms.length,
                100.0 * within15 / ms.length,
                text(ms[ms.length / 2]),
                text(ms[(int) (ms.length * 0.95) - 1]),
                text(ms[ms.length - 1]));
    }

    private static String text(long ms) {
        return ms == Long.MAX_VALUE ? "never" : String.valueOf(ms);
    }
}
