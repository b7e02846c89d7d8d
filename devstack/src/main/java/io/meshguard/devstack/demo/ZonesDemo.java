package io.meshguard.devstack.demo;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.cli.xds.AdminClient;
import io.meshguard.emulator.AdsSubscription;
import io.meshguard.emulator.EnvoyNode;
import io.meshguard.emulator.XdsResources;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.store.PgRevisionStore;
import io.meshguard.xds.zone.ZoneBoard;
import io.meshguard.xds.zone.ZoneCentral;
import io.meshguard.xds.zone.ZoneHubSettings;
import io.meshguard.xds.zone.ZoneSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import javax.sql.DataSource;

/**
 * {@code meshguard demo --zones N}: N clusters registered against the running {@code up}, a zone controller
 * for each on loopback (in this process, as {@code meshguard zone} runs one), emulated Envoy nodes on each zone's ADS
 * port. The zones follow a central zone hub this demo runs on {@code up}'s database: a second central replica, so
 * that the demo can stop "central" and start it again without stopping {@code up}; revisions are published through
 * {@code up}'s admin API as an operator does. Each step checks what it shows; the journey fails when one does not hold.
 */
final class ZonesDemo {
    /** The demo's own hub: echoes every second, so a silent stream is stale within 3 s. */
    static final ZoneHubSettings HUB = new ZoneHubSettings(Duration.ofSeconds(1), Duration.ofMillis(200));
    /** How long a step waits for what it shows (generous: a loaded machine). */
    private static final Duration WAIT = Duration.ofSeconds(30);

    /**
     * What the journey measured.
     *
     * @param onlyItsZone the first cluster's new revision reached its zone's nodes and no node of another zone
     * @param newNodeMillis how long a node that joined a zone while central was stopped took to be fully configured
     * @param resyncMillis from central's restart until the zone served the revision published while it was away
     * @param revokedMillis from revoking the last cluster until its zone was cut off
     */
    record Result(
            boolean onlyItsZone, long newNodeMillis, long resyncMillis, long revokedMillis, List<String> failures) {
        boolean passed() {
            return failures.isEmpty();
        }
    }

    private final AdminClient admin;
    private final DataSource database;
    private final PrintStream out;
    private final int zones;
    private final List<String> failures = new ArrayList<>();

    /**
     * @param admin {@code up}'s admin API (clusters, registrations, publishes)
     * @param database {@code up}'s database, which the demo's zone hub shares
     */
    ZonesDemo(AdminClient admin, DataSource database, PrintStream out, int zones) {
        if (zones < 2) {
            throw new IllegalArgumentException("--zones needs at least 2 (one to publish to, one to stay untouched)");
        }
        this.admin = admin;
        this.database = database;
        this.out = out;
        this.zones = zones;
    }

    static String cluster(int i) {
        return "demo-zone-" + i;
    }

    static String group(int i) {
        return "demo-zone-" + i + "-gw";
    }

