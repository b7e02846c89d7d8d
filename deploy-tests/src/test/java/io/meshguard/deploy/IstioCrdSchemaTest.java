package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every Istio object meshguard ships conforms to Istio's CRD schema, walked strictly. The schemas live in the
 * team's shared folder beside the clone; the test skips with a message where it is absent (a user's clone).
 */
class IstioCrdSchemaTest {
    private static IstioCrdSchemas schemas;

    @BeforeAll
    static void loadSchemas() {
        Path file = RepoPaths.shared()
                .map(s -> s.resolve("schemas/istio/customresourcedefinitions.gen.yaml"))
                .filter(Files::isRegularFile)
                .orElse(null);
        assumeTrue(file != null, "../shared/schemas/istio is not present: Istio CRD schema check skipped");
        schemas = IstioCrdSchemas.load(file);
    }

    @Test
    void schemas_coverTheIstioKindsWeShip() {
        assertThat(schemas.size()).isGreaterThan(10);
        for (String kind : List.of(
                "security.istio.io/v1 AuthorizationPolicy",
                "security.istio.io/v1 PeerAuthentication",
                "networking.istio.io/v1 DestinationRule",
                "networking.istio.io/v1alpha3 EnvoyFilter",
                "telemetry.istio.io/v1 Telemetry")) {
            String[] parts = kind.split(" ");
            assertThat(schemas.schemaFor(parts[0], parts[1])).as(kind).isPresent();
        }
    }

    @Test
    void shippedIstioObjects_conformToTheCrdSchemas() {
        List<SourcedDocument> istio = Manifests.sources().all().stream()
                .filter(d -> d.apiVersion().contains(".istio.io/"))
                .toList();
        assertThat(istio).hasSizeGreaterThanOrEqualTo(8);
        assertThat(istio.stream().flatMap(d -> schemas.problems(d).stream()).toList())
                .isEmpty();
    }

    @Test
    void ambientKit_conformsToTheCrdSchemas_asWrittenAndAsRenderedForANamespace() throws Exception {
        List<SourcedDocument> kit = YamlDocuments.filesUnder(
                        RepoPaths.manifests().resolve("ambient/kit"))
                .stream()
                .filter(f -> !f.getFileName().toString().equals("kustomization.yaml"))
                .flatMap(f -> YamlDocuments.read(f).stream())
                .filter(d -> d.apiVersion().contains(".istio.io/"))
                .toList();
        // CUSTOM + L4 ALLOW, the DLP EnvoyFilter, the access log, STRICT
        assertThat(kit).hasSize(5);
        assertThat(kit.stream().flatMap(d -> schemas.problems(d).stream()).toList())
                .isEmpty();
        if (Kustomize.available()) {
            List<SourcedDocument> rendered = YamlDocuments.parse(
                            "ambient/example-namespace (rendered)",
                            Kustomize.render(RepoPaths.manifests().resolve("ambient/example-namespace")))
                    .stream()
                    .filter(d -> d.apiVersion().contains(".istio.io/"))
                    .toList();
            assertThat(rendered).hasSize(5);
            assertThat(rendered.stream()
                            .flatMap(d -> schemas.problems(d).stream())
                            .toList())
                    .isEmpty();
            assertThat(ManifestChecks.problems(rendered)).isEmpty();
        }
    }

    @Test
    void misspelledField_andUnknownEnumValue_areReported() {
        SourcedDocument bad = YamlDocuments.parse("inline.yaml", """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: p}
                spec:
                  action: CUSTOMX
                  rule: [{}]
                """).getFirst();
        assertThat(schemas.problems(bad))
                .anySatisfy(p -> assertThat(p).contains("/spec/action").contains("CUSTOMX"))
                .anySatisfy(p -> assertThat(p).contains("/spec/rule is not in the schema"));
    }
}
