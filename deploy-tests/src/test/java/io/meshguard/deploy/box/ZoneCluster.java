package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A zone's cluster beside central's, installed as manifests/istio/zone/README.md "Per cluster" says: its own node
 * and pod range ({@value #RANGE}.0/24), namespace {@code meshguard} from {@code namespace.yaml}, the Secrets of the
 * README (the registration token from {@code meshguard cluster register}, the bank's CA for central), then
 * {@code kubectl apply -k manifests/istio/overlays/zone}: extauthz, DLP, the gateway and the controller in zone mode,
 * with their own Services, cluster DNS, NetworkPolicies and sidecars. The two clusters' nodes are joined by one
 * routed link (the bank's network between its clusters): a zone reaches central only at the ingress gateway's
 * address, by the name its {@code MESHGUARD_ZONE_CENTRAL} dials (the bank's DNS), and the environment's PostgreSQL
 * by the name of central's Secret. As the README's "What the bank provides per zone cluster" says, the zone has a
 * Redis of its own (namespace {@code bank-data} of this cluster, the name the zone's {@code meshguard-redis} gives),
 * and the bank's application in {@code payments} (the Service {@code api} the product's upstream names). The gateway Deployment has a second pod, scheduled (address, policies, sidecar
 * rules) but started only when a journey scales it up ({@link #startJoiningGateway}).
 */
final class ZoneCluster implements AutoCloseable {
    static final String RANGE = "10.245.0";
    static final String INSTALL = "overlays/zone";
    /** Secrets of README step 1 only the central controller reads (zone README "Per cluster" step 3). */
    static final Set<String> CENTRAL_ONLY_SECRETS =
            Set.of("meshguard-xds-admin-token", "meshguard-admin-oidc", "meshguard-trail-checkpoint-key");

    static final String GATEWAY = "Deployment/meshguard-gateway";
    static final String ZONE = "StatefulSet/meshguard-xds-zone";
    /** The cluster id of the shipped overlays/zone ({@code MESHGUARD_ZONE_CLUSTER}), registered under that name. */
    static final String CLUSTER = "kr-seoul-prod";
    /** The gateway group every cluster's gateways name (the gateway bootstrap's node cluster). */
    static final String GROUP = "edge";
    /**
     * docs/install.md section 5 for a zone cluster: extauthz and DLP, then the zone controller, then the gateway (the
     * order of central's servers, the zone controller in the central controller's place).
     */
    static final List<String> ROLL_ORDER =
            List.of("StatefulSet/meshguard-extauthz", "StatefulSet/meshguard-dlp", ZONE, GATEWAY);

    private final ClusterInABox central;
    private final Path dir;
    private final ClusterObjects objects = new ClusterObjects();
    private final PodNetwork network;
    private final List<BoxPod> pods = new ArrayList<>();
    private final Map<String, PodProcess> processes = new ConcurrentHashMap<>();
    private final Map<String, Launch> sidecars = new ConcurrentHashMap<>();
    private final Map<String, String> failures = Collections.synchronizedMap(new LinkedHashMap<>());
    private final List<String> timeline = Collections.synchronizedList(new ArrayList<>());
    private final long started = System.nanoTime();
    private final String link;
    /** The checkout whose manifests the zone runs: central's release at install, then at {@link #upgrade}. */
    private Path manifests;

    private BoxPod joiningGateway;
    private BoxPod bankApp;
    private BoxPod redis;
    private ServiceDirectory services;
    private ContainerRuntime runtime;
    private Process agent;
    private NodePorts node;
    private String extraHosts;
    private boolean closed;

    private ZoneCluster(ClusterInABox central, Path dir) {
        this.central = central;
        this.dir = dir;
        long pid = ProcessHandle.current().pid();
        this.network = new PodNetwork("mgz" + pid, RANGE);
        this.link = "mgzl" + pid;
        this.manifests = central.manifests();
    }

    /**
     * The zone README's "Per cluster" on the release central runs: the bank's automation (docs/install.md's
     * {@code meshguard-automation}, signed in through the bank's Keycloak) publishes the first revision of
     * {@link #GROUP} (a route {@code /accounts}) and registers the cluster with the README's command line of the
     * release's own CLI ({@code meshguard cluster register … --group edge}); the cluster installs with the printed
     * token and follows central.
     */
    static ZoneCluster registerAndInstall(ClusterInABox central) throws Exception {
        BankPipeline bank = BankPipeline.signIn(central, central.identityProvider());
        bank.ok("PUT", "/groups/" + GROUP, """
                {"name": "%s", "environment": "prod", "region": "eu", "listener_port": 8080}""".formatted(GROUP));
        route(bank::ok, "accounts", "/accounts");
        bank.ok("POST", "/publish", "{\"reason\": \"CHG-4100: accounts on every cluster\"}");
        BoxPod xds = central.pod("Deployment/meshguard-xds");
        java.net.InetSocketAddress admin = central.node().local(xds.ip(), 9103);
        List<String> command = new ArrayList<>(List.of(
                central.images().java().toString(),
                "-jar",
                central.images().jar().toString(),
                "cluster",
                "register",
                "--name",
                CLUSTER,
                "--region",
                "kr-seoul",
                "--provider",
                "aws",
                "--group",
                GROUP,
                "--url",
                "http://127.0.0.1:" + admin.getPort(),
                "--token-file",
                bank.tokenFile().toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("meshguard cluster register: " + out);
        }
        java.util.regex.Matcher token =
                java.util.regex.Pattern.compile("mgzr_[A-Za-z0-9_-]+").matcher(out);
        if (!token.find()) {
            throw new IllegalStateException("no registration token in: " + out);
        }
        return install(central, token.group());
    }

    /** An admin API call that must succeed: its JSON answer. */
    interface AdminCall {
        com.fasterxml.jackson.databind.JsonNode ok(String method, String path, String body) throws Exception;
    }

    /** A route of {@link #GROUP} to the upstream {@code NAME.bank-apps.svc.cluster.local:8080}, its API and path. */
    static void route(AdminCall bank, String name, String prefix) throws Exception {
        bank.ok("PUT", "/upstreams/" + name, """
                {"name": "%s", "protocol": "http1",
                 "endpoints": [{"address": "%s.bank-apps.svc.cluster.local", "port": 8080}]}""".formatted(name, name));
        bank.ok("PUT", "/apis/" + name, """
                {"name": "%s", "base_path": "%s", "default_version": "v1",
                 "versions": [{"version": "v1", "status": "active"}]}""".formatted(name, prefix));
        bank.ok("PUT", "/routes/" + GROUP + "/" + name, """
                {"name": "%s", "group": "%s", "api": "%s", "version": "v1",
                 "match": {"path_prefix": "%s"}, "destinations": [{"upstream": "%s", "weight": 100}],
                 "authz_profile": "payments-write", "dlp_profile": "default"}""".formatted(name, GROUP, name, prefix, name));
    }

    /** {@code curl localhost:PORT/PATH} in one of this cluster's pods, through the zone node's port-forward. */
    String http(BoxPod pod, int port, String path) throws Exception {
        java.net.InetSocketAddress local = node.local(pod.ip(), port);
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient()
                .send(
                        java.net.http.HttpRequest.newBuilder(
                                        java.net.URI.create("http://127.0.0.1:" + local.getPort() + path))
                                .timeout(Duration.ofSeconds(5))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    /** What a gateway pod accepted: Envoy's admin {@code /config_dump} on its loopback, as kubectl exec reads it. */
    static String configDump(BoxPod gateway) {
        return Shell.inNetns(gateway.netns(), "curl", "-sf", "-m", "5", "http://127.0.0.1:9901/config_dump");
    }

    /**
     * Installs the zone's cluster with the registration {@code token} in its Secret; returns once every pod is Ready
     * or failed ({@link #failures()}).
     */
    static ZoneCluster install(ClusterInABox central, String token) throws Exception {
        ZoneCluster zone = new ZoneCluster(central, central.dir().resolve("zone-cluster"));
        Runtime.getRuntime().addShutdownHook(new Thread(zone::close, "zone-cluster-shutdown"));
        try {
            zone.run(token);
            return zone;
        } catch (Exception | Error e) {
            zone.close();
            throw e;
        }
    }

    private void run(String token) throws Exception {
        Files.createDirectories(dir);
        linkNodes();
        // README step 1 of the install (namespace), the zone's Secrets, then kubectl apply -k overlays/zone
        objects.apply(RenderedManifests.file(manifests, "namespace.yaml"));
        for (Secret s : central.secrets().secrets()) {
            if (!CENTRAL_ONLY_SECRETS.contains(s.getMetadata().getName())) {
                objects.secret(s);
            }
        }
        objects.secret(secret("meshguard-zone-registration", Map.of("token", token)));
        objects.secret(secret("meshguard-central-ca", Map.of("ca.crt", Files.readString(central.bankCa()))));
        // manifests/istio/README.md "Your identity provider": the zone's extauthz fetches the bank's JWKS as central's
        // does
        objects.secret(secret("meshguard-idp-ca", Map.of("ca.crt", Files.readString(central.bankCa()))));
        objects.apply(RenderedManifests.render(manifests, INSTALL));
        // the bank's application in this cluster too (manifests/istio/README.md step 4): what the zone's gateway
        // routes a product served here to, by the same Service name as in central's cluster
        io.fabric8.kubernetes.api.model.PodSpec appSpec = BankApp.install(objects);
        // the zone README's data tier: the zone's own Redis in its region (namespace bank-data of this cluster, by the
        // name the zone's Secret meshguard-redis gives), central's PostgreSQL over the bank's network
        objects.namespace(ExternalParts.NAMESPACE, Map.of());
        objects.service(ExternalParts.service(ExternalParts.REDIS, ExternalParts.NAMESPACE, 6379));
        mark("rendered " + INSTALL);

        List<BoxPod> workloads = new ArrayList<>();
        for (Deployment d : objects.deployments) {
            workloads.add(pod(
                    d.getMetadata(),
                    d.getSpec().getTemplate(),
                    "Deployment/" + d.getMetadata().getName(),
                    d.getMetadata().getName() + "-zone0",
                    Optional.empty()));
            if (("Deployment/" + d.getMetadata().getName()).equals(GATEWAY)) {
                joiningGateway = pod(
                        d.getMetadata(),
                        d.getSpec().getTemplate(),
                        GATEWAY,
                        d.getMetadata().getName() + "-zone1",
                        Optional.empty());
            }
        }
        for (StatefulSet s : objects.statefulSets) {
            workloads.add(pod(
                    s.getMetadata(),
                    s.getSpec().getTemplate(),
                    "StatefulSet/" + s.getMetadata().getName(),
                    s.getMetadata().getName() + "-0",
                    Optional.of(s.getSpec().getServiceName())));
        }
        bankApp = network.pod(
                BankApp.NAME + "-zone0",
                BankApp.NAMESPACE,
                Map.of("app", BankApp.NAME),
                appSpec,
                "Deployment/" + BankApp.NAME);
        pods.add(bankApp);
        redis = network.pod(
                ExternalParts.REDIS + "-zone0",
                ExternalParts.NAMESPACE,
                Map.of("app", ExternalParts.REDIS),
                ExternalParts.spec(ExternalParts.REDIS, 6379),
                "external/" + ExternalParts.REDIS);
        pods.add(redis);
        services = new ServiceDirectory(objects.services, pods);
        // the bank's DNS outside the cluster: central's zone host at the ingress gateway, the bank's data tier
        StringBuilder outside = new StringBuilder();
        outside.append(central.ingressGateway().ip())
                .append('\t')
                .append(central.centralZoneHost())
                .append('\n');
        for (BoxPod p : central.pods()) {
            // the bank's PostgreSQL is the environment's one database; Redis is the zone's own (above)
            if (p.namespace().equals(ExternalParts.NAMESPACE)
                    && !p.labels().get("app").equals(ExternalParts.REDIS)) {
                String name = p.labels().get("app");
                outside.append(p.ip())
                        .append('\t')
                        .append(ServiceDirectory.fqdn(name, ExternalParts.NAMESPACE))
                        .append('\n');
            }
            // the bank's IdP by its public name (its load balancer, central's TLS front): customers' tokens are
            // checked in the zone with keys fetched from there
            if (p.namespace().equals(ExternalParts.IDP_NAMESPACE)
                    && p.labels().get("app").equals(ExternalParts.IDP_FRONT)) {
                outside.append(p.ip())
                        .append('\t')
                        .append(ExternalParts.IDP_HOST)
                        .append('\n');
            }
        }
        extraHosts = outside.toString();
        NetworkPolicyRules policies =
                new NetworkPolicyRules(objects.networkPolicies, pods, objects::namespaceLabels, network.nodeAddress());
        String nat = services.natRules();
        IstioAuthorization istio = new IstioAuthorization(objects.istio);
        for (BoxPod p : pods) {
            String redirects = "";
            if (p.injected(objects.namespaceLabels(p.namespace()))) {
                try {
                    Sidecars.Sidecar sidecar = Sidecars.of(
                            p,
                            istio,
                            objects::namespaceLabels,
                            pods,
                            network.nodeAddress(),
                            dir,
                            hosts(p),
                            central.classpath(),
                            Optional.empty());
                    sidecars.put(p.name(), sidecar.launch());
                    redirects = sidecar.redirects();
                } catch (IllegalStateException e) {
                    failures.put(p.name(), "istio-proxy: " + e.getMessage());
                }
            }
            Shell.run(
                    List.of("ip", "netns", "exec", p.netns(), "nft", "-f", "-"), policies.table(p, nat, redirects, ""));
        }
        startAgent();
        mark("network: " + pods.size() + " pods, " + services.entries().size() + " Services, "
                + objects.networkPolicies.size() + " NetworkPolicies");

        // the bank's app beside the rollout: nothing of the install calls it, the journeys do once it is done
        Thread app = Thread.ofVirtual().name("zone-bank-app").start(() -> {
            try {
                startBankApp();
            } catch (InterruptedException e) {
                failures.put(bankApp.name(), "interrupted while starting");
            }
        });
        startRedis();
        runtime = new ContainerRuntime(objects, central.images(), dir);
        Kubelet kubelet = new Kubelet(node);
        ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
        List<Future<?>> rollouts = new ArrayList<>();
        for (BoxPod w : workloads) {
            rollouts.add(pool.submit(() -> {
                try {
                    PodProcess p = start(w);
                    // the gateway is Ready once the zone serves it central's revision of its group (published before)
                    kubelet.awaitReady(w, p, Duration.ofSeconds(240));
                    mark(w.name() + " Ready");
                } catch (Kubelet.NotReady | ContainerRuntime.PodConfigError | Images.NotModelled e) {
                    failures.put(w.name(), e.getMessage());
                }
                return null;
            }));
        }
        for (Future<?> f : rollouts) {
            f.get();
        }
        pool.shutdown();
        app.join();
        mark("rollout finished");
    }

    /**
     * The two nodes joined by a veth pair with routes to each other's pod range: the bank's network between its
     * clusters. Nothing else of either cluster is routed.
     */
    private void linkNodes() {
        String centralNode = central.network().nodeNetns();
        String zoneNode = network.nodeNetns();
        Shell.inNetns(
                centralNode,
                "ip",
                "link",
                "add",
                link + "a",
                "type",
                "veth",
                "peer",
                "name",
                link + "b",
                "netns",
                zoneNode);
        Shell.inNetns(centralNode, "ip", "addr", "add", "169.254.245.1/30", "dev", link + "a");
        Shell.inNetns(zoneNode, "ip", "addr", "add", "169.254.245.2/30", "dev", link + "b");
        Shell.inNetns(centralNode, "ip", "link", "set", link + "a", "up");
        Shell.inNetns(zoneNode, "ip", "link", "set", link + "b", "up");
        Shell.inNetns(centralNode, "ip", "route", "add", network.cidr(), "via", "169.254.245.2");
        Shell.inNetns(zoneNode, "ip", "route", "add", central.network().cidr(), "via", "169.254.245.1");
        Shell.inNetns(centralNode, "sysctl", "-qw", "net.ipv4.ip_forward=1");
        Shell.inNetns(zoneNode, "sysctl", "-qw", "net.ipv4.ip_forward=1");
    }

    private static Secret secret(String name, Map<String, String> data) {
        return new SecretBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(OperatorSecrets.NAMESPACE)
                .endMetadata()
                .withType("Opaque")
                .withStringData(data)
                .build();
    }

    private String hosts(BoxPod pod) {
        return services.hosts(pod) + extraHosts;
    }

    private PodProcess start(BoxPod pod) throws InterruptedException {
        Launch proxy = sidecars.get(pod.name());
        if (proxy != null) {
            PodProcess p = PodProcess.start(proxy);
            processes.put(pod.name() + "/istio-proxy", p);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!p.lastLines(5).contains("istio-proxy (box) for")) {
                if (!p.alive() || System.nanoTime() > deadline) {
                    throw new Kubelet.NotReady(Kubelet.report(pod, p, "istio-proxy did not start"));
                }
                Thread.sleep(100);
            }
        }
        PodProcess p = PodProcess.start(runtime.launch(pod, hosts(pod)));
        processes.put(pod.name(), p);
        return p;
    }

    /** The zone's Redis, with the password of the zone's Secret {@code meshguard-redis}. */
    private void startRedis() throws InterruptedException {
        PodProcess p = PodProcess.start(ExternalParts.redis(
                redis, dir.resolve(ExternalParts.NAMESPACE + "_redis"), hosts(redis), central.secrets()));
        processes.put(redis.name(), p);
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!p.lastLines(20).contains("Ready to accept connections")) {
            if (!p.alive() || System.nanoTime() > deadline) {
                failures.put(redis.name(), Kubelet.report(redis, p, "the zone's Redis did not start"));
                return;
            }
            Thread.sleep(100);
        }
        mark("the zone's Redis ready");
    }

    /** The bank's application: its sidecar, then its container, listening before the install goes on. */
    private void startBankApp() throws InterruptedException {
        Launch proxy = sidecars.get(bankApp.name());
        if (proxy != null) {
            processes.put(bankApp.name() + "/istio-proxy", PodProcess.start(proxy));
        }
        PodProcess app = PodProcess.start(BankApp.launch(bankApp, hosts(bankApp), central.classpath(), dir));
        processes.put(bankApp.name(), app);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!app.lastLines(5).contains("bank app listening")) {
            if (!app.alive() || System.nanoTime() > deadline) {
                failures.put(bankApp.name(), Kubelet.report(bankApp, app, "the bank's app did not start"));
                return;
            }
            Thread.sleep(100);
        }
        mark("the bank's app listening");
    }

    /**
     * docs/install.md section 5 in this cluster, once central is upgraded: the zone's overlay rendered from the
     * release central runs now and applied, then every workload whose pod template changed rolled pod by pod in
     * {@link #ROLL_ORDER}, each Ready before the next (a pod keeps its address and its claim, so the old one stops
     * first, as a StatefulSet rolls); the gateway's second pod, scheduled but not started, takes the new template.
     *
     * @throws IllegalStateException naming the pod that did not become Ready
     */
    void upgrade() throws Exception {
        manifests = central.manifests();
        // the zone's Secrets as central's upgrade left them (a release may need one the installed did not)
        for (Secret s : central.secrets().secrets()) {
            if (!CENTRAL_ONLY_SECRETS.contains(s.getMetadata().getName())) {
                objects.secret(s);
            }
        }
        objects.apply(RenderedManifests.render(manifests, INSTALL));
        runtime = new ContainerRuntime(objects, central.images(), dir);
        Map<String, PodTemplateSpec> templates = new LinkedHashMap<>();
        objects.statefulSets.forEach(s -> templates.put(
                "StatefulSet/" + s.getMetadata().getName(), s.getSpec().getTemplate()));
        objects.deployments.forEach(d -> templates.put(
                "Deployment/" + d.getMetadata().getName(), d.getSpec().getTemplate()));
        // kubectl apply changes every template at once and each workload rolls on its own; rollout status waits in
        // the documented order: extauthz and DLP together, then the zone controller, then the gateway
        List<List<String>> stages = new ArrayList<>(List.of(ROLL_ORDER.subList(0, 2), List.of(ZONE), List.of(GATEWAY)));
        templates.keySet().stream().filter(o -> !ROLL_ORDER.contains(o)).forEach(o -> stages.add(List.of(o)));
        for (List<String> stage : stages) {
            AtOnce.each(
                    stage.stream().filter(templates::containsKey).toList(), owner -> roll(owner, templates.get(owner)));
        }
        Optional.ofNullable(templates.get(GATEWAY)).ifPresent(t -> joiningGateway = replaced(joiningGateway, t));
        mark("upgraded to " + manifests);
    }

    /** One workload's pods, one at a time: the old one stops, its successor starts and becomes Ready. */
    private void roll(String owner, PodTemplateSpec template) throws InterruptedException {
        List<BoxPod> now;
        synchronized (pods) {
            now = List.copyOf(pods);
        }
        for (BoxPod old : now) {
            if (!old.owner().equals(owner) || old == joiningGateway || ClusterInABox.runs(old, template)) {
                continue;
            }
            List<PodProcess> containers = new ArrayList<>();
            Optional.ofNullable(processes.get(old.name())).ifPresent(containers::add);
            Optional.ofNullable(processes.get(old.name() + "/istio-proxy")).ifPresent(containers::add);
            PodProcess.stopAll(containers, PodProcess.GRACE);
            BoxPod pod = replaced(old, template);
            try {
                new Kubelet(node).awaitReady(pod, start(pod), Duration.ofSeconds(Math.round(180 * Kubelet.SCALE)));
            } catch (Kubelet.NotReady | ContainerRuntime.PodConfigError e) {
                throw new IllegalStateException("the zone's upgrade: " + e.getMessage(), e);
            }
            mark(pod.name() + " rolled, Ready");
        }
    }

    /** The pod under the same name and address with {@code template}'s labels, annotations and spec. */
    private BoxPod replaced(BoxPod old, PodTemplateSpec template) {
        BoxPod pod = old.rolledTo(template);
        synchronized (pods) {
            pods.set(pods.indexOf(old), pod);
        }
        return pod;
    }

    /**
     * The gateway Deployment scaled to two: its second pod starts and is probed until Ready (its {@code /ready}
     * answers 200 only once the delivered route table is in). Returns its process.
     */
    PodProcess startJoiningGateway(Duration limit) throws InterruptedException {
        PodProcess p = start(joiningGateway);
        new Kubelet(node).awaitReady(joiningGateway, p, limit);
        return p;
    }

    BoxPod joiningGateway() {
        return joiningGateway;
    }

    private BoxPod pod(
            ObjectMeta owner, PodTemplateSpec template, String ownerName, String name, Optional<String> subdomain) {
        BoxPod pod = network.pod(owner, template, ownerName, name, subdomain);
        pods.add(pod);
        return pod;
    }

    private void startAgent() throws IOException, InterruptedException {
        Path socket = dir.resolve("node-agent.sock");
        agent = network.startNodeAgent(socket, dir.resolve("node-agent.log"), "the zone's node agent");
        node = new NodePorts(socket);
    }

    private void mark(String what) {
        timeline.add(String.format("%6.1f s  zone: %s", (System.nanoTime() - started) / 1e9, what));
    }

    BoxPod pod(String owner) {
        return pods.stream()
                .filter(p -> p.owner().equals(owner) && p != joiningGateway)
                .findFirst()
                .orElseThrow(() -> new AssertionError("no pod of " + owner + " in the zone's cluster"));
    }

    PodProcess process(BoxPod pod) {
        return processes.get(pod.name());
    }

    NodePorts node() {
        return node;
    }

    /** The zone's own Redis. */
    BoxPod redis() {
        return redis;
    }

    Map<String, String> failures() {
        return Map.copyOf(failures);
    }

    List<String> timeline() {
        return List.copyOf(timeline);
    }

    /** A directory of a pod's volume claim on the zone's node (the StatefulSet's {@code volumeClaimTemplates}). */
    Path podDir(BoxPod pod) {
        return dir.resolve(pod.namespace() + "_" + pod.name());
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        PodNetwork.tearDown("zone cluster", processes, node, agent, network);
    }
}
