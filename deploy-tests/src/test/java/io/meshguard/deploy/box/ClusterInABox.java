package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.meshguard.deploy.RenderedManifests;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The cluster in a box: meshguard installed the way docs/install.md says, on this machine, without Kubernetes or a
 * container engine. The operator's Secrets (README step 1), the bank's PostgreSQL with the DBA's roles (install.md
 * section 3) and Redis, the migrate Job (step 2b), then {@code kubectl apply -k manifests/istio} (step 3): every
 * Deployment and StatefulSet of the rendered install started as pods, each in its own network and mount namespace,
 * with Services, cluster DNS names and NetworkPolicies in force, probed as the kubelet probes them.
 * deploy-tests/README.md lists what each part models, with its source, and what it does not model.
 */
public final class ClusterInABox implements AutoCloseable {
    /** Replicas per workload at most (the manifests' counts need more cores than a CI machine has). */
    static final int MAX_REPLICAS = Integer.getInteger("meshguard.box.replicas", 1);

    private final Path dir;
    private final ClusterObjects objects = new ClusterObjects();
    private final OperatorSecrets secrets = OperatorSecrets.generate();
    private final PodNetwork network;
    private final List<BoxPod> pods = new ArrayList<>();
    private final Map<String, PodProcess> processes = new ConcurrentHashMap<>();
    private final Map<String, String> failures = Collections.synchronizedMap(new LinkedHashMap<>());
    private final Map<String, String> notModelled = Collections.synchronizedMap(new LinkedHashMap<>());
    private final List<String> timeline = Collections.synchronizedList(new ArrayList<>());
    private final long started = System.nanoTime();
    private NodePorts node;
    private Process agent;
    private ServiceDirectory services;
    private NetworkPolicyRules policies;

    private ClusterInABox(Path dir) {
        this.dir = dir;
        this.network = new PodNetwork("mgbox" + ProcessHandle.current().pid(), "10.244.0");
    }

    /** What the box needs of this machine; empty when it can run. */
    public static List<String> missingPrerequisites() {
        List<String> missing = new ArrayList<>(Shell.missingTools());
        if (!RenderedManifests.kubectlAvailable()) {
            missing.add("kubectl (its built-in kustomize renders the manifests)");
        }
        try {
            if (((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() != 0) {
                missing.add("root (network and mount namespaces)");
            }
        } catch (IOException e) {
            missing.add("a Linux /proc");
        }
        return missing;
    }

    /** Installs and starts everything; pods that fail are recorded ({@link #failures()}), not thrown. */
    public static ClusterInABox install(Path dir) throws Exception {
        List<String> missing = missingPrerequisites();
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the cluster in a box cannot run on this machine; missing: "
                    + String.join(", ", missing) + " (.ci/run installs the Debian packages)");
        }
        ClusterInABox box = new ClusterInABox(dir);
        try {
            box.run();
            return box;
        } catch (Exception | Error e) {
            box.close();
            throw e;
        }
    }

