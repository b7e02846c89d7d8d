package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A controller whose serving is wedged becomes unready and is restarted (the xds controller's watchdog, the manifests'
 * probes, the kubelet's probe workers). One of the two {@code meshguard-xds} replicas gets a real JVM deadlock from
 * outside: an agent loaded through the JDK's attach API from inside its pod ({@link AgentAttach}, as {@code kubectl
 * exec … jcmd} would) starts two threads that lock two monitors in opposite order ({@link DeadlockAgent}); nothing in
 * the product can be told to wedge itself. The controller's watchdog finds the deadlock
 * ({@code ThreadMXBean.findDeadlockedThreads}): its gRPC health turns NOT_SERVING, so two failed readiness probes take
 * the pod out of the Service (new connections through a sidecar reach only the other replica, which answers), and
 * its liveness service ({@code meshguard.xds.liveness}) NOT_SERVING, so six failed liveness probes make the kubelet
 * kill and restart the container; the restarted container is Ready again and back in the Service.
 */
@Tag("cluster")
class WatchdogJourneyTest {
    private static ClusterInABox box;

    @BeforeAll
    static void installed() throws Exception {
        box = SharedBox.get();
    }

    @Test
    void controller_deadlocked_failsReadinessAndLiveness_isRestarted_whileTheOtherReplicaServes() throws Exception {
        List<BoxPod> replicas = box.pods().stream()
                .filter(p -> p.owner().equals("Deployment/meshguard-xds"))
                .toList();
        assertThat(replicas)
                .as("the controller's replicas (the cluster profile runs two)")
                .hasSizeGreaterThan(1);
        BoxPod wedged = replicas.getFirst();
        Kubelet.Watch kubelet =
                box.watch(wedged).orElseThrow(() -> new AssertionError("the kubelet does not watch " + wedged.name()));
        assertThat(kubelet.ready()).as("%s before", wedged.name()).isTrue();
        int restartsBefore = kubelet.restarts();
        long pidBefore = kubelet.process().pid();
        List<String> timeline = new ArrayList<>();
        long t0 = System.nanoTime();

        String attached = box.attachAgent(wedged, DeadlockAgent.class);
        timeline.add(at(t0, "deadlock loaded: " + attached.strip()));
        // the watchdog (every 2 s) finds it; readiness (every 5 s, 2 failures) takes the pod out of the Service
        awaitTrue(
                Duration.ofSeconds(Math.round(40 * Kubelet.SCALE)),
                () -> !kubelet.ready(),
                () -> "not unready: " + kubelet.events());
        timeline.add(at(t0, "out of the Service (readiness failed)"));
        String readyz = status(wedged, "/readyz");
        assertThat(readyz)
                .as("the wedged controller's /readyz")
                .contains("deadlock")
                .contains("box-deadlock-");
        assertThat(metric(status(wedged, "/metrics"), "meshguard_xds_watchdog_deadlocked_threads"))
                .isGreaterThanOrEqualTo(2.0);
        assertThat(box.notReadyAddresses()).contains(wedged.ip());
        // new clients of the Service reach the other replica only, through their sidecar (istiod's EDS)
        assertServedByTheOtherReplica();
        timeline.add(at(t0, "ten health checks through the Service answered SERVING"));

        // liveness: six failures 10 s apart, then the kubelet kills and restarts the container
        awaitTrue(
                Duration.ofSeconds(Math.round(120 * Kubelet.SCALE)),
                () -> kubelet.restarts() > restartsBefore,
                () -> "not restarted: " + kubelet.events());
        timeline.add(at(t0, "killed and started again by the kubelet (liveness)"));
        assertThat(kubelet.process().pid()).as("a new container process").isNotEqualTo(pidBefore);
        assertThat(kubelet.events()).anyMatch(e -> e.contains("Liveness probe failed"));
        assertServedByTheOtherReplica();
        timeline.add(at(t0, "while it starts, the Service still answers from the other replica"));

        awaitTrue(
                Duration.ofSeconds(Math.round(240 * Kubelet.SCALE)),
                kubelet::ready,
                () -> "not Ready again: " + kubelet.events() + "\n"
                        + kubelet.process().lastLines(30));
        timeline.add(at(t0, "Ready again, back in the Service"));
        assertThat(kubelet.restarts()).as("restart count").isEqualTo(restartsBefore + 1);
        assertThat(box.notReadyAddresses()).doesNotContain(wedged.ip());
        assertThat(status(wedged, "/readyz")).doesNotContain("deadlock");
        assertThat(metric(status(wedged, "/metrics"), "meshguard_xds_watchdog_deadlocked_threads"))
                .isEqualTo(0.0);
        System.out.println("watchdog journey, " + wedged.name() + ":\n  " + String.join("\n  ", timeline)
                + "\n  kubelet events:\n    " + String.join("\n    ", kubelet.events()));
    }

    /** Ten gRPC health checks of {@code meshguard-xds:18000}, each a new connection from the bank's meshed pod. */
    private static void assertServedByTheOtherReplica() throws Exception {
        String out = box.runInPod(
                box.proxylessClientPod(),
                Optional.of(BankApps.USER),
                MeshGrpcHealth.class,
                ServiceDirectory.fqdn("meshguard-xds", OperatorSecrets.NAMESPACE),
                "18000",
                "10");
        assertThat(out.lines().filter(l -> l.startsWith("CHECK ")))
                .as("health checks through the Service: %s", out)
                .hasSize(10)
                .allMatch(l -> l.endsWith(" SERVING"));
    }

    /**
     * {@code path} on the pod's admin port. A connection closed unanswered is tried again, up to five times a second
     * apart: right after a container restart the box's sidecar has been seen to drop one (the journey asserts on what
     * the controller answers, not on that).
     */
    private static String status(BoxPod pod, String path) throws Exception {
        InetSocketAddress local = box.node().local(pod.ip(), 9103);
        for (int attempt = 1; ; attempt++) {
            try {
                return HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + local.getPort() + path))
                                        .timeout(Duration.ofSeconds(5))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body();
            } catch (java.io.IOException e) {
                if (attempt == 5) {
                    throw e;
                }
                Thread.sleep(1000);
            }
        }
    }

    private static double metric(String exposition, String name) {
        return exposition
                .lines()
                .filter(l -> l.startsWith(name + " ") || l.startsWith(name + "{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no metric " + name));
    }

    private static void awaitTrue(Duration limit, BooleanSupplier condition, java.util.function.Supplier<String> why)
            throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("within " + limit.toSeconds() + " s: " + why.get());
            }
            Thread.sleep(500);
        }
    }

    private static String at(long t0, String what) {
        return String.format("%6.1f s  %s", (System.nanoTime() - t0) / 1e9, what);
    }
}
