package io.meshguard.xds.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsParameters;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.Problem;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Upstream TLS: the cluster Envoy gets verifies the server, and validation refuses what could not be verified. */
class UpstreamTlsTest {
    private static GatewayConfig config(String upstreams) {
        return UpstreamDiscoveryTest.oneRoute("tls.yaml", "network", upstreams);
    }

    private static Cluster cluster(GatewayConfig config) throws Exception {
        assertThat(new ConfigValidator().validate(config).errors()).isEmpty();
        Cluster c = new SnapshotBuilder(FilterTargets.DEFAULTS)
                .build(config, "edge").clusters().stream()
                        .filter(x -> x.getName().equals("network"))
                        .findFirst()
                        .orElseThrow();
        assertThat(EnvoyJson.parse(EnvoyJson.print(c), Any.newBuilder()).build().unpack(Cluster.class))
                .isEqualTo(c);
        return c;
    }

    @Test
    void tlsUpstream_namedByItsEndpoints_isVerifiedAgainstTheSystemBundleAndThatName() throws Exception {
        Cluster c = cluster(config("""
                - name: network
                  protocol: h2
                  endpoints: [{address: api.cardnetwork.example, port: 443}]
                  tls: {}
                """));
        assertThat(c.getTransportSocket().getName()).isEqualTo("envoy.transport_sockets.tls");
        UpstreamTlsContext tls = c.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
        assertThat(tls.getSni()).isEqualTo("api.cardnetwork.example");
        assertThat(tls.getCommonTlsContext().getAlpnProtocolsList()).containsExactly("h2");
        assertThat(tls.getCommonTlsContext().getTlsParams().getTlsMinimumProtocolVersion())
                .isEqualTo(TlsParameters.TlsProtocol.TLSv1_2);
        CertificateValidationContext v = tls.getCommonTlsContext().getValidationContext();
        assertThat(v.getTrustedCa().getFilename()).isEqualTo("/etc/ssl/certs/ca-certificates.crt");
        assertThat(v.getMatchTypedSubjectAltNamesList()).singleElement().satisfies(m -> {
            assertThat(m.getSanType()).isEqualTo(SubjectAltNameMatcher.SanType.DNS);
            assertThat(m.getMatcher().getExact()).isEqualTo("api.cardnetwork.example");
        });
    }

    @Test
    void tlsUpstream_withExplicitSniNamesAndCa_usesThem() throws Exception {
        Cluster c = cluster(config("""
                - name: network
                  endpoints: [{address: 10.20.0.5, port: 8443}, {address: 10.20.0.6, port: 8443}]
                  tls: {sni: gw.partner.example, subject_alt_names: [gw.partner.example, gw2.partner.example],
                        ca_file: /etc/meshguard/partner-ca.pem}
                """));
        UpstreamTlsContext tls = c.getTransportSocket().getTypedConfig().unpack(UpstreamTlsContext.class);
        assertThat(tls.getSni()).isEqualTo("gw.partner.example");
        assertThat(tls.getCommonTlsContext().getAlpnProtocolsList()).containsExactly("http/1.1");
        CertificateValidationContext v = tls.getCommonTlsContext().getValidationContext();
        assertThat(v.getTrustedCa().getFilename()).isEqualTo("/etc/meshguard/partner-ca.pem");
        assertThat(v.getMatchTypedSubjectAltNamesList())
                .extracting(m -> m.getMatcher().getExact())
                .containsExactly("gw.partner.example", "gw2.partner.example");
    }

    @Test
    void plaintextUpstream_hasNoTransportSocket() throws Exception {
        Cluster c = cluster(config("""
                - name: network
                  endpoints: [{address: 10.20.0.5, port: 8080}]
                """));
        assertThat(c.hasTransportSocket()).isFalse();
    }

    @Test
    void tlsWithoutAServerName_wildcards_andRelativeCaFile_areRefused() {
        List<Problem> problems = new ConfigValidator().validate(config("""
                - name: network
                  endpoints: [{address: 10.20.0.5, port: 8443}]
                  tls: {subject_alt_names: ["*.partner.example"], ca_file: certs/ca.pem}
                """)).errors();
        assertThat(problems)
                .extracting(Problem::path)
                .containsExactlyInAnyOrder(
                        "upstreams[network].tls.sni",
                        "upstreams[network].tls.subject_alt_names",
                        "upstreams[network].tls.ca_file");
        assertThat(new ConfigValidator().validate(config("""
                - name: network
                  endpoints: [{address: a.partner.example, port: 443}, {address: b.partner.example, port: 443}]
                  tls: {}
                """)).errors())
                .extracting(Problem::path)
                .containsExactly("upstreams[network].tls.sni");
    }

    @Test
    void tlsUpstream_isWarnedAboutForProxylessClients() {
        assertThat(new ConfigValidator().validate(config("""
                - name: network
                  endpoints: [{address: api.cardnetwork.example, port: 443}]
                  tls: {}
                """)).warnings())
                .extracting(Problem::message)
                .anyMatch(m -> m.contains("proxyless"));
    }
}
