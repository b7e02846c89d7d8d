package io.meshguard.xds.soak;

import io.grpc.ManagedChannel;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.ApplicationState;
import io.meshguard.catalogmodel.Cluster;
import io.meshguard.catalogmodel.SharedCatalog;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.catalogmodel.TenantHoldings;
import io.meshguard.testing.LoopbackGrpc;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.server.LoopbackCores;
import io.meshguard.xds.server.NodeStatus;
import io.meshguard.xds.server.Publisher;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.soak.SoakNodes.DeltaAdsNode;
import io.meshguard.xds.soak.SoakNodes.Refuses;
import io.meshguard.xds.soak.SoakNodes.SoakNode;
import io.meshguard.xds.soak.SoakNodes.SotwNode;
import io.meshguard.xds.soak.SoakNodes.StateNode;
import io.meshguard.xds.store.InMemoryRevisionStore;
import io.meshguard.xds.zone.ZoneCentral;
import io.meshguard.xds.zone.ZoneHubSettings;
import io.meshguard.xds.zone.ZoneSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;

/**
 * A randomized soak of the xDS core that can find lock-order deadlocks and NACK storms, on every discovery path, for
 * the integration tier ({@code XdsCoreSoakTest}) and the longer run in {@code bench/} ({@code XdsSoakBench}). Central
 * (over an in-memory store) serves emulated Envoy gateways (given by the caller) beside bare nodes that answer every
 * response the moment it arrives ({@link SoakNodes}: state-of-the-world ADS with VHDS, delta ADS, subscription state
 * over state of the world and delta), so their ACKs race each other and the settling of removed clusters; nodes that
 * refuse every virtual host, route table or subscription state; reconnects; publishes that rename upstreams (a
 * cluster dropped in two steps), change weights and roll back; central restarted (its ADS server stopped, a new core
 * started on the same store and port while the nodes redial); and a zone controller following central (its registry
 * in {@code ds}) whose link is cut and restored while publishes go on. Then probe publishes, each timed until every
 * accepting node of every kind is on it, and the checks: no thread deadlocked, the watchdogs healthy, every accepting
 * node on the last revision (the zone's link metric up again), each refusing node sent a bounded number of
 * responses. Every failure is an {@link AssertionError} naming the seed.
 */
public final class XdsSoak {
    /** The group every node is in. */
    public static final String GROUP = SoakNodes.GROUP;

    private static final ZoneHubSettings HUB = new ZoneHubSettings(Duration.ofMillis(300), Duration.ofMillis(100));
    private static final Optional<XdsCore.Vhds> VHDS =
            Optional.of(new XdsCore.Vhds("meshguard-xds", Duration.ofSeconds(2)));

    /** How many nodes of each kind ({@code refusing} split between virtual hosts and route tables). */
    public record Sizes(
            int emulated,
            int racing,
            int refusing,
            int delta,
            int deltaRefusing,
            int state,
            int stateRefusing,
            int zone) {
        /** The integration tier's. */
        public static final Sizes CI = new Sizes(10, 30, 4, 8, 2, 6, 2, 8);

        /** The same nodes, none refusing. */
        public Sizes accepting() {
            return new Sizes(emulated, racing, 0, delta, 0, state, 0, zone);
        }
    }

    /** Opens an emulated Envoy gateway on central's ADS port (its stream redials on its own). */
    @FunctionalInterface
    public interface Gateways {
        AutoCloseable connect(int adsPort, String nodeId, String group) throws Exception;

        static Gateways none() {
            return (port, id, group) -> () -> {};
        }
    }

    /** A refusing node at the end: responses of the kind it refuses, and streams it opened. */
    public record Refusal(String node, Refuses refuses, int responses, int streams) {}

    /**
     * What a soak did and measured.
     *
     * @param convergedMillis per probe publish, how long until every accepting node of every kind was on it
     * @param seconds how long the nodes were connected, for rates
     */
    public record Report(
            long seed,
            int changes,
            int stateChanges,
            int restarts,
            int cuts,
            List<Long> convergedMillis,
            List<Refusal> refusals,
            double seconds) {}

