package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.istio.api.api.security.v1beta1.AuthorizationPolicyAction;
import io.fabric8.istio.api.security.v1.AuthorizationPolicy;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.meshguard.extauthz.redis.RedisConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The shared Redis of the global rate limits, as the manifests wire it: extauthz reads the url and password the way
 * {@link RedisConfig} names them (the names come from the code, not from this test), from the Secret the README tells
 * operators to create; only extauthz reaches an in-cluster Redis (NetworkPolicy, Istio identity); the dev overlay's
 * Redis probes what it really listens on, with the password, and is hardened like the servers.
 */
class RedisManifestsTest {
    static final String SECRET = "meshguard-redis";
    static final String REDIS = "meshguard-redis";
    private static final Path DEV = RepoPaths.manifests().resolve("overlays/dev");

    /** The base and the app-namespace kit (what every install gets) plus the dev overlay's Redis. */
    private final Manifests manifests = new Manifests(
            Stream.concat(Manifests.sources().all().stream(), YamlDocuments.read(DEV.resolve("redis.yaml")).stream())
                    .toList());

    private static Optional<Map<String, String>> devConfigMap(String name) {
        return GeneratedConfigMaps.of(DEV).stream()
                .filter(g -> g.name().equals(name))
                .findFirst()
                .map(GeneratedConfigMaps.Generator::data);
    }

    private static Container container(Workload workload) {
        return workload.template().getSpec().getContainers().getFirst();
    }

    private Workload redis() {
        return manifests.workload(REDIS);
    }

    private Workload extauthz() {
        return manifests.workload("meshguard-extauthz");
    }

    private int redisPort() {
        return container(redis()).getPorts().stream()
                .filter(p -> p.getName().equals("tcp-redis"))
                .findFirst()
                .map(ContainerPort::getContainerPort)
                .orElseThrow(() -> new AssertionError("no port tcp-redis"));
    }

