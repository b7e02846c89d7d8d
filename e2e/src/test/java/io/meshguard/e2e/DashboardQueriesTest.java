package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.audit.DecisionLog;
import io.meshguard.audit.DecisionLogSettings;
import io.meshguard.cli.Main;
import io.meshguard.cli.canary.CanaryKind;
import io.meshguard.cli.canary.CanaryProbe;
import io.meshguard.cli.canary.CanaryRoute;
import io.meshguard.cli.canary.HttpCanaryTransport;
import io.meshguard.devstack.demo.DemoGateway;
import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.Exchange;
import io.meshguard.emulator.Gateway;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.OtlpTraceReceiver;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.StreamSink;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.yaml.snakeyaml.Yaml;

/**
 * Every PromQL expression in the Grafana dashboards ({@code manifests/istio/monitoring/dashboards/*.json}) and in the
 * alert rules ({@code manifests/istio/monitoring/prometheus-rules.yaml}) names only metrics and labels that the
 * servers expose, and asks equality matchers ({@code label="value"}) only for values the servers set. The stack runs as {@code meshguard up} wires it; real traffic goes through the emulated gateway
 * (allowed and denied Checks, a DLP stream with a finding, a blocked upload), through {@code meshguard authz send}
 * and {@code meshguard dlp send} (a refused path, unknown profiles, an unscanned binary body), and through a raw ADS
 * stream that NACKs; audit rows are written along the way. Then {@code /metrics} is scraped over HTTP and each
 * expression is read with {@link PromQl}.
 *
 * <p>In {@code up} the servers share one process and one registry (ProcessMetrics), and every status port serves all
 * of it; the test scrapes both the combined status listener and the xDS controller's admin port and checks they
 * expose the same names. A series that exists only after a rare event is produced here by traffic or registered at
 * zero by its server (DlpMetrics), so a dashboard never depends on an event having happened.
 */
