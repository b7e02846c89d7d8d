package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Probe;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The kubelet's probes, polled as it polls them (k8s.io/kubernetes pkg/kubelet/prober): the startup probe first,
 * every {@code periodSeconds} after {@code initialDelaySeconds}, failing the container after
 * {@code failureThreshold} consecutive failures; then the readiness probe until it succeeds. Probes dial the pod IP
 * from the node: gRPC health ({@code grpc.health.v1.Health/Check}, SERVING), HTTP GET (200-399) or a TCP connect,
 * each within {@code timeoutSeconds}. Defaults are Kubernetes': period 10 s, timeout 1 s, failure threshold 3.
 */
final class Kubelet {
    /**
     * Multiplies every probe's period (so failureThreshold x period, the time a container has to start): the box's
     * pods share the machine's cores with whatever else runs, while a kubelet's node reserves each pod's CPU requests.
     * 1 by default; {@code -Dmeshguard.box.probeScale=3} on a machine busy with other builds.
     */
    static final double SCALE = Double.parseDouble(System.getProperty("meshguard.box.probeScale", "1"));

    private final NodePorts node;

    Kubelet(NodePorts node) {
        this.node = node;
    }

    /** Why a pod did not become Ready. */
    static final class NotReady extends RuntimeException {
        NotReady(String message) {
            super(message);
        }
    }

    /** Polls until the pod is Ready; throws {@link NotReady} naming the pod, the probe and the log's last lines. */
    void awaitReady(BoxPod pod, PodProcess process, Duration readinessLimit) throws InterruptedException {
        Container c = pod.container();
        if (c.getStartupProbe() != null) {
            poll(pod, process, "startupProbe", c.getStartupProbe(), Optional.empty());
        }
        if (c.getReadinessProbe() != null) {
            poll(pod, process, "readinessProbe", c.getReadinessProbe(), Optional.of(readinessLimit));
        } else if (!process.alive()) {
            throw new NotReady(report(
                    pod, process, "the container exited " + process.exitCode().orElse(-1)));
        }
    }

    private void poll(BoxPod pod, PodProcess process, String which, Probe probe, Optional<Duration> limit)
            throws InterruptedException {
        long period = Math.round(seconds(probe.getPeriodSeconds(), 10) * SCALE);
        int threshold = (int) seconds(probe.getFailureThreshold(), 3);
        Thread.sleep(seconds(probe.getInitialDelaySeconds(), 0) * 1000);
        long deadline = System.nanoTime() + limit.map(Duration::toNanos).orElse(Long.MAX_VALUE / 2);
        int failures = 0;
        String last = "";
        while (true) {
            if (!process.alive()) {
                throw new NotReady(report(
                        pod,
                        process,
                        which + ": the container exited " + process.exitCode().orElse(-1) + " (CrashLoopBackOff)"));
            }
            long started = System.nanoTime();
            Optional<String> failure = probe(pod, probe);
            if (failure.isEmpty()) {
                return;
            }
            last = failure.get();
            failures++;
            if (limit.isEmpty() && failures >= threshold) {
                throw new NotReady(report(
                        pod,
                        process,
                        which + " failed " + failures + " times (the kubelet kills " + "and restarts the container): "
                                + last));
            }
            if (System.nanoTime() > deadline) {
                throw new NotReady(report(
                        pod,
                        process,
                        which + " never succeeded within " + limit.get().toSeconds()
                                + " s (the pod stays out of its Services): " + last));
            }
            long waited = (System.nanoTime() - started) / 1_000_000;
            Thread.sleep(Math.max(0, period * 1000 - waited));
        }
    }

    /** One probe: empty on success, else why it failed. */
    Optional<String> probe(BoxPod pod, Probe probe) {
        long timeout = seconds(probe.getTimeoutSeconds(), 1);
        try {
            if (probe.getGrpc() != null) {
                int port = probe.getGrpc().getPort();
                ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.forward(pod.ip(), port))
                        .usePlaintext()
                        .build();
                try {
                    HealthCheckResponse r = HealthGrpc.newBlockingStub(channel)
                            .withDeadlineAfter(timeout, TimeUnit.SECONDS)
                            .check(HealthCheckRequest.newBuilder()
                                    .setService(
                                            Optional.ofNullable(probe.getGrpc().getService())
                                                    .orElse(""))
                                    .build());
                    return r.getStatus() == HealthCheckResponse.ServingStatus.SERVING
                            ? Optional.empty()
                            : Optional.of("grpc port " + port + ": " + r.getStatus());
                } finally {
                    channel.shutdownNow();
                }
            }
            if (probe.getHttpGet() != null) {
                int port = pod.port(probe.getHttpGet().getPort())
                        .orElseThrow(() -> new IllegalStateException(
                                "httpGet port " + probe.getHttpGet().getPort() + " names no container port"));
                HttpClient client = HttpClient.newBuilder()
                        .connectTimeout(Duration.ofSeconds(timeout))
                        .build();
                HttpResponse<String> r = client.send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.forward(pod.ip(), port)
                                        + probe.getHttpGet().getPath()))
                                .timeout(Duration.ofSeconds(timeout))
                                .header("User-Agent", "kube-probe/1.30")
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                return r.statusCode() >= 200 && r.statusCode() < 400
                        ? Optional.empty()
                        : Optional.of("HTTP GET " + probe.getHttpGet().getPath() + " on " + port + ": " + r.statusCode()
                                + " "
                                + r.body().substring(0, Math.min(400, r.body().length())));
            }
            if (probe.getTcpSocket() != null) {
                int port = pod.port(probe.getTcpSocket().getPort()).orElseThrow();
                return node.connects(pod.ip(), port) ? Optional.empty() : Optional.of("tcp " + port + " refused");
            }
            return Optional.of("probe kind not modelled (exec probes run inside the container)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of("interrupted");
        } catch (Exception e) {
            return Optional.of(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    static String report(BoxPod pod, PodProcess process, String what) {
        return "pod " + pod.describe() + ": " + what + "\n--- last log lines of " + pod.name() + " ---\n"
                + process.lastLines(25);
    }

    private static long seconds(Integer value, long otherwise) {
        return value == null ? otherwise : value;
    }
}
