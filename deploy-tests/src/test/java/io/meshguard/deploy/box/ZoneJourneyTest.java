package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.meshguard.access.OidcClient;
import io.meshguard.access.SignedInToken;
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
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A zone registers, serves the product in its cluster and survives central being stopped
 * ({@code meshguard.box.zoneOutageSeconds}, 60 s by default). Central is installed as the zone README's "On
 * central" says ({@code overlays/zone-hub}, Istio's ingress gateway terminating TLS with the bank's certificate); the
 * box registered the cluster with the README's command ({@code meshguard cluster register … --group edge}) and
 * installed the zone's cluster ({@link ZoneCluster}: {@code overlays/zone}, the token and the bank's CA in their
 * Secrets) on the release central ran before the upgrade, and upgraded it after central ({@link SharedBox}). Then:
 * the zone follows central over TLS (its {@code /readyz}, its link metric), the zone cluster's gateway is configured
 * from the zone with central's published route, the zone cluster's extauthz follows the subscription state the zone
 * serves (R4-02); with central stopped the zone keeps serving the exact same configuration and subscription state
 * version, a gateway pod scaled up halfway through the outage is configured from the zone, {@code /readyz} says
 * central is unreachable; after central returns the zone follows again, a new publish reaches both gateway pods, and
 * the subscription state's version has not moved (its content did not change).
 *
 * <p>The product ({@link ZoneProduct}): acme publishes one through central's catalogue into this cluster; globex's
 * subscribed application calls it through the zone cluster's gateway (200, identity headers and no key upstream, the
 * card masked), over its plan's quota 429 (counted in the zone's own Redis, not central's: the zone README's data
 * tier), an application without a subscription 403; acme's suspension reaches the zone's extauthz within
 * {@link #SUSPENSION_BOUND}. Through central's outage the zone still serves the subscribed application and refuses
 * the unsubscribed and the suspended ones, from the subscription state it kept.
 */
@Tag("cluster")
class ZoneJourneyTest extends BoxJourney {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String CLUSTER = ZoneCluster.CLUSTER;
    static final String GROUP = ZoneCluster.GROUP;
    /**
     * From the provider's suspension at central to the zone's extauthz refusing it: the catalogue's LISTEN feed,
     * central's zone stream, the zone's ADS to extauthz (77-266 ms measured on the box at load 3-28; deploy-tests/README.md).
     */
    static final Duration SUSPENSION_BOUND = Duration.ofSeconds(2);

    static final Duration OUTAGE = Duration.ofSeconds(Long.getLong("meshguard.box.zoneOutageSeconds", 60));
    private static ZoneCluster zone;

    @Test
    void zone_registers_servesItsCluster_andSurvivesCentralStopped() throws Exception {
        BoxPod xds = box.pod("Deployment/meshguard-xds");
        InetSocketAddress centralAdmin = box.node().local(xds.ip(), 9103);
        Operator operator = Operator.signIn(centralAdmin);
        Admin admin = new Admin(centralAdmin, operator);

        // zone README "Per cluster": registered and installed by the box before the upgrade, on the release central
        // ran then (SharedBox), and upgraded after central (UpgradeJourneyTest)
        zone = SharedBox.zone();
        System.out.println("zone cluster:\n  " + String.join("\n  ", zone.timeline()));
        Path tokenFile = box.dir().resolve("operator-token");
        BoxPod zoneXds = zone.pod(ZoneCluster.ZONE);
        BoxPod gateway = zone.pod(ZoneCluster.GATEWAY);
        BoxPod extauthz = zone.pod("StatefulSet/meshguard-extauthz");
        assertThat(zone.failures())
                .as(
                        "zone cluster pods; the zone's /readyz: %s; its ADS metrics: %s; the gateway's"
                                + " /config_dump: %s",
                        quietly(() -> zoneHttp(zoneXds, 9103, "/readyz")),
                        quietly(() -> zoneHttp(zoneXds, 9103, "/metrics")
                                .lines()
                                .filter(l -> l.contains("ads") && !l.startsWith("#"))
                                .toList()
                                .toString()),
                        quietly(() -> configDump(gateway)))
                .isEmpty();

        // step 4: it follows central (through the ingress gateway's TLS, trusting the bank's CA)
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(zoneHttp(zoneXds, 9103, "/readyz")).contains("following central");
            assertThat(metric(zoneHttp(zoneXds, 9103, "/metrics"), "meshguard_xds_zone_link_connected"))
                    .isEqualTo(1.0);
        });
        assertThat(cli(
                        "cluster",
                        "fleet",
                        "--url",
                        "http://127.0.0.1:" + centralAdmin.getPort(),
                        "--token-file",
                        operator.tokenFile(tokenFile).toString()))
                .contains(CLUSTER);

        // the zone cluster's gateway is configured from the zone: central's route, its readiness route answered
        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> assertThat(configDump(gateway)).contains("/accounts"));
        // R4-02: the zone cluster's extauthz follows the subscription state the zone serves
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(zoneHttp(extauthz, 9101, "/readyz"))
                .contains("following meshguard-xds")
                .contains("subscription state version"));
        // customers' tokens are checked in the zone too: its extauthz has the bank IdP's keys (over TLS, the bank's
        // CA); the shipped workload-sts issuer has no server in the box, so its keys stay missing
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            Matcher jwks = Pattern.compile("\\{\"name\":\"jwks\",\"ready\":(true|false),\"detail\":\"([^\"]*)\"")
                    .matcher(zoneHttp(extauthz, 9101, "/readyz"));
            assertThat(jwks.find())
                    .as("the jwks check of the zone's extauthz /readyz")
                    .isTrue();
            assertThat(jwks.group(2)).doesNotContain("bank-idp");
        });

        // the product in the zone's cluster: the platform's automation, the provider's and the customer's pipelines,
        // each signed in through the bank's Keycloak as in ProductJourneyTest; the publish names this cluster
        long productStart = System.nanoTime();
        ZoneProduct product = ZoneProduct.publish(box, idp, CLUSTER, "kr-seoul");
        InetSocketAddress zoneEdge = zone.node().local(gateway.ip(), 8080);
        EdgeClient.Answer first =
                EdgeClient.eventually(() -> product.call(zoneEdge, product.webKey()), a -> a.status() == 200);
        JsonNode upstream = JSON.readTree(first.body());
        double firstCall = (System.nanoTime() - productStart) / 1e9;
        assertThat(upstream.path("path").asText()).isEqualTo(ZoneProduct.PATH);
        assertThat(upstream.path("headers").path("x-tenant-id").asText()).isEqualTo(ZoneProduct.CUSTOMER);
        assertThat(upstream.path("headers").path("x-auth-method").asText()).isEqualTo("apikey");
        assertThat(upstream.path("headers").has("x-api-key"))
                .as("the credential stays at the gateway: %s", upstream)
                .isFalse();
        assertThat(upstream.path("statement").asText())
                .as("DLP in the zone's cluster")
                .doesNotContain(BankApp.CARD);
        // the zone's extauthz counts the plan's quota: three a day
        EdgeClient.Answer over = first;
        for (int i = 0; i < 5 && over.status() != 429; i++) {
            over = product.call(zoneEdge, product.webKey());
        }
        assertThat(over.status())
                .as("over the plan's quota in the zone: %s", over)
                .isEqualTo(429);
        // counted in the zone's own Redis (zone README, "What the bank provides per zone cluster"), not central's
        String counter = "quota:subscription:";
        String caller = "application:globex-seoul-web@" + product.publish();
        List<String> zoneCounters =
                BankRedis.keys(zone.node(), zone.redis(), box.secrets().redisPassword());
        assertThat(zoneCounters).as("the zone's Redis").anyMatch(k -> k.contains(counter) && k.endsWith(caller));
        List<String> centralCounters = BankRedis.keys(
                box.node(),
                box.pod("external/" + ExternalParts.REDIS),
                box.secrets().redisPassword());
        assertThat(centralCounters).as("central's Redis").noneMatch(k -> k.endsWith(caller));
        assertThat(product.call(zoneEdge, product.batchKey()).status())
                .as("the other subscription, its own quota")
                .isEqualTo(200);
        assertThat(product.call(zoneEdge, product.trialKey()))
                .as("an application without a subscription")
                .satisfies(a -> assertThat(a.status()).isEqualTo(403))
                .satisfies(a -> assertThat(a.body()).contains("no_subscription"));

        // the provider suspends the web application's subscription at central: the zone's extauthz, called as the
        // zone's gateway calls it, denies it within the bound below
        InetSocketAddress zoneAuthz = zone.node().local(extauthz.ip(), 9001);
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", zoneAuthz.getPort())
                .usePlaintext()
                .build();
        try {
            CheckRequest check = product.check(product.webKey());
            assertThat(denial(channel, check)).doesNotContain("subscription_suspended");
            product.suspendWeb();
            long suspended = System.nanoTime();
            String last = denial(channel, check);
            while (!last.contains("subscription_suspended")
                    && System.nanoTime() - suspended < SUSPENSION_BOUND.toNanos()) {
                Thread.sleep(20);
                last = denial(channel, check);
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - suspended);
            assertThat(last)
                    .as("the zone's extauthz %d ms after the suspension", ms)
                    .contains("subscription_suspended");
            System.out.println("suspension denied by the zone's extauthz after " + ms + " ms");
        } finally {
            channel.shutdownNow();
        }
        assertThat(product.call(zoneEdge, product.webKey()).body()).contains("subscription_suspended");
        System.out.printf(
                "the product in the zone: first 200 %.1f s after the tenants were created, the product part"
                        + " %.1f s%n",
                firstCall, (System.nanoTime() - productStart) / 1e9);

        String served = configDump(gateway);
        String stateVersion = subscriptionVersion(extauthz);
        Path kept =
                zone.podDir(zoneXds).resolve("volumes").resolve("zone-state").resolve("subscription-state.binpb");
        String keptState = keptSnapshot(kept);

        // central stopped: the zone keeps serving; a gateway pod scaled up halfway is configured from the zone
        List<BoxPod> central =
                box.pods().stream().filter(p -> p.owner().equals(xds.owner())).toList();
        // at once, as kubectl scale --replicas=0 stops a Deployment's pods (each drains for its grace period)
        AtOnce.each(central, box::stop);
        long stoppedAt = System.nanoTime();
        List<String> during = new ArrayList<>();
        try {
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                assertThat(zoneHttp(zoneXds, 9103, "/readyz")).contains("central unreachable");
                assertThat(metric(zoneHttp(zoneXds, 9103, "/metrics"), "meshguard_xds_zone_link_connected"))
                        .isEqualTo(0.0);
            });
            during.add(String.format(
                    "%.1f s: the zone says central is unreachable", (System.nanoTime() - stoppedAt) / 1e9));
            sleepUntil(stoppedAt, OUTAGE.dividedBy(2));
            long joinAt = System.nanoTime();
            zone.startJoiningGateway(Duration.ofSeconds(60));
            during.add(String.format(
                    "%.1f s: a gateway pod started at %.1f s is Ready (configured from the zone)",
                    (System.nanoTime() - stoppedAt) / 1e9, (joinAt - stoppedAt) / 1e9));
            assertThat(configDump(zone.joiningGateway()))
                    .as("the joining pod's configuration")
                    .isEqualTo(served);
            assertThat(configDump(gateway)).isEqualTo(served);
            assertThat(subscriptionVersion(extauthz)).isEqualTo(stateVersion);
            assertServesTheSubscribedOnly(product, zoneEdge);
            during.add(String.format(
                    "%.1f s: the subscribed application 200, the unsubscribed and the suspended 403",
                    (System.nanoTime() - stoppedAt) / 1e9));
            sleepUntil(stoppedAt, OUTAGE);
            assertServesTheSubscribedOnly(product, zoneEdge);
            assertThat(configDump(gateway)).isEqualTo(served);
            assertThat(configDump(zone.joiningGateway())).isEqualTo(served);
            assertThat(subscriptionVersion(extauthz))
                    .as("the subscription state the zone serves, end of the outage")
                    .isEqualTo(stateVersion);
            assertThat(keptSnapshot(kept)).isEqualTo(keptState);
            assertThat(zoneHttp(zoneXds, 9103, "/readyz")).contains("central unreachable");
            during.add(String.format(
                    "%.1f s: configuration and subscription state version %s unchanged",
                    (System.nanoTime() - stoppedAt) / 1e9, stateVersion));
        } finally {
            // central returns (also when an assertion above failed: later journeys share the box)
            AtOnce.each(central, replica -> box.restart(replica, Duration.ofSeconds(300)));
            System.out.println("central outage:\n  " + String.join("\n  ", during));
        }

        // the zone resyncs: it follows again, a new publish reaches both gateway pods, nothing moved meanwhile
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(zoneHttp(zoneXds, 9103, "/readyz")).contains("following central");
            assertThat(metric(zoneHttp(zoneXds, 9103, "/metrics"), "meshguard_xds_zone_link_connected"))
                    .isEqualTo(1.0);
        });
        assertThat(subscriptionVersion(extauthz))
                .as("central re-sent the same state: its version stays")
                .isEqualTo(stateVersion);
        assertThat(keptSnapshot(kept)).isEqualTo(keptState);
        // an API of the zone journey's own: ProductJourneyTest's API "statements" is acme's, and a system admin's PUT
        // of
        // it would keep it acme's while dropping the hostname acme named (acme's API then served on the group's hosts)
        admin.route("zone-statements", "/statements");
        admin.ok("POST", "/publish", "{\"reason\": \"CHG-4101: statements after central's return\"}");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            assertThat(configDump(gateway)).contains("/statements");
            assertThat(configDump(zone.joiningGateway())).contains("/statements");
        });
    }

    /** During central's outage: the zone's cluster still decides from the state it kept. */
    private static void assertServesTheSubscribedOnly(ZoneProduct product, InetSocketAddress zoneEdge)
            throws Exception {
        EdgeClient.Answer batch = product.call(zoneEdge, product.batchKey());
        assertThat(batch.status()).as("the subscribed application: %s", batch).isEqualTo(200);
        EdgeClient.Answer trial = product.call(zoneEdge, product.trialKey());
        assertThat(trial.status()).as("the unsubscribed application: %s", trial).isEqualTo(403);
        assertThat(trial.body()).contains("no_subscription");
        assertThat(product.call(zoneEdge, product.webKey()).body()).contains("subscription_suspended");
    }

    private static String denial(ManagedChannel channel, CheckRequest request) {
        CheckResponse r = AuthorizationGrpc.newBlockingStub(channel)
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .check(request);
        return r.hasDeniedResponse() ? r.getDeniedResponse().getBody() : "allowed";
    }

    /**
     * rita after {@code meshguard login}: the device grant with PKCE, approved in her browser; her access token is
     * refreshed as the CLI refreshes it (the realm's access tokens live minutes, the journey longer).
     */
    private static final class Operator {
        private final OidcClient client;
        private SignedInToken token;

        private Operator(OidcClient client, SignedInToken token) {
            this.client = client;
            this.token = token;
        }

        static Operator signIn(InetSocketAddress centralAdmin) throws Exception {
            Map<String, InetSocketAddress> names = idp.names(box.ingressDoor());
            try (PersonsBrowser rita = PersonsBrowser.start(names)) {
                OidcClient cli = new OidcClient(
                        idp.issuer(), "meshguard-cli", Clock.systemUTC(), ForwardsByName.workstation(names));
                return new Operator(cli, rita.meshguardLogin(cli, idp.requester()));
            }
        }

        synchronized String accessToken() throws Exception {
            if (!token.freshAt(java.time.Instant.now(), 60)) {
                token = client.refresh(token);
            }
            return token.accessToken();
        }

        /** The access token in {@code file}, for the CLI's {@code --token-file}. */
        Path tokenFile(Path file) throws Exception {
            Files.writeString(file, accessToken());
            return file;
        }
    }

    /** The {@code meshguard} command line of the image's classes, as an operator's workstation runs it. */
    private static String cli(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                box.images().java().toString(), "-jar", box.images().jar().toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue())
                .as("meshguard %s: %s", String.join(" ", args), out)
                .isZero();
        return out;
    }

    /** For failure reports: what {@code read} answered, or why it could not. */
    private static String quietly(java.util.concurrent.Callable<String> read) {
        try {
            return read.call();
        } catch (Exception | AssertionError e) {
            return "(" + e + ")";
        }
    }

    /** {@code curl localhost:PORT/PATH} in the zone cluster's pod, through the zone node's port-forward. */
    private static String zoneHttp(BoxPod pod, int port, String path) throws Exception {
        return zone.http(pod, port, path);
    }

    private static double metric(String exposition, String name) {
        for (String line : exposition.split("\n")) {
            if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        throw new AssertionError("no metric " + name + " in " + exposition);
    }

    /** What a gateway pod accepted: Envoy's admin {@code /config_dump} on its loopback, as kubectl exec reads it. */
    private static String configDump(BoxPod pod) {
        return ZoneCluster.configDump(pod);
    }

    private static String subscriptionVersion(BoxPod extauthz) throws Exception {
        Matcher m = Pattern.compile("subscription state version (\\d+)").matcher(zoneHttp(extauthz, 9101, "/readyz"));
        assertThat(m.find()).isTrue();
        return m.group(1);
    }

    /** The subscription state the zone keeps on its claim (protobuf binary, with its served version), as hex. */
    private static String keptSnapshot(Path file) throws Exception {
        if (!Files.isRegularFile(file)) {
            try (var listing = Files.walk(file.getParent().getParent())) {
                throw new AssertionError("the zone keeps no " + file + "; its volumes hold "
                        + listing.map(Path::toString).toList());
            }
        }
        byte[] kept = Files.readAllBytes(file);
        assertThat(kept).as("the zone's kept subscription state %s", file).isNotEmpty();
        return HexFormat.of().formatHex(kept);
    }

    private static void sleepUntil(long start, Duration after) throws InterruptedException {
        long left = start + after.toNanos() - System.nanoTime();
        if (left > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** Central's admin API with the operator's access token. */
    private record Admin(InetSocketAddress address, Operator operator) {
        void route(String name, String prefix) throws Exception {
            ZoneCluster.route(this::ok, name, prefix);
        }

        JsonNode ok(String method, String path, String body) throws Exception {
            HttpResponse<String> r = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address.getPort() + path))
                                    .timeout(Duration.ofSeconds(30))
                                    .header("Authorization", "Bearer " + operator.accessToken())
                                    .header("Content-Type", "application/json")
                                    .method(method, HttpRequest.BodyPublishers.ofString(body))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isBetween(200, 202);
            return JSON.readTree(r.body());
        }
    }
}
