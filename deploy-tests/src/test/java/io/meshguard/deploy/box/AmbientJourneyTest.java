package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The bank's app in an ambient namespace ({@link AmbientNamespace}: manifests/istio/ambient's kit rendered for
 * {@code loans}), called by a pod of the namespace without a sidecar: ztunnel carries the call to the namespace's
 * waypoint, whose CUSTOM ext_authz (attached with {@code targetRefs}) calls the real extauthz and whose DLP
 * EnvoyFilter's ext_proc the real DLP server; extauthz learns the caller from the XFCC the waypoint writes
 * ({@code mesh.trusted_waypoints}). Then the known bypass paths: where the kit's L4 policy refuses them, the
 * refusal; where a misconfiguration lets requests reach the app without a Check, the coverage metric of the DLP
 * server (the proof-of-coverage join) naming the service within 60 s.
 */
@Tag("cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AmbientJourneyTest extends BoxJourney {
    private static final String HOST = ServiceDirectory.fqdn(AmbientNamespace.APP, AmbientNamespace.NAMESPACE);
    private static final String URL = "http://" + HOST + ":" + AmbientNamespace.PORT + "/loans/v1/schedule";
    /** The expiring client's token lifespan (1 s) and the retail issuer's clock skew (60 s), with a margin. */
    private static final Duration EXPIRED_AFTER = Duration.ofSeconds(1 + 60 + 3);

    private static AmbientNamespace ambient;
    /** Issued when the class starts, so its minute of the issuer's clock skew passes during the other journeys. */
    private static String expiring;

    private static Instant expiringIssued;
    private AmbientNamespace.State before;

    @BeforeAll
    static void ambientNamespace() throws Exception {
        ambient = box.ambient();
        expiringIssued = Instant.now();
        expiring = idp.expiringCustomerToken();
    }

    @BeforeEach
    void remember() {
        before = ambient.snapshot();
    }

    @AfterEach
    void putBack() throws Exception {
        box.ambientRestore(before);
    }

    @Test
    void ambient_throughTheWaypoint_checkedAndScanned_callerFromTheWaypointsXfcc() throws Exception {
        // no credential: extauthz's 401 through the waypoint (503 while extauthz's first answer is slower than the
        // provider's 1 s timeout on a loaded machine)
        String noToken = fromTeller(URL, "x-tenant-id:acme-corp");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (MeshHttpCall.status(noToken) == 503 && System.nanoTime() < deadline) {
            Thread.sleep(200);
            noToken = fromTeller(URL, "x-tenant-id:acme-corp");
        }
        assertThat(MeshHttpCall.status(noToken))
                .as("no credential: %s\nwaypoint:\n%s", noToken, box.log(ambient.waypoint(), 30))
                .isEqualTo(401);
        // a customer's token whose signature no longer verifies (one byte of it changed on the way)
        String token = idp.customerToken();
        String tampered = token.substring(0, token.length() - 2) + (token.endsWith("AA") ? "BB" : "AA");
        String forged = fromTeller(URL, "authorization:Bearer " + tampered, "x-tenant-id:acme-corp");
        assertThat(MeshHttpCall.status(forged))
                .as("a tampered token: %s", forged)
                .isEqualTo(401);
        // a customer's token, and an XFCC of the caller's own making that names the edge gateway: the waypoint
        // replaces it with the identity ztunnel proved
        String requestId = UUID.randomUUID().toString();
        String allowed = fromTeller(
                URL,
                "authorization:Bearer " + idp.customerToken(),
                "x-tenant-id:acme-corp",
                "x-request-id:" + requestId,
                "x-forwarded-client-cert:By=" + ambient.waypointIdentity()
                        + ";URI=spiffe://cluster.local/ns/meshguard/sa/meshguard-gateway");
        assertThat(MeshHttpCall.status(allowed))
                .as("%s\nwaypoint:\n%s", allowed, box.log(ambient.waypoint(), 30))
                .isEqualTo(200);
        String body = MeshHttpCall.body(allowed);
        JsonNode answer = MeshHttpCall.echoed(body);
        JsonNode received = answer.path("headers");
        assertThat(received.path("x-user-id").asText()).as(body).isNotEmpty();
        assertThat(received.path("x-auth-method").asText()).as(body).isEqualTo("jwt");
        assertThat(received.path("x-client-id").asText()).as(body).isEqualTo(BankIdentityProvider.CUSTOMER_CLIENT);
        assertThat(received.has("authorization"))
                .as("the credential is stripped: %s", body)
                .isFalse();
        assertThat(received.path("x-forwarded-client-cert").asText())
                .as(body)
                .isEqualTo("By=" + ambient.waypointIdentity() + ";URI=" + AmbientNamespace.identity(ambient.client()));
        assertThat(body)
                .as("the waypoint's DLP EnvoyFilter masks the card")
                .doesNotContain(BankApp.CARD)
                .doesNotContain(BankApp.CARD.replace(" ", ""));

        // extauthz's record of that request's Check at the waypoint: the bank's rule for the host decided, and the
        // caller is the client the trusted waypoint named in XFCC (the Check itself has no source.principal there)
        JsonNode decision = BankPipeline.signIn(box, idp)
                .auditedDecision(requestId)
                .orElseThrow(() -> new AssertionError("no authz_decision for request " + requestId + " in the audit"));
        assertThat(decision.toString()).as("%s", decision).contains(AmbientNamespace.RULE);
        assertThat(decision.findValue("source_principal").asText())
                .as("%s", decision)
                .isEqualTo(AmbientNamespace.identity(ambient.client()));
        assertThat(decision.findValue("source_principal_from").asText())
                .as("%s", decision)
                .isEqualTo("waypoint_xfcc");

        // the kit's waypoint is for workloads too: the pod's address goes through it as well (no rule for a bare
        // address: not the app's answer)
        String podIp = fromTeller(podUrl(), "x-tenant-id:acme-corp");
        assertThat(MeshHttpCall.status(podIp))
                .as("pod IP through the waypoint: %s", podIp)
                .isIn(401, 403);
        assertThat(box.log(ambient.app(), 200))
                .as("the app saw none of the refused requests")
                .doesNotContain("FAILED");
    }

    /**
     * Last, so the minute the issuer's clock skew allows the token passes while the other journeys run instead of in a
     * sleep of its own.
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void expiredToken_signedByTheRealm_refusedAtTheWaypointForItsExp() throws Exception {
        // a token signed by the realm's own key, valid in every respect but its exp: one second of life plus the
        // retail issuer's clock_skew (60 s, policies/authz.yaml) must be over before the waypoint's Check refuses it
        Duration wait = Duration.between(Instant.now(), expiringIssued.plus(EXPIRED_AFTER));
        if (!wait.isNegative()) {
            Thread.sleep(wait.toMillis());
        }
        String expired = fromTeller(URL, "authorization:Bearer " + expiring, "x-tenant-id:acme-corp");
        assertThat(MeshHttpCall.status(expired))
                .as("an expired token: %s", expired)
                .isEqualTo(401);
        assertThat(expired).as("refused for its exp").contains("token_expired");
    }

    @Test
    void bypasses_theL4PolicyRefusesEveryPathAroundTheWaypoint() throws Exception {
        // a pod IP without waypoint-for (Istio's default "service"): ztunnel goes straight to the pod, where the
        // kit's "only from waypoint" policy refuses the teller
        box.ambientEdit(AmbientNamespace.waypointFor("service"));
        String direct = fromTeller(podUrl(), "authorization:Bearer " + idp.customerToken());
        assertThat(direct)
                .as("pod IP without waypoint-for: %s\nztunnel at the app:\n%s", direct, box.ztunnelDecisions())
                .contains("FAILED")
                .doesNotContain("STATUS");
        assertThat(box.dropped(ambient.app()))
                .as("the refusal is ztunnel's")
                .containsPattern("refused \\{ packets [1-9]");
        box.ambientRestore(before);

        // the namespace in ambient mode without its waypoint (no istio.io/use-waypoint): Service traffic goes
        // straight to the pod, refused the same way
        box.ambientEdit(AmbientNamespace.useWaypoint(Optional.empty()));
        String noWaypoint = fromTeller(URL, "authorization:Bearer " + idp.customerToken());
        assertThat(noWaypoint)
                .as("no waypoint: %s", noWaypoint)
                .contains("FAILED")
                .doesNotContain("STATUS");
        box.ambientRestore(before);

        // a sidecar-mode caller never sends to a waypoint: refused too (fails closed)
        String fromSidecar = box.runInPod(
                box.proxylessClientPod(),
                Optional.of(BankApps.USER),
                MeshHttpCall.class,
                URL,
                "authorization:Bearer " + idp.customerToken());
        assertThat(fromSidecar).as("a sidecar-mode caller: %s", fromSidecar).contains("FAILED");
        assertThat(box.ztunnelDecisions())
                .contains("dropped istio-system/meshguard-extauthz: ztunnel does not support the CUSTOM action")
                .containsPattern(ambient.waypoint().name() + ".*: mTLS allowed")
                .containsPattern(ambient.client().name() + ".*: mTLS refused");
    }

    @Test
    void customPolicyBoundBySelector_requestsReachTheAppUnchecked_coverageNamesTheServiceWithin60s() throws Exception {
        BoxPod dlp = box.pod("StatefulSet/meshguard-dlp");
        double before = coverage(dlp, "unchecked");
        // the sidecar way of binding the CUSTOM policy: the waypoint ignores it, ztunnel drops it
        box.ambientEdit(AmbientNamespace.customPolicyBoundBySelector());
        assertThat(box.log(ambient.waypoint(), 5)).contains("ext_authz off");
        long sent = System.nanoTime();
        String unchecked = fromTeller(URL, "x-request-id:" + UUID.randomUUID());
        assertThat(MeshHttpCall.status(unchecked))
                .as("no credential, no Check: the app answers (%s)", unchecked)
                .isEqualTo(200);
        long deadline = sent + TimeUnit.SECONDS.toNanos(60);
        double now = before;
        while (now <= before && System.nanoTime() < deadline) {
            Thread.sleep(1000);
            now = coverage(dlp, "unchecked");
        }
        double seconds = (System.nanoTime() - sent) / 1e9;
        System.out.printf(
                "coverage: the unchecked request to %s counted after %.1f s (%s -> %s)%n", HOST, seconds, before, now);
        assertThat(now)
                .as(
                        "meshguard_coverage_requests_total{service=%s,result=unchecked} within 60 s; the DLP server's"
                                + " coverage series:\n%s\nits log:\n%s",
                        HOST, coverageLines(dlp), box.log(dlp, 10))
                .isGreaterThan(before);
        assertThat(metric(http(dlp, 9102, "/metrics"), "meshguard_coverage_uncovered_requests_total"))
                .as("what CoverageRequestUnchecked reads")
                .isGreaterThan(0);
    }

    private static String podUrl() {
        return "http://" + ambient.app().ip() + ":" + AmbientNamespace.PORT + "/loans/v1/schedule";
    }

    private static String fromTeller(String url, String... headers) throws InterruptedException {
        return MeshHttpCall.from(box, ambient.client(), Optional.empty(), url, headers);
    }

    private static double coverage(BoxPod dlp, String result) throws Exception {
        return metric(
                http(dlp, 9102, "/metrics"),
                "meshguard_coverage_requests_total",
                "result=\"" + result + "\"",
                "service=\"" + HOST + "\"");
    }

    /** The value of the sample of {@code name} that carries every one of {@code labels} (0 when there is none). */
    private static double metric(String exposition, String name, String... labels) {
        for (String line : exposition.split("\n")) {
            if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) {
                continue;
            }
            String series = line.substring(0, line.lastIndexOf(' '));
            if (java.util.Arrays.stream(labels).allMatch(series::contains)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    private static String coverageLines(BoxPod dlp) throws Exception {
        StringBuilder s = new StringBuilder();
        for (String line : http(dlp, 9102, "/metrics").split("\n")) {
            if (line.contains("coverage")) {
                s.append(line).append('\n');
            }
        }
        return s.toString();
    }

    private static String http(BoxPod pod, int port, String path) throws Exception {
        InetSocketAddress local = box.node().local(pod.ip(), port);
        HttpResponse<String> r = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + local.getPort() + path))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        return r.body();
    }
}
