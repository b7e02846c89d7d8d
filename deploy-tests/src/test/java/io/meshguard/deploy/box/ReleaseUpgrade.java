package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The upgrade journey of docs/install.md sections 5 and 6 on the shared box: the box installed the previous release
 * ({@link PreviousRelease}); the bank's state is made and recorded on it ({@link Evidence}: a customer's call through
 * the protected app and its decision in the audit, an API key, the admin trail's head, the audit rows), the box is
 * upgraded to the tree, and the same evidence is taken again — each earlier fact still there, each server on the new
 * version. {@link #rollBack} does the documented server rollback and takes it a third time.
 */
final class ReleaseUpgrade {
    /** The meshguard servers and their status ports, where {@code meshguard_build_info} is exported. */
    private static final Map<String, Integer> SERVERS = Map.of(
            "StatefulSet/meshguard-extauthz",
            9101,
            "StatefulSet/meshguard-dlp",
            9102,
            "Deployment/meshguard-xds",
            9103);

    static final String TENANT = "upgrade-bank";

    private final ClusterInABox box;
    private final PreviousRelease from;
    private final Path to;
    private final Evidence before;
    private final String keyId;
    private final Optional<ZoneCluster> zone;
    private Optional<Evidence> upgraded = Optional.empty();
    private Optional<ZoneEvidence> zoneBefore = Optional.empty();
    private Optional<ZoneEvidence> zoneUpgraded = Optional.empty();
    private Optional<ZoneEvidence> zoneAfterPublish = Optional.empty();
    private Optional<Throwable> zoneFailure = Optional.empty();

    private ReleaseUpgrade(
            ClusterInABox box,
            PreviousRelease from,
            Path to,
            Evidence before,
            String keyId,
            Optional<ZoneCluster> zone) {
        this.box = box;
        this.from = from;
        this.to = to;
        this.before = before;
        this.keyId = keyId;
        this.zone = zone;
    }

    /**
     * Makes the bank's state on the installed previous release, records it, and upgrades the box to {@code to}:
     * central first, then the zone's cluster (docs/install.md section 5); then a publish on the upgraded central.
     */
    static ReleaseUpgrade run(ClusterInABox box, PreviousRelease from, Path to, Optional<ZoneCluster> zone)
            throws Exception {
        BankPipeline bank = BankPipeline.signIn(box, box.identityProvider());
        bank.ok("POST", "/v1/operator/tenants", "{\"id\": \"" + TENANT + "\"}");
        String keyId = bank.ok(
                        "POST",
                        "/apikeys",
                        "{\"name\": \"before-upgrade\", \"owner\": \"ops\", \"tenant\": \"" + TENANT
                                + "\", \"reason\": \"made on " + from.version() + "\"}")
                .path("key_id")
                .asText();
        assertThat(keyId).as("the key's id").isNotEmpty();
        ReleaseUpgrade upgrade = new ReleaseUpgrade(box, from, to, Evidence.take(box), keyId, zone);
        Optional<ZoneCluster> following = zone.filter(z -> z.failures().isEmpty());
        try {
            if (following.isPresent()) {
                upgrade.zoneBefore = Optional.of(ZoneEvidence.take(box, following.get()));
            }
        } catch (Exception | AssertionError e) {
            upgrade.zoneFailure = Optional.of(e);
        }
        box.upgradeTo(to);
        try {
            if (following.isPresent()) {
                following.get().upgrade();
                upgrade.zoneUpgraded = Optional.of(ZoneEvidence.take(box, following.get()));
                upgrade.zoneAfterPublish =
                        Optional.of(ZoneEvidence.published(box, following.get(), "after-upgrade", "/after-upgrade"));
            }
        } catch (Exception | AssertionError e) {
            upgrade.zoneFailure = Optional.of(e);
        }
        upgrade.upgraded = Optional.of(Evidence.take(box));
        return upgrade;
    }

    /** The zone's cluster the box installed beside central, when it installed. */
    Optional<ZoneCluster> zone() {
        return zone;
    }

    /** Why the zone's evidence is missing, when it is. */
    Optional<Throwable> zoneFailure() {
        return zoneFailure;
    }

    /** The zone on the previous release, before the upgrade. */
    Optional<ZoneEvidence> zoneBefore() {
        return zoneBefore;
    }

    /** The zone once central and then the zone were upgraded, before anything new was published. */
    Optional<ZoneEvidence> zoneUpgraded() {
        return zoneUpgraded;
    }

    /** The zone after a publish on the upgraded central. */
    Optional<ZoneEvidence> zoneAfterPublish() {
        return zoneAfterPublish;
    }

    PreviousRelease from() {
        return from;
    }

    Evidence before() {
        return before;
    }

    Evidence upgraded() {
        return upgraded.orElseThrow();
    }

    String keyId() {
        return keyId;
    }

    /** docs/install.md section 6: the servers back to the previous release; the evidence then. */
    Evidence rollBack() throws Exception {
        box.rollBackServers();
        return Evidence.take(box);
    }

    /**
     * After {@link #rollBack}: the zone (still on the tree: the protocol is read by either side, install.md
     * section 6) follows the rolled-back central, and a publish there reaches its gateway.
     */
    ZoneEvidence zoneAfterRollBack() throws Exception {
        ZoneCluster z = zone.filter(c -> c.failures().isEmpty())
                .orElseThrow(() -> new AssertionError("no zone cluster installed"));
        return ZoneEvidence.published(box, z, "after-rollback", "/after-rollback");
    }

    /**
     * What the bank can check of its zone at one moment, once it settled (within {@link #ZONE_SETTLES}): the zone
     * follows central ({@code /readyz}, {@code meshguard_xds_zone_link_connected}), and central's fleet view
     * ({@code GET /v1/operator/fleet}, what {@code meshguard cluster fleet} prints) shows the revision of
     * {@link ZoneCluster#GROUP} the zone applied equal to the one central published last, and the zone's gateway on it.
     *
     * @param zoneVersion the zone controller's {@code meshguard_build_info} version
     * @param published the revision of the group central published last
     * @param applied the revision of the group the zone applied
     * @param gatewayRevisions the revisions the zone's connected gateway nodes run (their ACKed versions)
     * @param gatewayRoutes the zone gateway's route configuration ({@code /config_dump}, RDS)
     */
    record ZoneEvidence(
            String zoneVersion, long published, long applied, List<Long> gatewayRevisions, String gatewayRoutes) {
        static ZoneEvidence take(ClusterInABox box, ZoneCluster zone) throws Exception {
            BoxPod xds = zone.pod(ZoneCluster.ZONE);
            BoxPod gateway = zone.pod(ZoneCluster.GATEWAY);
            long deadline = System.nanoTime() + ZONE_SETTLES.toNanos();
            String last = "";
            BankPipeline bank = BankPipeline.signIn(box, box.identityProvider());
            while (true) {
                try {
                    String ready = zone.http(xds, 9103, "/readyz");
                    String metrics = zone.http(xds, 9103, "/metrics");
                    JsonNode fleet = bank.ok("GET", "/v1/operator/fleet", null);
                    Matcher build = BUILD_INFO.matcher(metrics);
                    Optional<ZoneEvidence> settled =
                            settled(fleet, gateway, build.find() ? build.group(1) : "no meshguard_build_info");
                    boolean following = ready.contains("following central")
                            && metrics.lines()
                                    .anyMatch(l -> LINK_CONNECTED.matcher(l).matches());
                    if (following && settled.isPresent()) {
                        return settled.get();
                    }
                    last = "following central: " + following + "; /readyz " + ready + "; fleet " + fleet;
                } catch (java.io.IOException | RuntimeException e) {
                    last = e.toString();
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the zone did not settle within " + ZONE_SETTLES.toSeconds() + " s: "
                            + last + "\nzone timeline: " + zone.timeline());
                }
                Thread.sleep(1_000);
            }
        }

        /** Publishes a route {@code name} at {@code prefix} on central; the zone's evidence once its gateway has it. */
        static ZoneEvidence published(ClusterInABox box, ZoneCluster zone, String name, String prefix)
                throws Exception {
            BankPipeline bank = BankPipeline.signIn(box, box.identityProvider());
            ZoneCluster.route(bank::ok, name, prefix);
            bank.ok("POST", "/publish", "{\"reason\": \"CHG-4200: " + name + "\"}");
            long deadline = System.nanoTime() + ZONE_SETTLES.toNanos();
            while (true) {
                ZoneEvidence now = take(box, zone);
                if (now.gatewayRoutes().contains(prefix)) {
                    return now;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("the publish of " + prefix + " did not reach the zone's gateway: " + now);
                }
                Thread.sleep(1_000);
            }
        }

        private static Optional<ZoneEvidence> settled(JsonNode fleet, BoxPod gateway, String zoneVersion) {
            for (JsonNode cluster : fleet.path("clusters")) {
                if (!cluster.path("id").asText().equals(ZoneCluster.CLUSTER)) {
                    continue;
                }
                for (JsonNode group : cluster.path("groups")) {
                    if (!group.path("name").asText().equals(ZoneCluster.GROUP)
                            || !group.has("applied_revision")
                            || group.path("applied_revision").asLong()
                                    != group.path("published_revision").asLong()) {
                        continue;
                    }
                    long applied = group.path("applied_revision").asLong();
                    List<Long> nodes = new java.util.ArrayList<>();
                    for (JsonNode n : group.path("nodes")) {
                        // the gateway's pods (node id: the pod name, its --service-node); the zone's extauthz
                        // replicas take subscription state on the same ADS port
                        if (n.path("connected").asBoolean()
                                && n.path("id").asText().startsWith("meshguard-gateway")) {
                            nodes.add(n.path("revision").asLong(-1));
                        }
                    }
                    if (nodes.isEmpty() || nodes.stream().anyMatch(r -> r != applied)) {
                        return Optional.empty();
                    }
                    String dump = ZoneCluster.configDump(gateway);
                    int rds = Math.max(0, dump.indexOf("RouteConfiguration version"));
                    int next = dump.indexOf("\n# ", rds);
                    return Optional.of(new ZoneEvidence(
                            zoneVersion,
                            group.path("published_revision").asLong(),
                            applied,
                            nodes,
                            next < 0 ? dump.substring(rds) : dump.substring(rds, next)));
                }
            }
            return Optional.empty();
        }
    }

    /**
     * How long a zone may take to follow again and report its revisions (a rolled zone controller starts, redials
     * central, rebuilds from the state it kept, and echoes).
     */
    static final Duration ZONE_SETTLES = Duration.ofSeconds(Math.round(120 * Kubelet.SCALE));

    /**
     * What the bank can check at one moment.
     *
     * @param versions each server pod's {@code meshguard_build_info} version
     * @param customerCall the status of a customer's call through the protected app's sidecar (Check and DLP)
     * @param decisionFound whether that call's {@code authz_decision} reached the audit log
     * @param trailHead the admin trail's head as {@code SEQ:HASH}, verified intact
     * @param auditRows the rows of {@code audit_event}
     * @param activeKeys the ids of the API keys of {@link #TENANT} the admin API lists as not revoked
     */
    record Evidence(
            Map<String, String> versions,
            int customerCall,
            boolean decisionFound,
            String trailHead,
            long auditRows,
            String activeKeys) {
        /**
         * The evidence now; a connection a just-rolled server closes before answering (its listener up, its handler
         * not yet) is retried for half a minute, as a bank's check would be.
         */
        static Evidence take(ClusterInABox box) throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try {
                    return takeOnce(box);
                } catch (java.io.IOException e) {
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(2_000);
                }
            }
        }

        private static Evidence takeOnce(ClusterInABox box) throws Exception {
            Map<String, String> versions = new LinkedHashMap<>();
            for (BoxPod pod : box.pods()) {
                Integer port = SERVERS.get(pod.owner());
                if (port != null) {
                    versions.put(pod.name(), buildVersion(box, pod, port));
                }
            }
            BankIdentityProvider idp = box.identityProvider();
            String requestId = UUID.randomUUID().toString();
            int status = ReleaseUpgrade.customerCall(box, idp, requestId);
            BankPipeline bank = BankPipeline.signIn(box, idp);
            boolean decision = status == 200 && bank.auditedDecision(requestId).isPresent();
            JsonNode trail = bank.ok("GET", "/audit/trail/verify", null);
            assertThat(trail.path("intact").asBoolean())
                    .as("the admin trail: %s", trail)
                    .isTrue();
            long rows = Long.parseLong(
                    box.databaseQuery("select count(*) from audit_event").strip());
            StringBuilder keys = new StringBuilder();
            for (JsonNode key : bank.ok("GET", "/apikeys", null)) {
                if (key.path("tenant").asText().equals(TENANT) && !key.has("revoked_at")) {
                    keys.append(key.path("key_id").asText()).append(' ');
                }
            }
            return new Evidence(
                    versions,
                    status,
                    decision,
                    trail.path("head_seq").asText() + ":"
                            + trail.path("head_hash").asText(),
                    rows,
                    keys.toString().strip());
        }

        /** The trail as verified now still holds {@code head} (its chain runs through that row unchanged). */
        static boolean trailHolds(ClusterInABox box, String head) throws Exception {
            BankPipeline bank = BankPipeline.signIn(box, box.identityProvider());
            return bank.ok("GET", "/audit/trail/verify?expect=" + head, null)
                    .path("intact")
                    .asBoolean();
        }
    }

    /** The zone's link metric at 1 (Prometheus text: the value as a double, with or without labels). */
    private static final Pattern LINK_CONNECTED =
            Pattern.compile("meshguard_xds_zone_link_connected(\\{[^}]*\\})? 1(\\.0)?");

    private static final Pattern BUILD_INFO = Pattern.compile("(?m)^meshguard_build_info\\{[^}]*version=\"([^\"]+)\"");

    private static String buildVersion(ClusterInABox box, BoxPod pod, int port) throws Exception {
        InetSocketAddress local = box.node().local(pod.ip(), port);
        String metrics = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + local.getPort() + "/metrics"))
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
        Matcher m = BUILD_INFO.matcher(metrics);
        return m.find() ? m.group(1) : "no meshguard_build_info";
    }

    private static int customerCall(ClusterInABox box, BankIdentityProvider idp, String requestId) throws Exception {
        box.bankApps();
        String url = "http://" + ServiceDirectory.fqdn(BankApp.NAME, BankApp.NAMESPACE) + ":" + BankApp.PORT
                + "/accounts/v1/balances";
        int status = -1;
        // 503 (status_on_error) while a just-started extauthz answers its first Checks slower than the provider's 1 s
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        do {
            String out = box.runInPod(
                    box.proxylessClientPod(),
                    Optional.of(BankApps.USER),
                    MeshHttpCall.class,
                    url,
                    "authorization:Bearer " + idp.customerToken(),
                    "x-tenant-id:acme-corp",
                    "x-request-id:" + requestId);
            status = MeshHttpCall.status(out);
            if (status == 200) {
                return status;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        return status;
    }
}