    private final long seed;
    private final int seconds;
    private final Sizes sizes;
    private final int probes;
    private final DataSource ds;
    private final Path dir;
    private final Gateways emulated;
    private final String why;
    private final InMemoryRevisionStore store = new InMemoryRevisionStore(Clock.systemUTC());
    private final SimpleMeterRegistry zoneMeters = new SimpleMeterRegistry();
    private XdsCore core;
    private ZoneCentral hub;
    private int zonePort;
    private long stateVersion = 1;
    private int restarts;
    private int cuts;
    private boolean linkCut;

    /**
     * @param seconds how long publishes, rollbacks, reconnects, restarts and the link cut go on (0: none of them)
     * @param probes timed publishes after that, one after the other (at least 1: the last revision)
     * @param ds PostgreSQL with meshguard's schema, for the zone's registry and catalogue
     * @param dir where the zone keeps its state
     */
    public XdsSoak(long seed, int seconds, Sizes sizes, int probes, DataSource ds, Path dir, Gateways emulated) {
        this.seed = seed;
        this.seconds = seconds;
        this.sizes = sizes;
        this.probes = Math.max(1, probes);
        this.ds = ds;
        this.dir = dir;
        this.emulated = emulated;
        this.why = "seed " + seed + " (replay: -Dmeshguard.soak.seed=" + seed + ")";
    }

