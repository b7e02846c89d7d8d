package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.meshguard.testing.IntegrationTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@code kubectl kustomize} renders from the default install, each overlay and the app-namespace kit
 * validates like the source files, and the generated ConfigMaps carry the repository's policy files unchanged.
 * Skips (with the reason) where kubectl is not installed.
 */
@IntegrationTest
class KustomizeRenderTest {
    @BeforeAll
    static void needsKubectl() {
        assumeTrue(Kustomize.available(), "kubectl is not on the PATH: kustomize rendering not checked");
    }

    static Stream<String> kustomizations() {
        return Stream.of(
                "",
                "overlays/prod",
                "overlays/dev",
                "overlays/rwo",
                "overlays/zone-hub",
                "overlays/zone",
                "overlays/zone-envoy-gateway",
                "overlays/bank",
                "app-namespace",
                "ops",
                "migrate",
                "canary");
    }

    private static List<SourcedDocument> render(String dir) throws Exception {
        if (!dir.equals("app-namespace") && !dir.equals("ops") && !dir.equals("migrate") && !dir.equals("canary")) {
            RepoPaths.assumePolicyFiles(); // the base generates its ConfigMaps from them
        }
        Path path = RepoPaths.manifests().resolve(dir);
        return YamlDocuments.parse("kubectl kustomize manifests/istio/" + dir, Kustomize.render(path));
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void renderedKustomization_parsesStrictly(String dir) throws Exception {
        List<SourcedDocument> docs = render(dir);
        assertThat(docs).isNotEmpty();
        assertThat(ManifestChecks.problems(docs)).isEmpty();
        // What a cluster gets never trusts the local development issuer.
        assertThat(docs).allSatisfy(d -> assertThat(d.node().toString())
                .as(d.source())
                .doesNotContain(KustomizationLayoutTest.DEV_ISSUER_MARKERS));
    }

    @ParameterizedTest
    @MethodSource("kustomizations")
    void renderedKustomization_hasNoNamespaceObject(String dir) throws Exception {
        // kubectl delete -k would delete the namespace and every audit spool claim in it (review item A7).
        assertThat(render(dir)).noneSatisfy(d -> assertThat(d.kind()).isEqualTo("Namespace"));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "",
                "overlays/prod",
                "overlays/dev",
                "overlays/rwo",
                "overlays/zone-hub",
                "overlays/zone",
                "overlays/zone-envoy-gateway",
                "overlays/bank"
            })
    void renderedProbes_reachAListenerOnThePodAddress(String dir) throws Exception {
        Manifests rendered = new Manifests(render(dir));
        List<String> problems = rendered.workloads()
                .flatMap(w -> ProbeReachability.problems(w, name -> rendered.ofKind("ConfigMap")
                                .filter(d -> d.name().equals(name))
                                .findFirst()
                                .map(d -> rendered.configMap(name).getData()))
                        .stream())
                .toList();
        assertThat(problems).isEmpty();
    }

    @Test
    void replayJob_runsTheImageTheInstallRuns() throws Exception {
        String installed = new Manifests(render(""))
                .statefulSet("meshguard-extauthz")
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .getFirst()
                .getImage();
        String replay = new Manifests(render("ops"))
                .model("Job", "meshguard-audit-replay", io.fabric8.kubernetes.api.model.batch.v1.Job.class)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .getFirst()
                .getImage();
        assertThat(replay).isEqualTo(installed).contains("/meshguard:");
    }

    @Test
    void migrationJob_runsTheImageTheInstallRuns_taggedWithTheMavenVersion() throws Exception {
        String installed = new Manifests(render(""))
                .statefulSet("meshguard-extauthz")
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .getFirst()
                .getImage();
        var migrate = new Manifests(render("migrate"))
                .model("Job", "meshguard-db-migrate", io.fabric8.kubernetes.api.model.batch.v1.Job.class)
                .getSpec()
                .getTemplate()
                .getSpec()
                .getContainers()
                .getFirst();
        assertThat(migrate.getImage()).isEqualTo(installed).endsWith("/meshguard:" + ReleaseVersionTest.pomVersion());
        assertThat(migrate.getArgs()).containsExactly("db", "migrate");
    }

