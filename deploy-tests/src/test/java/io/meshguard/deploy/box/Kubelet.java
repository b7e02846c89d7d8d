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

    /** What the kubelet needs of the box for a pod it keeps watching. */
    interface Containers {
        /** The pod's readiness changed: it leaves its Services' endpoints, or comes back into them. */
        void ready(BoxPod pod, boolean ready);

        /** Starts the pod's container again from its spec (the sidecar stays); its new process. */
        PodProcess start(BoxPod pod);
    }

    /**
     * The kubelet's probe workers after a pod became Ready (pkg/kubelet/prober/worker.go): readiness every
     * {@code periodSeconds}, {@code failureThreshold} consecutive failures take the pod out of its Services'
     * endpoints, {@code successThreshold} (1) successes bring it back; liveness every {@code periodSeconds},
     * {@code failureThreshold} consecutive failures kill the container (SIGTERM, the grace, SIGKILL) and start it
     * again, its restart count kept, then its startup and readiness probes as at its first start. A container that
     * exits is started again too (restartPolicy Always), after the kubelet's back-off (10 s, doubling, at most
     * 5 min). Periods scaled by {@link #SCALE}. Ends with {@link Watch#close} (the pod deleted or scaled away).
     */
    Watch watch(BoxPod pod, PodProcess started, Containers containers) {
        Watch w = new Watch(pod, started, containers);
        w.thread = Thread.ofVirtual().name("kubelet-" + pod.name()).start(w::run);
        return w;
    }

    /** One pod's probe workers. */
    final class Watch implements AutoCloseable {
        private final BoxPod pod;
        private final Containers containers;
        private volatile PodProcess process;
        private volatile boolean closed;
        private volatile boolean ready = true;
        private volatile int restarts;
        private final java.util.List<String> events = new java.util.concurrent.CopyOnWriteArrayList<>();
        private final long since = System.nanoTime();
        private Thread thread;

        private Watch(BoxPod pod, PodProcess started, Containers containers) {
            this.pod = pod;
            this.process = started;
            this.containers = containers;
        }

        /** The container running now. */
        PodProcess process() {
            return process;
        }

        /** Whether the pod is among its Services' endpoints now. */
        boolean ready() {
            return ready;
        }

        /** How often the kubelet started the container again ({@code restartCount}). */
        int restarts() {
            return restarts;
        }

        /** What the kubelet did and saw, as {@code kubectl describe pod} lists events, with seconds since the watch. */
        java.util.List<String> events() {
            return java.util.List.copyOf(events);
        }

        private void event(String what) {
            events.add(String.format("%6.1f s  %s", (System.nanoTime() - since) / 1e9, what));
        }

        private void run() {
            Container c = pod.container();
            Optional<Probe> readiness = Optional.ofNullable(c.getReadinessProbe());
            Optional<Probe> liveness = Optional.ofNullable(c.getLivenessProbe());
            long readyPeriod = readiness.map(Kubelet::periodNanos).orElse(Long.MAX_VALUE);
            long livePeriod = liveness.map(Kubelet::periodNanos).orElse(Long.MAX_VALUE);
            long now = System.nanoTime();
            long nextReady = now + Math.min(readyPeriod, TimeUnit.DAYS.toNanos(1));
            long nextLive = now + Math.min(livePeriod, TimeUnit.DAYS.toNanos(1));
            int readyFailures = 0;
            int liveFailures = 0;
            long backOff = TimeUnit.SECONDS.toNanos(10);
            try {
                while (!closed) {
                    long wake = Math.min(nextReady, nextLive);
                    if (!process.alive()) {
                        wake = Math.min(wake, System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
                    }
                    TimeUnit.NANOSECONDS.sleep(Math.max(0, wake - System.nanoTime()));
                    if (closed) {
                        return;
                    }
                    if (!process.alive()) {
                        event("container exited " + process.exitCode().orElse(-1) + ", back-off "
                                + TimeUnit.NANOSECONDS.toSeconds(backOff) + " s (CrashLoopBackOff)");
                        notReady();
                        TimeUnit.NANOSECONDS.sleep(backOff);
                        backOff = Math.min(backOff * 2, TimeUnit.MINUTES.toNanos(5));
                        restart();
                        readyFailures = 0;
                        liveFailures = 0;
                        nextReady = System.nanoTime() + readyPeriod;
                        nextLive = System.nanoTime() + livePeriod;
                        continue;
                    }
                    now = System.nanoTime();
                    if (readiness.isPresent() && now >= nextReady) {
                        nextReady = now + readyPeriod;
                        Optional<String> failure = probe(pod, readiness.get());
                        if (failure.isEmpty()) {
                            readyFailures = 0;
                            if (!ready) {
                                event("Readiness probe passed: back in its Services' endpoints");
                                ready = true;
                                containers.ready(pod, true);
                            }
                        } else if (++readyFailures >= threshold(readiness.get()) && ready) {
                            event("Unhealthy: Readiness probe failed " + readyFailures + " times: " + failure.get());
                            notReady();
                        }
                    }
                    if (liveness.isPresent() && now >= nextLive) {
                        nextLive = now + livePeriod;
                        Optional<String> failure = probe(pod, liveness.get());
                        if (failure.isEmpty()) {
                            liveFailures = 0;
                        } else if (++liveFailures >= threshold(liveness.get())) {
                            event("Unhealthy: Liveness probe failed " + liveFailures + " times: " + failure.get());
                            event("Killing: container failed liveness probe, will be restarted");
                            notReady();
                            PodProcess.stopAll(java.util.List.of(process), PodProcess.GRACE);
                            restart();
                            readyFailures = 0;
                            liveFailures = 0;
                            nextReady = System.nanoTime() + readyPeriod;
                            nextLive = System.nanoTime() + livePeriod;
                        }
                    }
                }
            } catch (InterruptedException e) {
                // closed
            } catch (RuntimeException e) {
                event("the kubelet's worker ended: " + e);
            }
        }

        private void notReady() {
            if (ready) {
                ready = false;
                containers.ready(pod, false);
            }
        }

        /** Starts the container again and probes it as at its first start; Ready again, or the failure noted. */
        private void restart() throws InterruptedException {
            // the count moves once the new container runs, as restartCount does: a reader that sees it moved then
            // finds the new process, never the killed one
            process = containers.start(pod);
            restarts++;
            event("Started: container started again (restart count " + restarts + ")");
            try {
                awaitReady(pod, process, Duration.ofSeconds(Math.round(180 * SCALE)));
                event("Ready again");
                ready = true;
                containers.ready(pod, true);
            } catch (NotReady e) {
                event("not Ready after the restart: "
                        + e.getMessage().lines().findFirst().orElse(""));
            }
        }

        /** The pod is deleted or scaled away: its workers stop (its containers are the caller's to stop). */
        @Override
        public void close() {
            closed = true;
            if (thread != null && thread != Thread.currentThread()) {
                thread.interrupt();
            }
        }
    }

    private static long periodNanos(Probe probe) {
        return Math.round(seconds(probe.getPeriodSeconds(), 10) * SCALE * 1e9);
    }

    private static int threshold(Probe probe) {
        return (int) seconds(probe.getFailureThreshold(), 3);
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
