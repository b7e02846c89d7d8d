package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.ValidationResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/local cannot run here (no Docker engine), so the compose file is read the way compose reads it
 * (SnakeYAML, merge keys resolved) and checked: only compose-spec keys, loopback-only ports, the Envoy bootstrap
 * strict and pointing at the xds service, the servers configured like their Kubernetes Deployments, the policies
 * mounted from the repository, secrets created by the script and ignored by git.
 */
class LocalStackTest {
    /** The compose-spec service keys this file may use; anything else is a typo compose would reject. */
    private static final Set<String> SERVICE_KEYS = Set.of(
            "image",
            "build",
            "command",
            "entrypoint",
            "environment",
            "env_file",
            "ports",
            "expose",
            "volumes",
            "secrets",
            "depends_on",
            "healthcheck",
            "restart",
            "read_only",
            "cap_drop",
            "security_opt",
            "tmpfs",
            "user",
            "network_mode");

    private static final Set<String> TOP_KEYS = Set.of("name", "services", "secrets", "volumes", "networks");

    /** Compose service → Kubernetes Deployment of the same server. */
    private static final Map<String, String> SERVERS =
            Map.of("extauthz", "meshguard-extauthz", "dlp", "meshguard-dlp", "xds", "meshguard-xds");

    private static final Path DIR = RepoPaths.deployLocal();

    private static JsonNode compose() throws IOException {
        Object loaded = new Yaml(new LoaderOptions()).load(Files.readString(DIR.resolve("compose.yaml")));
        return YamlDocuments.JSON.valueToTree(loaded);
    }