    @Test
    void rwoOverlay_isProductionWithReadWriteOnceSpoolClaims() throws Exception {
        // For storage without ReadWriteOncePod (non-CSI): RWOP claims would stay Pending (review item A9).
        Manifests prod = new Manifests(render("overlays/prod"));
        Manifests rwo = new Manifests(render("overlays/rwo"));
        for (String name : List.of("meshguard-extauthz", "meshguard-dlp")) {
            assertThat(prod.statefulSet(name)
                            .getSpec()
                            .getVolumeClaimTemplates()
                            .getFirst()
                            .getSpec()
                            .getAccessModes())
                    .containsExactly("ReadWriteOncePod");
            assertThat(rwo.statefulSet(name)
                            .getSpec()
                            .getVolumeClaimTemplates()
                            .getFirst()
                            .getSpec()
                            .getAccessModes())
                    .containsExactly("ReadWriteOnce");
        }
        assertThat(rwo.all()).hasSameSizeAs(prod.all());
    }

    @Test
    void defaultInstall_isTheProductionOverlay() throws Exception {
        List<String> defaults =
                render("").stream().map(d -> d.node().toString()).toList();
        List<String> prod =
                render("overlays/prod").stream().map(d -> d.node().toString()).toList();
        assertThat(defaults).isEqualTo(prod);
    }

    @Test
    void policyConfigMaps_carryThePolicyFilesUnchanged() throws Exception {
        Manifests rendered = new Manifests(render(""));
        assertThat(rendered.configMap("meshguard-authz-policy").getData())
                .containsExactly(java.util.Map.entry(
                        "authz.yaml", Files.readString(RepoPaths.policies().resolve("authz.yaml"))));
        assertThat(rendered.configMap("meshguard-dlp-policy").getData())
                .containsExactly(java.util.Map.entry(
                        "dlp.yaml", Files.readString(RepoPaths.policies().resolve("dlp.yaml"))));
    }

    @Test
    void gateway_mountsTheGeneratedBootstrapConfigMap() throws Exception {
        Manifests rendered = new Manifests(render(""));
        String mounted =
                rendered.deployment("meshguard-gateway").getSpec().getTemplate().getSpec().getVolumes().stream()
                        .filter(v -> v.getName().equals("bootstrap"))
                        .findFirst()
                        .orElseThrow()
                        .getConfigMap()
                        .getName();
        // kustomize appends a content hash, so a bootstrap change rolls the gateway.
        assertThat(mounted).startsWith("meshguard-gateway-bootstrap-");
        assertThat(rendered.configMap(mounted).getData()).containsKey(ManifestChecks.BOOTSTRAP_KEY);
    }

    @Test
    void overlays_differInSizeNotInEnforcement() throws Exception {
        Manifests prod = new Manifests(render("overlays/prod"));
        Manifests dev = new Manifests(render("overlays/dev"));
        for (String name : List.of("meshguard-extauthz", "meshguard-dlp", "meshguard-xds", "meshguard-gateway")) {
            assertThat(ManifestConsistencyTest.replicaFloor(prod, prod.workload(name)))
                    .as(name)
                    .isEqualTo(3);
            assertThat(ManifestConsistencyTest.replicaFloor(dev, dev.workload(name)))
                    .as(name)
                    .isEqualTo(1);
        }
        // Prod keeps two serving through a node drain; dev's single replica must not block drains.
        assertThat(prod.models("PodDisruptionBudget", PodDisruptionBudget.class))
                .allSatisfy(pdb ->
                        assertThat(pdb.getSpec().getMinAvailable().getIntVal()).isEqualTo(2));
        assertThat(dev.models("PodDisruptionBudget", PodDisruptionBudget.class))
                .allSatisfy(pdb -> assertThat(pdb.getSpec().getMinAvailable()).isNull());
        // Both keep the audit spool of extauthz and DLP on retained per-replica claims.
        for (Manifests rendered : List.of(prod, dev)) {
            for (String name : List.of("meshguard-extauthz", "meshguard-dlp")) {
                var set = rendered.statefulSet(name);
                assertThat(set.getSpec().getVolumeClaimTemplates())
                        .extracting(t -> t.getMetadata().getName())
                        .containsExactly("audit-spool");
                assertThat(set.getSpec()
                                .getPersistentVolumeClaimRetentionPolicy()
                                .getWhenScaled())
                        .isEqualTo("Retain");
            }
        }
        for (String kind : List.of(
                "AuthorizationPolicy", "EnvoyFilter", "PeerAuthentication", "NetworkPolicy", "DestinationRule")) {
            assertThat(dev.ofKind(kind).map(d -> d.node().toString()).toList())
                    .as(kind)
                    .isEqualTo(prod.ofKind(kind).map(d -> d.node().toString()).toList());
        }
    }
}
