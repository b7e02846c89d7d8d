package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.meshguard.audit.component.AuditConfig;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * A dropped audit record is the second-worst outcome for our users, so the spool that holds events while
 * PostgreSQL is away must outlive the pod: every autoscaled server that writes audit keeps its spool on a
 * claim of its own that survives deletion, rescheduling and scale-in, and the one-off replay Job can reach a
 * retained claim of a scaled-in replica.
 */
class AuditSpoolDurabilityTest {
    private static final String SPOOL_ENV = "MESHGUARD_AUDIT_SPOOL_DIR";
    /**
     * Writes audit only for config changes made through its admin API, which need PostgreSQL themselves; its
     * spool is an emptyDir (docs/threat-model.md says what that costs).
     */
    private static final Set<String> EPHEMERAL_SPOOL_ALLOWED = Set.of("meshguard-xds");

    private final Manifests manifests = Manifests.sources();

    private static Optional<String> env(Container c, String name) {
        return Optional.ofNullable(c.getEnv()).orElse(List.of()).stream()
                .filter(e -> e.getName().equals(name))
                .map(EnvVar::getValue)
                .findFirst();
    }

    private static VolumeMount mountAt(Container c, String path) {
        return c.getVolumeMounts().stream()
                .filter(m -> m.getMountPath().equals(path))
                .findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " mounts nothing at " + path));
    }

    @Test
    void everyAuditWriterButXds_keepsItsSpoolOnAClaimPerReplica() {
        Set<String> autoscaled = manifests
                .models("HorizontalPodAutoscaler", HorizontalPodAutoscaler.class)
                .map(h -> h.getSpec().getScaleTargetRef().getName())
                .collect(Collectors.toSet());
        List<Workload> writers = manifests
                .workloads()
                .filter(w -> env(w.template().getSpec().getContainers().getFirst(), SPOOL_ENV)
                        .isPresent())
                .toList();
        assertThat(writers)
                .extracting(Workload::name)
                .containsExactlyInAnyOrder("meshguard-extauthz", "meshguard-dlp", "meshguard-xds");
        for (Workload w : writers) {
            Container c = w.template().getSpec().getContainers().getFirst();
            VolumeMount spool = mountAt(c, env(c, SPOOL_ENV).orElseThrow());
            if (EPHEMERAL_SPOOL_ALLOWED.contains(w.name())) {
                assertThat(autoscaled)
                        .as("%s keeps a fixed replica count", w.name())
                        .doesNotContain(w.name());
                continue;
            }
            assertThat(w.kind()).as(w.name()).isEqualTo("StatefulSet");
            StatefulSet set = w.statefulSet().orElseThrow();
            // A pod volume of the same name would shadow the claim template and make the spool ephemeral again.
            assertThat(w.template().getSpec().getVolumes())
                    .extracting(v -> v.getName())
                    .as("%s pod volumes", w.name())
                    .doesNotContain(spool.getName());
            PersistentVolumeClaim claim = set.getSpec().getVolumeClaimTemplates().stream()
                    .filter(t -> t.getMetadata().getName().equals(spool.getName()))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(w.name() + ": no volumeClaimTemplate " + spool.getName()));
            assertThat(claim.getSpec().getAccessModes()).as(w.name()).containsExactly("ReadWriteOncePod");
            long spoolCap = env(c, "MESHGUARD_AUDIT_SPOOL_MAX_BYTES")
                    .map(Long::parseLong)
                    .orElse(AuditConfig.SPOOL_MAX_BYTES.defaultValue());
            BigDecimal storage = Quantity.getAmountInBytes(
                    claim.getSpec().getResources().getRequests().get("storage"));
            assertThat(storage)
                    .as("%s claim holds the spool cap %d", w.name(), spoolCap)
                    .isGreaterThan(BigDecimal.valueOf(spoolCap));
            var retention = set.getSpec().getPersistentVolumeClaimRetentionPolicy();
            assertThat(retention.getWhenScaled()).as("%s whenScaled", w.name()).isEqualTo("Retain");
            assertThat(retention.getWhenDeleted())
                    .as("%s whenDeleted", w.name())
                    .isEqualTo("Retain");
            assertThat(set.getSpec().getPodManagementPolicy()).isEqualTo("Parallel");
            Service governing = manifests.service(set.getSpec().getServiceName());
            assertThat(w.template().getMetadata().getLabels().entrySet())
                    .as("%s serviceName selects its pods", w.name())
                    .containsAll(governing.getSpec().getSelector().entrySet());
        }
    }

    @Test
    void replayJob_mountsAScaledInReplicasClaim_andRunsAuditReplayOnIt() {
        Path file = RepoPaths.manifests().resolve("ops/audit-spool-replay.yaml");
        Manifests ops = new Manifests(YamlDocuments.read(file));
        assertThat(ManifestChecks.problems(ops.all())).isEmpty();
        Job job = ops.model("Job", "meshguard-audit-replay", Job.class);
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().getFirst();

        String claim = pod.getVolumes().stream()
                .filter(v -> v.getPersistentVolumeClaim() != null)
                .findFirst()
                .orElseThrow()
                .getPersistentVolumeClaim()
                .getClaimName();
        // StatefulSet claims are named <template>-<statefulset>-<ordinal>.
        Set<String> claimPrefixes = manifests
                .models("StatefulSet", StatefulSet.class)
                .flatMap(s -> s.getSpec().getVolumeClaimTemplates().stream()
                        .map(t -> t.getMetadata().getName() + "-"
                                + s.getMetadata().getName() + "-"))
                .collect(Collectors.toSet());
        assertThat(claimPrefixes)
                .anySatisfy(p -> assertThat(claim).matches(java.util.regex.Pattern.quote(p) + "[0-9]+"));

        String mounted = c.getVolumeMounts().stream()
                .filter(m -> m.getName()
                        .equals(pod.getVolumes().stream()
                                .filter(v -> v.getPersistentVolumeClaim() != null)
                                .findFirst()
                                .orElseThrow()
                                .getName()))
                .findFirst()
                .orElseThrow()
                .getMountPath();
        assertThat(c.getArgs()).containsSequence("audit", "replay", "--spool", mounted);

        // Same identity and database settings as the servers that wrote the spool.
        Container server = manifests
                .workload("meshguard-extauthz")
                .template()
                .getSpec()
                .getContainers()
                .getFirst();
        PodSpec serverPod = manifests.workload("meshguard-extauthz").template().getSpec();
        assertThat(pod.getSecurityContext().getRunAsUser())
                .isEqualTo(serverPod.getSecurityContext().getRunAsUser());
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        for (String name : List.of("MESHGUARD_DB_URL", "MESHGUARD_DB_USER", "MESHGUARD_DB_PASSWORD_FILE")) {
            EnvVar mine = c.getEnv().stream()
                    .filter(e -> e.getName().equals(name))
                    .findFirst()
                    .orElseThrow();
            EnvVar theirs = server.getEnv().stream()
                    .filter(e -> e.getName().equals(name))
                    .findFirst()
                    .orElseThrow();
            assertThat(mine).as(name).isEqualTo(theirs);
        }
        assertThat(job.getSpec().getTemplate().getMetadata().getLabels())
                .as("the Job's pod must not join a server's Service")
                .doesNotContainEntry("app.kubernetes.io/name", "meshguard-extauthz")
                .doesNotContainEntry("app.kubernetes.io/name", "meshguard-dlp");
        Map<String, String> jobLabels =
                job.getSpec().getTemplate().getMetadata().getLabels();
        assertThat(ops.models("NetworkPolicy", io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy.class))
                .anySatisfy(np -> {
                    assertThat(jobLabels.entrySet())
                            .containsAll(np.getSpec()
                                    .getPodSelector()
                                    .getMatchLabels()
                                    .entrySet());
                    assertThat(np.getSpec().getEgress()).anySatisfy(rule -> assertThat(rule.getPorts())
                            .anySatisfy(p -> assertThat(p.getPort().getIntVal()).isEqualTo(5432)));
                });
    }
}
