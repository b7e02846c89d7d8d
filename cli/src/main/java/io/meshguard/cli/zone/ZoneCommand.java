package io.meshguard.cli.zone;

import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.meshguard.envoygateway.apply.EnvoyGatewayCluster;
import io.meshguard.envoygateway.apply.EnvoyGatewayZone;
import io.meshguard.envoygateway.render.EnvoyGatewayTemplate;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.metrics.ProcessMetrics;
import io.meshguard.xds.XdsSettings;
import io.meshguard.xds.ZoneController;
import io.meshguard.xds.zone.CentralLink;
import io.meshguard.xds.zone.ZoneConfig;
import io.meshguard.xds.zone.ZoneSettings;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshguard zone --config FILE}: the xDS controller in zone mode, one per cluster. ADS for the cluster's
 * Envoys and proxyless clients on {@code xds.ads.port}; what it serves comes from central over one outbound stream
 * ({@code zone.central}) and is kept in {@code zone.state_dir}; no database. Metrics and readiness on the HTTP port.
 */
@Command(
        name = "zone",
        mixinStandardHelpOptions = true,
        description =
                "Run the xDS controller in zone mode: serve this cluster, follow central (docs/operate/run-zones.md"
                        + " \"Run zones\").")
public final class ZoneCommand implements Callable<Integer>, io.meshguard.cli.common.ServerCommand {
    @Option(
            names = "--config",
            description = "YAML config file (keys zone.*, xds.ads.*, xds.extauthz.target, http.*);"
                    + " MESHGUARD_* env vars override it.")
    Path configFile;

    public static ConfigSchema schema() {
        return ConfigSchema.builder()
                .add(XdsSettings.configGroup())
                .add(HttpServerSettings.configGroup(XdsSettings.DEFAULT_HTTP_PORT))
                .add(ZoneConfig.zone())
                .build();
    }

    /**
     * For the groups whose published template kind is {@code envoy-gateway}: the cluster's API server as the pod's
     * service account sees it (fabric8 reads the in-cluster configuration, or KUBECONFIG outside a cluster), applied
     * to under {@code meshguard-zone}. The client connects on first use: a zone whose groups are all served over ADS
     * never calls the API server.
     */
    private static EnvoyGatewayZone envoyGateway(
            ZoneConfig.EnvoyGateway settings, XdsSettings xds, ProcessMetrics metrics) {
        return new EnvoyGatewayZone(
                EnvoyGatewayTemplate.defaults()
                        .withXffNumTrustedHops(xds.filterTargets().xffNumTrustedHops()),
                new EnvoyGatewayCluster(new KubernetesClientBuilder().build(), settings.drift()),
                settings.interval(),
                metrics.forServer("xds"),
                java.time.Clock.systemUTC());
    }

    @Override
    public Integer call() throws Exception {
        Config config = ConfigLoader.load(schema(), Optional.ofNullable(configFile), System.getenv());
        XdsSettings xds = XdsSettings.configGroup().read(config);
        ZoneSettings zone = ZoneConfig.zone().read(config);
        ProcessMetrics metrics = ProcessMetrics.create();
        Optional<EnvoyGatewayZone> envoyGateway =
                Optional.of(envoyGateway(ZoneConfig.envoyGateway(config), xds, metrics));
        ZoneController controller = new ZoneController(
                zone,
                new InetSocketAddress(xds.adsBind(), xds.adsPort()),
                xds.filterTargets(),
                xds.defaultGroup(),
                xds.adsPeers(),
                metrics.forServer("xds"),
                envoyGateway,
                xds.vhdsCluster());
        StatusHttpServer http = new StatusHttpServer(
                "zone-http",
                HttpServerSettings.configGroup(XdsSettings.DEFAULT_HTTP_PORT).read(config),
                metrics.registry());
        http.addReadinessChecks(java.util.List.of(ReadinessCheck.of("zone:serving", () -> {
            // ready as soon as it serves: a zone that cannot reach central keeps serving what it holds
            CentralLink.State link = controller.link();
            String central = link.refused()
                    .map(r -> "central refused this zone: " + r)
                    .orElse(link.connected() ? "following central" : "central unreachable, serving what it holds");
            return ReadinessCheck.Result.ready(
                    "groups served: " + controller.core().snapshots().groups() + "; " + central);
        })));
        CountDownLatch stopped = new CountDownLatch(1);
        controller.start();
        http.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            http.close();
            try {
                controller.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stopped.countDown();
        }));
        System.out.printf(
                "zone %s: ADS %s:%d, following %s, state in %s, metrics on HTTP port %d%n",
                zone.cluster(), xds.adsBind(), controller.adsPort(), zone.central(), zone.stateDir(), http.port());
        stopped.await();
        return 0;
    }
}
