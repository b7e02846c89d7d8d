package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The schema migration Job (manifests/istio/migrate): runs {@code meshguard db migrate} in the install's image, with
 * the schema owner's Secret, outside the install so a server rollout never waits on it.
 */
class MigrationJobTest {
    private final Manifests migrate =
            new Manifests(YamlDocuments.read(RepoPaths.manifests().resolve("migrate/db-migrate.yaml")));
    private final Manifests install = Manifests.sources();

    @Test
    void job_parsesStrictly_andRunsDbMigrateInTheInstallsImage() {
        assertThat(ManifestChecks.problems(migrate.all())).isEmpty();
        Job job = migrate.model("Job", "meshguard-db-migrate", Job.class);
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().getFirst();

        assertThat(c.getImage())
                .isEqualTo("meshguard")
                .isEqualTo(install.workload("meshguard-xds")
                        .template()
                        .getSpec()
                        .getContainers()
                        .getFirst()
                        .getImage());
        assertThat(c.getArgs()).containsExactly("db", "migrate");
        assertThat(pod.getRestartPolicy()).isEqualTo("Never");
        assertThat(job.getSpec().getTemplate().getMetadata().getAnnotations())
                .as("a sidecar would keep the Job from completing")
                .containsEntry("sidecar.istio.io/inject", "false");
    }

    @Test
    void job_usesTheOwnersSecret_withTheServersSettingNames_andTheServersUser() {
        Job job = migrate.model("Job", "meshguard-db-migrate", Job.class);
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        Container c = pod.getContainers().getFirst();
        Container server = install.workload("meshguard-xds")
                .template()
                .getSpec()
                .getContainers()
                .getFirst();
        PodSpec serverPod = install.workload("meshguard-xds").template().getSpec();

        for (String name : List.of("MESHGUARD_DB_URL", "MESHGUARD_DB_USER", "MESHGUARD_DB_PASSWORD_FILE")) {
            EnvVar mine = c.getEnv().stream()
                    .filter(e -> e.getName().equals(name))
                    .findFirst()
                    .orElseThrow();
            assertThat(server.getEnv()).as("the servers read %s too", name).anySatisfy(e -> assertThat(e.getName())
                    .isEqualTo(name));
            if (mine.getValueFrom() != null) {
                assertThat(mine.getValueFrom().getSecretKeyRef().getName()).isEqualTo("meshguard-db-owner");
            }
        }
        assertThat(pod.getVolumes())
                .flatExtracting(v -> SecretVolumes.files(v).values())
                .extracting(SecretVolumes.SecretFile::secret)
                .contains("meshguard-db-owner", "meshguard-db-ca")
                .doesNotContain("meshguard-db");
        assertThat(pod.getSecurityContext().getRunAsUser())
                .isEqualTo(serverPod.getSecurityContext().getRunAsUser());
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    }

    @Test
    void job_mayReachPostgreSQL_throughItsOwnNetworkPolicy() {
        Map<String, String> labels = migrate.model("Job", "meshguard-db-migrate", Job.class)
                .getSpec()
                .getTemplate()
                .getMetadata()
                .getLabels();
        assertThat(migrate.models("NetworkPolicy", NetworkPolicy.class)).anySatisfy(np -> {
            assertThat(labels.entrySet())
                    .containsAll(np.getSpec().getPodSelector().getMatchLabels().entrySet());
            assertThat(np.getSpec().getEgress()).anySatisfy(rule -> assertThat(rule.getPorts())
                    .anySatisfy(p -> assertThat(p.getPort().getIntVal()).isEqualTo(5432)));
        });
    }
}
