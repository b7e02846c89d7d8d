package io.meshguard.deploy.box;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Each injected pod's {@code istio-proxy} ({@link IstioProxy}): its configuration and launch, per cluster. */
final class Sidecars {
    private Sidecars() {
    }

    /** The sidecar's launch and the nftables redirects of the pod's inbound ports. */
    record Sidecar(Launch launch, String redirects) {
    }

    /**
     * The pod's sidecar configuration: every declared container port but Istio's own and the annotation's excluded
     * ones, each peer's decision.
     */
    static Sidecar of(BoxPod pod, IstioAuthorization istio,
            java.util.function.Function<String, Map<String, String>> namespaceLabels, List<BoxPod> pods,
            String nodeAddress, Path boxDir, String hosts, String classpath) throws IOException {
        java.util.Set<String> excluded = java.util.Set.of(pod.annotations()
                .getOrDefault("traffic.sidecar.istio.io/excludeInboundPorts", "").split("\\s*,\\s*"));
        StringBuilder config = new StringBuilder();
        StringBuilder redirects = new StringBuilder();
        String proxyConfig = pod.annotations().getOrDefault("proxy.istio.io/config", "");
        config.append("self spiffe://").append(IstioAuthorization.principal(pod, namespaceLabels).orElseThrow())
                .append('\n');
        config.append("xfcc ").append(proxyConfig.matches("(?s).*\"forwardedClientCert\"\\s*:\\s*\"SANITIZE_SET\".*")
                ? "SANITIZE_SET" : "NONE").append('\n');
        for (var port : Optional.ofNullable(pod.container().getPorts()).orElse(List.of())) {
            int n = port.getContainerPort();
            if (excluded.contains(Integer.toString(n)) || n == 15020 || n == 15021) {
                continue;
            }
            String name = Optional.ofNullable(port.getName()).orElse("");
            config.append("port ").append(n).append(' ').append(name.startsWith("grpc") ? "grpc" : "tcp").append('\n');
            redirects.append("    iif \"eth0\" ip saddr != ").append(nodeAddress).append(" tcp dport ")
                    .append(n).append(" redirect to :").append(n + IstioProxy.OFFSET).append('\n');
            for (BoxPod peer : pods) {
                if (peer == pod) {
                    continue;
                }
                IstioAuthorization.Decision d = istio.decide(pod, n,
                        IstioAuthorization.principal(peer, namespaceLabels), peer.ip());
                config.append(d.allowed() ? "allow " : "deny ").append(n).append(' ').append(peer.ip()).append(' ')
                        .append(d.allowed() ? d.peerPrincipal().orElse("-") : d.reason()).append('\n');
            }
        }
        Path dir = boxDir.resolve(pod.namespace() + "_" + pod.name() + "_istio-proxy");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("sidecar.conf"), config);
        return new Sidecar(new Launch(pod.name() + "/istio-proxy", pod.netns(), List.of(),
                hosts, false, Optional.empty(), Map.of(),
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx96m",
                        "-XX:TieredStopAtLevel=1", "-cp", classpath,
                        IstioProxy.class.getName(), dir.resolve("sidecar.conf").toString()), dir),
                redirects.toString());
    }

}
