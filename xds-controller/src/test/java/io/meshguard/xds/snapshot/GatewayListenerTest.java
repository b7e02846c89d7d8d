package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.ext_authz.v3.ExtAuthz;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The Envoy gateway's connection manager, read back strictly through Envoy's own types: path and header hygiene,
 * edge settings, and what really bounds the filter calls. Sources for each setting: docs/gateway-envoy-config.md.
 */
class GatewayListenerTest {
    private static final FilterTargets TARGETS = new FilterTargets(
            "meshguard-extauthz.meshguard:9001",
            "meshguard-dlp.meshguard:9002",
            "meshguard-dlp.meshguard:9002",
            Duration.ofMillis(1500));

    static GroupResources demo() throws Exception {
        GatewayConfig config = ConfigJson.readConfig(Files.readString(Path.of("../deploy/local/gateway.json")));
        return new SnapshotBuilder(TARGETS).build(config, "local");
    }

    static HttpConnectionManager envoyHcm(GroupResources r) throws Exception {
        Listener l = BuiltResources.listener(r, "http-8080");
        Listener parsed =
                EnvoyJson.parse(EnvoyJson.print(l), Any.newBuilder()).build().unpack(Listener.class);
        assertThat(parsed).isEqualTo(l);
        return parsed.getFilterChains(0).getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class);
    }

    /**
     * Published class "path-matcher charset differentials" at the rendered edge (Istio GHSA / CVE-2021-31920,
     * opa-envoy-plugin GHSA-9f29-v6mm-pw6w): one canonical path before any filter; extauthz refuses the rest.
     */
    @Test
    void pathCharsetDifferentials_pathsNormalised_slashesMerged_andEscapedSlashesRefused() throws Exception {
        HttpConnectionManager hcm = envoyHcm(demo());
        assertThat(hcm.getNormalizePath().getValue()).isTrue();
        assertThat(hcm.getMergeSlashes()).isTrue();
        assertThat(hcm.getPathWithEscapedSlashesAction())
                .isEqualTo(HttpConnectionManager.PathWithEscapedSlashesAction.REJECT_REQUEST);
    }

    @Test
    void headersWithUnderscores_areRefused() throws Exception {
        assertThat(envoyHcm(demo()).getCommonHttpProtocolOptions().getHeadersWithUnderscoresAction())
                .isEqualTo(HttpProtocolOptions.HeadersWithUnderscoresAction.REJECT_REQUEST);
    }

    @Test
    void edge_mintsTheRequestId_neverKeepsTheClients() throws Exception {
        HttpConnectionManager hcm = envoyHcm(demo());
        assertThat(hcm.hasGenerateRequestId()).isTrue();
        assertThat(hcm.getGenerateRequestId().getValue()).isTrue();
        assertThat(hcm.getPreserveExternalRequestId()).isFalse();
        // an edge request is one from a non-internal client, and only loopback is internal
        assertThat(hcm.getUseRemoteAddress().getValue()).isTrue();
        assertThat(hcm.getInternalAddressConfig().getCidrRangesList())
                .extracting(r -> r.getAddressPrefix())
                .containsExactly("127.0.0.1", "::1");
    }

    /**
     * Published class "client-sent {@code x-envoy-*} headers" in the xDS-rendered config (Envoy GHSA-ffhv-fvxq-r6mf /
     * CVE-2024-45806: every RFC 1918 client counted as internal and its x-envoy-* headers were obeyed): the edge
     * trusts the socket address and only loopback is internal, so Envoy strips them from every other client.
     */
    @Test
    void clientSentEnvoyHeaders_edgeTrustsTheSocketAddress_andOnlyLoopbackIsInternal() throws Exception {
        HttpConnectionManager hcm = envoyHcm(demo());
        assertThat(hcm.getUseRemoteAddress().getValue()).isTrue();
        assertThat(hcm.getXffNumTrustedHops()).isZero();
        // one LB in front (xds.gateway.xff_num_trusted_hops: 1) reaches the HCM: Envoy's verdict is extauthz's client
        GatewayConfig config = ConfigJson.readConfig(Files.readString(Path.of("../deploy/local/gateway.json")));
        GroupResources behindLb = new SnapshotBuilder(new FilterTargets(
                        TARGETS.extAuthz(), TARGETS.dlp(), TARGETS.accessLog(), TARGETS.filterTimeout(), 1))
                .build(config, "local");
        assertThat(envoyHcm(behindLb).getXffNumTrustedHops()).isEqualTo(1);
        assertThat(hcm.getInternalAddressConfig().getCidrRangesList())
                .extracting(c -> c.getAddressPrefix() + "/" + c.getPrefixLen().getValue())
                .containsExactly("127.0.0.1/32", "::1/128");
        assertThat(hcm.getHttp2ProtocolOptions().getMaxConcurrentStreams().getValue())
                .isEqualTo(100);
        assertThat(hcm.getStreamIdleTimeout().getSeconds()).isEqualTo(300);
    }

    @Test
    void extAuthz_isBoundedByItsTimeout_andFailsClosedWith503() throws Exception {
        HttpConnectionManager hcm = envoyHcm(demo());
        ExtAuthz authz = BuiltResources.filter(hcm, "envoy.filters.http.ext_authz", ExtAuthz.class);
        assertThat(authz.getFailureModeAllow()).isFalse();
        assertThat(authz.getGrpcService().getTimeout().getSeconds() * 1000
                        + authz.getGrpcService().getTimeout().getNanos() / 1_000_000)
                .isEqualTo(1500);
        assertThat(authz.getStatusOnError().getCodeValue()).isEqualTo(503);
    }

    @Test
    void extProc_emitsNoDeadConfig_underFullDuplexStreaming() throws Exception {
        HttpConnectionManager hcm = envoyHcm(demo());
        ExternalProcessor dlp = BuiltResources.filter(hcm, "envoy.filters.http.ext_proc", ExternalProcessor.class);
        // processor_state.cc starts no message timer and ext_proc.cc ignores mode_override under FULL_DUPLEX_STREAMED
        assertThat(dlp.hasMessageTimeout()).isFalse();
        assertThat(dlp.getAllowModeOverride()).isFalse();
        assertThat(dlp.getFailureModeAllow()).isFalse();
    }

    @Test
    void filterClusters_findDeadPeers_byHttp2PingsAndTcpKeepalive() throws Exception {
        for (String name : new String[] {"meshguard-dlp", "meshguard-extauthz", "meshguard-als"}) {
            Cluster c = demo().clusters().stream()
                    .filter(x -> x.getName().equals(name))
                    .findFirst()
                    .orElseThrow();
            assertThat(EnvoyJson.parse(EnvoyJson.print(c), Any.newBuilder())
                            .build()
                            .unpack(Cluster.class))
                    .isEqualTo(c);
            var h2 = c.getTypedExtensionProtocolOptionsOrThrow(EnvoyNames.HTTP_PROTOCOL_OPTIONS)
                    .unpack(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.class)
                    .getExplicitHttpConfig()
                    .getHttp2ProtocolOptions();
            assertThat(h2.getConnectionKeepalive().getInterval().getSeconds())
                    .as(name)
                    .isEqualTo(10);
            assertThat(h2.getConnectionKeepalive().getTimeout().getSeconds())
                    .as(name)
                    .isEqualTo(5);
            var tcp = c.getUpstreamConnectionOptions().getTcpKeepalive();
            assertThat(tcp.getKeepaliveTime().getValue()).as(name).isEqualTo(30);
            assertThat(tcp.getKeepaliveInterval().getValue()).as(name).isEqualTo(10);
            assertThat(tcp.getKeepaliveProbes().getValue()).as(name).isEqualTo(3);
        }
    }
}
