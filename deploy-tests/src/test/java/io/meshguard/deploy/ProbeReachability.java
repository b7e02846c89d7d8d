package io.meshguard.deploy;

import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.fabric8.kubernetes.api.model.ConfigMapVolumeSource;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.meshguard.runtime.config.ConfigKey;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Where each probe of a pod lands, and whether something listens there on an address the probe can reach.
 * Istio rewrites HTTP and gRPC probes to pilot-agent, which dials the <em>pod IP</em> (istio/istio
 * {@code pilot/cmd/pilot-agent/status/server.go}: {@code appProbersDestination: config.PodIP}; localhost only with
 * {@code REWRITE_PROBE_LEGACY_LOCALHOST_DESTINATION}); without the rewrite the kubelet dials the pod IP too. A
 * port bound only to loopback therefore refuses every probe: the pod is never Ready and liveness restarts it.
 *
 * <p>What listens where is read from the real config: for an Envoy container the bootstrap it is started with
 * (admin address and static listeners), for a meshguard server the {@code *.bind}/{@code *.port} keys of its
 * config schema with the container's environment applied, for Redis the {@code redis.conf} it is started with.
 */
final class ProbeReachability {
    private ProbeReachability() {}

    /**
     * Problems of every probe of {@code workload}; {@code configMapData} gives the data of a ConfigMap by the name a
     * volume refers to (a generated file for the sources, the rendered object for kustomize output).
     */
    static List<String> problems(Workload workload, Function<String, Optional<Map<String, String>>> configMapData) {
        List<String> problems = new ArrayList<>();
        for (Container c : workload.template().getSpec().getContainers()) {
            String where = workload.kind() + "/" + workload.name() + " container " + c.getName();
            Map<Integer, String> listening;
            try {
                listening = listeners(workload, c, configMapData);
            } catch (ManifestException e) {
                problems.add(where + ": " + e.getMessage());
                continue;
            }
            for (Map.Entry<String, Probe> probe : probes(c).entrySet()) {
                if (probe.getValue().getExec() != null) {
                    problems.addAll(execProblems(where + " " + probe.getKey(), probe.getValue(), listening));
                    continue;
                }
                int port = port(c, probe.getValue());
                String bound = listening.get(port);
                if (bound == null) {
                    problems.add(where + " " + probe.getKey() + " probes port " + port + ", where nothing listens ("
                            + listening + ")");
                } else if (isLoopback(bound)) {
                    problems.add(where + " " + probe.getKey() + " probes port " + port + ", bound only to " + bound
                            + ": pilot-agent and the kubelet dial the pod IP, so the probe always fails");
                }
            }
        }
        return problems;
    }

    /**
     * An exec probe runs inside the container (the kubelet execs it; Istio rewrites only HTTP and gRPC probes), so
     * loopback is fine: what matters is that the {@code redis-cli} it runs dials a port the server listens on, on an
     * address it is bound to.
     */
    private static List<String> execProblems(String where, Probe probe, Map<Integer, String> listening) {
        String command = String.join(" ", probe.getExec().getCommand());
        java.util.regex.Matcher cli =
                java.util.regex.Pattern.compile("redis-cli(?<args>[^|;&]*)").matcher(command);
        if (!cli.find()) {
            return List.of(where + " runs no redis-cli; only redis-cli exec probes are modelled: " + command);
        }
        String args = cli.group("args");
        int port = flag(args, "-p").map(Integer::parseInt).orElse(6379);
        String host = flag(args, "-h").orElse("127.0.0.1");
        String bound = listening.get(port);
        if (bound == null) {
            return List.of(where + " pings port " + port + ", where nothing listens (" + listening + ")");
        }
        boolean covers = java.util.Arrays.stream(bound.trim().split("\\s+"))
                .anyMatch(a -> a.equals("0.0.0.0") || a.equals("*") || a.equals(host));
        return covers ? List.of() : List.of(where + " pings " + host + ":" + port + ", but the server binds " + bound);
    }