    Result play() throws Exception {
        Path state = Files.createTempDirectory("meshguard-demo-zones");
        List<AutoCloseable> open = new ArrayList<>();
        try {
            return play(state, open);
        } finally {
            for (AutoCloseable c : open.reversed()) {
                try {
                    c.close();
                } catch (Exception e) {
                    // keep closing the rest
                }
            }
            try (Stream<Path> files = Files.walk(state)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            removeClusters();
        }
    }

    /**
     * The demo's clusters leave the fleet with it: each zone revoked, then the cluster decommissioned, as an operator
     * would (a cluster that stayed listed in {@code meshguard cluster fleet} for good looked like a real one down).
     */
    private void removeClusters() {
        List<String> left = new ArrayList<>();
        for (int i = 1; i <= zones; i++) {
            try {
                admin.send(
                        "POST",
                        "/v1/operator/zones/" + cluster(i) + "/revoke",
                        "{\"reason\": \"meshguard demo ended\"}");
                HttpResponse<String> r = admin.send(
                        "DELETE",
                        "/v1/operator/clusters/" + cluster(i),
                        "{\"reason\": \"meshguard demo --zones ended\"}");
                if (r.statusCode() / 100 != 2 && r.statusCode() != 404) {
                    left.add(cluster(i) + " (" + r.statusCode() + ")");
                }
            } catch (Exception e) {
                left.add(cluster(i) + " (" + e.getMessage() + ")");
            }
        }
        out.println(
                left.isEmpty()
                        ? "The demo's clusters were revoked and removed from the fleet."
                        : "Not removed from the fleet: " + left
                                + "; remove each with meshguard cluster revoke --name C and"
                                + " meshguard cluster delete --name C --reason R.");
    }

    private Result play(Path state, List<AutoCloseable> open) throws Exception {
        out.println("meshguard demo --zones " + zones + " — zone controllers on loopback following a central zone hub,"
                + " each serving EMULATED Envoy nodes");
        out.println();
        out.println("== Z1. " + zones + " clusters registered, each serving a gateway group of its own");
        for (int i = 1; i <= zones; i++) {
            publish(i, false);
        }
        List<String> tokens = new ArrayList<>();
        for (int i = 1; i <= zones; i++) {
            tokens.add(register(i));
        }
        ZoneCentral central = open(open, hub(0));
        int hubPort = central.port();
        // the second cluster reaches central through a link the demo can make hang (Z5)
        HangingLink link = open(open, new HangingLink(hubPort));
        out.println("  central          zone hub on 127.0.0.1:" + hubPort + " (a replica of up's central on its"
                + " database; revisions published through up's admin API)");

        List<ZoneController> zoneList = new ArrayList<>();
        List<AdsSubscription> nodes = new ArrayList<>();
        for (int i = 1; i <= zones; i++) {
            ZoneController zone = open(
                    open,
                    new ZoneController(
                                    ZoneSettings.loopback(
                                            cluster(i),
                                            "127.0.0.1:" + (i == 2 ? link.port() : hubPort),
                                            Optional.of(tokens.get(i - 1)),
                                            state.resolve(cluster(i)),
                                            HUB.echoInterval()),
                                    new InetSocketAddress("127.0.0.1", 0),
                                    FilterTargets.DEFAULTS,
                                    Optional.empty(),
                                    AdsPeerPolicy.localDevelopment(),
                                    new SimpleMeterRegistry())
                            .start());
            zoneList.add(zone);
            nodes.add(open(
                    open,
                    AdsSubscription.connect(
                            "127.0.0.1",
                            zone.adsPort(),
                            new EnvoyNode("envoy-" + cluster(i) + "-1", group(i), Map.of()))));
        }
        // a node of the first cluster's group that runs in the second cluster: no zone but the first serves it
        AdsSubscription stray = open(
                open,
                AdsSubscription.connect(
                        "127.0.0.1",
                        zoneList.get(1).adsPort(),
                        new EnvoyNode("envoy-" + cluster(2) + "-stray", group(1), Map.of())));
        for (int i = 1; i <= zones; i++) {
            XdsResources r = complete(nodes.get(i - 1), "the node in " + cluster(i));
            out.println("  zone " + cluster(i) + "  ADS 127.0.0.1:"
                    + zoneList.get(i - 1).adsPort() + ", node envoy-" + cluster(i) + "-1 holds " + describe(r));
        }

        out.println();
        out.println("== Z2. A new revision of " + group(1) + " (a second route, /orders) reaches only " + cluster(1)
                + "'s nodes");
        Map<Integer, String> before = new java.util.HashMap<>();
        for (int i = 2; i <= zones; i++) {
            before.put(i, nodes.get(i - 1).resources().version(XdsResources.CDS));
        }
        long revision = publish(1, true);
        boolean reached = awaitTrue(() -> hasOrders(nodes.get(0).resources()));
        check(reached, "the node in " + cluster(1) + " received revision " + revision);
        out.println("  " + cluster(1) + "  node envoy-" + cluster(1) + "-1 holds "
                + describe(nodes.get(0).resources()) + " (revision "
                + zoneList.get(0)
                        .core()
                        .publisher()
                        .servedRevision(group(1))
                        .map(String::valueOf)
                        .orElse("none") + ")");
        boolean untouched = true;
        for (int i = 2; i <= zones; i++) {
            boolean same =
                    nodes.get(i - 1).resources().version(XdsResources.CDS).equals(before.get(i))
                            && zoneList.get(i - 1)
                                    .core()
                                    .publisher()
                                    .servedRevision(group(1))
                                    .isEmpty();
            untouched &= same;
            out.println("  " + cluster(i) + "  node envoy-" + cluster(i) + "-1 unchanged ("
                    + describe(nodes.get(i - 1).resources()) + "); the zone serves no " + group(1));
        }
        boolean strayEmpty = stray.resources().clusters().isEmpty()
                && stray.resources().listeners().isEmpty();
        out.println("  " + cluster(2) + "  node envoy-" + cluster(2) + "-stray (group " + group(1) + ") holds "
                + describe(stray.resources()));
        check(untouched && strayEmpty, "no node outside " + cluster(1) + " received " + group(1));
        boolean onlyItsZone = reached && untouched && strayEmpty;

        out.println();
        out.println("== Z3. Central stopped: each zone keeps serving what it holds, and a node joining now gets it"
                + " all from its zone");
        central.close();
        open.remove(central);
        check(awaitTrue(() -> zoneList.stream().noneMatch(z -> z.link().connected())), "the zones saw central go");
        out.println("  central          stopped; zones connected to it: "
                + zoneList.stream().filter(z -> z.link().connected()).count());
        long joinStart = System.nanoTime();
        AdsSubscription joined = open(
                open,
                AdsSubscription.connect(
                        "127.0.0.1",
                        zoneList.get(0).adsPort(),
                        new EnvoyNode("envoy-" + cluster(1) + "-joined", group(1), Map.of())));
        XdsResources got = complete(joined, "the node that joined " + cluster(1) + " while central was stopped");
        long newNodeMillis = (System.nanoTime() - joinStart) / 1_000_000;
        boolean full = hasOrders(got)
                && got.clusters()
                        .keySet()
                        .equals(nodes.get(0).resources().clusters().keySet())
                && got.listeners()
                        .keySet()
                        .equals(nodes.get(0).resources().listeners().keySet());
        check(full, "the joining node holds what the zone's first node holds");
        out.println("  " + cluster(1) + "  node envoy-" + cluster(1) + "-joined fully configured in " + newNodeMillis
                + " ms: " + describe(got) + " (the same as envoy-" + cluster(1) + "-1)");
        long whileAway = publish(1, false);
        out.println("  operator         published revision " + whileAway + " of " + group(1)
                + " (the /orders route removed) while the zones' central is away");

        out.println();
        out.println("== Z4. Central restarted: the zone resyncs from what it holds, and its nodes follow");
        long restart = System.nanoTime();
        central = open(open, hub(hubPort));
        ZoneController first = zoneList.getFirst();
        boolean resynced = awaitTrue(() -> first.core()
                .publisher()
                .servedRevision(group(1))
                .filter(r -> r == whileAway)
                .isPresent());
        long resyncMillis = (System.nanoTime() - restart) / 1_000_000;
        check(resynced, cluster(1) + " serves revision " + whileAway + " after central returned");
        check(
                awaitTrue(() -> !hasOrders(joined.resources())
                        && !hasOrders(nodes.get(0).resources())),
                "the zone's nodes dropped the /orders route");
        out.println("  " + cluster(1) + "  serves revision " + whileAway + " " + resyncMillis
                + " ms after central started again; its nodes hold "
                + describe(nodes.get(0).resources()));
        ZoneCentral hub = central;
        check(
                awaitTrue(() -> hub.hub().board().zones().stream()
                                .filter(z -> z.cluster().startsWith("demo-zone-"))
                                .filter(z -> z.connected()
                                        && z.applied()
                                                .containsKey(group(Integer.parseInt(
                                                        z.cluster().substring("demo-zone-".length())))))
                                .count()
                        == zones),
                "every zone reconnected and echoed what it applied");
        for (ZoneBoard.Zone z : hub.hub().board().zones()) {
            if (z.cluster().startsWith("demo-zone-")) {
                out.println("  fleet            " + z.cluster() + ": connected, applied " + z.applied() + ", "
                        + z.nodes().size() + " node(s), drift " + z.driftedNodes());
            }
        }

        out.println();
        out.println("== Z5. " + cluster(2) + "'s link to central hangs (no byte either way, nothing closed): central"
                + " marks the zone stale after " + ZoneHubSettings.MISSED_ECHOES + " missed echoes, and its nodes keep"
                + " what they hold");
        long hang = System.nanoTime();
        link.hang();
        boolean stale = awaitTrue(() -> seen(hub, cluster(2), ZoneBoard.Zone::stale));
        long staleMillis = (System.nanoTime() - hang) / 1_000_000;
        check(stale, "central marked " + cluster(2) + " stale");
        out.println("  fleet            " + cluster(2) + ": stale " + staleMillis + " ms after its link hung (an echo"
                + " every " + HUB.echoInterval().toMillis() + " ms); its node envoy-" + cluster(2) + "-1 still holds "
                + describe(nodes.get(1).resources()));
        long heal = System.nanoTime();
        link.heal();
        check(awaitTrue(() -> seen(hub, cluster(2), ZoneBoard.Zone::live)), cluster(2) + " echoes again");
        out.println("  fleet            " + cluster(2) + ": connected and echoing again "
                + (System.nanoTime() - heal) / 1_000_000 + " ms after the link came back");

        out.println();
        out.println("== Z6. Revoking " + cluster(zones) + " cuts its zone off (it keeps serving what it holds)");
        ZoneController last = zoneList.getLast();
        long revoke = System.nanoTime();
        call("POST", "/v1/operator/zones/" + cluster(zones) + "/revoke", "{\"reason\": \"meshguard demo\"}");
        boolean cut = awaitTrue(() -> last.link().refused().isPresent());
        long revokedMillis = (System.nanoTime() - revoke) / 1_000_000;
        check(cut, cluster(zones) + " was cut off");
        out.println("  " + cluster(zones) + "  cut off in " + revokedMillis + " ms ("
                + last.link().refused().orElse("not refused") + "); still serving "
                + last.core()
                        .publisher()
                        .servedRevision(group(zones))
                        .map(r -> "revision " + r)
                        .orElse("nothing"));
        out.println();
        out.println(failures.isEmpty() ? "Every step held." : "Steps that did not hold: " + failures);
        return new Result(onlyItsZone, newNodeMillis, resyncMillis, revokedMillis, List.copyOf(failures));
    }

    /** Whether central's board shows a stream of {@code cluster} that {@code state} holds for. */
    private static boolean seen(
            ZoneCentral central, String cluster, java.util.function.Predicate<ZoneBoard.Zone> state) {
        return central.hub().board().zones().stream().anyMatch(z -> z.cluster().equals(cluster) && state.test(z));
    }

    private ZoneCentral hub(int port) throws IOException {
        ZoneCentral hub = new ZoneCentral(
                database,
                new PgRevisionStore(database),
                new SimpleMeterRegistry(),
                new InetSocketAddress("127.0.0.1", port),
                HUB,
                Duration.ofHours(1));
        hub.start();
        return hub;
    }

    /** Declares cluster {@code i}, assigns its group and returns its one-time registration token. */
    private String register(int i) throws Exception {
        call(
                "PUT",
                "/v1/operator/clusters/" + cluster(i),
                "{\"region\": \"demo-region-" + i + "\", \"provider\": \"demo\"}");
        call("PUT", "/v1/operator/zones/" + cluster(i) + "/groups/" + group(i), "{}");
        JsonNode token = call("POST", "/v1/operator/zones/" + cluster(i) + "/registrations", "{\"ttl_hours\": 1}");
        String secret = token.path("token").asText();
        out.println("  " + cluster(i) + "  registered, serves " + group(i) + "; one-time token "
                + secret.substring(0, Math.min(6, secret.length())) + "… (expires "
                + token.path("expires_at").asText() + ")");
        return secret;
    }

    /** Publishes group {@code i} (with the {@code /orders} route when asked); the revision it got. */
    private long publish(int i, boolean orders) throws Exception {
        GatewayConfig mine = GatewayYaml.read("meshguard demo --zones", yaml(i, orders));
        GatewayConfig theirs =
                ConfigJson.readConfig(call("GET", "/config", null).toString());
        call("PUT", "/config", ConfigJson.write(DemoDraft.merge(theirs, mine, group(i))));
        JsonNode published = call(
                "POST",
                "/publish",
                ConfigJson.mapper()
                        .createObjectNode()
                        .put("reason", "meshguard demo --zones")
                        .toString());
        for (JsonNode r : published.path("revisions")) {
            if (r.path("group").asText().equals(group(i))) {
                return r.path("id").asLong();
            }
        }
        return -1; // unchanged: no new revision
    }

    /** Group {@code i}: one host, one route to a backend that need not run (the demo shows config, not traffic). */
    static String yaml(int i, boolean orders) {
        String g = group(i);
        int port = 18_190 + i;
        String route = "  - {name: %s, group: %s, api: %s, version: v1, match: {path_prefix: %s},"
                + " destinations: [{upstream: %s, weight: 100}], authz_profile: dev-demo, dlp_profile: default}\n";
        return """
                groups:
                  - {name: %1$s, environment: test, region: demo-region-%2$d, hostnames: [zone-%2$d.demo.local],
                     proxyless_authz: off}
                upstreams:
                  - {name: %1$s-accounts, protocol: http1, endpoints: [{address: 127.0.0.1, port: %3$d}],
                     address_exceptions: [{address: 127.0.0.1, port: %3$d, reason: "demo backend on this machine"}]}
                  - {name: %1$s-orders, protocol: http1, endpoints: [{address: 127.0.0.1, port: %4$d}],
                     address_exceptions: [{address: 127.0.0.1, port: %4$d, reason: "demo backend on this machine"}]}
                apis:
                  - {name: %1$s, base_path: /zone-%2$d, default_version: v1, versions: [{version: v1, status: active}]}
                routes:
                """.formatted(g, i, port, port + 100)
                + route.formatted("accounts", g, g, "/accounts", g + "-accounts")
                + (orders ? route.formatted("orders", g, g, "/orders", g + "-orders") : "");
    }

    private static boolean hasOrders(XdsResources r) {
        return r.clusters().keySet().stream().anyMatch(n -> n.contains("-orders"));
    }

    private static String describe(XdsResources r) {
        if (r.clusters().isEmpty() && r.listeners().isEmpty()) {
            return "nothing";
        }
        return r.listeners().size() + " listener(s), clusters "
                + new java.util.TreeSet<>(r.clusters().keySet());
    }

    private XdsResources complete(AdsSubscription node, String what) throws InterruptedException {
        try {
            return node.await(AdsSubscription::isComplete, WAIT);
        } catch (java.util.concurrent.TimeoutException e) {
            check(false, what + " was configured (" + e.getMessage() + ")");
            return node.resources();
        }
    }

    private void check(boolean held, String what) {
        if (!held) {
            failures.add(what);
            out.println("  NOT SHOWN        " + what);
        }
    }

    private static boolean awaitTrue(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    private static <T extends AutoCloseable> T open(List<AutoCloseable> open, T c) {
        open.add(c);
        return c;
    }

    private JsonNode call(String method, String path, String body) throws Exception {
        HttpResponse<String> r = admin.send(method, path, body);
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body().isBlank()
                ? ConfigJson.mapper().createObjectNode()
                : ConfigJson.mapper().readTree(r.body());
    }
}
