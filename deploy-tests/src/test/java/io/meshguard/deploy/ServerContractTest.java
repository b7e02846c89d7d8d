package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.meshguard.db.DbConfig;
import io.meshguard.dlpserver.DlpServerSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The manifests and the compose stack set only settings the servers know, under the names the server code
 * declares, and the ports they declare are the ports the servers listen on with those settings.
 */
class ServerContractTest {
    private final Manifests manifests = Manifests.sources();

    private Container container(ServerContract server) {
        return manifests
                .workload(server.deployment())
                .template()
                .getSpec()
                .getContainers()
                .getFirst();
    }

    private static JsonNode composeServices() throws IOException {
        Object loaded = new Yaml(new LoaderOptions())
                .load(Files.readString(RepoPaths.deployLocal().resolve("compose.yaml")));
        return YamlDocuments.JSON.valueToTree(loaded).path("services");
    }

    /** The DLP server's own listener for Envoy's access logs ({@code audit.als.port}), beside its ext_proc port. */
    private static final String ACCESS_LOG_PORT = "grpc-als";

    private static int namedPort(Container container, String prefix) {
        List<ContainerPort> ports = container.getPorts().stream()
                .filter(p -> p.getName().startsWith(prefix) && !p.getName().equals(ACCESS_LOG_PORT))
                .toList();
        assertThat(ports).as("%s ports named %s*", container.getName(), prefix).hasSize(1);
        return ports.getFirst().getContainerPort();
    }

    /** Variables the server's schema does not know; those outside the known groups go to {@code unchecked}. */
    private static List<String> unknownVariables(
            ServerContract server, Set<String> variables, String where, Set<String> unchecked) {
        List<String> unknown = new ArrayList<>();
        for (String env : variables) {
            if (!server.covers(env)) {
                unchecked.add(server.deployment() + ": " + env);
            } else if (server.keyForEnv(env).isEmpty()) {
                unknown.add(where + " sets " + env + ", which " + server.deployment() + " does not read");
            }
        }
        return unknown;
    }

    @Test
    void deploymentsAndCompose_setOnlyVariablesTheServersRead() throws IOException {
        JsonNode services = composeServices();
        List<String> unknown = new ArrayList<>();
        Set<String> unchecked = new TreeSet<>();
        for (ServerContract server : ServerContract.all()) {
            unknown.addAll(unknownVariables(
                    server,
                    ServerContract.meshguardEnv(container(server)),
                    "Deployment " + server.deployment(),
                    unchecked));
            Map<String, String> composeEnv = YamlDocuments.composeEnvironment(services.path(server.composeService()));
            if (services.path(server.composeService()).has("env_file")) {
                // env files are written by make-secrets.sh: printf 'NAME=%s'
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("printf '([A-Z0-9_]+)=%s")
                        .matcher(Files.readString(RepoPaths.deployLocal().resolve("make-secrets.sh")));
                while (m.find()) {
                    composeEnv.put(m.group(1), "(env_file)");
                }
            }
            unknown.addAll(unknownVariables(
                    server,
                    ServerContract.meshguardEnv(composeEnv),
                    "compose service " + server.composeService(),
                    unchecked));
        }
        if (!unchecked.isEmpty()) {
            System.out.println(
                    "ServerContractTest: server-specific schemas not in this build, unchecked: " + unchecked);
        }
        assertThat(unknown).isEmpty();
    }

    @Test
    void containerPorts_areThePortsTheServersListenOn() {
        for (ServerContract server : ServerContract.all()) {
            Workload deployment = manifests.workload(server.deployment());
            Container c = container(server);
            int grpc = server.grpcPort(c);
            int http = server.httpPort(c);
            assertThat(namedPort(c, "grpc-"))
                    .as("%s gRPC port", server.deployment())
                    .isEqualTo(grpc);
            assertThat(namedPort(c, "http-"))
                    .as("%s HTTP port", server.deployment())
                    .isEqualTo(http);
            assertThat(c.getReadinessProbe().getGrpc().getPort()).isEqualTo(grpc);
            c.getPorts().stream()
                    .filter(p -> p.getName().equals(ACCESS_LOG_PORT))
                    .forEach(p -> assertThat(c.getEnv())
                            .as("%s access-log port", server.deployment())
                            .anySatisfy(e -> {
                                assertThat(e.getName()).isEqualTo("MESHGUARD_AUDIT_ALS_PORT");
                                assertThat(e.getValue()).isEqualTo(String.valueOf(p.getContainerPort()));
                            }));
            assertThat(deployment.template().getMetadata().getAnnotations())
                    .containsEntry("prometheus.io/port", String.valueOf(http));
        }
    }

    @Test
    void composeServices_publishThePortsTheServersListenOn() throws IOException {
        JsonNode services = composeServices();
        for (ServerContract server : ServerContract.all()) {
            JsonNode service = services.path(server.composeService());
            Map<String, String> env = YamlDocuments.composeEnvironment(service);
            int grpc = Integer.parseInt(env.getOrDefault(
                    server.grpcPortKey().envVar(), server.grpcPortKey().formattedDefault()));
            int http = Integer.parseInt(env.getOrDefault(
                    "MESHGUARD_HTTP_PORT",
                    server.schema().find("http.port").orElseThrow().formattedDefault()));
            List<String> published = new ArrayList<>();
            service.path("ports").forEach(p -> published.add(p.asText()));
            assertThat(published)
                    .as(server.composeService())
                    .contains("127.0.0.1:" + grpc + ":" + grpc, "127.0.0.1:" + http + ":" + http);
        }
    }