    /** Variable names make-secrets.sh writes into the env files ({@code printf 'NAME=%s'}). */
    private static Set<String> envFileVariables() throws IOException {
        Set<String> names = new TreeSet<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("printf '([A-Z0-9_]+)=%s")
                .matcher(Files.readString(DIR.resolve("make-secrets.sh")));
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    @Test
    void composeFile_usesOnlyComposeSpecKeys() throws IOException {
        JsonNode compose = compose();
        compose.fieldNames().forEachRemaining(key -> assertThat(key.startsWith("x-") || TOP_KEYS.contains(key))
                .as("top-level key %s", key)
                .isTrue());
        compose.path("services")
                .properties()
                .forEach(service -> service.getValue().fieldNames().forEachRemaining(key -> assertThat(SERVICE_KEYS)
                        .as("service %s", service.getKey())
                        .contains(key)));
        assertThat(compose.path("services").fieldNames())
                .toIterable()
                .contains("postgres", "extauthz", "dlp", "xds", "envoy", "demo-upstream", "dev-jwks");
    }

    @Test
    void publishedPorts_bindLoopbackOnly() throws IOException {
        compose().path("services").properties().forEach(service -> service.getValue()
                .path("ports")
                .forEach(port -> assertThat(port.asText())
                        .as("%s publishes", service.getKey())
                        .startsWith("127.0.0.1:")));
    }

    @Test
    void envoyBootstrap_parsesStrictlyAndReachesTheXdsService() throws IOException {
        JsonNode services = compose().path("services");
        String mount = services.path("envoy").path("volumes").get(0).asText();
        assertThat(mount).startsWith("./envoy-bootstrap.yaml:");
        Path file = DIR.resolve("envoy-bootstrap.yaml");
        Bootstrap bootstrap = EnvoyProtos.bootstrap(
                file.toString(), YamlDocuments.read(file).getFirst().node());
        SocketAddress xds = EnvoyProtos.firstStaticEndpoint(bootstrap);
        assertThat(services.has(xds.getAddress()))
                .as("compose service %s", xds.getAddress())
                .isTrue();
        ServerContract server = ServerContract.all().stream()
                .filter(c -> c.composeService().equals(xds.getAddress()))
                .findFirst()
                .orElseThrow();
        assertThat(YamlDocuments.composeEnvironment(services.path(xds.getAddress())))
                .containsEntry(server.grpcPortKey().envVar(), String.valueOf(xds.getPortValue()));
        // VHDS comes through the same cluster as ADS (docs/gateway-envoy-config.md §11)
        assertThat(YamlDocuments.composeEnvironment(services.path(xds.getAddress()))
                        .get(io.meshguard.xds.XdsSettings.VHDS_CLUSTER.envVar()))
                .isEqualTo(bootstrap.getStaticResources().getClusters(0).getName());
        assertThat(EnvoyProtos.adsClusterName(bootstrap))
                .isEqualTo(bootstrap.getStaticResources().getClusters(0).getName());
    }

    @Test
    void servers_areConfiguredLikeTheirKubernetesDeployments() throws IOException {
        JsonNode services = compose().path("services");
        Manifests manifests = Manifests.sources();
        Set<String> fromEnvFiles = envFileVariables();
        SERVERS.forEach((service, deployment) -> {
            Map<String, String> local = YamlDocuments.composeEnvironment(services.path(service));
            if (services.path(service).has("env_file")) {
                fromEnvFiles.forEach(name -> local.put(name, "(env_file)"));
            }
            Container container = manifests
                    .workload(deployment)
                    .template()
                    .getSpec()
                    .getContainers()
                    .getFirst();
            Set<String> cluster = new TreeSet<>();
            for (EnvVar e : container.getEnv()) {
                if (e.getName().startsWith("MESHGUARD_")) {
                    cluster.add(e.getName());
                    if (e.getValue() != null && e.getName().endsWith("_PORT")) {
                        assertThat(local).as(service).containsEntry(e.getName(), e.getValue());
                    }
                }
            }
            Set<String> onlyInCluster = new HashSet<>(cluster);
            onlyInCluster.removeAll(local.keySet());
            // Only the cluster tunes the shutdown (readiness and sidecars) and grants ADS to mesh identities; the
            // compose stack has no mesh, so it alone runs ADS as explicit local development. Everything else is
            // the same settings.
            Set<String> clusterOnly =
                    new HashSet<>(ServerContract.forDeployment(deployment).stopEnv());
            clusterOnly.add(XdsSettings.ADS_GROUP_IDENTITIES.envVar());
            // a bank's identity provider behind its own CA (the optional Secret meshguard-idp-ca); compose's dev
            // issuer is served by the stack itself
            clusterOnly.add(io.meshguard.extauthz.server.ExtAuthzConfig.JWKS_TLS_CA_FILE.envVar());
            // and signs people in at the organisation's IdP (the ConfigMap meshguard-admin-plane); compose runs the
            // admin plane in local mode, on the admin token file; only the cluster signs trail checkpoints (compose
            // has no Secret for the key and warns that checkpoints are off)
            Stream.of(
                            io.meshguard.access.AdminAccessSettings.configGroup(),
                            io.meshguard.console.ConsoleConfig.configGroup(),
                            io.meshguard.catalog.api.CatalogSettings.configGroup(),
                            io.meshguard.audit.trail.TrailCheckpointSettings.configGroup())
                    .flatMap(g -> g.keys().stream())
                    .forEach(k -> clusterOnly.add(k.envVar()));
            // the cluster's servers have data rights only and the migrate Job applies the schema; compose's
            // controller, as the owner, migrates at start
            clusterOnly.add(XdsSettings.MIGRATE_ON_START.envVar());
            // the cluster names the proxies whose access logs count (their verified mesh identities); compose has no
            // mesh and runs the receiver as local development (any peer)
            clusterOnly.add(io.meshguard.audit.component.AuditConfig.ALS_SENDERS.envVar());
            assertThat(onlyInCluster).as(service).isSubsetOf(clusterOnly);
            Set<String> localOnly = new HashSet<>(local.keySet());
            localOnly.remove(XdsSettings.ADS_LOCAL_DEVELOPMENT_ANY_PEER.envVar());
            localOnly.remove(io.meshguard.audit.component.AuditConfig.ALS_PEER_IDENTITY.envVar());
            assertThat(cluster).as(service).containsAll(localOnly);
            assertThat(services.path(service).path("command").get(0).asText())
                    .isEqualTo(container.getArgs().getFirst());
        });
    }

    @Test
    void hostPortSettings_nameComposeServicesAndTheirPorts() throws IOException {
        JsonNode services = compose().path("services");
        services.properties().forEach(service -> YamlDocuments.composeEnvironment(service.getValue())
                .forEach((name, value) -> {
                    if (name.endsWith("_TARGET")) {
                        String[] hostPort = value.split(":");
                        assertThat(services.has(hostPort[0]))
                                .as("%s names service %s", name, hostPort[0])
                                .isTrue();
                        ServerContract target = ServerContract.all().stream()
                                .filter(c -> c.composeService().equals(hostPort[0]))
                                .findFirst()
                                .orElseThrow();
                        // Envoy's access logs go to the receiver's own port where the service has one
                        Map<String, String> targetEnv = YamlDocuments.composeEnvironment(services.path(hostPort[0]));
                        String als = io.meshguard.audit.component.AuditConfig.ALS_PORT.envVar();
                        String portKey = name.equals("MESHGUARD_XDS_ACCESS_LOG_TARGET") && targetEnv.containsKey(als)
                                ? als
                                : target.grpcPortKey().envVar();
                        assertThat(targetEnv).as(name).containsEntry(portKey, hostPort[1]);
                    }
                }));
    }

    @Test
    void dlpPolicy_isMountedFromTheRepository() throws IOException {
        RepoPaths.assumePolicyFiles();
        JsonNode dlp = compose().path("services").path("dlp");
        String[] mount = dlp.path("volumes").get(0).asText().split(":");
        assertThat(DIR.resolve(mount[0]).normalize())
                .isEqualTo(RepoPaths.policies().normalize());
        String policyFile = YamlDocuments.composeEnvironment(dlp).get("MESHGUARD_DLP_POLICY");
        assertThat(policyFile).startsWith(mount[1] + "/");
        assertThat(RepoPaths.policies().resolve(policyFile.substring(mount[1].length() + 1)))
                .isRegularFile();
    }

    /**
     * extauthz enforces the dev policy that make-secrets.sh generates with {@code meshguard dev init} into
     * {@code secrets/dev-issuer/} (cli's ComposeDevIssuerTest runs that command and checks the file layout against
     * these mounts), and fetches the dev JWKS from the dev-jwks service on its own loopback.
     */
    @Test
    void extauthz_enforcesTheGeneratedDevPolicy_andReachesTheDevJwksOnItsLoopback() throws IOException {
        JsonNode services = compose().path("services");
        JsonNode extauthz = services.path("extauthz");
        String[] mount = extauthz.path("volumes").get(0).asText().split(":");
        assertThat(mount[0]).isEqualTo("./secrets/dev-issuer/policy");
        assertThat(mount[2]).isEqualTo("ro");
        assertThat(YamlDocuments.composeEnvironment(extauthz))
                .containsEntry("MESHGUARD_POLICY_FILE", mount[1] + "/authz.yaml");

        String script = Files.readString(DIR.resolve("make-secrets.sh"));
        java.util.regex.Matcher init = java.util.regex.Pattern.compile(
                        "meshguard\"? dev init --data-dir \"\\$dir\" .*--jwks-uri (\\S+)")
                .matcher(script);
        assertThat(init.find())
                .as("make-secrets.sh runs meshguard dev init into secrets/")
                .isTrue();
        java.net.URI jwksUri = java.net.URI.create(init.group(1));
        assertThat(jwksUri.getHost()).isEqualTo("127.0.0.1");

        JsonNode jwks = services.path("dev-jwks");
        assertThat(jwks.path("network_mode").asText()).isEqualTo("service:extauthz");
        List<String> command = new java.util.ArrayList<>();
        jwks.path("command").forEach(c -> command.add(c.asText()));
        assertThat(command)
                .containsSequence("http.server", String.valueOf(jwksUri.getPort()))
                .containsSequence("--bind", "127.0.0.1");
        String root = command.get(command.indexOf("--directory") + 1);
        String[] jwksMount = jwks.path("volumes").get(0).asText().split(":");
        // Only the public half: the private key stays on the host.
        assertThat(jwksMount[0]).isEqualTo("./secrets/dev-issuer/public");
        assertThat(jwksMount[1] + "/jwks.json").isEqualTo(root + jwksUri.getPath());
        services.properties()
                .forEach(service -> service.getValue().path("volumes").forEach(v -> assertThat(v.asText())
                        .as(service.getKey())
                        .doesNotStartWith("./secrets/dev-issuer:")
                        .doesNotStartWith("./secrets:")
                        .doesNotContain("signing-key")));
    }

    @Test
    void secrets_comeFromTheScriptAndStayOutOfGit() throws IOException {
        JsonNode compose = compose();
        String script = Files.readString(DIR.resolve("make-secrets.sh"));
        compose.path("secrets").properties().forEach(secret -> {
            String file = secret.getValue().path("file").asText();
            assertThat(file).startsWith("./secrets/");
            assertThat(script).contains(file.substring("./secrets/".length()));
        });
        compose.path("services")
                .properties()
                .forEach(service -> service.getValue().path("env_file").forEach(f -> {
                    assertThat(f.asText()).startsWith("./secrets/");
                    assertThat(script).contains(f.asText().substring("./secrets/".length()));
                }));
        assertThat(Files.readAllLines(DIR.resolve(".gitignore"))).contains("secrets/");
        compose.path("services").properties().forEach(service -> service.getValue()
                .path("secrets")
                .forEach(name -> assertThat(compose.path("secrets").has(name.asText()))
                        .as("secret %s", name)
                        .isTrue()));
    }

    @Test
    void demoUpstream_scriptIsMounted() throws IOException {
        JsonNode upstream = compose().path("services").path("demo-upstream");
        String[] mount = upstream.path("volumes").get(0).asText().split(":");
        String script = upstream.path("command").get(2).asText();
        assertThat(script).startsWith(mount[1] + "/");
        assertThat(DIR.resolve(mount[0]).resolve(script.substring(mount[1].length() + 1)))
                .isRegularFile();
    }

    @Test
    void demoGatewayConfig_isValidForTheXdsControllerAndMatchesTheBootstrap() throws IOException {
        GatewayConfig config = ConfigJson.readConfig(Files.readString(DIR.resolve("gateway.json")));
        ValidationResult result = new ConfigValidator().validate(config);
        assertThat(result.errors()).isEmpty();
        Path bootstrapFile = DIR.resolve("envoy-bootstrap.yaml");
        Bootstrap bootstrap = EnvoyProtos.bootstrap(
                bootstrapFile.toString(),
                YamlDocuments.read(bootstrapFile).getFirst().node());
        JsonNode services = compose().path("services");
        // The local Envoy joins the group named by its node.cluster and listens where compose publishes 8080.
        assertThat(config.group(bootstrap.getNode().getCluster())).hasValueSatisfying(group -> assertThat(
                        services.path("envoy").path("ports").toString())
                .contains(":" + group.listenerPort() + ":" + group.listenerPort()));
        config.upstreams().forEach(upstream -> upstream.endpoints()
                .forEach(endpoint -> assertThat(services.has(endpoint.address()))
                        .as(endpoint.address())
                        .isTrue()));
    }
}