    public Report run() throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        List<String> variants = variants();
        core = core(0);
        int adsPort = core.adsPort();
        publishState();
        hub = zoneHub(0);
        zonePort = hub.port();
        String cluster = "soak-" + Long.toHexString(seed) + "-" + System.nanoTime();
        new CatalogStore(ds).putCluster(new Cluster(cluster, "kr-seoul", Optional.of("aws"), Set.of()));
        hub.hub().registry().assign(cluster, GROUP);
        String token =
                hub.hub().registry().issue(cluster, Duration.ofHours(1), "soak").secret();
        ManagedChannel channel = LoopbackGrpc.channelTo(adsPort);
        List<AutoCloseable> gateways = new ArrayList<>();
        List<SoakNode> central = new ArrayList<>();
        List<SoakNode> zoned = new ArrayList<>();
        ZoneController zone = null;
        ManagedChannel zoneChannel = null;
        try {
            List<Long> revisions = new ArrayList<>();
            Map<Long, Integer> variantOf = new HashMap<>();
            int current = 0;
            revisions.add(publish(variants.get(0)));
            variantOf.put(revisions.get(0), 0);
            zone = new ZoneController(
                            ZoneSettings.loopback(
                                    cluster,
                                    "127.0.0.1:" + zonePort,
                                    Optional.of(token),
                                    dir.resolve("zone"),
                                    HUB.echoInterval()),
                            new InetSocketAddress("127.0.0.1", 0),
                            FilterTargets.DEFAULTS,
                            Optional.empty(),
                            AdsPeerPolicy.localDevelopment(),
                            zoneMeters,
                            Optional.empty(),
                            VHDS.map(XdsCore.Vhds::cluster))
                    .start();
            zoneChannel = LoopbackGrpc.channelTo(zone.adsPort());
            long connected = System.nanoTime();
            for (int i = 0; i < sizes.emulated(); i++) {
                gateways.add(emulated.connect(adsPort, "soak-envoy-" + i, GROUP));
            }
            for (int i = 0; i < sizes.racing(); i++) {
                central.add(new SotwNode(channel, "soak-racing-" + i, Refuses.NOTHING, true));
            }
            for (int i = 0; i < sizes.refusing(); i++) {
                central.add(new SotwNode(
                        channel,
                        "soak-refusing-" + i,
                        i % 2 == 0 ? Refuses.VIRTUAL_HOSTS : Refuses.ROUTE_TABLES,
                        true));
            }
            for (int i = 0; i < sizes.delta() + sizes.deltaRefusing(); i++) {
                central.add(new DeltaAdsNode(
                        channel, "soak-delta-" + i, i < sizes.delta() ? Refuses.NOTHING : Refuses.ROUTE_TABLES));
            }
            for (int i = 0; i < sizes.state() + sizes.stateRefusing(); i++) {
                central.add(new StateNode(
                        channel, "soak-state-" + i, i % 2 == 1, i < sizes.state() ? Refuses.NOTHING : Refuses.STATE));
            }
            for (int i = 0; i < sizes.zone(); i++) {
                zoned.add(new SotwNode(zoneChannel, "soak-zone-" + i, Refuses.NOTHING, true));
            }
            // every node connected and on the first revision before anything churns: a restart then cuts live streams
            awaitEveryNode(gateways.size(), central, zoned, zone, revisions.get(0), "the first revision");
            int changes = 0;
            int stateChanges = 0;
            long start = System.nanoTime();
            long end = start + TimeUnit.SECONDS.toNanos(seconds);
            // at least one restart and one link cut in every run with churn, at a random moment of its middle
            long restartAt = seconds == 0
                    ? Long.MAX_VALUE
                    : start + (long) (TimeUnit.SECONDS.toNanos(seconds) * random.nextDouble(0.2, 0.6));
            long cutAt = seconds == 0
                    ? Long.MAX_VALUE
                    : start + (long) (TimeUnit.SECONDS.toNanos(seconds) * random.nextDouble(0.3, 0.7));
            long restoreAt = Long.MAX_VALUE;
            while (System.nanoTime() < end) {
                long now = System.nanoTime();
                if (now >= restoreAt) {
                    restoreLink();
                    restoreAt = Long.MAX_VALUE;
                }
                int op = random.nextInt(20);
                if (now >= restartAt || op == 19) {
                    restartAt = Long.MAX_VALUE;
                    restartCentral(adsPort);
                } else if ((now >= cutAt || op == 18) && !linkCut) {
                    cutAt = Long.MAX_VALUE;
                    cutLink();
                    restoreAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(random.nextInt(1000, 3000));
                } else if (op < 11) {
                    // every publish changes something: a rename drops a cluster in two steps
                    int next = (current + 1 + random.nextInt(variants.size() - 1)) % variants.size();
                    long id = publish(variants.get(next));
                    revisions.add(id);
                    variantOf.put(id, next);
                    current = next;
                    changes++;
                } else if (op < 14) {
                    int now2 = current;
                    List<Long> other = revisions.stream()
                            .filter(r -> variantOf.get(r) != now2)
                            .toList();
                    if (other.isEmpty()) {
                        continue;
                    }
                    long to = other.get(random.nextInt(other.size()));
                    Publisher.Result r = bounded(() -> core.publisher().rollback(to, "soak", "soak rollback"));
                    check(r.published(), "a rollback was refused: " + r.problems());
                    long id = r.revision().orElseThrow().id();
                    hub.hub().nudge();
                    revisions.add(id);
                    current = variantOf.get(to);
                    variantOf.put(id, current);
                    changes++;
                } else if (op < 16) {
                    stateVersion++;
                    publishState();
                    stateChanges++;
                } else {
                    List<SoakNode> pool = random.nextInt(4) == 0 ? zoned : central;
                    int which = random.nextInt(pool.size());
                    SoakNode old = pool.get(which);
                    old.close();
                    pool.set(which, old.again(pool == zoned ? zoneChannel : channel));
                }
                Thread.sleep(random.nextInt(50, 400));
            }
            // a short run whose loop ended first still restarts central and cuts the link, with a publish meanwhile
            if (restartAt != Long.MAX_VALUE) {
                restartCentral(adsPort);
            }
            if (cutAt != Long.MAX_VALUE && !linkCut) {
                cutLink();
                current = (current + 1) % variants.size();
                publish(variants.get(current));
                changes++;
            }
            if (linkCut) {
                restoreLink();
            }
            List<Long> converged = new ArrayList<>();
            long last = -1;
            for (int p = 0; p < probes; p++) {
                long published = System.nanoTime();
                last = publish(variants.get(0)
                        .replace(
                                "weight: 90}, {upstream: payments-v2-canary, weight: 10}",
                                p % 2 == 0
                                        ? "weight: 80}, {upstream: payments-v2-canary, weight: 20}"
                                        : "weight: 60}, {upstream: payments-v2-canary, weight: 40}"));
                changes++;
                stateVersion++;
                publishState();
                stateChanges++;
                awaitEveryNode(
                        gateways.size(),
                        central,
                        zoned,
                        zone,
                        last,
                        "the last revision " + last + " (subscription state " + stateVersion + ") after " + changes
                                + " changes, " + restarts + " central restarts, " + cuts + " link cuts");
                converged.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - published));
            }
            for (XdsCore c : List.of(core, zone.core())) {
                c.watchdog().check();
                c.watchdog().check();
                check(c.watchdog().healthy(), "a watchdog finds its core stuck");
            }
            // a refusing node is sent each change once, again on each new stream, and what it refused again after
            // 1, 3, 7, 15 … s
            double lived = (System.nanoTime() - connected) / 1e9;
            int backoffs = 2 * (int) (Math.log(lived + 1) / Math.log(2));
            List<Refusal> refusals = new ArrayList<>();
            for (SoakNode n : central) {
                if (n.refuses() == Refuses.NOTHING) {
                    continue;
                }
                int bound =
                        (n.refuses() == Refuses.STATE ? stateChanges : changes) + backoffs + 3 * n.streamsOpened() + 10;
                check(
                        n.refusedResponses() <= bound,
                        "responses to " + n.id() + " refusing every " + n.refuses() + ": " + n.refusedResponses()
                                + ", more than " + bound + " (" + changes + " changes, " + stateChanges
                                + " state changes, " + n.streamsOpened() + " streams)");
                refusals.add(new Refusal(n.id(), n.refuses(), n.refusedResponses(), n.streamsOpened()));
            }
            return new Report(seed, changes, stateChanges, restarts, cuts, converged, refusals, lived);
        } finally {
            central.forEach(SoakNode::close);
            zoned.forEach(SoakNode::close);
            for (AutoCloseable g : gateways) {
                g.close();
            }
            channel.shutdownNow();
            if (zoneChannel != null) {
                zoneChannel.shutdownNow();
            }
            if (zone != null) {
                zone.close();
            }
            if (!linkCut) {
                hub.close();
            }
            core.close();
        }
    }

    /** Waits up to 60 s for every accepting node to be on {@code revision}; fails naming those that are not. */
    private void awaitEveryNode(
            int gateways, List<SoakNode> central, List<SoakNode> zoned, ZoneController zone, long revision, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        List<String> behind = behind(gateways, central, zoned, zone, revision);
        while (!behind.isEmpty() && System.nanoTime() < deadline && deadlocked().isEmpty()) {
            Thread.sleep(10);
            behind = behind(gateways, central, zoned, zone, revision);
        }
        check(deadlocked().isEmpty(), "deadlocked threads: " + deadlocked());
        check(behind.isEmpty(), "not on " + what + ": " + behind);
    }

    private void check(boolean holds, String what) {
        if (!holds) {
            throw new AssertionError(why + ": " + what);
        }
    }

    private static List<String> variants() throws Exception {
        String sample;
        try (InputStream in = XdsController.class.getResourceAsStream("sample-gateway.yaml")) {
            sample = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        String renamed = sample.replace("  - name: payments-v1\n", "  - name: payments-v1-blue\n")
                .replace("{upstream: payments-v1, weight: 100}", "{upstream: payments-v1-blue, weight: 100}");
        if (renamed.equals(sample)) {
            throw new IllegalStateException("the sample gateway config no longer has upstream payments-v1");
        }
        List<String> variants = new ArrayList<>();
        for (String base : List.of(sample, renamed)) {
            variants.add(base);
            variants.add(base.replace(
                    "weight: 90}, {upstream: payments-v2-canary, weight: 10}",
                    "weight: 70}, {upstream: payments-v2-canary, weight: 30}"));
        }
        return variants;
    }

    private XdsCore core(int port) throws Exception {
        return LoopbackCores.onPort(port, store, VHDS);
    }

    private ZoneCentral zoneHub(int port) throws Exception {
        ZoneCentral c = new ZoneCentral(
                ds,
                store,
                new SimpleMeterRegistry(),
                new InetSocketAddress("127.0.0.1", port),
                HUB,
                Duration.ofHours(1),
                "soak-central");
        c.start();
        return c;
    }

    /** Central's ADS server stopped, and a new core started on the same store and port; the nodes redial. */
    private void restartCentral(int port) throws Exception {
        core.close();
        core = core(port);
        publishState();
        restarts++;
    }

    /** The zone's link to central cut: the zone must say so while it lasts. */
    private void cutLink() throws Exception {
        hub.close();
        linkCut = true;
        cuts++;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (linkGauge() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        check(linkGauge() == 0, "the zone's meshguard_xds_zone_link_connected is 1 10 s after its link was cut");
    }

    private void restoreLink() throws Exception {
        hub = zoneHub(zonePort);
        linkCut = false;
    }

    private double linkGauge() {
        return zoneMeters.get("meshguard_xds_zone_link_connected").gauge().value();
    }

    private void publishState() {
        core.subscriptionState().publish(state(stateVersion));
    }

    /** Subscription state whose one tenant changes with every version, so delta streams are sent each one. */
    private static SubscriptionSnapshot state(long version) {
        return new SubscriptionSnapshot(
                version,
                new SharedCatalog(List.of(), List.of()),
                List.of(new TenantHoldings(
                        "soak",
                        List.of(new Application("soak-app", "soak", "soak v" + version, ApplicationState.ACTIVE)),
                        List.of(),
                        List.of())));
    }

    private long publish(String yaml) throws Exception {
        Publisher.Result r =
                bounded(() -> core.publisher().publish(GatewayYaml.read("soak.yaml", yaml), "soak", "soak"));
        check(r.published(), "a publish was refused: " + r.problems());
        hub.hub().nudge();
        return r.revision().orElseThrow().id();
    }

    /**
     * A publish or rollback within 30 s: one that does not return is the frozen delivery this soak looks for, so it
     * fails with the deadlocked threads (if any) and the seed instead of hanging.
     */
    private Publisher.Result bounded(Callable<Publisher.Result> change) throws Exception {
        FutureTask<Publisher.Result> task = new FutureTask<>(change);
        Thread.ofPlatform().daemon().name("soak-publish").start(task);
        try {
            return task.get(30, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(why + ": a publish did not return in 30 s; deadlocked threads: " + deadlocked());
        }
    }

    /** Each accepting node not on {@code last} (the last subscription state for extauthz replicas), and where. */
    private List<String> behind(
            int gateways, List<SoakNode> central, List<SoakNode> zoned, ZoneController zone, long last) {
        List<String> out = new ArrayList<>();
        List<String> fleet = new ArrayList<>();
        for (int i = 0; i < gateways; i++) {
            fleet.add("soak-envoy-" + i);
        }
        // a replica is named by its node id and, on the ADS port, the peer identity stamped on it
        Map<String, Long> replicas = new HashMap<>();
        core.subscriptionState().replicas().forEach((name, state) -> state.ackedVersion()
                .ifPresent(v -> replicas.merge(name.replaceFirst(" \\(.*\\)$", ""), v, Math::max)));
        for (SoakNode n : central) {
            if (n.refuses() != Refuses.NOTHING) {
                continue;
            }
            switch (n) {
                case SotwNode s -> fleet.add(s.id());
                case DeltaAdsNode d -> {
                    Optional<Long> rev = core.snapshots().revisionOf(GROUP, d.acked());
                    if (!rev.equals(Optional.of(last))) {
                        out.add(d.id() + " (delta ADS) @"
                                + rev.map(String::valueOf).orElse(d.acked().toString()));
                    }
                }
                case StateNode s -> {
                    Long acked = replicas.get(s.id());
                    if (acked == null || acked != stateVersion) {
                        out.add(s.id() + " (subscription state) @" + acked);
                    }
                }
            }
        }
        for (String id : fleet) {
            Optional<Long> rev = core.fleet().node(id).flatMap(NodeStatus::revision);
            if (!rev.equals(Optional.of(last))) {
                out.add(id + " @" + rev.map(String::valueOf).orElse("none"));
            }
        }
        for (SoakNode n : zoned) {
            Optional<Long> rev = zone.core().fleet().node(n.id()).flatMap(NodeStatus::revision);
            if (!rev.equals(Optional.of(last))) {
                out.add(n.id() + " (zone) @" + rev.map(String::valueOf).orElse("none"));
            }
        }
        if (linkGauge() != 1) {
            out.add("the zone's meshguard_xds_zone_link_connected is not 1");
        }
        return out;
    }

    /** Threads of this JVM in a deadlock, with where each waits. */
    public static List<String> deadlocked() {
        long[] ids = ManagementFactory.getThreadMXBean().findDeadlockedThreads();
        if (ids == null) {
            return List.of();
        }
        return Arrays.stream(ManagementFactory.getThreadMXBean().getThreadInfo(ids, true, true))
                .map(ThreadInfo::toString)
                .toList();
    }
}