    private static Optional<String> flag(String args, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?:^|\\s)" + name + "\\s+(\\S+)")
                .matcher(args);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }

    static boolean isLoopback(String address) {
        String a = address.trim().toLowerCase(java.util.Locale.ROOT);
        return a.startsWith("127.") || a.equals("::1") || a.equals("[::1]") || a.equals("localhost");
    }

    private static Map<String, Probe> probes(Container c) {
        Map<String, Probe> probes = new LinkedHashMap<>();
        if (c.getStartupProbe() != null) {
            probes.put("startupProbe", c.getStartupProbe());
        }
        if (c.getReadinessProbe() != null) {
            probes.put("readinessProbe", c.getReadinessProbe());
        }
        if (c.getLivenessProbe() != null) {
            probes.put("livenessProbe", c.getLivenessProbe());
        }
        return probes;
    }

    private static int port(Container c, Probe probe) {
        if (probe.getGrpc() != null) {
            return probe.getGrpc().getPort();
        }
        IntOrString port = probe.getHttpGet() != null
                ? probe.getHttpGet().getPort()
                : probe.getTcpSocket() != null ? probe.getTcpSocket().getPort() : null;
        if (port == null) {
            throw new ManifestException(c.getName() + ": exec probes are not checked; use httpGet, grpc or tcpSocket");
        }
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        return c.getPorts().stream()
                .filter(p -> port.getStrVal().equals(p.getName()))
                .findFirst()
                .orElseThrow(() ->
                        new ManifestException(c.getName() + " probes the undeclared port name " + port.getStrVal()))
                .getContainerPort();
    }

    /** Port → bind address of everything the container listens on. */
    private static Map<Integer, String> listeners(
            Workload workload, Container c, Function<String, Optional<Map<String, String>>> configMapData) {
        if (c.getImage() != null && c.getImage().startsWith("envoyproxy/")) {
            return envoyListeners(envoyBootstrap(workload, c, configMapData));
        }
        if (workload.name().equals("meshguard-xds-zone")) {
            return serverListeners(ServerContract.zone(), c);
        }
        if (ManifestConsistencyTest.SERVERS.containsKey(workload.name())) {
            return serverListeners(ServerContract.forDeployment(workload.name()), c);
        }
        if (c.getImage() != null && c.getImage().startsWith("redis:")) {
            RedisConf conf = RedisConf.of(workload, c, configMapData);
            return Map.of(conf.port(), conf.bind());
        }
        throw new ManifestException("no listener model for image " + c.getImage());
    }

    static Map<Integer, String> envoyListeners(Bootstrap bootstrap) {
        Map<Integer, String> out = new LinkedHashMap<>();
        if (bootstrap.hasAdmin()) {
            SocketAddress admin = bootstrap.getAdmin().getAddress().getSocketAddress();
            out.put(admin.getPortValue(), admin.getAddress());
        }
        for (Listener l : bootstrap.getStaticResources().getListenersList()) {
            SocketAddress a = l.getAddress().getSocketAddress();
            out.put(a.getPortValue(), a.getAddress());
        }
        return out;
    }

    /** The bootstrap named by {@code --config-path}/{@code -c}, read from the ConfigMap volume mounted there. */
    private static Bootstrap envoyBootstrap(
            Workload workload, Container c, Function<String, Optional<Map<String, String>>> configMapData) {
        List<String> args = new ArrayList<>(Optional.ofNullable(c.getCommand()).orElse(List.of()));
        args.addAll(Optional.ofNullable(c.getArgs()).orElse(List.of()));
        int i = Math.max(args.indexOf("--config-path"), args.indexOf("-c"));
        if (i < 0 || i + 1 >= args.size()) {
            throw new ManifestException("Envoy started without --config-path");
        }
        String path = args.get(i + 1);
        VolumeMount mount = c.getVolumeMounts().stream()
                .filter(m -> path.startsWith(m.getMountPath() + "/"))
                .findFirst()
                .orElseThrow(() -> new ManifestException("no volume mounted at " + path));
        String key = path.substring(mount.getMountPath().length() + 1);
        ConfigMapVolumeSource source = workload.template().getSpec().getVolumes().stream()
                .filter(v -> v.getName().equals(mount.getName()))
                .map(Volume::getConfigMap)
                .findFirst()
                .orElseThrow(() -> new ManifestException("volume " + mount.getName() + " is not a ConfigMap"));
        String yaml = configMapData
                .apply(source.getName())
                .map(data -> data.get(key))
                .orElseThrow(() -> new ManifestException("ConfigMap " + source.getName() + " has no " + key));
        String where = "ConfigMap " + source.getName() + " " + key;
        return EnvoyProtos.bootstrap(
                where, YamlDocuments.parse(where, yaml).getFirst().node());
    }

    /** Each {@code <group>.port} key of the server's schema with its {@code <group>.bind} key, as the pod sets them. */
    static Map<Integer, String> serverListeners(ServerContract server, Container c) {
        Map<Integer, String> out = new LinkedHashMap<>();
        for (ConfigKey<?> key : server.schema().keys()) {
            if (!key.name().endsWith(".port")) {
                continue;
            }
            String bindName = key.name().substring(0, key.name().length() - ".port".length()) + ".bind";
            Optional<ConfigKey<?>> bind = server.schema().find(bindName);
            if (bind.isEmpty()) {
                continue; // a port the server dials (a database, say), not one it listens on
            }
            Object port = server.value(c, key);
            Object address = server.value(c, bind.get());
            out.put(((Number) port).intValue(), String.valueOf(address));
        }
        return out;
    }
}
