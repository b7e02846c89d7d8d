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
    private Optional<Evidence> upgraded = Optional.empty();

    private ReleaseUpgrade(ClusterInABox box, PreviousRelease from, Path to, Evidence before, String keyId) {
        this.box = box;
        this.from = from;
        this.to = to;
        this.before = before;
        this.keyId = keyId;
    }

    /** Makes the bank's state on the installed previous release, records it, and upgrades the box to {@code to}. */
    static ReleaseUpgrade run(ClusterInABox box, PreviousRelease from, Path to) throws Exception {
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
        ReleaseUpgrade upgrade = new ReleaseUpgrade(box, from, to, Evidence.take(box), keyId);
        box.upgradeTo(to);
        upgrade.upgraded = Optional.of(Evidence.take(box));
        return upgrade;
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
            boolean decision = status == 200 && ReleaseUpgrade.decisionFound(bank, requestId);
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
            for (String line : out.split("\n")) {
                if (line.startsWith("STATUS ")) {
                    status = Integer.parseInt(line.substring(7).strip());
                }
            }
            if (status == 200) {
                return status;
            }
            Thread.sleep(500);
        } while (System.nanoTime() < deadline);
        return status;
    }

    private static boolean decisionFound(BankPipeline bank, String requestId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            JsonNode events =
                    bank.ok("GET", "/audit/events?since=15m&kind=authz_decision&request_id=" + requestId, null);
            if (events.size() > 0) {
                return true;
            }
            Thread.sleep(500);
        }
        return false;
    }
}