@IntegrationTest
class DashboardQueriesTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final Path MONITORING =
            Path.of("..", "manifests", "istio", "monitoring").toAbsolutePath().normalize();

    /**
     * Labels Prometheus adds to every series of a scrape target, not the servers: {@code job} and {@code instance}
     * always; {@code namespace} and {@code pod} from the Kubernetes pod relabelling that the operator guide's scrape
     * setup (prometheus.io annotations, or a PodMonitor) applies.
     */
    static final Set<String> TARGET_LABELS = Set.of("job", "instance", "namespace", "pod");

    /**
     * kube-state-metrics series the alerts use, with the labels kube-state-metrics documents for them
     * (kubernetes/kube-state-metrics docs/metrics/workload/statefulset-metrics.md, pod-metrics.md,
     * docs/metrics/storage/persistentvolumeclaim-metrics.md). Not meshguard's; checked against this list only.
     */
    static final Map<String, Set<String>> KUBE_STATE_METRICS = Map.of(
            "kube_statefulset_status_replicas_ready", Set.of("namespace", "statefulset"),
            "kube_statefulset_replicas", Set.of("namespace", "statefulset"),
            "kube_persistentvolumeclaim_info",
                    Set.of("namespace", "persistentvolumeclaim", "storageclass", "volumename"),
            "kube_pod_container_status_restarts_total", Set.of("namespace", "pod", "uid", "container"));

    static E2eStack stack;
    static OtlpTraceReceiver traces;
    static DemoGateway.Upstreams upstreams;
    /** Metric sample name → label name → every value seen in the scrape. */
    static Map<String, Map<String, Set<String>>> exposed;

    /** One expression and where it comes from (dashboard and panel, or alert). */
    record Query(String source, String expr) {}

    @BeforeAll
    static void startStackAndSendTraffic() throws Exception {
        Path dataDir = Files.createTempDirectory("meshguard-dashboards");
        // tracing on, exporting to a real OTLP receiver, so the tracing meters are the ones a traced install exposes
        traces = OtlpTraceReceiver.start();
        stack = E2eStack.start(
                PG, dataDir, Map.of("OTEL_TRACES_EXPORTER", "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT", traces.endpoint()));
        // up runs with the audit database, where the decision log is off by default; a server without a database
        // (or with audit.decision_log=stdout) runs it, so its meters join the registry as ServerAudit builds them
        new DecisionLog(
                DecisionLogSettings.defaults(Map.of("service", "e2e")),
                OutputStream.nullOutputStream(),
                "null",
                stack.metrics().registry());
        upstreams = DemoGateway.Upstreams.start();
        Gateway gateway = stack.publish(DemoGateway.yaml("local", upstreams), "local", DemoGateway.LISTENER_PORT);
        int status = stack.startStatusListener();

        String tenant = "t-dashboards";
        String token = stack.token("alice", tenant, List.of("demo"));
        expect(
                gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts/7"), token, tenant)),
                200);
        expect(gateway.send(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts", "x-tenant-id", tenant)), 401);
        expect(
                gateway.send(authorized(
                        DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts"),
                        stack.token("bob", tenant, List.of("viewer")),
                        tenant)),
                403);
        // a DLP stream whose answer carries a card number: a finding, masked
        expect(gateway.send(authorized(DemoChat.completion("{\"stream\":true}"), token, tenant)), 200);
        // an upload carrying a private key: blocked
        expect(
                gateway.send(authorized(
                        DownstreamRequest.withBody(
                                "POST",
                                DemoGateway.HOST,
                                "/demo/v2/accounts/import",
                                "{\"key\":\"" + DemoGateway.PRIVATE_KEY.replace("\n", "\\n") + "\"}",
                                "content-type",
                                "application/json"),
                        token,
                        tenant)),
                403);
        // over the tenant's rate limit (policies/authz.yaml: burst 10): 429
        String limited = stack.token("carol", "t-dash-429", List.of("demo"));
        Exchange last = null;
        for (int i = 0; i < 30 && (last == null || last.status() != 429); i++) {
            last = gateway.send(
                    authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts"), limited, "t-dash-429"));
        }
        expect(last, 429);
        // a deprecated version still called: the usage metrics' sunset countdown and deprecated-caller series
        expect(
                gateway.send(authorized(DownstreamRequest.get(DemoGateway.HOST, "/demo/v1/accounts"), token, tenant)),
                200);

        // straight to the servers, as Envoy would call them for routes this gateway config cannot express
        send(
                "authz",
                "send",
                "--target",
                stack.extauthzTarget(),
                "--host",
                DemoGateway.HOST,
                "--path",
                "/demo/v2/a/%2e%2e/accounts",
                "-H",
                "authorization=Bearer " + token,
                "-H",
                "x-tenant-id=" + tenant);
        send(
                "authz",
                "send",
                "--target",
                stack.extauthzTarget(),
                "--host",
                DemoGateway.HOST,
                "--path",
                "/demo/v2/accounts",
                "--authz-profile",
                "no-such-rule",
                "-H",
                "authorization=Bearer " + token,
                "-H",
                "x-tenant-id=" + tenant);
        send("dlp", "send", "--target", stack.dlpTarget(), "--profile", "no-such-profile", "--body", "{}");
        Path binary = dataDir.resolve("upload.bin");
        byte[] bytes = new byte[4096];
        new Random(16).nextBytes(bytes);
        Files.write(binary, bytes);
        send(
                "dlp",
                "send",
                "--target",
                stack.dlpTarget(),
                "--content-type",
                "application/octet-stream",
                "--body-file",
                binary.toString());
        nackOnce(stack.adsPort());

        URI metrics = URI.create("http://127.0.0.1:" + status + "/metrics");
        // audit rows are written asynchronously, NACKs counted when they arrive: wait for both to show
        await().atMost(Duration.ofSeconds(60))
                .pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> {
                    String text = get(metrics);
                    assertThat(sampleValue(text, "meshguard_audit_events_written_total"))
                            .isPositive();
                    assertThat(sampleValue(text, "meshguard_xds_nacks_total")).isPositive();
                    assertThat(text).contains("meshguard_api_version_sunset_seconds{");
                });
        exposed = names(get(metrics));
        Map<String, Map<String, Set<String>>> fromXdsPort = names(get(URI.create(stack.xdsAdminUrl() + "/metrics")));
        assertThat(fromXdsPort.keySet())
                .as("every status port of up serves the one registry")
                .containsAll(exposed.keySet().stream()
                        .filter(n -> n.startsWith("meshguard_"))
                        .toList());
        addToExposed(fromXdsPort);
        // the canary runs as a process of its own (meshguard canary): its series as its /metrics port serves them,
        // after one round against a path that does not answer (each route's series exist from start)
        PrometheusMeterRegistry canaryMeters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (CanaryProbe canary = new CanaryProbe(
                List.of(new CanaryRoute(
                        "dashboard",
                        URI.create("http://127.0.0.1:1/dashboard"),
                        "GET",
                        List.of(CanaryKind.EXPIRED_TOKEN, CanaryKind.TEST_CARD),
                        Map.of())),
                new HttpCanaryTransport(Duration.ofSeconds(2), Optional.empty()),
                Optional.empty(),
                Optional.of(() -> "canary-credential"),
                403,
                Duration.ofMinutes(1),
                new io.meshguard.cli.canary.AuditApiEvidence(
                        new io.meshguard.cli.xds.AdminClient(stack.xdsAdminUrl(), stack.adminToken())),
                Duration.ofSeconds(5),
                java.time.Clock.systemUTC(),
                canaryMeters)) {
            canary.runOnce();
        }
        addToExposed(names(canaryMeters.scrape()));
    }

    private static void addToExposed(Map<String, Map<String, Set<String>>> more) {
        more.forEach(
                (name, labels) -> labels.forEach((label, values) -> exposed.computeIfAbsent(name, n -> new TreeMap<>())
                        .computeIfAbsent(label, l -> new TreeSet<>())
                        .addAll(values)));
    }

    @AfterAll
    static void stopStack() throws Exception {
        if (upstreams != null) {
            upstreams.close();
        }
        if (stack != null) {
            stack.close();
        }
        if (traces != null) {
            traces.close();
        }
    }

    @Test
    void everyDashboardAndAlertExpression_namesOnlyMetricsAndLabelsTheServersExpose() throws Exception {
        List<Query> queries = new ArrayList<>(dashboardQueries());
        int fromDashboards = queries.size();
        queries.addAll(alertQueries());
        assertThat(fromDashboards).as("dashboard expressions found").isGreaterThan(60);
        assertThat(queries.size() - fromDashboards)
                .as("alert expressions found")
                .isGreaterThan(20);

        List<String> problems = new ArrayList<>();
        for (Query query : queries) {
            problems.addAll(problems(query, exposed));
        }
        assertThat(problems).as("expressions naming what no server exposes").isEmpty();
    }

    @Test
    void theTraffic_producedTheSeriesThePanelsBreakDown() {
        // what the panels' "by (...)" and the rare-event panels rest on actually happened, not just registered
        String text = get(URI.create(stack.xdsAdminUrl() + "/metrics"));
        assertThat(sampleValue(text, "meshguard_authz_decisions_total{reason=\"missing_credential\""))
                .isPositive();
        assertThat(sampleValue(text, "meshguard_authz_decisions_total{reason=\"rate_limited\""))
                .isPositive();
        assertThat(sampleValue(text, "meshguard_authz_path_refusals_total")).isPositive();
        assertThat(sampleValue(text, "meshguard_authz_unknown_profile_total")).isPositive();
        assertThat(sampleValue(text, "meshguard_dlp_findings_total{action=\"mask\",detector=\"card\""))
                .isPositive();
        assertThat(sampleValue(text, "meshguard_dlp_blocks_total")).isPositive();
        assertThat(sampleValue(text, "meshguard_dlp_unknown_profile_total")).isPositive();
        assertThat(sampleValue(text, "meshguard_dlp_unscanned_bytes_total")).isPositive();
        assertThat(sampleValue(text, "meshguard_xds_nacks_total{server=\"xds\",type=\"Cluster\""))
                .isPositive();
    }

    @Test
    void theCheck_failsOnAMisspelledMetric_aMisspelledLabel_aLabelValueNoServerSets_andAGroupingNoMetricCarries() {
        assertThat(problems(new Query("t", "sum(rate(meshguard_authz_decision_total[5m]))"), exposed))
                .singleElement()
                .asString()
                .contains("meshguard_authz_decision_total", "not exposed");
        assertThat(problems(new Query("t", "sum(rate(meshguard_authz_decisions_total{resut=\"deny\"}[5m]))"), exposed))
                .singleElement()
                .asString()
                .contains("resut");
        assertThat(problems(new Query("t", "sum by (detector) (rate(meshguard_authz_decisions_total[5m]))"), exposed))
                .singleElement()
                .asString()
                .contains("detector");
        assertThat(problems(
                        new Query(
                                "t",
                                "histogram_quantile(0.99, sum by (le) (rate(meshguard_dlp_chunk_seconds_bucket[5m])))"),
                        exposed))
                .as("the DLP chunk timer is a summary: no buckets")
                .isNotEmpty();
        assertThat(problems(new Query("t", "sum(meshguard_grpc_calls_in_flight{server=\"dlp\"})"), exposed))
                .singleElement()
                .asString()
                .contains("server=\"dlp\"", "extproc-dlp");
        assertThat(problems(
                        new Query("t", "sum by (le, pod) (rate(meshguard_authz_check_duration_seconds_bucket[5m]))"),
                        exposed))
                .isEmpty();
    }

    /** What is wrong with one expression against the exposed names; empty when nothing is. */
    static List<String> problems(Query query, Map<String, Map<String, Set<String>>> exposed) {
        List<String> problems = new ArrayList<>();
        PromQl.Refs refs;
        try {
            refs = PromQl.read(query.expr());
        } catch (IllegalArgumentException e) {
            return List.of(query.source() + ": " + e.getMessage());
        }
        Set<String> inScope = new TreeSet<>(TARGET_LABELS);
        inScope.addAll(refs.createdLabels());
        for (PromQl.Selector s : refs.selectors()) {
            Set<String> labels = exposed.containsKey(s.metric())
                    ? exposed.get(s.metric()).keySet()
                    : KUBE_STATE_METRICS.get(s.metric());
            if (labels == null) {
                problems.add(query.source() + ": metric " + s.metric() + " is not exposed, in `" + query.expr() + "`");
                continue;
            }
            inScope.addAll(labels);
            for (String label : s.labels()) {
                if (!labels.contains(label) && !TARGET_LABELS.contains(label)) {
                    problems.add(query.source() + ": label " + label + " is not on " + s.metric() + " (it has " + labels
                            + "), in `" + query.expr() + "`");
                }
            }
            // label="value" on our own metrics: a value no server ever sets (server="dlp" for "extproc-dlp")
            // selects nothing, silently
            s.equals().forEach((label, value) -> {
                Set<String> seen = exposed.getOrDefault(s.metric(), Map.of()).get(label);
                if (seen != null && !seen.contains(value)) {
                    problems.add(query.source() + ": " + label + "=\"" + value + "\" never occurs on " + s.metric()
                            + " (seen: " + seen + "), in `" + query.expr() + "`");
                }
            });
        }
        for (String label : refs.groupingLabels()) {
            if (!inScope.contains(label)) {
                problems.add(query.source() + ": label " + label + " (grouping) is on none of " + refs.metrics()
                        + ", in `" + query.expr() + "`");
            }
        }
        return problems;
    }

    static List<Query> dashboardQueries() throws Exception {
        List<Query> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        List<Path> files;
        try (Stream<Path> list = Files.list(MONITORING.resolve("dashboards"))) {
            files = list.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
        assertThat(files).as("dashboards in " + MONITORING).hasSizeGreaterThanOrEqualTo(4);
        for (Path file : files) {
            JsonNode dashboard = json.readTree(file.toFile());
            List<JsonNode> panels = new ArrayList<>();
            dashboard.path("panels").forEach(p -> {
                panels.add(p);
                p.path("panels").forEach(panels::add); // collapsed rows keep their panels inside
            });
            for (JsonNode panel : panels) {
                for (JsonNode target : panel.path("targets")) {
                    out.add(new Query(
                            file.getFileName() + " / " + panel.path("title").asText(),
                            target.path("expr").asText()));
                }
            }
            for (JsonNode variable : dashboard.path("templating").path("list")) {
                if (variable.path("type").asText().equals("query")) {
                    out.add(new Query(
                            file.getFileName() + " / $" + variable.path("name").asText(),
                            variable.path("query")
                                    .path("query")
                                    .asText(variable.path("query").asText())));
                }
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static List<Query> alertQueries() throws Exception {
        Map<String, Object> rule = new Yaml().load(Files.readString(MONITORING.resolve("prometheus-rules.yaml")));
        List<Query> out = new ArrayList<>();
        for (Map<String, Object> group :
                (List<Map<String, Object>>) ((Map<String, Object>) rule.get("spec")).get("groups")) {
            for (Map<String, Object> r : (List<Map<String, Object>>) group.get("rules")) {
                Object name = r.containsKey("alert") ? r.get("alert") : r.get("record");
                out.add(new Query("prometheus-rules.yaml / " + name, String.valueOf(r.get("expr"))));
            }
        }
        return out;
    }

    /** Sample name (as exposed, with _total/_bucket/_sum/_count/_max) → label name → every value it takes. */
    static Map<String, Map<String, Set<String>>> names(String exposition) {
        Map<String, Map<String, Set<String>>> names = new TreeMap<>();
        for (String line : exposition.lines().toList()) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int brace = line.indexOf('{');
            int space = line.indexOf(' ');
            if (brace < 0 || (space >= 0 && space < brace)) {
                names.computeIfAbsent(line.substring(0, space), n -> new TreeMap<>());
                continue;
            }
            Map<String, Set<String>> labels = names.computeIfAbsent(line.substring(0, brace), n -> new TreeMap<>());
            labels(line, brace).forEach(pair -> labels.computeIfAbsent(pair.get(0), l -> new TreeSet<>())
                    .add(pair.get(1)));
        }
        return names;
    }

    /**
     * The [name, value] pairs of {@code {a="x",b="y\"z"}} starting at the brace (values may hold escaped quotes,
     * backslashes, newlines, commas and braces; the text format escapes {@code \\ \" \n}).
     */
    private static List<List<String>> labels(String line, int brace) {
        List<List<String>> labels = new ArrayList<>();
        int i = brace + 1;
        while (i < line.length() && line.charAt(i) != '}') {
            int eq = line.indexOf('=', i);
            StringBuilder value = new StringBuilder();
            int j = eq + 2; // past ="
            while (line.charAt(j) != '"') {
                if (line.charAt(j) == '\\') {
                    char escaped = line.charAt(j + 1);
                    value.append(escaped == 'n' ? '\n' : escaped);
                    j += 2;
                } else {
                    value.append(line.charAt(j++));
                }
            }
            labels.add(List.of(line.substring(i, eq).trim(), value.toString()));
            i = j + 1;
            if (line.charAt(i) == ',') {
                i++;
            }
        }
        return labels;
    }

    /** Sum of the samples whose line starts with {@code prefix} (a name, or a name and its first labels). */
    static double sampleValue(String exposition, String prefix) {
        return exposition
                .lines()
                .filter(l -> l.startsWith(prefix) && !l.startsWith("#"))
                .filter(l -> l.length() > prefix.length()
                        && (prefix.contains("{")
                                || l.charAt(prefix.length()) == '{'
                                || l.charAt(prefix.length()) == ' '))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }

    private static String get(URI uri) {
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> response =
                    http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(uri.toString()).isEqualTo(200);
            return response.body();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static DownstreamRequest authorized(DownstreamRequest request, String token, String tenant) {
        return request.with("authorization", "Bearer " + token).with("x-tenant-id", tenant);
    }

    private static void expect(Exchange exchange, int status) {
        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(status);
    }

    private static void send(String... args) {
        assertThat(Main.execute(args)).as(String.join(" ", args)).isZero();
    }

    /** A client that rejects the first CDS response it gets, as Envoy does with config it cannot apply. */
    private static void nackOnce(int adsPort) throws Exception {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", adsPort)
                .usePlaintext()
                .build();
        try {
            LinkedBlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
            StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
                    .streamAggregatedResources(StreamSink.into(responses));
            String cds = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
            requests.onNext(DiscoveryRequest.newBuilder()
                    .setTypeUrl(cds)
                    .setNode(Node.newBuilder().setId("dashboards-nacker").setCluster("local"))
                    .build());
            DiscoveryResponse first = responses.poll(30, TimeUnit.SECONDS);
            assertThat(first).as("a CDS response to NACK").isNotNull();
            requests.onNext(DiscoveryRequest.newBuilder()
                    .setTypeUrl(cds)
                    .setResponseNonce(first.getNonce())
                    .setErrorDetail(
                            com.google.rpc.Status.newBuilder().setCode(3).setMessage("rejected by the test"))
                    .build());
            // the stream stays open until the NACK is counted: startStackAndSendTraffic waits for it
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> sampleValue(
                                    get(URI.create(stack.xdsAdminUrl() + "/metrics")),
                                    "meshguard_xds_nacks_total{server=\"xds\",type=\"Cluster\"")
                            > 0);
            requests.onCompleted();
        } finally {
            channel.shutdownNow();
        }
    }
}
