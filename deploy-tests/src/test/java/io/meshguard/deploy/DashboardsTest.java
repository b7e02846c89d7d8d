package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.testing.IntegrationTest;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboards of manifests/istio/monitoring: written by their generator (the committed JSON is what
 * {@code generate.py} writes), shipped as one ConfigMap each with the label the Grafana sidecar loads, every panel
 * asking its question on the data source the operator picks, and named with that question in the operator guide
 * (section 6a). Whether their PromQL names real metrics is the e2e test DashboardQueriesTest's job.
 */
@IntegrationTest
class DashboardsTest {
    private static final Path MONITORING = RepoPaths.manifests().resolve("monitoring");
    private static final Path DASHBOARDS = MONITORING.resolve("dashboards");

    private static List<Path> dashboardFiles() throws Exception {
        try (Stream<Path> files = Files.list(DASHBOARDS)) {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
    }

    private static JsonNode read(Path file) throws Exception {
        return YamlDocuments.JSON.readTree(file.toFile());
    }

    private static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> panels = new ArrayList<>();
        dashboard.path("panels").forEach(p -> {
            if (!p.path("type").asText().equals("row")) {
                panels.add(p);
            }
            p.path("panels").forEach(panels::add);
        });
        return panels;
    }

    private static boolean onPath(String binary) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, binary))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void committedJson_isWhatTheGeneratorWrites() throws Exception {
        assumeTrue(onPath("python3"), "python3 is not on the PATH: generator output not compared");
        Process check = new ProcessBuilder(
                        "python3", DASHBOARDS.resolve("generate.py").toString(), "--check")
                .redirectErrorStream(true)
                .start();
        assertThat(check.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(check.exitValue()).as("generate.py --check: " + out).isZero();
    }

    @Test
    void kustomization_shipsEveryDashboardAsAConfigMapTheGrafanaSidecarLoads() throws Exception {
        JsonNode k = YamlDocuments.read(MONITORING.resolve("kustomization.yaml"))
                .getFirst()
                .node();
        assertThat(k.path("generatorOptions")
                        .path("labels")
                        .path("grafana_dashboard")
                        .asText())
                .isEqualTo("1");
        assertThat(k.path("generatorOptions").path("disableNameSuffixHash").asBoolean())
                .isTrue();
        List<String> resources = new ArrayList<>();
        k.path("resources").forEach(r -> resources.add(r.asText()));
        assertThat(resources).containsExactly("prometheus-rules.yaml");
        Set<String> generated = new TreeSet<>();
        k.path("configMapGenerator").forEach(g -> {
            assertThat(g.path("namespace").asText()).isEqualTo("meshguard");
            g.path("files").forEach(f -> generated.add(f.asText()));
        });
        Set<String> files = new TreeSet<>();
        for (Path f : dashboardFiles()) {
            files.add("dashboards/" + f.getFileName());
        }
        assertThat(generated).isEqualTo(files);
    }

    @Test
    void renderedConfigMaps_carryTheJsonUnchanged_withTheSidecarLabel() throws Exception {
        assumeTrue(Kustomize.available(), "kubectl is not on the PATH: kustomize rendering not checked");
        List<SourcedDocument> docs =
                YamlDocuments.parse("kubectl kustomize manifests/istio/monitoring", Kustomize.render(MONITORING));
        assertThat(docs).extracting(SourcedDocument::kind).contains("PrometheusRule");
        int maps = 0;
        for (SourcedDocument doc : docs) {
            if (!doc.kind().equals("ConfigMap")) {
                continue;
            }
            maps++;
            assertThat(doc.node()
                            .path("metadata")
                            .path("labels")
                            .path("grafana_dashboard")
                            .asText())
                    .isEqualTo("1");
            doc.node().path("data").properties().forEach(e -> {
                try {
                    assertThat(e.getValue().asText()).isEqualTo(Files.readString(DASHBOARDS.resolve(e.getKey())));
                } catch (java.io.IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
            });
        }
        assertThat(maps).isEqualTo(dashboardFiles().size());
    }

    @Test
    void everyPanel_asksItsQuestion_onTheDataSourceTheOperatorPicks() throws Exception {
        Set<String> uids = new HashSet<>();
        for (Path file : dashboardFiles()) {
            JsonNode d = read(file);
            assertThat(uids.add(d.path("uid").asText()))
                    .as("uid of %s is unique", file)
                    .isTrue();
            assertThat(file.getFileName().toString()).isEqualTo(d.path("uid").asText() + ".json");
            assertThat(d.path("templating").path("list").get(0).path("type").asText())
                    .isEqualTo("datasource");
            Set<String> titles = new HashSet<>();
            for (JsonNode panel : panels(d)) {
                String title = panel.path("title").asText();
                assertThat(titles.add(title))
                        .as("%s: panel title %s is unique", file, title)
                        .isTrue();
                assertThat(panel.path("description").asText())
                        .as("%s / %s", file, title)
                        .contains("?");
                assertThat(panel.path("datasource").path("uid").asText()).isEqualTo("${datasource}");
                assertThat(panel.path("targets")).as("%s / %s", file, title).isNotEmpty();
                panel.path("targets")
                        .forEach(t -> assertThat(t.path("expr").asText()).isNotBlank());
            }
        }
    }

    @Test
    void operatorGuide_namesEveryDashboardAndPanel_withItsQuestion() throws Exception {
        String guide = Files.readString(RepoPaths.operatorGuidePage("day-to-day.md"));
        String section = guide.substring(guide.indexOf("\n## Dashboards\n"));
        List<String> missing = new ArrayList<>();
        for (Path file : dashboardFiles()) {
            JsonNode d = read(file);
            String heading = "**" + d.path("title").asText() + "** (`" + file.getFileName() + "`): "
                    + d.path("description").asText();
            if (!section.contains(heading)) {
                missing.add(heading);
            }
            for (JsonNode panel : panels(d)) {
                String line = "- *" + panel.path("title").asText() + "*: "
                        + panel.path("description").asText();
                if (!section.contains(line)) {
                    missing.add(line);
                }
            }
        }
        assertThat(missing)
                .as("lines the guide's Dashboards section lacks (generate.py --guide prints them)")
                .isEmpty();
    }
}