    @Test
    void serversStart_withTheirOwnSubcommand() throws IOException {
        JsonNode services = composeServices();
        for (ServerContract server : ServerContract.all()) {
            assertThat(container(server).getArgs()).as(server.deployment()).containsExactly(server.subcommand());
            assertThat(services.path(server.composeService())
                            .path("command")
                            .get(0)
                            .asText())
                    .isEqualTo(server.subcommand());
        }
    }

    @Test
    void policyFile_isTheGeneratedConfigMapMountedWhereTheServerLooks() {
        for (ServerContract server : ServerContract.all()) {
            if (server.policy().isEmpty()) {
                continue;
            }
            var key = server.policy().get();
            // The key's default (policies/dlp.yaml) names the file the security team edits.
            String fileName = key.defaultValue().getFileName().toString();
            Container c = container(server);
            String configured = ServerContract.env(c, key.envVar())
                    .orElseThrow(() -> new AssertionError(server.deployment() + " does not set " + key.envVar()));
            VolumeMount mount = c.getVolumeMounts().stream()
                    .filter(m -> configured.equals(m.getMountPath() + "/" + fileName))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(configured + " is not " + fileName + " in a mount"));
            String configMap = manifests.workload(server.deployment()).template().getSpec().getVolumes().stream()
                    .filter(v -> v.getName().equals(mount.getName()))
                    .findFirst()
                    .orElseThrow()
                    .getConfigMap()
                    .getName();
            var generator = GeneratedConfigMaps.named(configMap)
                    .orElseThrow(() -> new AssertionError(configMap + " is not generated"));
            // Under the file name the server looks for, read from the one copy the security team edits.
            assertThat(generator.args().getFiles())
                    .allSatisfy(f -> assertThat(f).matches("(" + fileName + "=)?[^=]*"));
            assertThat(generator.files())
                    .containsExactly(
                            RepoPaths.root().resolve(key.defaultValue()).normalize());
            assertThat(generator.args().getOptions().getDisableNameSuffixHash())
                    .as("fixed name, so the server hot-reloads instead of the pod restarting")
                    .isTrue();
        }
    }

    @Test
    void databasePassword_isReadFromTheMountedSecretFile() {
        for (ServerContract server : ServerContract.all()) {
            if (server.schema().find(DbConfig.URL.name()).isEmpty()) {
                // This server does not use PostgreSQL, so it must not be handed the credentials either.
                assertThat(ServerContract.meshguardEnv(container(server)))
                        .as(server.deployment())
                        .noneMatch(env -> env.startsWith("MESHGUARD_DB_"));
                continue;
            }
            assertThat(ServerContract.meshguardEnv(container(server)))
                    .as(server.deployment())
                    .contains(DbConfig.URL.envVar());
            assertReadFromMountedSecret(
                    server, DbConfig.PASSWORD_FILE.envVar(), DbConfig.PASSWORD.envVar(), "meshguard-db", "password");
        }
    }

    @Test
    void dlpKeys_areReadFromTheirMountedSecretFiles() {
        ServerContract dlp = ServerContract.all().stream()
                .filter(s -> s.deployment().equals("meshguard-dlp"))
                .findFirst()
                .orElseThrow();
        assertReadFromMountedSecret(
                dlp,
                DlpServerSettings.HASH_KEY_FILE.envVar(),
                DlpServerSettings.HASH_KEY.envVar(),
                "meshguard-dlp-hash-key",
                "hash-key");
        // the HMAC key of tool calls held for approval: no value variable exists, only the file
        assertReadFromMountedSecret(
                dlp,
                DlpServerSettings.APPROVAL_KEY_FILE.envVar(),
                "MESHGUARD_DLP_APPROVAL_KEY",
                "meshguard-dlp-approval-key",
                "approval-key");
    }

    /**
     * The server gets {@code fileVar} pointing into a volume of Secret {@code secretName} (its key {@code key}),
     * never the value itself in {@code valueVar}.
     */
    private void assertReadFromMountedSecret(
            ServerContract server, String fileVar, String valueVar, String secretName, String key) {
        Container c = container(server);
        PodSpec pod = manifests.workload(server.deployment()).template().getSpec();
        assertThat(ServerContract.meshguardEnv(c))
                .as(server.deployment())
                .contains(fileVar)
                .doesNotContain(valueVar);
        String file = ServerContract.env(c, fileVar).orElseThrow();
        VolumeMount mount = c.getVolumeMounts().stream()
                .filter(m -> file.startsWith(m.getMountPath() + "/"))
                .findFirst()
                .orElseThrow(() -> new AssertionError(file + " is not under a volume mount"));
        var volume = pod.getVolumes().stream()
                .filter(v -> v.getName().equals(mount.getName()))
                .findFirst()
                .orElseThrow();
        String fileName = file.substring(mount.getMountPath().length() + 1);
        // A Secret volume, or a projected one that combines Secrets (extauthz: the password and the back-office token).
        assertThat(SecretVolumes.files(volume))
                .as(fileVar + " comes from a Secret volume")
                .containsEntry(fileName, new SecretVolumes.SecretFile(secretName, key));
    }
}
