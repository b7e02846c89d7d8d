package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.IntegrationTest;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The alert file an operator applies (manifests/istio/monitoring/prometheus-rules.yaml) says exactly what the
 * operator guide's alert table says: same alerts, same PromQL, same {@code for} and severity. The guide's metric
 * names are checked against the servers by {@link OperatorGuideMetricsTest}, so the file's are too.
 */
@IntegrationTest
class AlertRulesTest {
    /** One row of the guide's table or one rule of the file. */
    record Alert(String name, String expr, String pendingFor, String severity) {}

    /** Table cells are split on {@code |} not preceded by a backslash (PromQL's {@code |} is escaped as {@code \|}). */
    private static final Pattern CELL = Pattern.compile("(?<!\\\\)\\|");

    static List<Alert> guideAlerts() throws Exception {
        String guide = Files.readString(RepoPaths.operatorGuidePage("respond-to-an-alert.md"));
        String section = guide.substring(guide.indexOf("\n## Alerts\n"), guide.indexOf("\n## When a part fails\n"));
        List<Alert> alerts = new ArrayList<>();
        for (String line : section.lines().toList()) {
            if (!line.startsWith("| ") || line.startsWith("| alert ")) {
                continue;
            }
            String[] cells = CELL.split(line);
            String expr = cells[2].trim();
            assertThat(expr)
                    .as("PromQL of %s in backticks", cells[1])
                    .startsWith("`")
                    .endsWith("`");
            alerts.add(new Alert(
                    cells[1].trim(),
                    expr.substring(1, expr.length() - 1).replace("\\|", "|"),
                    cells[3].trim(),
                    cells[4].trim()));
        }
        return alerts;
    }

    static PrometheusRule ruleFile() {
        SourcedDocument doc = YamlDocuments.read(RepoPaths.manifests().resolve("monitoring/prometheus-rules.yaml"))
                .getFirst();
        return StrictKubernetesModels.parse(doc, PrometheusRule.class);
    }

    @Test
    void ruleFile_holdsExactlyTheGuidesAlerts() throws Exception {
        List<Alert> rules = ruleFile().spec().groups().stream()
                .flatMap(g -> g.rules().stream())
                .map(r -> new Alert(
                        r.alert(), r.expr(), r.pendingFor(), r.labels().get("severity")))
                .toList();
        assertThat(rules).containsExactlyElementsOf(guideAlerts());
    }

    /** Review IC-09: promtool and a Prometheus without the Operator read plain rule groups, not the CRD. */
    @Test
    void plainRuleFile_holdsTheSameGroupsAsTheOperatorRule() {
        SourcedDocument crd = YamlDocuments.read(RepoPaths.manifests().resolve("monitoring/prometheus-rules.yaml"))
                .getFirst();
        SourcedDocument plain = YamlDocuments.read(PLAIN_RULES).getFirst();
        assertThat(plain.node().fieldNames()).toIterable().containsExactly("groups");
        assertThat(plain.node().get("groups")).isEqualTo(crd.node().get("spec").get("groups"));
    }

