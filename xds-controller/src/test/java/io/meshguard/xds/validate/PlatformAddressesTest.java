package io.meshguard.xds.validate;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Upstreams pointing at the gateway pod itself or the platform: one test per spelling class, and the exceptions. */
class PlatformAddressesTest {

    private static void refused(String... addresses) {
        for (String a : addresses) {
            assertThat(PlatformAddresses.forbidden(a, 8080))
                    .as("%s must be refused", a)
                    .isPresent();
        }
    }

    @Test
    void loopback_inEverySpelling_isRefused() {
        refused(
                "127.0.0.1",
                "127.0.0.1.",
                "127.1.2.3",
                "fe80::1%eth0",
                "127.255.255.254",
                "::1",
                "0:0:0:0:0:0:0:1",
                "[::1]",
                "localhost",
                "LOCALHOST",
                "localhost.",
                "LocalHost.LocalDomain",
                "ip6-localhost",
                "ip6-loopback",
                "localhost6",
                "anything.localhost",
                "a.b.localhost.");
    }

    @Test
    void unspecified_isRefused() {
        refused("0.0.0.0", "0.1.2.3", "::", "0:0:0:0:0:0:0:0");
    }

    @Test
    void linkLocal_andCloudMetadata_areRefused() {
        refused(
                "169.254.169.254",
                "169.254.0.1",
                "fe80::1",
                "FE80::a:b",
                "febf::1",
                "fd00:ec2::254",
                "100.100.100.200",
                "168.63.129.16",
                "metadata.google.internal",
                "metadata",
                "METADATA.google.internal.",
                "metadata.goog",
                "instance-data",
                "instance-data.ec2.internal");
    }

    @Test
    void kubernetesApi_isRefused() {
        refused("kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local");
    }

    @Test
    void ipv4InIpv6_isJudgedAsTheIpv4Inside() {
        refused(
                "::ffff:127.0.0.1",
                "::ffff:7f00:1",
                "::FFFF:169.254.169.254",
                "::ffff:a9fe:a9fe",
                "::127.0.0.1",
                "64:ff9b::7f00:1",
                "64:ff9b::169.254.169.254",
                "2002:7f00:1::",
                "::ffff:0.0.0.0");
        assertThat(PlatformAddresses.forbidden("::ffff:10.0.0.1", 8080)).isEmpty();
    }

    @Test
    void integerOctalAndHexIpv4Spellings_areRefused() {
        refused(
                "2130706433",
                "0x7f000001",
                "0x7F.0.0.1",
                "0177.0.0.1",
                "0177.1",
                "127.1",
                "127.0.1",
                "017700000001",
                "2852039166",
                "0xa9fea9fe",
                "0251.0376.0251.0376",
                "167772161",
                "0");
    }

    @Test
    void sidecarAndAdminPorts_areRefusedOnAnyAddress() {
        for (int port : List.of(15000, 15001, 15006, 15020, 15021, 15090, 9901)) {
            assertThat(PlatformAddresses.forbidden("10.0.0.7", port))
                    .as("port %d", port)
                    .isPresent();
        }
    }

    @Test
    void ordinaryUpstreams_areAccepted() {
        for (String a : List.of(
                "10.0.0.7",
                "2001:db8::7",
                "payments.svc.cluster.local",
                "api.partner.example",
                "192.168.1.10",
                "metadata-service.internal.example",
                "localhostess.example",
                "kubernetes-dashboard")) {
            assertThat(PlatformAddresses.forbidden(a, 8080)).as(a).isEmpty();
        }
    }

    private static List<String> errors(String upstreamYaml) {
        GatewayConfig c = GatewayYaml.read("t.yaml", """
                groups: [{name: edge, domain: bank.example}]
                upstreams:
                %s
                apis: [{name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: all, group: edge, api: shop, version: v1, match: {path_prefix: /},
                     destinations: [{upstream: svc, weight: 100}]}
                """.formatted(upstreamYaml));
        return new ConfigValidator()
                .validate(c).problems().stream()
                        .filter(p -> p.severity() == Problem.Severity.ERROR)
                        .map(p -> p.path() + ": " + p.message())
                        .toList();
    }

    @Test
    void validator_refusesAMetadataUpstream_namingTheAddressAndWhy() {
        assertThat(errors("  - {name: svc, endpoints: [{address: 169.254.169.254, port: 80}]}"))
                .singleElement()
                .asString()
                .contains("upstreams[svc].endpoints[0].address")
                .contains("169.254.169.254")
                .contains("link-local")
                .contains("address_exceptions");
    }

    @Test
    void exception_namingAddressAndPort_admitsThatEndpointOnly() {
        assertThat(errors("""
                  - name: svc
                    endpoints: [{address: 127.0.0.1, port: 18081}]
                    address_exceptions: [{address: 127.0.0.1, port: 18081, reason: local backend}]
                """)).isEmpty();
        // same address, another port: still refused, and the exception that matches nothing is refused too
        assertThat(errors("""
                  - name: svc
                    endpoints: [{address: 127.0.0.1, port: 15000}]
                    address_exceptions: [{address: 127.0.0.1, port: 18081, reason: local backend}]
                """))
                .hasSize(2)
                .anySatisfy(e -> assertThat(e).contains("endpoints[0].address"))
                .anySatisfy(e -> assertThat(e).contains("address_exceptions[0]").contains("remove it"));
    }

    @Test
    void exception_withoutReason_orInAnotherSpelling_doesNotCount() {
        assertThat(errors("""
                  - name: svc
                    endpoints: [{address: 127.0.0.1, port: 18081}]
                    address_exceptions: [{address: 127.0.0.1, port: 18081}]
                """)).anySatisfy(e -> assertThat(e).contains("reason").contains("required"));
        // an exception for 127.0.0.1 does not cover localhost or ::1 on the same port
        assertThat(errors("""
                  - name: svc
                    endpoints: [{address: localhost, port: 18081}]
                    address_exceptions: [{address: 127.0.0.1, port: 18081, reason: local backend}]
                """))
                .anySatisfy(e -> assertThat(e).contains("endpoints[0].address").contains("loopback name"));
    }
}
