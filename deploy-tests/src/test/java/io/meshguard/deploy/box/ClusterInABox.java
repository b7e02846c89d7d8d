package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.meshguard.deploy.AdmissionPolicies;
import io.meshguard.deploy.RenderedManifests;
import java.io.IOException;
import java.net.InetSocketAddress;
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

    /**
     * Replicas of one workload: what the cluster settles at (its HorizontalPodAutoscaler's {@code minReplicas} when one
     * targets it, else {@code spec.replicas}, default 1), at most {@code -Dmeshguard.box.replicas.NAME=N} (e.g.
     * {@code meshguard-extauthz}, whose replicas each follow the subscription state), else {@link #MAX_REPLICAS}.
     */
    private int replicas(String kind, String workload, Integer manifest) {
        int settled = objects.autoscalerFloors.getOrDefault(
                kind + "/" + workload, Optional.ofNullable(manifest).orElse(1));
        return Math.min(Integer.getInteger("meshguard.box.replicas." + workload, MAX_REPLICAS), settled);
    }

    private final Path dir;
    /**
     * The sources of what runs: a checkout with {@code manifests/istio}, {@code deploy/image-rootfs.sh} (the image's
     * JVM flags) and the jar in {@code cli/target/meshguard.jar}; the previous release's until {@link #upgradeTo}.
     */
    private Path source;

    private final ClusterObjects objects = new ClusterObjects();
    private final OperatorSecrets secrets;
    private final PodNetwork network;
    private final List<BoxPod> pods = new ArrayList<>();
    private final Map<String, PodProcess> processes = new ConcurrentHashMap<>();
    private final Map<String, Launch> sidecars = new ConcurrentHashMap<>();
    /** The kubelet's probe workers of every started workload pod, by pod name. */
    private final Map<String, Kubelet.Watch> watches = new ConcurrentHashMap<>();
    /** Addresses of pods out of their Services' endpoints (failed readiness, or stopped). */
    private final java.util.Set<String> notReady = ConcurrentHashMap.newKeySet();
    /** kube-proxy's rules rewritten in every pod, one rewrite at a time, the latest state each time. */
    private final java.util.concurrent.ExecutorService kubeProxy = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "box-kube-proxy");
        t.setDaemon(true);
        return t;
    });
    /**
     * Central as a bank with zones installs it: its copy of {@code overlays/bank} (docs/install.md section 4: the admin
     * plane and the products behind Istio's ingress gateway over TLS, the bank's values) on the production install with
     * its zone port exposed through the same gateway (manifests/istio/zone/README.md "On central") instead of
     * {@code ../prod}.
     */
    static final String CENTRAL_INSTALL = "overlays/zone-hub";

    /** The Gateway that carries zones' streams to central (manifests/istio/overlays/zone-hub). */
    static final String ZONE_HUB_GATEWAY = "meshguard/meshguard-zone-hub";

    /** The Gateway of the admin plane's host (manifests/istio/components/admin-ingress). */
    static final String ADMIN_GATEWAY = "meshguard/meshguard-admin";
    /** Istio's ingress gateway (namespace, labels and service account of Istio's default install). */
    static final String INGRESS = "istio-ingressgateway";

    static final String ISTIO_NAMESPACE = "istio-system";
    private BankCertificates certificates;
    private Images images;
    /** A tenant the bank's IdP names (group {@code initech-customer-admins}) and no one has created yet. */
    static final String NEW_TENANT = "initech";
    /** The edge gateway's workload, Ready only after the first publish of its group. */
    static final String GATEWAY = "Deployment/meshguard-gateway";

    private final Map<String, String> failures = Collections.synchronizedMap(new LinkedHashMap<>());
    private final Map<String, String> awaitingFirstPublish = Collections.synchronizedMap(new LinkedHashMap<>());
    private final Map<String, String> notModelled = Collections.synchronizedMap(new LinkedHashMap<>());
    private final List<String> timeline = Collections.synchronizedList(new ArrayList<>());
    private final long started = System.nanoTime();
    private NodePorts node;
    private boolean closed;
    private String readableClasspath;
    private Process agent;
    private ServiceDirectory services;
    private BoxPod proxylessClient;
    private final java.util.concurrent.CompletableFuture<BoxPod> bankApps =
            new java.util.concurrent.CompletableFuture<>();
    private final java.util.concurrent.CompletableFuture<BoxPod> accountsMcp =
            new java.util.concurrent.CompletableFuture<>();
    private NetworkPolicyRules policies;
    private AmbientNamespace ambient;
    /** What istiod makes of the applied objects: the sidecars' policies, filters and outbound routes. */
    private IstioAuthorization sidecarPolicies;

    private IstioExtensions extensions;
    private IstioOutboundRoutes outbound;
    /** kube-proxy's Service rules with every endpoint (the readiness sync then narrows them). */
    private String serviceRules;

    private final StringBuilder ztunnelDecisions = new StringBuilder();
    private final java.util.concurrent.CompletableFuture<AmbientNamespace> ambientReady =
            new java.util.concurrent.CompletableFuture<>();
    private final String idpAdminPassword = io.meshguard.access.CodeFlowClient.random(24);
    private final java.util.concurrent.CompletableFuture<BankIdentityProvider> idp =
            new java.util.concurrent.CompletableFuture<>();

    private ClusterInABox(Path dir, Path source) {
        this.dir = dir;
        this.source = source;
        this.secrets = OperatorSecrets.fromReadme(source.resolve("manifests/istio/README.md"));
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

    /**
     * Installs and starts everything from {@code source} (the tree, or a previous release's checkout with its jar
     * built, {@link PreviousRelease}); pods that fail are recorded ({@link #failures()}), not thrown.
     */
    public static ClusterInABox install(Path dir, Path source) throws Exception {
        List<String> missing = missingPrerequisites();
        if (!missing.isEmpty()) {
            throw new IllegalStateException("the cluster in a box cannot run on this machine; missing: "
                    + String.join(", ", missing) + " (.ci/run installs the Debian packages)");
        }
        // an earlier run killed before its shutdown ended (surefire's fork timeout, SIGKILL) left its namespaces
        List<String> swept = PodNetwork.sweepLeftovers();
        if (!swept.isEmpty()) {
            System.out.println("removed the namespaces an earlier, killed run left: " + swept);
        }
        ClusterInABox box = new ClusterInABox(dir, source);
        // the pods are this JVM's children but outlive it: stop them and delete the namespaces when it exits
        Runtime.getRuntime().addShutdownHook(new Thread(box::close, "cluster-in-a-box-shutdown"));
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
        images = new Images(Path.of(System.getProperty("java.home")), source, testClasspath());
        // install step 1: the namespace on its own, then the operator's Secrets
        objects.apply(RenderedManifests.file(manifests(), "namespace.yaml"));
        objects.namespace(ExternalParts.NAMESPACE, Map.of());
        objects.namespace(ExternalParts.IDP_NAMESPACE, Map.of());
        secrets.secrets().forEach(objects::secret);
        // manifests/istio/README.md "Your identity provider": the bank's CA, which signed its IdP's TLS certificate
        Path bankCa = ExternalParts.bankCertificates(dir.resolve("bank-ca"));
        ForwardsByName.trust(bankCa.resolve("ca.crt"));
        objects.secret(new io.fabric8.kubernetes.api.model.SecretBuilder()
                .withNewMetadata()
                .withName("meshguard-idp-ca")
                .withNamespace(OperatorSecrets.NAMESPACE)
                .endMetadata()
                .withStringData(Map.of("ca.crt", Files.readString(bankCa.resolve("ca.crt"))))
                .build());
        ExternalParts.services().forEach(objects::service);
        // step 2b and step 3: what kubectl apply -k applies
        applyRendered();
        // the ingress gateway's certificates, from the bank's CA, each in the Secret its Gateway server names (zone
        // README "On central": central's zone host; docs/install.md section 4: the admin plane's and the products'
        // hosts)
        objects.namespace(ISTIO_NAMESPACE, Map.of());
        certificates = BankCertificates.create(dir.resolve("bank-ca"));
        IngressRoutes ingressRoutes = IngressRoutes.of(objects.istio);
        for (IngressRoutes.Server server : ingressRoutes.servers()) {
            if (!server.https()
                    || objects.secret(ISTIO_NAMESPACE, server.credentialName()).isPresent()) {
                continue;
            }
            // a wildcard server host (the products' *.api.<catalog.domain>) gets what install.md tells the bank to
            // get: a certificate's wildcard covers one label, so one per environment and region (the box's: prod, eu)
            String host = server.hosts().getFirst();
            Path[] tls = certificates.issue(host.startsWith("*.") ? "*.prod.eu" + host.substring(1) : host);
            objects.secret(new io.fabric8.kubernetes.api.model.SecretBuilder()
                    .withNewMetadata()
                    .withName(server.credentialName())
                    .withNamespace(ISTIO_NAMESPACE)
                    .endMetadata()
                    .withType("kubernetes.io/tls")
                    // the chain as the bank's PKI delivers it (cert-manager's tls.crt too): leaf, then its CA
                    .withStringData(Map.of(
                            "tls.crt",
                            Files.readString(tls[0]) + Files.readString(certificates.caCertificate()),
                            "tls.key",
                            Files.readString(tls[1])))
                    .build());
        }
        // the bank's own workloads in the mesh (README step 4) and an application namespace in ambient mode beside the
        // sidecar one (manifests/istio/ambient/README.md)
        BankApps.apply(objects);
        ambient = AmbientNamespace.install(objects, dir);
        operatorSettings();
        mark("rendered and applied");

        BoxPod postgres = externalPod(ExternalParts.POSTGRES, 5432);
        BoxPod redis = externalPod(ExternalParts.REDIS, 6379);
        BoxPod keycloak = externalPod(ExternalParts.KEYCLOAK, ExternalParts.IDP_NAMESPACE, ExternalParts.KEYCLOAK_PORT);
        BoxPod payments = bankPod(BankApps.PAYMENTS, BankApps.NAMESPACE, BankApps.paymentsSpec());
        proxylessClient = bankPod(BankApps.CLIENT, BankApps.CLIENTS_NAMESPACE, BankApps.clientSpec());
        BoxPod idpFront = externalPod(ExternalParts.IDP_FRONT, ExternalParts.IDP_NAMESPACE, 443);
        BoxPod bankApp = bankApp();
        BoxPod mcpServer = bankPod(BankApps.ACCOUNTS_MCP, BankApps.NAMESPACE, BankApps.accountsMcpSpec());
        ambient.schedule(network, pods);
        BoxPod ingress = ingressPod(ingressRoutes);
        List<BoxPod> jobPods = new ArrayList<>();
        for (Job job : objects.jobs) {
            jobPods.add(pod(
                    job.getMetadata(),
                    job.getSpec().getTemplate(),
                    "Job/" + job.getMetadata().getName(),
                    job.getMetadata().getName() + "-box",
                    Optional.empty()));
        }
        List<BoxPod> workloads = new ArrayList<>();
        for (Deployment d : objects.deployments) {
            int n = replicas(
                    "Deployment", d.getMetadata().getName(), d.getSpec().getReplicas());
            for (int i = 0; i < n; i++) {
                workloads.add(pod(
                        d.getMetadata(),
                        d.getSpec().getTemplate(),
                        "Deployment/" + d.getMetadata().getName(),
                        d.getMetadata().getName() + "-box" + i,
                        Optional.empty()));
            }
        }
        for (StatefulSet s : objects.statefulSets) {
            int n = replicas(
                    "StatefulSet", s.getMetadata().getName(), s.getSpec().getReplicas());
            for (int i = 0; i < n; i++) {
                workloads.add(pod(
                        s.getMetadata(),
                        s.getSpec().getTemplate(),
                        "StatefulSet/" + s.getMetadata().getName(),
                        s.getMetadata().getName() + "-" + i,
                        Optional.of(s.getSpec().getServiceName())));
            }
        }
        readObjects();
        for (BoxPod p : pods) {
            podNetwork(p);
        }
        ambientZtunnel();
        String waypointConfig = ambientWaypointConfig();
        mark("network: " + pods.size() + " pods, " + services.entries().size() + " Services, "
                + objects.networkPolicies.size() + " NetworkPolicies");
        startAgent();
        // the bank's workloads, beside the install (the journeys that call them wait for them)
        Thread.ofVirtual().name("bank-apps").start(() -> {
            try {
                startSidecar(payments);
                start(
                        payments,
                        new Launch(
                                payments.name(),
                                payments.netns(),
                                List.of(),
                                services.hosts(payments),
                                false,
                                Optional.of(BankApps.USER),
                                Map.of(),
                                java(
                                        BankBackend.class,
                                        "-Xmx64m",
                                        Integer.toString(BankApps.HTTP_PORT),
                                        Integer.toString(BankApps.GRPC_PORT)),
                                dir.resolve(payments.namespace() + "_" + payments.name())));
                startSidecar(proxylessClient);
                bankApps.complete(payments);
                mark("bank apps started");
                // the ambient namespace's app (no sidecar) and its waypoint
                BoxPod ledger = ambient.app();
                start(ledger, appLaunch(ledger));
                startWaypoint(waypointConfig);
                ambientReady.complete(ambient);
                mark("ambient namespace " + AmbientNamespace.NAMESPACE + ": app and waypoint started");
            } catch (Exception | Error e) {
                bankApps.completeExceptionally(e);
                ambientReady.completeExceptionally(e);
            }
        });

        // the bank's MCP server on its own: npm may be slow, and only the agents' journey waits for it
        Thread.ofVirtual().name("accounts-mcp").start(() -> {
            try {
                Path scripts = McpNode.install();
                startSidecar(mcpServer);
                start(
                        mcpServer,
                        new Launch(
                                mcpServer.name(),
                                mcpServer.netns(),
                                List.of(),
                                services.hosts(mcpServer),
                                false,
                                Optional.empty(),
                                Map.of(),
                                McpNode.server(scripts, BankApps.HTTP_PORT),
                                dir.resolve(mcpServer.namespace() + "_" + mcpServer.name())));
                awaitTcp(mcpServer, BankApps.HTTP_PORT);
                accountsMcp.complete(mcpServer);
                mark("the bank's MCP server started");
            } catch (Exception | Error e) {
                accountsMcp.completeExceptionally(e);
            }
        });

        // the bank's parts first, as they exist before the install
        Kubelet kubelet = new Kubelet(node);
        Path pgDir = dir.resolve("bank-data_postgres");
        start(postgres, ExternalParts.postgres(postgres, pgDir, services.hosts(postgres), secrets));
        start(redis, ExternalParts.redis(redis, dir.resolve("bank-data_redis"), services.hosts(redis), secrets));
        // the bank's IdP: its realm as docs/install.md sets it up, beside everything else (the controller reads the
        // issuer's discovery on the first sign-in, not at start); journeys that sign people in wait for it
        Path idpDir = dir.resolve(ExternalParts.IDP_NAMESPACE + "_keycloak");
        PodProcess keycloakProcess =
                start(keycloak, ExternalParts.keycloak(keycloak, idpDir, services.hosts(keycloak), idpAdminPassword));
        Thread.ofVirtual().name("bank-idp-setup").start(() -> {
            try {
                idp.complete(BankIdentityProvider.setUp(
                        keycloak, idpFront, keycloakProcess, node, idpDir, idpAdminPassword, secrets));
                mark("Keycloak up, realm set up as docs/install.md says");
            } catch (Exception | Error e) {
                idp.completeExceptionally(e);
            }
        });
        start(
                idpFront,
                new Launch(
                        idpFront.name(),
                        idpFront.netns(),
                        List.of(),
                        services.hosts(idpFront),
                        false,
                        Optional.empty(),
                        Map.of(),
                        List.of(
                                Path.of(System.getProperty("java.home"), "bin", "java")
                                        .toString(),
                                "-Xmx48m",
                                "-XX:TieredStopAtLevel=1",
                                "-cp",
                                testClasspath(),
                                IdpFront.class.getName(),
                                dir.resolve("bank-ca/idp.p12").toString(),
                                "box",
                                "443",
                                ServiceDirectory.fqdn(ExternalParts.KEYCLOAK, ExternalParts.IDP_NAMESPACE),
                                Integer.toString(ExternalParts.KEYCLOAK_PORT)),
                        dir.resolve("bank-idp_idp")));
        startSidecar(bankApp);
        start(bankApp, BankApp.launch(bankApp, services.hosts(bankApp), testClasspath(), dir));
        start(ingress, ingressLaunch(ingress, ingressRoutes));
        awaitTcp(postgres, 5432);
        awaitTcp(redis, 6379);
        awaitTcp(bankApp, BankApp.PORT);
        ExternalParts.createRolesAndDatabase(pgDir, secrets);
        mark("PostgreSQL and Redis up, roles created");

        // step 2b: the migrate Job, to completion
        ContainerRuntime runtime = new ContainerRuntime(objects, images, dir);
        for (BoxPod job : jobPods) {
            Optional<PodProcess> p = startFromManifest(runtime, job);
            if (p.isPresent()) {
                Optional<Integer> exit = p.get().await(300);
                if (exit.isEmpty() || exit.get() != 0) {
                    failures.put(
                            job.name(),
                            Kubelet.report(
                                    job,
                                    p.get(),
                                    "Job " + job.owner() + " did not complete: "
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
                    // the gateway is Ready only once the controller serves its group (docs/install.md section 4):
                    // on a fresh install nothing is published yet, so its not-Ready state is recorded, not a failure
                    boolean gateway = w.owner().equals(GATEWAY);
                    try {
                        // stretched like every probe period (-Dmeshguard.box.probeScale): the gateway's JVM starts
                        // beside all the others, and its first answer loads the emulator's classes
                        kubelet.awaitReady(
                                w, p.get(), Duration.ofSeconds(Math.round((gateway ? 30 : 180) * Kubelet.SCALE)));
                        mark(w.name() + " Ready");
                        watch(w, p.get());
                    } catch (Kubelet.NotReady e) {
                        (gateway ? awaitingFirstPublish : failures).put(gateway ? GATEWAY : w.name(), e.getMessage());
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

    /**
     * The operator's settings over the shipped manifests, made again after every render (an upgrade renders the new
     * release with the same overlay): the admin plane's values, the access and authz policy lines, the ADS grants.
     */
    private void operatorSettings() {
        // docs/install.md "Sign-in": a new tenant's groups bound the way policies/access.yaml binds acme's and globex's
        // (the operator's own line in the shipped ConfigMap); the tenant itself is not in the database yet
        objects.editConfigMap(
                OperatorSecrets.NAMESPACE,
                "meshguard-access-policy",
                Map.of(
                        "access.yaml",
                        objects.configMap(OperatorSecrets.NAMESPACE, "meshguard-access-policy")
                                        .orElseThrow()
                                        .get("access.yaml")
                                        .stripTrailing()
                                + "\n  - {match: " + NEW_TENANT + "-customer-admins, role: customer-admin,"
                                + " scope: \"tenant:" + NEW_TENANT + "\"}\n"));
        // the bank's security team adds its own workload's rules to the shipped policy (policies/README.md: anything
        // no route allows is denied; the sidecar of a protected app decides on its host, not the gateway's), and the
        // ambient namespace's lines of step 1 (its host's rule, its waypoint under trusted_waypoints)
        String shipped = objects.configMap(OperatorSecrets.NAMESPACE, "meshguard-authz-policy")
                .orElseThrow()
                .get("authz.yaml");
        objects.editConfigMap(
                OperatorSecrets.NAMESPACE,
                "meshguard-authz-policy",
                Map.of("authz.yaml", ambient.withItsRules(BankApp.withItsRules(shipped))));
        // the operator's grant for the bank's proxyless client (docs/xds-security.md "Grants": one entry per proxyless
        // client identity, in the manifest's grant list)
        objects.editEnv(
                OperatorSecrets.NAMESPACE,
                "meshguard-xds",
                "MESHGUARD_XDS_ADS_GROUP_IDENTITIES",
                grants -> grants + "," + BankApps.PROXYLESS_GROUP + "=" + BankApps.clientIdentity());
    }

    /** Step 2b and step 3 of the source's install: what {@code kubectl apply -k} applies. */
    private void applyRendered() throws IOException, InterruptedException {
        objects.apply(RenderedManifests.render(manifests(), "migrate"));
        objects.apply(RenderedManifests.render(bankOverlay(), "."));
    }

    /**
     * The bank's copy of {@code overlays/bank}, made as its comment and docs/install.md section 4 say: beside the
     * release's manifests, its values changed (the bank's issuer; customers' OAuth clients not in use), its base
     * central's zone-hub install. The console's origin and the products' domain are the example's own.
     */
    private Path bankOverlay() throws IOException {
        Path copy = dir.resolve("my-meshguard");
        Files.createDirectories(copy);
        String base =
                copy.toAbsolutePath().relativize(manifests().toAbsolutePath()).toString();
        String k = Files.readString(manifests().resolve("overlays/bank/kustomization.yaml"));
        k = once(k, "  - ../prod\n", "  - " + base + "/" + CENTRAL_INSTALL + "\n");
        k = k.replace("  - ../../components/", "  - " + base + "/components/");
        k = once(
                k,
                "admin.oidc.issuer: https://keycloak.bank.example/realms/meshguard",
                "admin.oidc.issuer: " + ExternalParts.issuer(BankIdentityProvider.REALM));
        k = once(k, "catalog.keycloak.url: https://keycloak.bank.example", "catalog.keycloak.url: \"\"");
        once(k, "console.public_url: " + BankIdentityProvider.CONSOLE_ORIGIN + "\n", "");
        Files.writeString(copy.resolve("kustomization.yaml"), k);
        return copy;
    }

    /** {@code text} with {@code line} replaced; the shipped example changing under the box fails the install. */
    private static String once(String text, String line, String with) {
        if (!text.contains(line)) {
            throw new IllegalStateException("overlays/bank/kustomization.yaml no longer has '" + line.strip() + "'");
        }
        return text.replace(line, with);
    }

    /** The {@code manifests/istio} of the release the box runs now. */
    Path manifests() {
        return source.resolve("manifests/istio");
    }

    /** kube-proxy's, the CNI's and istiod's reading of the objects as they are applied now. */
    private void readObjects() throws IOException {
        services = new ServiceDirectory(objects.services, pods, services == null ? List.of() : services.entries());
        policies =
                new NetworkPolicyRules(objects.networkPolicies, pods, objects::namespaceLabels, network.nodeAddress());
        serviceRules = services.natRules();
        sidecarPolicies = new IstioAuthorization(objects.istio);
        extensions = new IstioExtensions(IstioExtensions.meshConfig(), objects.istio, services);
        outbound = new IstioOutboundRoutes(
                services, pods, p -> p.injected(objects.namespaceLabels(p.namespace())), objects.istio);
    }

    /**
     * One pod's network from {@link #readObjects}: its sidecar's config (started with the pod's next start) and its
     * nftables table (NetworkPolicies, Service DNAT, the sidecar's redirects), replacing the table it had.
     */
    private void podNetwork(BoxPod p) throws IOException {
        String redirects = "";
        String capture = "";
        if (p.injected(objects.namespaceLabels(p.namespace())) && modelledImage(p)) {
            try {
                IstioOutboundRoutes.Outbound out = outbound.forPod(p);
                redirects = sidecar(p, sidecarPolicies, extensions, out.config());
                capture = out.capture();
            } catch (IllegalStateException e) {
                failures.put(p.name(), "istio-proxy: " + e.getMessage());
            }
        }
        Shell.run(
                List.of("ip", "netns", "exec", p.netns(), "nft", "-f", "-"),
                "table inet box\nflush table inet box\n" + policies.table(p, serviceRules, redirects, capture));
    }

    /**
     * After objects changed: every pod's network read again, as kube-proxy, the CNI and istiod follow a change at once.
     * istiod pushes the new config to running proxies; the box's proxies read theirs at start, so a running sidecar
     * whose config changed, and the ambient waypoint, are restarted with it (pods a rollout replaced started with
     * theirs already).
     */
    private void followObjects(String waypointBefore) throws Exception {
        readObjects();
        for (BoxPod p : List.copyOf(pods)) {
            Path conf = Sidecars.configFile(dir, p);
            String before = Files.exists(conf) ? Files.readString(conf) : "";
            podNetwork(p);
            PodProcess proxy = processes.get(p.name() + "/istio-proxy");
            if (proxy != null && proxy.alive() && !before.equals(Files.exists(conf) ? Files.readString(conf) : "")) {
                PodProcess.stopAll(List.of(proxy), PodProcess.GRACE);
                startSidecar(p);
                mark(p.name() + ": istio-proxy restarted with the new config");
            }
        }
        kubeProxy.execute(this::rewriteServiceRules);
        try {
            ambientReady.get();
        } catch (java.util.concurrent.ExecutionException e) {
            return; // the ambient namespace did not start at install; its journeys report why
        }
        ambientApply(waypointBefore);
    }

    /**
     * The pod's sidecar configuration ({@link IstioProxy}): every declared container port but Istio's own and the
     * annotation's excluded ones, each peer's decision with mTLS and in plaintext, and the outbound half's routes;
     * returns the nftables redirects of its inbound ports (mTLS-marked connections to the mTLS listener).
     */
    private String sidecar(BoxPod pod, IstioAuthorization istio, IstioExtensions extensions, String outbound)
            throws IOException {
        Sidecars.Sidecar sidecar = Sidecars.of(
                pod,
                istio,
                Optional.of(extensions),
                objects::namespaceLabels,
                pods(),
                network.nodeAddress(),
                dir,
                services.hosts(pod),
                testClasspath(),
                Optional.of(outbound + "eds " + dir.resolve(NotReadyPods.FILE) + "\n"));
        sidecars.put(pod.name(), sidecar.launch());
        return sidecar.redirects();
    }

    /**
     * The test's whole class path (Surefire's, not its booter jar), for the box's own processes, readable by the
     * manifests' users: an entry under a directory only root may enter ({@code ~/.m2} in {@code /root}) is linked or
     * copied into the box's directory.
     */
    private String testClasspath() {
        // its own lock, not the box's: rolls call it on their threads while upgradeTo holds the box's
        synchronized (classpathLock) {
            return readableClasspath();
        }
    }

    private final Object classpathLock = new Object();

    private String readableClasspath() {
        if (readableClasspath != null) {
            return readableClasspath;
        }
        String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> entries = new ArrayList<>();
        Path lib = dir.resolve("lib");
        int n = 0;
        for (String entry : cp.split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry);
            if (!entry.startsWith("/root/") || !Files.isRegularFile(p)) {
                entries.add(entry);
                continue;
            }
            try {
                Files.createDirectories(lib);
                Path copy = lib.resolve((n++) + "-" + p.getFileName());
                try {
                    Files.createLink(copy, p);
                } catch (IOException | UnsupportedOperationException e) {
                    Files.copy(p, copy);
                }
                entries.add(copy.toString());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        readableClasspath = String.join(java.io.File.pathSeparator, entries);
        return readableClasspath;
    }

    private boolean modelledImage(BoxPod pod) {
        String image = pod.container().getImage();
        return image.contains("/meshguard/meshguard")
                || image.equals("meshguard")
                || image.startsWith("envoyproxy/envoy:")
                || image.startsWith("bank/");
    }

    /** {@code java -cp <the test class path> main args…}, as the box's own processes run. */
    private List<String> java(Class<?> main, String heap, String... args) {
        List<String> argv = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                heap,
                "-XX:TieredStopAtLevel=1",
                "-XX:-UsePerfData",
                "-cp",
                testClasspath(),
                main.getName()));
        argv.addAll(List.of(args));
        return argv;
    }

    /**
     * The bank's proxyless client run once in its pod ({@link ProxylessClient}): grpc-java's xDS client with
     * {@code bootstrap} (JSON, as {@code GRPC_XDS_BOOTSTRAP_CONFIG}) calls {@code fullMethod} on
     * {@code xds:///host}; its output ({@code OK …} or {@code FAILED status}) and the log's last lines.
     */
    String proxylessCall(String bootstrap, String host, String fullMethod) throws InterruptedException {
        bankApps(); // the client pod's sidecar is up
        BoxPod pod = proxylessClient;
        Path work = dir.resolve(pod.namespace() + "_" + pod.name() + "_" + System.nanoTime());
        PodProcess p = PodProcess.start(new Launch(
                pod.name(),
                pod.netns(),
                List.of(),
                services.hosts(pod),
                false,
                Optional.of(BankApps.USER),
                Map.of("GRPC_XDS_BOOTSTRAP_CONFIG", bootstrap),
                java(ProxylessClient.class, "-Xmx128m", host, fullMethod, "20"),
                work));
        Optional<Integer> exit = p.await(60);
        String out = p.lastLines(40);
        p.close();
        return (exit.isEmpty() ? "still running after 60 s\n" : "") + out;
    }

    /**
     * Runs {@code main} once in {@code pod}'s network namespace (its {@code /etc/hosts}, its sidecar's capture when
     * {@code user} is not the proxy's), as {@code kubectl exec} would run a process in one of its containers; its
     * output and the log's last lines.
     */
    String runInPod(BoxPod pod, Optional<String> user, Class<?> main, String... args) throws InterruptedException {
        Path work = dir.resolve(pod.namespace() + "_" + pod.name() + "_" + System.nanoTime());
        PodProcess p = PodProcess.start(new Launch(
                pod.name(),
                pod.netns(),
                List.of(),
                services.hosts(pod),
                false,
                user,
                Map.of(),
                java(main, "-Xmx64m", args),
                work));
        Optional<Integer> exit = p.await(60);
        String out = p.lastLines(60);
        p.close();
        return (exit.isEmpty() ? "still running after 60 s\n" : "") + out;
    }

    /** A pod by name ({@code keycloak-0}); see {@link #pod(String)} for a workload's. */
    BoxPod podNamed(String name) {
        return pods.stream()
                .filter(p -> p.name().equals(name))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no pod " + name + " in the box"));
    }

    /** The bank's payments pod, once its sidecar and backend started. */
    BoxPod bankApps() throws InterruptedException {
        try {
            return bankApps.get(120, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the bank's apps did not start: " + e, e);
        }
    }

    /** The bank's MCP server pod ({@link McpNode}), once it listens. */
    BoxPod accountsMcp() throws InterruptedException {
        try {
            return accountsMcp.get(300, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the bank's MCP server did not start: " + e, e);
        }
    }

    BoxPod proxylessClientPod() {
        return proxylessClient;
    }

    private BoxPod bankPod(String name, String namespace, PodSpec spec) {
        BoxPod pod = network.pod(name + "-0", namespace, Map.of("app", name), spec, "bank/" + name);
        pods.add(pod);
        return pod;
    }

    /** Starts the pod's sidecar first and waits for its listeners (holdApplicationUntilProxyStarts). */
    private void startSidecar(BoxPod pod) throws InterruptedException {
        Launch launch = sidecars.get(pod.name());
        if (launch == null) {
            return;
        }
        PodProcess proxy = PodProcess.start(launch);
        processes.put(pod.name() + "/istio-proxy", proxy);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!proxy.lastLines(5).contains("istio-proxy (box) for")) {
            if (!proxy.alive() || System.nanoTime() > deadline) {
                throw new Kubelet.NotReady(Kubelet.report(pod, proxy, "istio-proxy did not start"));
            }
            Thread.sleep(100);
        }
    }

    private Optional<PodProcess> startFromManifest(ContainerRuntime runtime, BoxPod pod) {
        try {
            startSidecar(pod);
            return Optional.of(start(pod, runtime.launch(pod, services.hosts(pod))));
        } catch (Images.NotModelled e) {
            notModelled.put(pod.name(), e.getMessage());
        } catch (ContainerRuntime.PodConfigError | Kubelet.NotReady e) {
            failures.put(pod.name(), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            failures.put(pod.name(), "interrupted");
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
        agent = network.startNodeAgent(socket, dir.resolve("node-agent.log"), "the node agent");
        node = new NodePorts(socket);
    }

    /** The bank's application in central's cluster ({@link BankApp#install}), its pod scheduled. */
    private BoxPod bankApp() throws IOException, InterruptedException {
        PodSpec spec = BankApp.install(objects);
        // README step 4: the Deployment's pod template labelled for ext_authz and DLP in its own sidecar
        BoxPod pod = network.pod(
                BankApp.NAME + "-box0",
                BankApp.NAMESPACE,
                Map.of("app", BankApp.NAME, BankApp.PROTECTED_LABEL, "true", BankApp.DLP_LABEL, "true"),
                spec,
                "Deployment/" + BankApp.NAME);
        pods.add(pod);
        return pod;
    }

    private BoxPod externalPod(String name, int port) {
        return externalPod(name, ExternalParts.NAMESPACE, port);
    }

    private BoxPod externalPod(String name, String namespace, int port) {
        BoxPod pod = network.pod(
                name + "-0", namespace, Map.of("app", name), ExternalParts.spec(name, port), "external/" + name);
        pods.add(pod);
        return pod;
    }

    /**
     * Istio's ingress gateway as its default install runs it: namespace {@value #ISTIO_NAMESPACE}, labels
     * {@code istio: ingressgateway}, service account {@code istio-ingressgateway-service-account} (its mesh identity,
     * which central's zone-hub policies admit), the gateway's own Envoy (so no sidecar), the Gateway's port.
     */
    private BoxPod ingressPod(IngressRoutes routes) {
        String ip = network.allocate();
        PodSpec spec = ExternalParts.spec(INGRESS, routes.ports().getFirst());
        spec.getContainers().getFirst().setImage("docker.io/istio/proxyv2");
        spec.setServiceAccountName("istio-ingressgateway-service-account");
        BoxPod pod = new BoxPod(
                INGRESS + "-0",
                ISTIO_NAMESPACE,
                Map.of("istio", "ingressgateway", "app", INGRESS, "sidecar.istio.io/inject", "true"),
                Map.of("inject.istio.io/templates", "gateway"),
                ip,
                network.attach(ip),
                spec,
                "Deployment/" + INGRESS,
                Optional.empty());
        pods.add(pod);
        return pod;
    }

    private Launch ingressLaunch(BoxPod pod, IngressRoutes routes) throws IOException {
        Path podDir = dir.resolve(pod.namespace() + "_" + pod.name());
        Path credentials = podDir.resolve("credentials");
        Files.createDirectories(credentials);
        for (IngressRoutes.Server server : routes.servers()) {
            if (!server.https()) {
                continue;
            }
            Map<String, String> tls = objects.secret(ISTIO_NAMESPACE, server.credentialName())
                    .orElseThrow(() -> new AssertionError("Gateway " + server.gateway() + ": no Secret "
                            + ISTIO_NAMESPACE + "/" + server.credentialName()
                            + " (kubectl -n istio-system create secret tls …)"));
            Files.writeString(credentials.resolve(server.credentialName() + ".crt"), tls.get("tls.crt"));
            Files.writeString(credentials.resolve(server.credentialName() + ".key"), tls.get("tls.key"));
        }
        new com.fasterxml.jackson.databind.ObjectMapper()
                .writerWithDefaultPrettyPrinter()
                .writeValue(podDir.resolve("routes.json").toFile(), routes.resolve(services));
        return new Launch(
                pod.name(),
                pod.netns(),
                List.of(),
                services.hosts(pod),
                false,
                Optional.empty(),
                Map.of(),
                List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx96m",
                        "-Djava.net.preferIPv4Stack=true", // IP_TOS, the box's mTLS mark, on an IPv4 socket
                        "-XX:TieredStopAtLevel=1",
                        "-D" + IngressGateway.NOT_READY + "=" + dir.resolve(NotReadyPods.FILE),
                        "-cp",
                        testClasspath(),
                        IngressGateway.class.getName(),
                        podDir.resolve("routes.json").toString(),
                        credentials.toString()),
                podDir);
    }

    private BoxPod pod(
            ObjectMeta owner, PodTemplateSpec template, String ownerName, String name, Optional<String> subdomain) {
        BoxPod pod = network.pod(owner, template, ownerName, name, subdomain);
        pods.add(pod);
        return pod;
    }

    private void mark(String what) {
        timeline.add(String.format("%6.1f s  %s", (System.nanoTime() - started) / 1e9, what));
    }

    /** Pods that failed (name → the kubelet's report with the last log lines). */
    /** Pods that started and answer their probes but wait for configuration nobody published yet. */
    public Map<String, String> awaitingFirstPublish() {
        return Map.copyOf(awaitingFirstPublish);
    }

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

    OperatorSecrets secrets() {
        return secrets;
    }

    /** The bank's Keycloak with its realm and people, once set up (waits for it; fails with its cause). */
    BankIdentityProvider identityProvider() throws InterruptedException {
        try {
            return idp.get(BankIdentityProvider.START.toSeconds() + 300, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new AssertionError(
                    "the bank's Keycloak (docs/install.md's realm block): "
                            + e.getCause().getMessage(),
                    e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the bank's Keycloak was not set up in time (timeline: " + timeline + ")");
        }
    }

    List<BoxPod> pods() {
        synchronized (pods) {
            return List.copyOf(pods);
        }
    }

    /** The first pod of an owner ({@code Deployment/meshguard-xds}). */
    BoxPod pod(String owner) {
        return pods.stream()
                .filter(p -> p.owner().equals(owner))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no pod of " + owner + " in the box"));
    }

    PodProcess process(BoxPod pod) {
        return processes.get(pod.name());
    }

    /** The last lines of the pod's istio-proxy log (its inbound refusals and outbound routing decisions). */
    String sidecarLog(BoxPod pod, int lines) {
        PodProcess p = processes.get(pod.name() + "/istio-proxy");
        return p == null ? "(no istio-proxy in " + pod.name() + ")" : p.lastLines(lines);
    }

    NodePorts node() {
        return node;
    }

    Path dir() {
        return dir;
    }

    Images images() {
        return images;
    }

    String classpath() {
        return testClasspath();
    }

    PodNetwork network() {
        return network;
    }

    /** The bank's CA, which signed the ingress gateway's certificate for central's zone host. */
    Path bankCa() {
        return certificates.caCertificate();
    }

    /**
     * A query as the bank's DBA against meshguard's database (what an auditor with database access reads, e.g. the
     * admin trail, which the admin port verifies but does not list).
     */
    String databaseQuery(String sql) {
        return ExternalParts.query(dir.resolve("bank-data_postgres"), "meshguard", sql);
    }

    /** The ingress gateway's pod, central's address as zones reach it. */
    BoxPod ingressGateway() {
        return pod("Deployment/" + INGRESS);
    }

    /** Central's zone host as the Gateway serves it. */
    String centralZoneHost() {
        return IngressRoutes.of(objects.istio).https(ZONE_HUB_GATEWAY).hosts().getFirst();
    }

    /**
     * The ingress gateway's HTTPS port as people and pipelines outside the cluster reach it (the bank's load balancer,
     * here a port-forward): the admin plane's host, the products' hosts and central's zone host all arrive here.
     */
    InetSocketAddress ingressDoor() {
        BoxPod ingress = ingressGateway();
        return node.local(ingress.ip(), 443);
    }

    /** The controller replicas the admin host's route reaches ({@code ip:port}), among which its cookie picks. */
    List<String> adminEndpoints() {
        return IngressRoutes.of(objects.istio)
                .resolve(services)
                .https(ADMIN_GATEWAY)
                .routes()
                .getFirst()
                .endpoints();
    }

    /** The ingress gateway's plain-HTTP port (redirects only), as {@link #ingressDoor}. */
    InetSocketAddress ingressPlainDoor() {
        BoxPod ingress = ingressGateway();
        return node.local(ingress.ip(), 80);
    }

    /**
     * Stops a pod's containers, its sidecar included, as {@code kubectl scale --replicas=0} stops the workload; the
     * pod's address and configuration stay for {@link #restart}.
     */
    void stop(BoxPod pod) {
        Optional.ofNullable(watches.remove(pod.name())).ifPresent(Kubelet.Watch::close);
        ready(pod, false);
        List<PodProcess> containers = new ArrayList<>();
        Optional.ofNullable(processes.get(pod.name())).ifPresent(containers::add);
        Optional.ofNullable(processes.get(pod.name() + "/istio-proxy")).ifPresent(containers::add);
        PodProcess.stopAll(containers, PodProcess.GRACE);
    }

    /** Starts a stopped pod again (sidecar first) and waits until its probes pass. */
    PodProcess restart(BoxPod pod, Duration limit) throws InterruptedException {
        PodProcess old = processes.get(pod.name());
        startSidecar(pod);
        PodProcess p = start(pod, old.launch());
        new Kubelet(node).awaitReady(pod, p, limit);
        ready(pod, true);
        watch(pod, p);
        return p;
    }

    Kubelet kubelet() {
        return new Kubelet(node);
    }

    /**
     * The kubelet's probe workers for a pod that became Ready ({@link Kubelet#watch}): readiness moves it in and out
     * of its Services' endpoints ({@link #ready}), liveness restarts its container from the same launch.
     */
    private void watch(BoxPod pod, PodProcess started) {
        io.fabric8.kubernetes.api.model.Container c = pod.container();
        if (c.getReadinessProbe() == null && c.getLivenessProbe() == null) {
            return;
        }
        Kubelet.Watch w = new Kubelet(node).watch(pod, started, new Kubelet.Containers() {
            @Override
            public void ready(BoxPod p, boolean ready) {
                ClusterInABox.this.ready(p, ready);
            }

            @Override
            public PodProcess start(BoxPod p) {
                mark(p.name() + ": the kubelet starts its container again");
                return ClusterInABox.this.start(p, processes.get(p.name()).launch());
            }
        });
        Optional.ofNullable(watches.put(pod.name(), w)).ifPresent(Kubelet.Watch::close);
    }

    /** The kubelet's watch of a pod, while it runs. */
    Optional<Kubelet.Watch> watch(BoxPod pod) {
        return Optional.ofNullable(watches.get(pod.name()));
    }

    /** The addresses out of their Services' endpoints now. */
    java.util.Set<String> notReadyAddresses() {
        return java.util.Set.copyOf(notReady);
    }

    /**
     * A pod's readiness as its EndpointSlices carry it: istiod's EDS (the file every proxy of the box reads,
     * {@link NotReadyPods}) at once, kube-proxy's DNAT in every pod's {@code services} chain right after.
     */
    private void ready(BoxPod pod, boolean ready) {
        boolean changed = ready ? notReady.remove(pod.ip()) : notReady.add(pod.ip());
        if (!changed) {
            return;
        }
        // pods change readiness on their own watchers at once: one writer at a time, each writing the set as it is
        // then, so the last file written holds the last change
        synchronized (notReady) {
            NotReadyPods.write(dir.resolve(NotReadyPods.FILE), java.util.Set.copyOf(notReady));
        }
        mark(pod.name() + (ready ? " back in its Services' endpoints" : " out of its Services' endpoints"));
        kubeProxy.execute(this::rewriteServiceRules);
    }

    /** Every pod's {@code services} chain from the endpoints ready now, as kube-proxy syncs its rules. */
    private void rewriteServiceRules() {
        java.util.Set<String> out = java.util.Set.copyOf(notReady);
        String rules = services.natRules(p -> !out.contains(p.ip()));
        StringBuilder script = new StringBuilder("flush chain inet box services\n");
        rules.lines().filter(l -> !l.isBlank()).forEach(l -> script.append("add rule inet box services ")
                .append(l.strip())
                .append('\n'));
        for (BoxPod p : List.copyOf(pods)) {
            try {
                Shell.run(List.of("ip", "netns", "exec", p.netns(), "nft", "-f", "-"), script.toString());
            } catch (RuntimeException e) {
                if (!closed) {
                    mark("kube-proxy: the rules of " + p.name() + " not synced: " + e.getMessage());
                }
            }
        }
    }

    /**
     * Loads the agent {@code agent} (a class with {@code agentmain}, JDK classes only) into the JVM of {@code pod}'s
     * container with the JDK's attach API, from inside the pod's mount namespace as {@code kubectl exec … jcmd PID
     * JVMTI.agent_load} would: HotSpot's attach socket is in the container's {@code /tmp} (the pod's emptyDir). The
     * agent's jar is written into the box's directory, which the pods' users may read. Returns the attacher's output.
     */
    String attachAgent(BoxPod pod, Class<?> agent) throws IOException, InterruptedException {
        Path jars = dir.resolve("agents");
        Files.createDirectories(jars);
        Files.setPosixFilePermissions(jars, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jar = jars.resolve(agent.getSimpleName() + ".jar");
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Agent-Class", agent.getName());
        String entry = agent.getName().replace('.', '/') + ".class";
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar), manifest);
                var in = agent.getClassLoader().getResourceAsStream(entry)) {
            out.putNextEntry(new java.util.jar.JarEntry(entry));
            in.transferTo(out);
            out.closeEntry();
        }
        Files.setPosixFilePermissions(jar, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        long pid = processes.get(pod.name()).jvmPid();
        List<String> command = new ArrayList<>(List.of("nsenter", "--target", Long.toString(pid), "--mount", "--"));
        command.addAll(java(AgentAttach.class, "-Xmx64m", Long.toString(pid), jar.toString()));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException(
                    "attaching " + agent.getSimpleName() + " to " + pod.name() + " (pid " + pid + "): " + out);
        }
        return out;
    }

    /**
     * docs/install.md section 5 on this box, to {@code release} (a checkout with its jar built, the tree's own for the
     * tree): its manifests rendered and applied with the operator's same settings, the migrate Job run to completion,
     * then every workload whose pod template changed rolled in the documented order (extauthz and DLP side by side,
     * then xds, then the gateway), each workload pod by pod, each Ready before the next is replaced. A box pod keeps its
     * address, so the old pod
     * stops before its successor starts (a cluster surges a Deployment's new pod first; the StatefulSets stop first
     * there too).
     *
     * @throws IllegalStateException naming the pod that did not complete or become Ready
     */
    synchronized void upgradeTo(Path release) throws Exception {
        Rollout before = rollout();
        // the operator creates the Secrets the new release needs and the installed one did not, before applying it
        secrets.adding(OperatorSecrets.fromReadme(release.resolve("manifests/istio/README.md")))
                .forEach(s -> {
                    objects.secret(s);
                    mark("upgrade: Secret " + s.getMetadata().getName() + " created");
                });
        source = release;
        String waypointBefore = ambientWaypointConfig();
        applyRendered();
        operatorSettings();
        readObjects();
        images = new Images(Path.of(System.getProperty("java.home")), source, testClasspath());
        ContainerRuntime runtime = new ContainerRuntime(objects, images, dir);
        for (Job job : objects.jobs) {
            BoxPod pod = replaced(
                    pod("Job/" + job.getMetadata().getName()), job.getSpec().getTemplate());
            PodProcess p = startFromManifest(runtime, pod)
                    .orElseThrow(() -> new IllegalStateException(failures.get(pod.name())));
            Optional<Integer> exit = p.await(300);
            if (exit.isEmpty() || exit.get() != 0) {
                throw new IllegalStateException(Kubelet.report(
                        pod,
                        p,
                        "the upgrade's Job " + pod.owner() + " did not complete: "
                                + exit.map(c -> "exit " + c).orElse("still running after 300 s")));
            }
        }
        mark("upgrade to " + release + ": migrate Job done");
        Map<String, PodTemplateSpec> templates = new LinkedHashMap<>();
        objects.statefulSets.forEach(s -> templates.put(
                "StatefulSet/" + s.getMetadata().getName(), s.getSpec().getTemplate()));
        objects.deployments.forEach(d -> templates.put(
                "Deployment/" + d.getMetadata().getName(), d.getSpec().getTemplate()));
        roll(templates, runtime);
        followObjects(waypointBefore);
        previous = Optional.of(before);
        mark("upgraded to " + release);
    }

    /**
     * docs/install.md section 6, "a server release": {@code kubectl rollout undo} of extauthz, DLP and xds, back to the
     * pod templates and image of before the last {@link #upgradeTo}; the schema, ConfigMaps and Secrets stay.
     */
    synchronized void rollBackServers() throws Exception {
        Rollout undo = previous.orElseThrow(() -> new IllegalStateException("no upgrade to roll back"));
        // the policy files go back with the servers (install.md section 6): an older server refuses a key it does not
        // know (rc.1 and an MCP route's resource:) and then denies every request; the release's manifests with the
        // same overlay and settings, as a GitOps revert of the upgrade's commit applies them
        source = undo.source();
        String waypointBefore = ambientWaypointConfig();
        applyRendered();
        operatorSettings();
        readObjects();
        Map<String, PodTemplateSpec> templates = new LinkedHashMap<>();
        for (String owner : ROLL_ORDER.subList(0, 3)) {
            Optional.ofNullable(undo.templates().get(owner)).ifPresent(t -> templates.put(owner, t));
        }
        roll(templates, new ContainerRuntime(objects, undo.images(), dir));
        followObjects(waypointBefore);
        mark("rolled back extauthz, DLP and xds to " + undo.source());
    }

    /** What ran before an upgrade: enough to undo a server's rollout. */
    private record Rollout(Path source, Images images, Map<String, PodTemplateSpec> templates) {}

    private Optional<Rollout> previous = Optional.empty();

    /** The documented order of a release's rollout; workloads not named roll after these. */
    private static final List<String> ROLL_ORDER =
            List.of("StatefulSet/meshguard-extauthz", "StatefulSet/meshguard-dlp", "Deployment/meshguard-xds", GATEWAY);

    private Rollout rollout() {
        Map<String, PodTemplateSpec> templates = new LinkedHashMap<>();
        for (BoxPod p : pods) {
            if (p.owner().startsWith("Deployment/") || p.owner().startsWith("StatefulSet/")) {
                templates.putIfAbsent(p.owner(), template(p));
            }
        }
        return new Rollout(source, images, templates);
    }

    private void roll(Map<String, PodTemplateSpec> templates, ContainerRuntime runtime) throws Exception {
        // kubectl apply changes every template at once and each workload rolls on its own; the documented order is what
        // rollout status waits for: extauthz and DLP together (each StatefulSet one pod at a time), then xds, then the
        // gateway. A stopped server drains for its grace before its successor starts, so the two StatefulSets' drains
        // and starts overlap as they do in a cluster.
        List<List<String>> stages = new ArrayList<>(
                List.of(ROLL_ORDER.subList(0, 2), List.of(ROLL_ORDER.get(2)), List.of(ROLL_ORDER.get(3))));
        templates.keySet().stream().filter(o -> !ROLL_ORDER.contains(o)).forEach(o -> stages.add(List.of(o)));
        Kubelet kubelet = new Kubelet(node);
        for (List<String> stage : stages) {
            AtOnce.each(
                    stage.stream().filter(templates::containsKey).toList(),
                    owner -> rollWorkload(owner, templates.get(owner), runtime, kubelet));
        }
    }

    /** One workload's pods, one at a time: the old one stops, its successor starts and becomes Ready. */
    private void rollWorkload(String owner, PodTemplateSpec template, ContainerRuntime runtime, Kubelet kubelet)
            throws InterruptedException, IOException {
        List<BoxPod> replicas =
                pods().stream().filter(p -> p.owner().equals(owner)).toList();
        for (BoxPod old : replicas) {
            if (runs(old, template) || !modelledImage(old)) {
                continue;
            }
            stop(old);
            BoxPod pod = replaced(old, template);
            podNetwork(pod);
            PodProcess p = startFromManifest(runtime, pod)
                    .orElseThrow(() -> new IllegalStateException(failures.get(pod.name())));
            if (owner.equals(GATEWAY) && awaitingFirstPublish.containsKey(GATEWAY)) {
                // a new pod never Ready yet counts among the endpoints, as at the first install (not modelled)
                ready(pod, true);
                continue; // Ready only once its group is published
            }
            kubelet.awaitReady(pod, p, Duration.ofSeconds(Math.round(180 * Kubelet.SCALE)));
            ready(pod, true);
            watch(pod, p);
            mark(pod.name() + " rolled, Ready");
        }
    }

    private static PodTemplateSpec template(BoxPod pod) {
        return new io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder()
                .withNewMetadata()
                .withLabels(pod.labels())
                .withAnnotations(pod.annotations())
                .endMetadata()
                .withSpec(pod.spec())
                .build();
    }

    /** Whether the pod runs {@code template} already (a rollout leaves such pods alone). */
    static boolean runs(BoxPod pod, PodTemplateSpec template) {
        return pod.spec().equals(template.getSpec())
                && pod.labels()
                        .equals(Optional.ofNullable(template.getMetadata().getLabels())
                                .orElse(Map.of()))
                && pod.annotations()
                        .equals(Optional.ofNullable(template.getMetadata().getAnnotations())
                                .orElse(Map.of()));
    }

    /** The pod under the same name and address with {@code template}'s labels, annotations and spec. */
    private BoxPod replaced(BoxPod old, PodTemplateSpec template) {
        // the list's own lock, not the box's: upgradeTo and rollBackServers hold the box's while rolls run beside
        synchronized (pods) {
            BoxPod pod = old.rolledTo(template);
            pods.set(pods.indexOf(old), pod);
            return pod;
        }
    }

    /** The checkout whose manifests and jar the box runs now. */
    Path source() {
        return source;
    }

    /**
     * Whether a TCP connection from {@code pod}'s network namespace to {@code host:port} opens, the host resolved by
     * the pod's own cluster DNS names (its {@code /etc/hosts}), through Service DNAT and both pods' NetworkPolicies.
     */
    boolean reaches(BoxPod pod, String host, int port) {
        String address = address(pod, host);
        try {
            // as the pod's sidecar opens it (uid 1337, not captured): what the NetworkPolicies see of a meshed pod's
            // connection; an application's own connect would end at its sidecar and always open
            Shell.inNetns(
                    pod.netns(),
                    "setpriv",
                    "--reuid=" + IstioOutboundRoutes.PROXY_UID,
                    "--regid=" + IstioOutboundRoutes.PROXY_UID,
                    "--clear-groups",
                    "timeout",
                    "3",
                    "bash",
                    "-c",
                    "exec 3<>/dev/tcp/" + address + "/" + port);
            return true;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    /**
     * A unary gRPC call with an empty request from {@code pod}'s network namespace (curl over HTTP/2 without TLS, as
     * the application container sends it; the sidecar's mTLS is the box's stand-in): curl's verbose output, which
     * holds the response's headers and trailers ({@code grpc-status}, {@code grpc-message}).
     */
    String grpcCall(BoxPod pod, String host, int port, String fullMethod) {
        return grpcCall(pod, host, port, fullMethod, Optional.empty());
    }

    /** {@link #grpcCall(BoxPod, String, int, String)} with the given {@code :authority} (curl sends Host as it). */
    String grpcCall(BoxPod pod, String host, int port, String fullMethod, Optional<String> authority) {
        String address = address(pod, host);
        try {
            List<String> curl = new ArrayList<>(List.of(
                    "ip",
                    "netns",
                    "exec",
                    pod.netns(),
                    "curl",
                    "-sv",
                    "-m",
                    "5",
                    "--http2-prior-knowledge",
                    "-H",
                    "content-type: application/grpc",
                    "-H",
                    "te: trailers"));
            authority.ifPresent(a -> curl.addAll(List.of("-H", "Host: " + a)));
            curl.addAll(List.of(
                    "--data-binary", "@-", "-o", "/dev/null", "http://" + address + ":" + port + "/" + fullMethod));
            return Shell.run(curl, "\0\0\0\0\0");
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    /** What {@code target}'s sidecar decides for a connection from {@code peer} to {@code port} (the shipped policies). */
    IstioAuthorization.Decision sidecarDecision(BoxPod target, int port, BoxPod peer) {
        return new IstioAuthorization(objects.istio)
                .decide(target, port, IstioAuthorization.principal(peer, objects::namespaceLabels), peer.ip());
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

    // ---- the API server's validating admission ---------------------------------------------------------------------

    /** A request the API server refused: the messages of the validations that refused it, as kubectl prints them. */
    static final class AdmissionRefused extends Exception {
        AdmissionRefused(List<String> messages) {
            super(String.join("; ", messages));
        }
    }

    /**
     * The validating admission policies in force: manifests/istio/admission/waypoint-identity.yaml of the release the
     * box runs (manifests/istio/ambient/README.md step 1 applies it with the namespace), while its binding is there.
     */
    synchronized Optional<AdmissionPolicies> admission() {
        return waypointIdentityBound
                ? Optional.of(AdmissionPolicies.inFile(manifests().resolve("admission/waypoint-identity.yaml")))
                : Optional.empty();
    }

    /**
     * {@code kubectl delete validatingadmissionpolicybinding meshguard-waypoint-identity} ({@code false}) and its
     * {@code kubectl apply} again ({@code true}).
     */
    synchronized void waypointIdentityBinding(boolean bound) {
        waypointIdentityBound = bound;
    }

    private boolean waypointIdentityBound = true;

    /**
     * A pod created by {@code requester} ({@code kubectl run}, a controller): admitted by the policies in force, then
     * scheduled with its own network, and every pod's network read again as kube-proxy, the CNI and ztunnel follow a
     * new pod. Nothing runs in it until a journey runs a process there ({@link #runInPod}).
     */
    synchronized BoxPod createPod(String requester, List<String> groups, String namespace, String name, PodSpec spec)
            throws Exception {
        Pod object = new PodBuilder()
                .withNewMetadata()
                .withName(name)
                .withNamespace(namespace)
                .endMetadata()
                .withSpec(spec)
                .build();
        List<String> refused = admission()
                .map(a -> a.refusals(new AdmissionPolicies.Request(
                        "CREATE", "", "pods", "", name, requester, groups, AdmissionPolicies.fromModel(object), null)))
                .orElse(List.of());
        if (!refused.isEmpty()) {
            mark("admission refused pod " + namespace + "/" + name + " for " + requester);
            throw new AdmissionRefused(refused);
        }
        BoxPod pod = network.pod(name, namespace, Map.of("run", name), spec, "Pod/" + name);
        pods.add(pod);
        followNewPods();
        podNetwork(pod);
        mark("pod " + namespace + "/" + name + " created by " + requester);
        return pod;
    }

    /** {@code kubectl delete pod}: out of every pod's rules at once; its network namespace goes with the box. */
    synchronized void deletePod(BoxPod pod) throws Exception {
        PodNetwork.pids(pod.netns()).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        pods.remove(pod);
        followNewPods();
        mark("pod " + pod.namespace() + "/" + pod.name() + " deleted");
    }

    /**
     * After a pod that no Service selects came or went: the CNI's view and ztunnel's tables. Nothing else changes for
     * it (no Service endpoint, no proxy's routes), so no other pod's table or proxy is touched.
     */
    private void followNewPods() throws IOException {
        readObjects();
        ambientZtunnel();
    }

    /** The ambient namespace once its app and waypoint started ({@link AmbientNamespace}). */
    AmbientNamespace ambient() throws InterruptedException {
        try {
            return ambientReady.get(180, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new AssertionError("the ambient namespace did not start: " + e, e);
        }
    }

    /**
     * Applies an operator's edits to the ambient namespace and what istiod would push for them: ztunnel's tables of
     * every ambient pod, and the waypoint's filters (the waypoint restarts when they changed).
     */
    synchronized void ambientEdit(AmbientNamespace.Edit... edits) throws Exception {
        String before = ambientWaypointConfig();
        for (AmbientNamespace.Edit e : edits) {
            e.apply(ambient);
        }
        ambientApply(before);
    }

    /** Puts the ambient namespace back as {@code state} had it (after a journey's edits). */
    synchronized void ambientRestore(AmbientNamespace.State state) throws Exception {
        String before = ambientWaypointConfig();
        ambient.restore(state);
        ambientApply(before);
    }

    private void ambientApply(String waypointBefore) throws Exception {
        ambientZtunnel();
        String after = ambientWaypointConfig();
        if (!after.equals(waypointBefore)) {
            stop(ambient.waypoint());
            startWaypoint(after);
        }
    }

    /** What ztunnel decided for each peer of the ambient app, and the policies it dropped. */
    synchronized String ztunnelDecisions() {
        return ztunnelDecisions.toString();
    }

    private synchronized void ambientZtunnel() {
        ztunnelDecisions.setLength(0);
        for (BoxPod p : List.of(ambient.app(), ambient.client(), ambient.waypoint())) {
            String table = ambient.ztunnelTable(
                    p,
                    pods,
                    services,
                    objects.istio,
                    objects::namespaceLabels,
                    network.nodeAddress(),
                    p.equals(ambient.app()) ? ztunnelDecisions : new StringBuilder());
            Shell.run(List.of("ip", "netns", "exec", p.netns(), "nft", "-f", "-"), table);
        }
    }

    private String ambientWaypointConfig() throws IOException {
        return ambient.waypointConfig(
                extensions,
                IstioExtensions.meshConfig(),
                services,
                pods,
                objects::namespaceLabels,
                outbound.forPod(ambient.waypoint()).config());
    }

    private void startWaypoint(String config) throws IOException, InterruptedException {
        BoxPod w = ambient.waypoint();
        PodProcess p = start(w, ambient.waypointLaunch(dir, services.hosts(w), testClasspath(), config));
        long deadline = System.nanoTime()
                + Duration.ofSeconds(Math.round(60 * Kubelet.SCALE)).toNanos();
        while (!p.lastLines(5).contains("waypoint (box) for")) {
            if (!p.alive() || System.nanoTime() > deadline) {
                throw new Kubelet.NotReady(Kubelet.report(w, p, "the waypoint did not start"));
            }
            Thread.sleep(100);
        }
    }

    /** The bank's app container ({@link BankApp}) in another pod. */
    private Launch appLaunch(BoxPod pod) {
        Launch l = BankApp.launch(pod, services.hosts(pod), testClasspath(), dir);
        return new Launch(
                l.pod(),
                l.netns(),
                l.mounts(),
                l.hosts(),
                l.readOnlyRoot(),
                l.user(),
                l.env(),
                l.argv(),
                dir.resolve(pod.namespace() + "_" + pod.name()));
    }

    /** The last lines of a pod's main container log. */
    String log(BoxPod pod, int lines) {
        PodProcess p = processes.get(pod.name());
        return p == null ? "(no process in " + pod.name() + ")" : p.lastLines(lines);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        // the kubelet's workers first: a container stopping now is not restarted
        watches.values().forEach(Kubelet.Watch::close);
        kubeProxy.shutdownNow();
        PodNetwork.tearDown("cluster in a box", processes, node, agent, network);
    }
}
