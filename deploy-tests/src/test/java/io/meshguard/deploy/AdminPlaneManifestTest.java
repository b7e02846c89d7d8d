package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.meshguard.access.AdminAccessSettings;
import io.meshguard.catalog.api.CatalogSettings;
import io.meshguard.console.ConsoleConfig;
import io.meshguard.runtime.config.ConfigKey;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The production controller carries the admin plane's sign-in, console and catalogue settings: each key
 * is set on meshguard-xds, from the ConfigMap meshguard-admin-plane (a key it has) or as a file under a mount of the
 * documented Secret meshguard-admin-oidc, and the role bindings file is the shipped {@code policies/access.yaml}.
 */
class AdminPlaneManifestTest {
    private final Manifests manifests = Manifests.sources();

    private Workload xds() {
        return manifests.workload("meshguard-xds");
    }

    private EnvVar env(ConfigKey<?> key) {
        Container c = xds().template().getSpec().getContainers().getFirst();
        return c.getEnv().stream()
                .filter(e -> e.getName().equals(key.envVar()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("meshguard-xds does not set " + key.envVar()));
    }

    /** The volume mounted above {@code file} and the path of the file inside it. */
    private Map.Entry<Volume, String> volumeHolding(String file) {
        Container c = xds().template().getSpec().getContainers().getFirst();
        VolumeMount mount = c.getVolumeMounts().stream()
                .filter(m -> file.startsWith(m.getMountPath() + "/"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no volume mounted above " + file));
        Volume volume = xds().template().getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals(mount.getName()))
                .findFirst()
                .orElseThrow();
        return Map.entry(volume, file.substring(mount.getMountPath().length() + 1));
    }

    @Test
    void settings_comeFromTheAdminPlaneConfigMap_whichHasEveryKeyTheyName() {
        Map<String, String> data = manifests.configMap("meshguard-admin-plane").getData();
        for (ConfigKey<?> key : List.of(
                AdminAccessSettings.ISSUER,
                AdminAccessSettings.AUDIENCE,
                ConsoleConfig.CLIENT_ID,
                ConsoleConfig.PUBLIC_URL,
                CatalogSettings.DOMAIN,
                CatalogSettings.KEYCLOAK_URL,
                CatalogSettings.KEYCLOAK_REALM,
                CatalogSettings.KEYCLOAK_CLIENT_ID,
                CatalogSettings.KEYCLOAK_AUDIENCE)) {
            EnvVar e = env(key);
            assertThat(e.getValueFrom()).as(key.name()).isNotNull();
            assertThat(e.getValueFrom().getConfigMapKeyRef().getName()).isEqualTo("meshguard-admin-plane");
            assertThat(e.getValueFrom().getConfigMapKeyRef().getKey())
                    .as("named after the config key")
                    .isEqualTo(key.name());
            assertThat(data).as("meshguard-admin-plane").containsKey(key.name());
        }
        // the shipped domain is one the catalogue accepts: the controller starts with the defaults
        new CatalogSettings(data.get(CatalogSettings.DOMAIN.name()), Optional.empty());
    }

    @Test
    void shippedCatalogDomain_isTheHostOfTheShippedProductsRule() throws Exception {
        // products are served under {product}.{environment}.{region}.api.<catalog.domain>: a domain no rule of the
        // shipped policy covers denies every product request of a fresh install
        String domain = manifests.configMap("meshguard-admin-plane").getData().get(CatalogSettings.DOMAIN.name());
        assertThat(Files.readString(RepoPaths.policies().resolve("authz.yaml")))
                .as("policies/authz.yaml has a rule for *.api.%s", domain)
                .contains("'*.api." + domain + "'");
    }

    @Test
    void clientSecrets_areFilesOfTheAdminOidcSecret() {
        for (ConfigKey<?> key :
                List.of(ConsoleConfig.CLIENT_SECRET_FILE, CatalogSettings.KEYCLOAK_CLIENT_SECRET_FILE)) {
            Map.Entry<Volume, String> held = volumeHolding(env(key).getValue());
            SecretVolumes.SecretFile file = SecretVolumes.files(held.getKey()).get(held.getValue());
            assertThat(file).as(key.name()).isNotNull();
            assertThat(file.secret()).isEqualTo("meshguard-admin-oidc");
            assertThat(ManifestConsistencyTest.DOCUMENTED_SECRETS).contains(file.secret());
        }
    }

    @Test
    void roleBindings_areTheShippedAccessFile() throws Exception {
        Map.Entry<Volume, String> held =
                volumeHolding(env(AdminAccessSettings.ACCESS_FILE).getValue());
        String configMap = held.getKey().getConfigMap().getName();
        GeneratedConfigMaps.Generator generator = GeneratedConfigMaps.named(configMap)
                .orElseThrow(() -> new AssertionError(configMap + " is not generated"));
        assertThat(generator.data().get(held.getValue()))
                .isEqualTo(Files.readString(RepoPaths.policies().resolve("access.yaml")));
    }
}