    /** The Secret and key a file under one of {@code workload}'s mounts comes from. */
    private static Optional<SecretVolumes.SecretFile> secretFileAt(Workload workload, String file) {
        Container c = container(workload);
        Optional<VolumeMount> mount = c.getVolumeMounts().stream()
                .filter(m -> file.startsWith(m.getMountPath() + "/"))
                .findFirst();
        if (mount.isEmpty()) {
            return Optional.empty();
        }
        Volume volume = workload.template().getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals(mount.get().getName()))
                .findFirst()
                .orElseThrow();
        return Optional.ofNullable(SecretVolumes.files(volume)
                .get(file.substring(mount.get().getMountPath().length() + 1)));
    }

    @Test
    void extauthz_readsUrlAndPasswordFileUnderRedisConfigsNames_fromTheRedisSecret() {
        Container c = container(extauthz());
        ServerContract server = ServerContract.forDeployment("meshguard-extauthz");
        for (var key : List.of(RedisConfig.URL, RedisConfig.PASSWORD_FILE)) {
            assertThat(server.keyForEnv(key.envVar()))
                    .as("%s is a key extauthz reads", key.envVar())
                    .isPresent();
        }
        EnvVar url = c.getEnv().stream()
                .filter(e -> e.getName().equals(RedisConfig.URL.envVar()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("extauthz sets no " + RedisConfig.URL.envVar()));
        assertThat(url.getValueFrom().getSecretKeyRef().getName()).isEqualTo(SECRET);
        assertThat(url.getValueFrom().getSecretKeyRef().getKey()).isEqualTo("url");
        assertThat(url.getValueFrom().getSecretKeyRef().getOptional())
                .as("no Secret, no start")
                .isNotEqualTo(Boolean.TRUE);

        String passwordFile =
                ServerContract.env(c, RedisConfig.PASSWORD_FILE.envVar()).orElseThrow();
        assertThat(secretFileAt(extauthz(), passwordFile))
                .as("%s is mounted from the Secret", passwordFile)
                .contains(new SecretVolumes.SecretFile(SECRET, "password"));
        // The password is a file, never a variable (kubectl describe, /proc/<pid>/environ, crash dumps).
        assertThat(ServerContract.meshguardEnv(c)).doesNotContain(RedisConfig.PASSWORD.envVar());
    }

    @Test
    void privateCaPath_theReadmeNames_isMountedFromTheRedisSecret() throws Exception {
        String readme = Files.readString(RepoPaths.manifests().resolve("README.md"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                        RedisConfig.TLS_CA_FILE.envVar() + "[^/\n]*(/[^\\s}\"'`]+)")
                .matcher(readme);
        assertThat(m.find())
                .as("README names %s and its path", RedisConfig.TLS_CA_FILE.envVar())
                .isTrue();
        assertThat(secretFileAt(extauthz(), m.group(1)))
                .as(m.group(1))
                .contains(new SecretVolumes.SecretFile(SECRET, "ca.crt"));
    }

    @Test
    void redisNetworkPolicy_admitsOnlyExtauthzPodsOnTheRedisPort_andGivesRedisNoEgress() {
        NetworkPolicy policy = manifests.model("NetworkPolicy", REDIS, NetworkPolicy.class);
        Map<String, String> selector = policy.getSpec().getPodSelector().getMatchLabels();
        assertThat(selectedBy(selector)).as("selects the Redis pod alone").containsExactly(REDIS);
        assertThat(policy.getSpec().getPolicyTypes()).containsExactlyInAnyOrder("Ingress", "Egress");
        assertThat(policy.getSpec().getEgress()).as("Redis dials nothing").isNullOrEmpty();

        assertThat(policy.getSpec().getIngress()).singleElement().satisfies(rule -> {
            assertThat(rule.getPorts())
                    .extracting(NetworkPolicyPort::getPort)
                    .singleElement()
                    .satisfies(p -> assertThat(p.getIntVal()).isEqualTo(redisPort()));
            NetworkPolicyPeer peer = rule.getFrom().getFirst();
            assertThat(rule.getFrom()).hasSize(1);
            assertThat(peer.getNamespaceSelector()).as("same namespace only").isNull();
            assertThat(peer.getIpBlock()).isNull();
            Map<String, String> from = peer.getPodSelector().getMatchLabels();
            assertThat(from).isNotEmpty();
            assertThat(selectedBy(from)).containsExactly("meshguard-extauthz");
        });

        // ... and extauthz may dial that port (its own policy is default-deny for egress).
        NetworkPolicy extauthz = manifests.model("NetworkPolicy", "meshguard-extauthz", NetworkPolicy.class);
        assertThat(extauthz.getSpec().getEgress()).anySatisfy(rule -> assertThat(rule.getPorts())
                .anySatisfy(p -> assertThat(p.getPort().getIntVal()).isEqualTo(redisPort())));
    }

    @Test
    void redisAuthorizationPolicy_admitsOnlyExtauthzsMeshIdentity() {
        AuthorizationPolicy policy =
                manifests.model("AuthorizationPolicy", "meshguard-redis-callers", AuthorizationPolicy.class);
        assertThat(policy.getSpec().getAction()).isEqualTo(AuthorizationPolicyAction.ALLOW);
        assertThat(redis().template().getMetadata().getLabels().entrySet())
                .containsAll(policy.getSpec().getSelector().getMatchLabels().entrySet());
        String principal = "cluster.local/ns/" + extauthz().metadata().getNamespace() + "/sa/"
                + extauthz().template().getSpec().getServiceAccountName();
        assertThat(policy.getSpec().getRules()).singleElement().satisfies(rule -> {
            assertThat(rule.getFrom())
                    .singleElement()
                    .satisfies(f -> assertThat(f.getSource().getPrincipals()).containsExactly(principal));
            assertThat(rule.getTo()).singleElement().satisfies(t -> assertThat(
                            t.getOperation().getPorts())
                    .containsExactly(String.valueOf(redisPort())));
        });
    }

    @Test
    void devRedisService_isDeclaredPlainTcpToIstio_onThePortRedisListensOn() {
        Service service = manifests.service(REDIS);
        assertThat(redis().template().getMetadata().getLabels().entrySet())
                .containsAll(service.getSpec().getSelector().entrySet());
        RedisConf conf = RedisConf.of(redis(), container(redis()), RedisManifestsTest::devConfigMap);
        ServicePort port = service.getSpec().getPorts().getFirst();
        assertThat(service.getSpec().getPorts()).hasSize(1);
        // "tcp-" and appProtocol tcp: no protocol sniffing, never Envoy's redis_proxy (PILOT_ENABLE_REDIS_FILTER).
        assertThat(port.getName()).startsWith("tcp-");
        assertThat(port.getAppProtocol()).isEqualTo("tcp");
        assertThat(port.getTargetPort().getStrVal()).isEqualTo("tcp-redis");
        assertThat(redisPort()).isEqualTo(conf.port());
        // The Secret's url (README) names this Service and port.
        assertThat(readme()).contains("redis://" + REDIS + ".meshguard.svc.cluster.local:" + port.getPort());
    }

    @Test
    void devRedis_probesPingWithThePassword_onTheAddressAndPortItListensOn() {
        Workload redis = redis();
        Container c = container(redis);
        assertThat(ProbeReachability.problems(redis, RedisManifestsTest::devConfigMap))
                .isEmpty();
        String passwordFile = "/var/run/secrets/meshguard/redis/password";
        assertThat(secretFileAt(redis, passwordFile)).contains(new SecretVolumes.SecretFile(SECRET, "password"));
        for (var probe : List.of(c.getReadinessProbe(), c.getLivenessProbe())) {
            String command = String.join(" ", probe.getExec().getCommand());
            // redis-cli exits 0 on an error reply (NOAUTH, LOADING): only PONG may count as alive.
            assertThat(command)
                    .contains("REDISCLI_AUTH=\"$(cat " + passwordFile + ")\"")
                    .endsWith("| grep -qx PONG");
        }
        // The server is started with the same password file.
        assertThat(String.join(" ", c.getArgs())).contains("$(cat " + passwordFile + ")");
    }

    @Test
    void aProbePingingAnotherPort_isReported() {
        Workload redis = redis();
        var probe = container(redis).getReadinessProbe();
        probe.getExec()
                .setCommand(probe.getExec().getCommand().stream()
                        .map(s -> s.replace("-p 6379", "-p 6380"))
                        .toList());
        assertThat(ProbeReachability.problems(redis, RedisManifestsTest::devConfigMap))
                .singleElement()
                .asString()
                .contains("pings port 6380, where nothing listens");
    }

    @Test
    void devRedis_persistsNothing_writesOnlyToItsVolumes_andStaysBelowItsMemoryLimit() {
        Workload redis = redis();
        Container c = container(redis);
        RedisConf conf = RedisConf.of(redis, c, RedisManifestsTest::devConfigMap);
        assertThat(conf.get("save")).contains("\"\"");
        assertThat(conf.get("appendonly")).contains("no");
        // Istio delivers inbound connections to the pod IP: a loopback-only Redis would refuse extauthz.
        assertThat(conf.bind().split("\\s+")).noneMatch(ProbeReachability::isLoopback);
        // readOnlyRootFilesystem: the working dir and the file holding requirepass are emptyDirs; the latter in memory.
        Map<String, Volume> volumes = new java.util.HashMap<>();
        redis.template().getSpec().getVolumes().forEach(v -> volumes.put(v.getName(), v));
        java.util.function.Function<String, Volume> volumeAt = path -> c.getVolumeMounts().stream()
                .filter(m -> path.equals(m.getMountPath()) || path.startsWith(m.getMountPath() + "/"))
                .map(m -> volumes.get(m.getName()))
                .findFirst()
                .orElseThrow(() -> new AssertionError("nothing mounted at " + path));
        assertThat(volumeAt.apply(conf.get("dir").orElseThrow()).getEmptyDir()).isNotNull();
        Volume auth = volumeAt.apply(conf.get("include").orElseThrow());
        assertThat(auth.getEmptyDir().getMedium()).isEqualTo("Memory");
        assertThat(String.join(" ", c.getArgs()))
                .contains("> " + conf.get("include").orElseThrow())
                .contains("exec redis-server " + conf.path());

        long maxMemory = parseRedisBytes(conf.get("maxmemory").orElseThrow());
        long limit = Quantity.getAmountInBytes(c.getResources().getLimits().get("memory"))
                .longValueExact();
        assertThat(maxMemory)
                .as("maxmemory leaves Redis room below the container limit")
                .isLessThan(limit * 4 / 5);
        assertThat(conf.get("maxmemory-policy")).contains("volatile-ttl");
    }

    @Test
    void devRedis_isHardenedLikeTheServers_andRunsOnePodAtATime() {
        ManifestConsistencyTest.assertHardened(redis());
        var deployment = manifests.deployment(REDIS);
        assertThat(deployment.getSpec().getReplicas()).isEqualTo(1);
        // Two Redis pods behind one Service would split every limiter's counters.
        assertThat(deployment.getSpec().getStrategy().getType()).isEqualTo("Recreate");
        assertThat(manifests.ofKind("ServiceAccount").map(SourcedDocument::name))
                .contains(redis().template().getSpec().getServiceAccountName());
    }

    @Test
    void readme_documentsTheRedisSecret_andTheOperatorGuideItsSizing() throws Exception {
        assertThat(readme())
                .contains("kubectl -n meshguard create secret generic " + SECRET)
                .contains("--from-literal=url=")
                .contains("--from-literal=password=");
        String guide = Files.readString(RepoPaths.operatorGuidePage("day-to-day.md"));
        // Managed Redis over TLS with the key extauthz reads a private CA from; sizing and the eviction alert.
        assertThat(guide)
                .contains("rediss://")
                .contains(RedisConfig.TLS_CA_FILE.name())
                .contains("cluster mode off")
                .contains("bytes per")
                .contains("evicted_keys");
    }

    private static String readme() {
        try {
            return Files.readString(RepoPaths.manifests().resolve("README.md"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Redis's memory units: {@code 96mb} = 96 × 1024², {@code 1gb}, {@code 512kb}, or plain bytes. */
    static long parseRedisBytes(String value) {
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("(\\d+)(kb|mb|gb|k|m|g)?").matcher(value.toLowerCase());
        if (!m.matches()) {
            throw new AssertionError("not a Redis memory size: " + value);
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2);
        return switch (unit) {
            case "kb" -> n * 1024;
            case "mb" -> n * 1024 * 1024;
            case "gb" -> n * 1024 * 1024 * 1024;
            case "k" -> n * 1000;
            case "m" -> n * 1000 * 1000;
            case "g" -> n * 1000 * 1000 * 1000;
            default -> n;
        };
    }

    /** The workloads whose pod labels hold every label of {@code selector}. */
    private java.util.stream.Stream<String> selectedBy(Map<String, String> selector) {
        return manifests
                .workloads()
                .filter(w -> w.template().getMetadata().getLabels().entrySet().containsAll(selector.entrySet()))
                .map(Workload::name);
    }
}