    /** Where Debian's prometheus package (or any promtool) is installed, the plain file must pass its own checker. */
    @Test
    void plainRuleFile_passesPromtoolWithLintFatal() throws Exception {
        java.util.Optional<java.nio.file.Path> promtool = java.util.stream.Stream.of(
                        System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .map(dir -> java.nio.file.Path.of(dir, "promtool"))
                .filter(Files::isExecutable)
                .findFirst();
        org.junit.jupiter.api.Assumptions.assumeTrue(
                promtool.isPresent(),
                "promtool is not installed (apt-get install prometheus); the equality test above still runs");
        Process check = new ProcessBuilder(
                        promtool.get().toString(), "check", "rules", "--lint-fatal", PLAIN_RULES.toString())
                .redirectErrorStream(true)
                .start();
        String output = new String(check.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(check.waitFor()).as(output).isZero();
        assertThat(output).contains("SUCCESS: " + guideAlerts().size() + " rules found");
    }

    /**
     * Every DLP replica runs the coverage join over the same rows, so each counts the same uncovered requests: the
     * alert reads the largest replica's count, not their sum (two replicas must not report twice the requests). And a
     * canary that got through fires CanaryGotThrough naming its route and kind. Run by promtool's own rule tests on
     * the shipped file.
     */
    @Test
    void coverageAlert_countsOnceWhateverTheReplicas_andCanaryAlerts_nameTheRoute_andADeadCanary(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.util.Optional<java.nio.file.Path> promtool = java.util.stream.Stream.of(
                        System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .map(d -> java.nio.file.Path.of(d, "promtool"))
                .filter(Files::isExecutable)
                .findFirst();
        org.junit.jupiter.api.Assumptions.assumeTrue(promtool.isPresent(), "promtool is not installed");
        String coverage = guideAlerts().stream()
                .filter(a -> a.name().equals("CoverageRequestUnchecked"))
                .findFirst()
                .orElseThrow()
                .expr();
        assertThat(coverage).endsWith(" > 0");
        String count = coverage.substring(0, coverage.length() - " > 0".length());
        java.nio.file.Path tests = dir.resolve("tests.yaml");
        Files.writeString(tests, """
                rule_files: ['%s']
                evaluation_interval: 1m
                tests:
                  - interval: 1m
                    input_series:
                      # two DLP replicas, each joining the same five uncovered requests over the last five minutes
                      - series: 'meshguard_coverage_uncovered_requests_total{pod="meshguard-dlp-0"}'
                        values: '0x4 0+1x5'
                      - series: 'meshguard_coverage_uncovered_requests_total{pod="meshguard-dlp-1"}'
                        values: '0x4 0+1x5'
                      - series: 'meshguard_canary_checks_total{route="accounts",kind="expired_token",result="got_through"}'
                        values: '0x4 1x30'
                      - series: 'meshguard_canary_checks_total{route="accounts",kind="expired_token",result="passed"}'
                        values: '0+1x40'
                      # a canary pod replaced by another (the route still reported) and one that died (the card's)
                      - series: 'meshguard_canary_checks_total{route="cards",kind="expired_token",result="passed",pod="c-1"}'
                        values: '0+1x10 stale'
                      - series: 'meshguard_canary_checks_total{route="cards",kind="expired_token",result="passed",pod="c-2"}'
                        values: '_x10 0+1x30'
                      - series: 'meshguard_canary_checks_total{route="cards",kind="test_card",result="passed",pod="c-1"}'
                        values: '0+1x10 stale'
                    promql_expr_test:
                      - expr: '%s'
                        eval_time: 10m
                        exp_samples:
                          - value: 5
                    alert_rule_test:
                      - eval_time: 10m
                        alertname: CoverageRequestUnchecked
                        exp_alerts:
                          - exp_labels: {severity: page}
                            exp_annotations: {runbook: 'docs/operate/respond-to-an-alert.md#alerts'}
                      - eval_time: 3m
                        alertname: CanaryGotThrough
                        exp_alerts: []
                      - eval_time: 6m
                        alertname: CanaryGotThrough
                        exp_alerts:
                          - exp_labels: {severity: page, route: accounts, kind: expired_token}
                            exp_annotations: {runbook: 'docs/operate/respond-to-an-alert.md#alerts'}
                      - eval_time: 15m
                        alertname: CanaryDown
                        exp_alerts: []
                      - eval_time: 25m
                        alertname: CanaryDown
                        exp_alerts:
                          - exp_labels: {severity: ticket, route: cards, kind: test_card}
                            exp_annotations: {runbook: 'docs/operate/respond-to-an-alert.md#alerts'}
                """.formatted(PLAIN_RULES.toAbsolutePath(), count.replace("'", "''")));
        Process test = new ProcessBuilder(promtool.get().toString(), "test", "rules", tests.toString())
                .redirectErrorStream(true)
                .start();
        String output = new String(test.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(test.waitFor()).as(output).isZero();
        assertThat(output).contains("SUCCESS");
    }

    private static final java.nio.file.Path PLAIN_RULES = RepoPaths.manifests().resolve("monitoring/alert-rules.yaml");

    @Test
    void stalledDlpStreams_areAlertedOn() throws Exception {
        // Review item A4: nothing in Envoy or Istio bounds a stalled ext_proc stream; the DLP server's own deadline
        // does, and these alerts say when it had to.
        assertThat(guideAlerts())
                .extracting(Alert::expr)
                .anySatisfy(e -> assertThat(e).contains("meshguard_dlp_streams_over_deadline_total"))
                .anySatisfy(e -> assertThat(e).contains("meshguard_dlp_stream_oldest_seconds"));
    }

    @Test
    void ruleWithAMisspelledField_isRejected() {
        SourcedDocument bad = YamlDocuments.parse("inline.yaml", """
                apiVersion: monitoring.coreos.com/v1
                kind: PrometheusRule
                metadata: {name: r}
                spec:
                  groups:
                    - name: g
                      rules:
                        - {alert: A, expresion: up == 0, for: 1m}
                """).getFirst();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> StrictKubernetesModels.parse(bad))
                .isInstanceOf(ManifestException.class)
                .hasMessageContaining("expresion");
    }

    @Test
    void everyAlert_hasAKnownSeverityAndDuration() throws Exception {
        assertThat(guideAlerts()).hasSizeGreaterThan(20).allSatisfy(a -> {
            assertThat(a.severity()).isIn("page", "ticket", "info");
            assertThat(a.pendingFor()).matches("[0-9]+[smh]");
        });
    }
}
