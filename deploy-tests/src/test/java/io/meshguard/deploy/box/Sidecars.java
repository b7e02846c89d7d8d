package io.meshguard.deploy.box;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Each injected pod's {@code istio-proxy} ({@link IstioProxy}): its configuration and launch, per cluster. */
final class Sidecars {
    private Sidecars() {}

    /** The sidecar's launch and the nftables redirects of the pod's inbound ports. */
    record Sidecar(Launch launch, String redirects) {}

    /**
     * The pod's sidecar configuration: every declared container port but Istio's own and the annotation's excluded
     * ones, each peer's decision with mTLS and in plaintext. With {@code outbound} (the outbound half's routes) a
     * connection is mTLS only when a sidecar marked it (DSCP CS1) and runs as Istio's uid 1337, which the pod's capture
     * rules leave alone; without it (a cluster whose outbound half is not modelled) every connection from a pod
     * counts as mTLS from the pod at its source address.
     */
    static Sidecar of(
            BoxPod pod,
            IstioAuthorization istio,
            java.util.function.Function<String, Map<String, String>> namespaceLabels,
            List<BoxPod> pods,
            String nodeAddress,
            Path boxDir,
            String hosts,
            String classpath,
            Optional<String> outbound)
            throws IOException {
        return of(pod, istio, Optional.empty(), namespaceLabels, pods, nodeAddress, boxDir, hosts, classpath, outbound);
    }