    private void run() throws Exception {
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Images images = new Images(Path.of(System.getProperty("java.home")), RenderedManifests.repoRoot());
        // install step 1: the namespace on its own, then the operator's Secrets
        objects.apply(RenderedManifests.file("namespace.yaml"));
        objects.namespace(ExternalParts.NAMESPACE, Map.of());
        secrets.secrets().forEach(objects::secret);
        ExternalParts.services().forEach(objects::service);
        // step 2b and step 3: what kubectl apply -k applies
        objects.apply(RenderedManifests.render("migrate"));
        objects.apply(RenderedManifests.render("."));
        mark("rendered and applied");

        BoxPod postgres = externalPod(ExternalParts.POSTGRES, 5432);
        BoxPod redis = externalPod(ExternalParts.REDIS, 6379);
        List<BoxPod> jobPods = new ArrayList<>();
        for (Job job : objects.jobs) {
            jobPods.add(pod(job.getMetadata(), job.getSpec().getTemplate(), "Job/" + job.getMetadata().getName(),
                    job.getMetadata().getName() + "-box", Optional.empty()));
        }
        List<BoxPod> workloads = new ArrayList<>();
        for (Deployment d : objects.deployments) {
            int n = Math.min(MAX_REPLICAS, Optional.ofNullable(d.getSpec().getReplicas()).orElse(1));
            for (int i = 0; i < n; i++) {
                workloads.add(pod(d.getMetadata(), d.getSpec().getTemplate(), "Deployment/" + d.getMetadata().getName(),
                        d.getMetadata().getName() + "-box" + i, Optional.empty()));
            }
        }
        for (StatefulSet s : objects.statefulSets) {
            int n = Math.min(MAX_REPLICAS, Optional.ofNullable(s.getSpec().getReplicas()).orElse(1));
            for (int i = 0; i < n; i++) {
                workloads.add(pod(s.getMetadata(), s.getSpec().getTemplate(), "StatefulSet/" + s.getMetadata().getName(),
                        s.getMetadata().getName() + "-" + i, Optional.of(s.getSpec().getServiceName())));
            }
        }
        services = new ServiceDirectory(objects.services, pods);
        policies = new NetworkPolicyRules(objects.networkPolicies, pods, objects::namespaceLabels,
                network.nodeAddress());
        String nat = services.natRules();
        for (BoxPod p : pods) {
            Shell.run(List.of("ip", "netns", "exec", p.netns(), "nft", "-f", "-"), policies.table(p, nat));
        }
        mark("network: " + pods.size() + " pods, " + services.entries().size() + " Services, "
                + objects.networkPolicies.size() + " NetworkPolicies");
        startAgent();

        // the bank's parts first, as they exist before the install
        Kubelet kubelet = new Kubelet(node);
        Path pgDir = dir.resolve("bank-data_postgres");
        start(postgres, ExternalParts.postgres(postgres, pgDir, services.hosts(postgres), secrets));
        start(redis, ExternalParts.redis(redis, dir.resolve("bank-data_redis"), services.hosts(redis), secrets));
        awaitTcp(postgres, 5432);
        awaitTcp(redis, 6379);
        ExternalParts.createRolesAndDatabase(pgDir, secrets);
        mark("PostgreSQL and Redis up, roles created");

        // step 2b: the migrate Job, to completion
        ContainerRuntime runtime = new ContainerRuntime(objects, images, dir);
        for (BoxPod job : jobPods) {
            Optional<PodProcess> p = startFromManifest(runtime, job);
            if (p.isPresent()) {
                Optional<Integer> exit = p.get().await(300);
                if (exit.isEmpty() || exit.get() != 0) {
                    failures.put(job.name(), Kubelet.report(job, p.get(), "Job " + job.owner() + " did not complete: "
                            + exit.map(c -> "exit " + c).orElse("still running after 300 s")));
                }
            }
        }
        mark("migrate Job done");

        // step 3: every workload at once, as the API server creates them
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        List<Future<?>> rollouts = new ArrayList<>();
        for (BoxPod w : workloads) {
            rollouts.add(pool.submit(() -> {
                Optional<PodProcess> p = startFromManifest(runtime, w);
                if (p.isPresent()) {
                    try {
                        kubelet.awaitReady(w, p.get(), Duration.ofSeconds(180));
                        mark(w.name() + " Ready");
                    } catch (Kubelet.NotReady e) {
                        failures.put(w.name(), e.getMessage());
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : rollouts) {
            f.get();
        }
        pool.shutdown();
        mark("rollout finished");
    }

    private Optional<PodProcess> startFromManifest(ContainerRuntime runtime, BoxPod pod) {
        try {
            return Optional.of(start(pod, runtime.launch(pod, services.hosts(pod))));
        } catch (Images.NotModelled e) {
            notModelled.put(pod.name(), e.getMessage());
        } catch (ContainerRuntime.PodConfigError e) {
            failures.put(pod.name(), e.getMessage());
        }
        return Optional.empty();
    }

    private PodProcess start(BoxPod pod, Launch launch) {
        PodProcess p = PodProcess.start(launch);
        processes.put(pod.name(), p);
        return p;
    }

    private void awaitTcp(BoxPod pod, int port) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!node.connects(pod.ip(), port)) {
            PodProcess p = processes.get(pod.name());
            if (!p.alive() || System.nanoTime() > deadline) {
                throw new IllegalStateException(Kubelet.report(pod, p, "port " + port + " never opened"));
            }
            Thread.sleep(200);
        }
    }

    private void startAgent() throws IOException, InterruptedException {
        Path socket = dir.resolve("node-agent.sock");
        Path log = dir.resolve("node-agent.log");
        agent = new ProcessBuilder("ip", "netns", "exec", network.nodeNetns(),
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m", "-cp",
                Path.of(NodeAgent.class.getProtectionDomain().getCodeSource().getLocation().getPath()).toString(),
                NodeAgent.class.getName(), socket.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Files.exists(socket)) {
            if (!agent.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("the node agent did not start: " + Files.readString(log));
            }
            Thread.sleep(50);
        }
        node = new NodePorts(socket);
    }

    private BoxPod externalPod(String name, int port) {
        String ip = network.allocate();
        BoxPod pod = new BoxPod(name + "-0", ExternalParts.NAMESPACE, Map.of("app", name), Map.of(), ip,
                network.attach(ip), ExternalParts.spec(name, port), "external/" + name, Optional.empty());
        pods.add(pod);
        return pod;
    }

    private BoxPod pod(ObjectMeta owner, PodTemplateSpec template, String ownerName, String name,
            Optional<String> subdomain) {
        String ip = network.allocate();
        String ns = Optional.ofNullable(owner.getNamespace()).orElse("default");
        BoxPod pod = new BoxPod(name, ns,
                Optional.ofNullable(template.getMetadata().getLabels()).orElse(Map.of()),
                Optional.ofNullable(template.getMetadata().getAnnotations()).orElse(Map.of()),
                ip, network.attach(ip), template.getSpec(), ownerName, subdomain);
        pods.add(pod);
        return pod;
    }

    private void mark(String what) {
        timeline.add(String.format("%6.1f s  %s", (System.nanoTime() - started) / 1e9, what));
    }

    /** Pods that failed (name → the kubelet's report with the last log lines). */
    public Map<String, String> failures() {
        return Map.copyOf(failures);
    }

    /** Pods whose image the box does not run (name → why). */
    public Map<String, String> notModelled() {
        return Map.copyOf(notModelled);
    }

    public List<String> timeline() {
        return List.copyOf(timeline);
    }

    public OperatorSecrets secrets() {
        return secrets;
    }

    List<BoxPod> pods() {
        return List.copyOf(pods);
    }

    /** The first pod of an owner ({@code Deployment/meshguard-xds}). */
    BoxPod pod(String owner) {
        return pods.stream().filter(p -> p.owner().equals(owner)).findFirst()
                .orElseThrow(() -> new AssertionError("no pod of " + owner + " in the box"));
    }

    PodProcess process(BoxPod pod) {
        return processes.get(pod.name());
    }

    NodePorts node() {
        return node;
    }

    Kubelet kubelet() {
        return new Kubelet(node);
    }

    /**
     * Whether a TCP connection from {@code pod}'s network namespace to {@code host:port} opens, the host resolved by
     * the pod's own cluster DNS names (its {@code /etc/hosts}), through Service DNAT and both pods' NetworkPolicies.
     */
    boolean reaches(BoxPod pod, String host, int port) {
        String address = address(pod, host);
        try {
            Shell.inNetns(pod.netns(), "timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/" + address + "/" + port);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /** {@code host} as {@code pod}'s {@code /etc/hosts} resolves it (an address stays as it is). */
    String address(BoxPod pod, String host) {
        if (host.matches("[0-9.]+")) {
            return host;
        }
        for (String line : services.hosts(pod).split("\\n")) {
            String[] fields = line.split("\\s+");
            for (int i = 1; i < fields.length; i++) {
                if (fields[i].equals(host)) {
                    return fields[0];
                }
            }
        }
        throw new AssertionError(host + " does not resolve in pod " + pod.describe());
    }

    /** The pod's nftables counters of dropped packets, for reports. */
    String dropped(BoxPod pod) {
        return Shell.inNetns(pod.netns(), "nft", "list", "counters").replaceAll("\\s+", " ");
    }

    @Override
    public void close() {
        processes.values().parallelStream().forEach(PodProcess::close);
        if (node != null) {
            node.close();
        }
        if (agent != null) {
            agent.destroy();
        }
        network.close();
    }
}
