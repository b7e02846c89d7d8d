package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Review item A3: FULL_DUPLEX_STREAMED needs Envoy 1.34 = Istio 1.26 while the README promised Istio 1.22. Every
 * Envoy message meshguard ships (EnvoyFilter patches, the gateway bootstrap, deploy/local's bootstrap) or emits
 * (the xds-controller's resources for deploy/local/gateway.json) is walked; what it uses must be in
 * docs/envoy-features.yaml with the release that has it, the stated floor must be exactly what the listed features
 * need, and every document and the install-time check must state that floor. (A row may precede its first use:
 * the table is what we rely on, and the floor check covers every row.)
 */
class EnvoyFeaturesTest {
    /** Enums whose values arrived over several Envoy releases: every value used must be listed. */
    private static final Set<String> TRACKED_ENUMS = Set.of(
            "envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode",
            "envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode");

    private static EnvoyFeatures table;
    private static EnvoyFeatures.Usage usage;

    @BeforeAll
    static void walkEverythingWeShipAndEmit() throws Exception {
        table = EnvoyFeatures.read();
        usage = new EnvoyFeatures.Usage();
        Manifests manifests = Manifests.sources();
        manifests.ofKind("EnvoyFilter").forEach(doc -> {
            var patches = doc.node().path("spec").path("configPatches");
            for (int i = 0; i < patches.size(); i++) {
                usage.add(EnvoyProtos.patchValue(
                        doc.describe(),
                        patches.get(i).path("applyTo").asText(),
                        patches.get(i).path("patch").path("value")));
            }
        });
        for (Path bootstrap : List.of(
                RepoPaths.manifests().resolve("base/envoy/bootstrap.yaml"),
                RepoPaths.deployLocal().resolve("envoy-bootstrap.yaml"))) {
            usage.add(EnvoyProtos.bootstrap(
                    bootstrap.toString(),
                    YamlDocuments.read(bootstrap).getFirst().node()));
        }
        GatewayConfig config =
                ConfigJson.readConfig(Files.readString(RepoPaths.deployLocal().resolve("gateway.json")));
        for (GatewayGroup group : config.groups()) {
            GroupResources emitted = new SnapshotBuilder(FilterTargets.DEFAULTS).build(config, group.name());
            emitted.listeners().forEach(usage::add);
            emitted.routes().forEach(usage::add);
            // what a gateway gets as shipped (xds.envoy.vhds_cluster set): its tables' shells over RDS
            io.meshguard.xds.snapshot.VirtualHostTables.split(emitted.routes(), "meshguard-xds")
                    .shells()
                    .forEach(usage::add);
            emitted.clusters().forEach(usage::add);
            emitted.endpoints().forEach(usage::add);
        }
    }

    private static Set<String> listed() {
        return table.features().stream().map(EnvoyFeatures.Feature::id).collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void everyExtensionTypeAndTrackedEnumValueUsed_isListed() {
        Set<String> unlisted = new TreeSet<>(usage.types);
        usage.enumValues.stream()
                .filter(v -> TRACKED_ENUMS.contains(v.substring(0, v.lastIndexOf('.'))))
                .forEach(unlisted::add);
        unlisted.removeAll(listed());
        assertThat(unlisted)
                .as("used but not in %s: add each with the Envoy release that has it", EnvoyFeatures.FILE)
                .isEmpty();
    }

    @Test
    void fullDuplexStreaming_isUsedAndNeedsEnvoy134() {
        String fullDuplex =
                "envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED";
        assertThat(usage.enumValues).contains(fullDuplex);
        assertThat(table.features())
                .filteredOn(f -> f.id().equals(fullDuplex))
                .singleElement()
                .satisfies(f -> assertThat(f.since()).isEqualTo("1.34"))
                .satisfies(f -> assertThat(f.exact()).isTrue());
    }

    @Test
    void floor_isExactlyWhatTheListedFeaturesNeed() {
        String needed = table.features().stream()
                .map(EnvoyFeatures.Feature::since)
                .max(EnvoyFeatures.VERSION_ORDER)
                .orElseThrow();
        assertThat(table.floor().envoy()).isEqualTo(needed);
        // The Istio floor is the first Istio whose Envoy has every feature.
        String firstIstio = table.istio().entrySet().stream()
                .filter(e -> EnvoyFeatures.VERSION_ORDER.compare(e.getValue(), needed) >= 0)
                .map(Map.Entry::getKey)
                .min(EnvoyFeatures.VERSION_ORDER)
                .orElseThrow();
        assertThat(table.floor().istio()).isEqualTo(firstIstio);
        assertThat(table.features())
                .allSatisfy(f -> assertThat(f.source()).as(f.id()).isNotBlank());
    }

    @Test
    void everyInstallDocument_statesTheFloor() throws Exception {
        String istio = "Istio ≥ " + table.floor().istio();
        String envoy = "Envoy ≥ " + table.floor().envoy();
        Pattern anyIstioFloor = Pattern.compile("Istio ≥ (1\\.[0-9]+)");
        for (String doc :
                List.of("README.md", "manifests/istio/README.md", "docs/operator-guide.md", "docs/threat-model.md")) {
            String text = Files.readString(RepoPaths.root().resolve(doc));
            assertThat(text).as(doc).contains(istio).contains(envoy);
            Matcher m = anyIstioFloor.matcher(text);
            while (m.find()) {
                assertThat(m.group(1))
                        .as("%s names another Istio floor", doc)
                        .isEqualTo(table.floor().istio());
            }
        }
    }

    @Test
    void shippedEnvoyImages_areAtLeastTheFloor() throws Exception {
        // The gateway runs its own Envoy, not Istio's proxy: its image must have every listed feature too.
        Pattern tag = Pattern.compile("envoyproxy/envoy:v([0-9]+\\.[0-9]+)\\.[0-9]+");
        for (Path file : List.of(
                RepoPaths.manifests().resolve("base/gateway.yaml"),
                RepoPaths.deployLocal().resolve("compose.yaml"))) {
            Matcher m = tag.matcher(Files.readString(file));
            assertThat(m.find())
                    .as("%s names a pinned envoyproxy/envoy image", file)
                    .isTrue();
            do {
                assertThat(EnvoyFeatures.VERSION_ORDER.compare(
                                m.group(1), table.floor().envoy()))
                        .as(
                                "%s: Envoy %s below the floor %s",
                                file, m.group(1), table.floor().envoy())
                        .isGreaterThanOrEqualTo(0);
            } while (m.find());
        }
    }

    @Test
    void installTimeCheck_enforcesTheSameFloor() throws Exception {
        String script = Files.readString(RepoPaths.manifests().resolve("scripts/check-istio-version.sh"));
        String[] floor = table.floor().istio().split("\\.");
        assertThat(script).contains("MIN_MAJOR=" + floor[0] + "\n").contains("MIN_MINOR=" + floor[1] + "\n");
    }

    @Test
    void renderedTable_matchesTheYaml() throws Exception {
        String doc = Files.readString(RepoPaths.root().resolve("docs/envoy-features.md"));
        List<String> rows = new ArrayList<>();
        for (String line : doc.lines().toList()) {
            if (line.startsWith("| `")) {
                String[] cells = line.split("\\|");
                rows.add(cells[1].trim().replace("`", "") + " " + cells[3].trim() + " " + cells[4].trim());
            }
        }
        List<String> expected = table.features().stream()
                .map(f -> f.id() + " " + f.since() + " " + (f.exact() ? "introduced" : "present"))
                .toList();
        assertThat(rows).containsExactlyElementsOf(expected);
    }
}
