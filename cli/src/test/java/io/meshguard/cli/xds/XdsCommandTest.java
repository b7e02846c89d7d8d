package io.meshguard.cli.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.cli.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class XdsCommandTest {
    @TempDir
    Path tmp;

    @Test
    void render_fromAFile_printsEnvoyJsonOfTheGroup() throws Exception {
        Path file = tmp.resolve("gw.yaml");
        Files.writeString(file, """
                groups: [{name: edge}]
                upstreams: [{name: svc, endpoints: [{address: 10.0.0.1, port: 8081}]}]
                apis: [{name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: all, group: edge, api: shop, version: v1, match: {path_prefix: /},
                     destinations: [{upstream: svc, weight: 100}]}
                """);
        CliRun r = CliRun.of("xds", "render", "--group", "edge", "--file", file.toString());
        assertThat(r.exit()).isZero();
        assertThat(r.out())
                .contains("type.googleapis.com/envoy.config.listener.v3.Listener")
                .contains("\"prefix\" : \"/shop/v1/\"");
    }

    @Test
    void render_ofAnEnvoyGatewayGroup_printsTheResourcesItsClusterApplies_asYaml() throws Exception {
        Path file = tmp.resolve("eg.yaml");
        Files.writeString(file, """
                groups: [{name: edge, hostnames: [api.bank.example], template_kind: envoy-gateway}]
                upstreams: [{name: svc, endpoints: [{address: shop.shop.svc.cluster.local, port: 8081}]}]
                apis: [{name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: all, group: edge, api: shop, version: v1, match: {path_prefix: /},
                     destinations: [{upstream: svc, weight: 100}]}
                """);
        CliRun r = CliRun.of("xds", "render", "--group", "edge", "--file", file.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out())
                .startsWith("---\n")
                .contains("kind: HTTPRoute", "kind: SecurityPolicy", "- api.bank.example")
                .doesNotContain("type.googleapis.com/envoy.config.listener.v3.Listener");
    }

    @Test
    void render_egressPolicy_allowsOutsideUpstreamsOnTheirPorts_refusesAnUnpinnedName() throws Exception {
        Path file = tmp.resolve("gw.yaml");
        Files.writeString(file, """
                groups: [{name: edge}]
                upstreams:
                  - {name: svc, endpoints: [{address: orders.shop.svc.cluster.local, port: 8080}]}
                  - {name: vm, endpoints: [{address: 192.168.50.4, port: 8443}]}
                  - {name: partner, endpoints: [{address: partner.example.com, port: 443}]}
                apis: [{name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: all, group: edge, api: shop, version: v1, match: {path_prefix: /},
                     destinations: [{upstream: svc, weight: 100}]}
                """);
        CliRun pinned = renderEgress(
                file, "--cluster-cidr", "10.0.0.0/8", "--external-host", "partner.example.com=203.0.113.0/28");
        assertThat(pinned.exit()).as(pinned.err()).isZero();
        assertThat(pinned.out())
                .contains("\"kind\" : \"NetworkPolicy\"", "\"cidr\" : \"192.168.50.4/32\"", "\"port\" : 8443")
                .contains("\"cidr\" : \"203.0.113.0/28\"", "\"port\" : 443")
                .doesNotContain("8080");

        CliRun unpinned = renderEgress(file, "--cluster-cidr", "10.0.0.0/8");
        assertThat(unpinned.exit()).isEqualTo(1);
        assertThat(unpinned.err()).contains("upstreams[2].endpoints[0].address", "MG-UPSTREAM-019");
    }

    private static CliRun renderEgress(Path file, String... ranges) {
        List<String> args = new ArrayList<>(
                List.of("xds", "render", "--group", "edge", "--file", file.toString(), "--egress-policy"));
        args.addAll(List.of(ranges));
        return CliRun.of(args.toArray(String[]::new));
    }

    @Test
    void apply_invalidFile_reportsFileAndLineAndAppliesNothing() throws Exception {
        Path file = tmp.resolve("bad.yaml");
        Files.writeString(file, "groups:\n  - name: edge\n    listener_prot: 8080\n");
        CliRun r = CliRun.of("xds", "apply", "--dry-run", file.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("bad.yaml:3").contains("unknown field 'listener_prot'");
    }

    @Test
    void apply_weightsNotAddingUp_isRefusedWithTheReason() throws Exception {
        Path file = tmp.resolve("weights.yaml");
        Files.writeString(file, """
                groups: [{name: edge}]
                upstreams: [{name: a, endpoints: [{address: 10.0.0.1, port: 1}]}, {name: b}]
                apis: [{name: shop, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: all, group: edge, api: shop, version: v1, match: {path_prefix: /},
                     destinations: [{upstream: a, weight: 70}, {upstream: b, weight: 20}]}
                """);
        CliRun r = CliRun.of("xds", "apply", "--dry-run", file.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("weights must sum to 100, got 90").contains("nothing applied");
    }

    @Test
    void apply_errorsComeBeforeTheInfoLines() throws Exception {
        Path file = tmp.resolve("mixed.yaml");
        StringBuilder upstreams = new StringBuilder();
        for (int i = 1; i <= 6; i++) {
            // each loopback endpoint with its exception: two info lines apiece
            upstreams
                    .append("  - {name: u")
                    .append(i)
                    .append(", endpoints: [{address: 127.0.0.1, port: ")
                    .append(9000 + i)
                    .append("}], address_exceptions: [{address: 127.0.0.1, port: ")
                    .append(9000 + i)
                    .append(", reason: local}]}\n");
        }
        Files.writeString(file, "groups: [{name: edge}]\nupstreams:\n" + upstreams + """
                apis: [{name: shop, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: all, group: edge, api: shop, version: v1, match: {path_prefix: /},
                     destinations: [{upstream: u1, weight: 70}, {upstream: u2, weight: 20}]}
                """);
        CliRun r = CliRun.of("xds", "apply", "--dry-run", file.toString());
        assertThat(r.exit()).isEqualTo(1);
        java.util.List<String> lines =
                r.err().lines().filter(l -> l.startsWith(file + ": ")).toList();
        assertThat(lines).anyMatch(l -> l.contains(" info "));
        assertThat(lines.get(0)).contains(" error ").contains("weights must sum to 100");
    }

    private Path gatewayNaming(String authzProfile, String dlpProfile) throws Exception {
        Path file = tmp.resolve("gw-" + authzProfile + "-" + dlpProfile + ".yaml");
        Files.writeString(file, """
                groups: [{name: edge, domain: bank.example}]
                upstreams: [{name: svc, endpoints: [{address: 10.0.0.1, port: 8081}]}]
                apis: [{name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: buy, group: edge, api: shop, version: v1, match: {path_prefix: /buy, methods: [POST]},
                     destinations: [{upstream: svc, weight: 100}], authz_profile: %s, dlp_profile: %s}
                """.formatted(authzProfile, dlpProfile));
        return file;
    }

    @Test
    void apply_withPolicies_refusesARouteNamingAProfileThePoliciesLack() throws Exception {
        Path file = gatewayNaming("payments-writer", "cards");
        CliRun r = CliRun.of(
                "xds",
                "apply",
                "--dry-run",
                "--policies",
                io.meshguard.testing.FixturePolicies.directory().toString(),
                file.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err())
                .contains("routes[edge/buy].authz_profile")
                .contains("'payments-writer'")
                .contains("authz.yaml")
                .contains("nothing applied");
    }

    @Test
    void policyCheck_withAGateway_passesForKnownProfiles_andNamesEveryMissingOne() throws Exception {
        CliRun ok = CliRun.of(
                "policy",
                "check",
                io.meshguard.testing.FixturePolicies.directory().toString(),
                "--gateway",
                gatewayNaming("payments-write", "cards").toString());
        assertThat(ok.exit()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("every route's profiles are defined");

        CliRun bad = CliRun.of(
                "policy",
                "check",
                io.meshguard.testing.FixturePolicies.directory().toString(),
                "--gateway",
                gatewayNaming("nope", "pci").toString());
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err())
                .contains("routes[edge/buy].authz_profile")
                .contains("'nope'")
                .contains("routes[edge/buy].dlp_profile")
                .contains("'pci'");
    }

    @Test
    void policyCheck_theSampleThatUpPublishes_agreesWithTheShippedPolicies() throws Exception {
        Path sample = tmp.resolve("sample.yaml");
        try (var in = io.meshguard.xds.XdsController.class.getResourceAsStream("sample-gateway.yaml")) {
            Files.write(sample, in.readAllBytes());
        }
        CliRun r = CliRun.of(
                "policy",
                "check",
                io.meshguard.testing.FixturePolicies.directory().toString(),
                "--gateway",
                sample.toString());
        assertThat(r.exit()).as(r.err()).isZero();
    }
}