    /**
     * As above, with the HTTP filters of Istio's inbound chain ({@code extensions}): a port whose container port is
     * named {@code http*} gets the CUSTOM provider's ext_authz where a CUSTOM policy matches a peer and the ext_proc
     * of an EnvoyFilter that selects the pod; either on any other port (gRPC, TCP), or without {@code extensions},
     * fails the pod (not modelled).
     */
    static Sidecar of(
            BoxPod pod,
            IstioAuthorization istio,
            Optional<IstioExtensions> extensions,
            java.util.function.Function<String, Map<String, String>> namespaceLabels,
            List<BoxPod> pods,
            String nodeAddress,
            Path boxDir,
            String hosts,
            String classpath,
            Optional<String> outbound)
            throws IOException {
        java.util.function.Predicate<String> knownCluster = cluster -> {
            String[] c = cluster.split("\\|");
            return c.length == 4
                    && c[0].equals("outbound")
                    && outbound.isPresent()
                    && outbound.get().contains("\nvhost " + c[1] + " " + c[3] + " ");
        };
        Optional<io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor> extProc =
                extensions.flatMap(e -> e.extProc(pod, knownCluster));
        Optional<io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz> extAuthz = Optional.empty();
        java.util.Set<String> excluded = java.util.Set.of(pod.annotations()
                .getOrDefault("traffic.sidecar.istio.io/excludeInboundPorts", "")
                .split("\\s*,\\s*"));
        StringBuilder config = new StringBuilder();
        StringBuilder redirects = new StringBuilder();
        String proxyConfig = pod.annotations().getOrDefault("proxy.istio.io/config", "");
        config.append("self spiffe://")
                .append(IstioAuthorization.principal(pod, namespaceLabels).orElseThrow())
                .append('\n');
        config.append("xfcc ")
                .append(
                        proxyConfig.matches("(?s).*\"forwardedClientCert\"\\s*:\\s*\"SANITIZE_SET\".*")
                                ? "SANITIZE_SET"
                                : "NONE")
                .append('\n');
        String mtlsMark = outbound.isPresent() ? " ip dscp cs1" : "";
        for (var port : Optional.ofNullable(pod.container().getPorts()).orElse(List.of())) {
            int n = port.getContainerPort();
            if (excluded.contains(Integer.toString(n)) || n == 15020 || n == 15021) {
                continue;
            }
            String name = Optional.ofNullable(port.getName()).orElse("");
            StringBuilder decisions = new StringBuilder();
            Optional<String> provider = Optional.empty();
            for (BoxPod peer : pods) {
                if (peer == pod) {
                    continue;
                }
                IstioAuthorization.Decision d =
                        istio.decide(pod, n, IstioAuthorization.principal(peer, namespaceLabels), peer.ip());
                decisions
                        .append(d.allowed() ? "allow " : "deny ")
                        .append(n)
                        .append(' ')
                        .append(peer.ip())
                        .append(' ')
                        .append(d.allowed() ? d.peerPrincipal().orElse("-") : d.reason())
                        .append('\n');
                if (d.customProvider().isPresent()) {
                    decisions
                            .append("custom ")
                            .append(n)
                            .append(' ')
                            .append(peer.ip())
                            .append('\n');
                    provider = d.customProvider();
                }
                if (outbound.isPresent()) {
                    IstioAuthorization.Decision plain = istio.decide(pod, n, Optional.empty(), peer.ip());
                    decisions
                            .append(plain.allowed() ? "plain-allow " : "plain-deny ")
                            .append(n)
                            .append(' ')
                            .append(peer.ip())
                            .append(plain.allowed() ? "" : " " + plain.reason())
                            .append('\n');
                    if (plain.customProvider().isPresent()) {
                        decisions
                                .append("plain-custom ")
                                .append(n)
                                .append(' ')
                                .append(peer.ip())
                                .append('\n');
                        provider = plain.customProvider();
                    }
                }
            }
            boolean http = name.startsWith("http") && (provider.isPresent() || extProc.isPresent());
            if ((provider.isPresent() || extProc.isPresent()) && !http) {
                throw new IllegalStateException(
                        (provider.isPresent() ? "the CUSTOM provider " + provider.get() : "an ext_proc EnvoyFilter")
                                + " applies to " + pod.describe() + " port " + n + " ('" + name
                                + "'): only HTTP/1.1 ports (named http*) are modelled by the box");
            }
            if (provider.isPresent()) {
                if (extensions.isEmpty()) {
                    throw new IllegalStateException("the CUSTOM provider " + provider.get() + " selects "
                            + pod.describe() + ": ext_authz is not modelled in this cluster");
                }
                extAuthz = Optional.of(extensions.get().extAuthz(provider.get()));
                String[] c = extAuthz.get()
                        .getGrpcService()
                        .getEnvoyGrpc()
                        .getClusterName()
                        .split("\\|");
                if (!knownCluster.test(
                        extAuthz.get().getGrpcService().getEnvoyGrpc().getClusterName())) {
                    throw new IllegalStateException("the CUSTOM provider " + provider.get() + "'s cluster outbound|"
                            + c[1] + "||" + c[3] + " is no HTTP route of " + pod.describe() + "'s sidecar");
                }
            }
            config.append("port ")
                    .append(n)
                    .append(' ')
                    .append(name.startsWith("grpc") ? "grpc" : http ? "http" : "tcp")
                    .append('\n');
            redirects
                    .append("    iif \"eth0\" ip saddr != ")
                    .append(nodeAddress)
                    .append(mtlsMark)
                    .append(" tcp dport ")
                    .append(n)
                    .append(" redirect to :")
                    .append(n + IstioProxy.OFFSET)
                    .append('\n');
            if (outbound.isPresent()) {
                redirects
                        .append("    iif \"eth0\" ip saddr != ")
                        .append(nodeAddress)
                        .append(" tcp dport ")
                        .append(n)
                        .append(" redirect to :")
                        .append(n + IstioProxy.PLAINTEXT_OFFSET)
                        .append('\n');
            }
            config.append(decisions);
        }
        if (extAuthz.isPresent() || extProc.isPresent()) {
            for (BoxPod peer : pods) {
                IstioAuthorization.principal(peer, namespaceLabels).ifPresent(id -> config.append("identity ")
                        .append(peer.ip())
                        .append(' ')
                        .append(id)
                        .append('\n'));
            }
        }
        java.util.Base64.Encoder b64 = java.util.Base64.getEncoder();
        extAuthz.ifPresent(c -> config.append("extauthz ")
                .append(b64.encodeToString(c.toByteArray()))
                .append('\n'));
        extProc.ifPresent(c -> config.append("extproc ")
                .append(b64.encodeToString(c.toByteArray()))
                .append('\n'));
        config.append("timeout-scale ").append(Kubelet.SCALE).append('\n');
        outbound.ifPresent(config::append);
        Path conf = configFile(boxDir, pod);
        Path dir = conf.getParent();
        Files.createDirectories(dir);
        Files.writeString(conf, config);
        List<String> argv = new java.util.ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx96m"));
        if (outbound.isPresent()) {
            argv.add("-Djava.net.preferIPv4Stack=true"); // IP_TOS, the box's mTLS mark, on an IPv4 socket
        }
        argv.addAll(List.of("-XX:TieredStopAtLevel=1", "-cp", classpath, IstioProxy.class.getName(), conf.toString()));
        // as Istio's proxy: uid 1337, which the pod's capture rules leave alone
        Optional<String> user = outbound.map(o -> IstioOutboundRoutes.PROXY_UID + ":" + IstioOutboundRoutes.PROXY_UID);
        return new Sidecar(
                new Launch(
                        pod.name() + "/istio-proxy", pod.netns(), List.of(), hosts, false, user, Map.of(), argv, dir),
                redirects.toString());
    }

    /** Where the pod's sidecar reads its config at start. */
    static Path configFile(Path boxDir, BoxPod pod) {
        return boxDir.resolve(pod.namespace() + "_" + pod.name() + "_istio-proxy")
                .resolve("sidecar.conf");
    }
}
