package io.meshguard.cli.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.cli.CliRun;
import io.meshguard.testing.FixturePolicies;
import io.meshguard.testing.SlowTest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Quotas across the gateway hop: {@code policy check --gateway} warns where a gateway route's requests are
 * charged by a quota (or rate-limited) only at the sidecar behind it — the gateway's rule is not in the quota, the
 * rule the upstream's sidecar decides the hop with is — and stays quiet where the gateway charges them itself or
 * where no such request gets through at all.
 */
@SlowTest
class PolicyCheckGatewayHopTest {
    private static final String CHARGED_ONLY_AT_SIDECAR = "charged only there";

    @TempDir
    Path tmp;

    private Path policies(String edgeOrders, String quotaRoutes, String trustedGateways) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("policies"));
        Files.copy(
                FixturePolicies.directory().resolve("dlp.yaml"),
                dir.resolve("dlp.yaml"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(dir.resolve("authz.yaml"), """
                mesh: {trusted_gateways: [%s]}
                rate_limits:
                  default_tier: free
                  tiers:
                    free: {requests_per_second: 10, burst: 20}
                routes:
                  - name: edge-orders
                    match: {hosts: [shop.edge.bank.example], path_prefix: /shop}
                    %s
                  - name: orders-workload
                    match: {hosts: [orders.shop.svc.cluster.local], path_prefix: /shop/v1/orders}
                    auth: apikey
                  - name: orders-internal
                    match: {hosts: [orders.shop.svc.cluster.local], path_prefix: /shop/v1/internal}
                    auth: mtls
                    from: [{principals: [cluster.local/ns/shop/sa/cart]}]
                quotas:
                  - {name: orders-daily, per: api_key, period: day, timezone: UTC, limits: {free: 100},
                     routes: [%s]}
                """.formatted(trustedGateways, edgeOrders, quotaRoutes));
        return dir;
    }

    private Path gateway(String upstreamAddress, String path) throws Exception {
        Path file = tmp.resolve("gateway.yaml");
        Files.writeString(file, """
                groups: [{name: edge, domain: bank.example, hostnames: [shop.edge.bank.example]}]
                upstreams: [{name: orders, endpoints: [{address: %s, port: 8080}]}]
                apis: [{name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: buy, group: edge, api: shop, version: v1, match: {path_prefix: %s, methods: [POST]},
                     destinations: [{upstream: orders, weight: 100}], authz_profile: edge-orders, dlp_profile: cards}
                """.formatted(upstreamAddress, path));
        return file;
    }

    private static CliRun check(Path dir, Path gateway) {
        CliRun r = CliRun.of("policy", "check", dir.toString(), "--gateway", gateway.toString());
        assertThat(r.exit()).as(r.err()).isZero(); // a warning never fails the check
        return r;
    }

    @Test
    void quotaOnTheWorkloadsRuleOnly_warnsThatTheSidecarAloneChargesIt() throws Exception {
        CliRun r = check(
                policies("auth: apikey", "orders-workload", "cluster.local/ns/meshguard/sa/meshguard-gateway"),
                gateway("orders.shop.svc.cluster.local", "/orders"));
        assertThat(r.err())
                .contains("warning routes[edge/buy].authz_profile")
                .contains("quota 'orders-daily'")
                .contains("rule 'orders-workload'")
                .contains("'edge-orders' is not in it")
                .contains(CHARGED_ONLY_AT_SIDECAR)
                .contains("meshguard.io/protected");
    }

    @Test
    void quotaOnBothRules_orOnTheGatewaysRule_isChargedAtTheGateway_noWarning() throws Exception {
        Path gw = gateway("orders.shop.svc.cluster.local", "/orders");
        String trusted = "cluster.local/ns/meshguard/sa/meshguard-gateway";
        assertThat(check(policies("auth: apikey", "edge-orders, orders-workload", trusted), gw)
                        .err())
                .doesNotContain(CHARGED_ONLY_AT_SIDECAR);
        assertThat(check(policies("auth: apikey", "edge-orders", trusted), gw).err())
                .doesNotContain(CHARGED_ONLY_AT_SIDECAR);
    }

    @Test
    void hopsNoRequestGetsThrough_orAnIpUpstreamDecidedByTheGatewaysOwnRule_noWarning() throws Exception {
        String trusted = "cluster.local/ns/meshguard/sa/meshguard-gateway";
        // without trusted gateways there is no gateway hop: the sidecar wants the credential the gateway stripped
        assertThat(check(
                                policies("auth: apikey", "orders-workload", ""),
                                gateway("orders.shop.svc.cluster.local", "/orders"))
                        .err())
                .doesNotContain(CHARGED_ONLY_AT_SIDECAR);
        // a public gateway rule hands on x-auth-method: none, which the sidecar's apikey rule refuses
        assertThat(check(
                                policies("auth: none", "orders-workload", trusted),
                                gateway("orders.shop.svc.cluster.local", "/orders"))
                        .err())
                .doesNotContain(CHARGED_ONLY_AT_SIDECAR);
        // an mtls workload rule refuses the API-key identity the gateway hands on
        assertThat(check(
                                policies("auth: apikey", "orders-internal", trusted),
                                gateway("orders.shop.svc.cluster.local", "/internal"))
                        .err())
                .doesNotContain(CHARGED_ONLY_AT_SIDECAR);
        // an IP upstream keeps the client's Host: the sidecar selects the gateway's own rule again
        assertThat(check(policies("auth: apikey", "orders-workload", trusted), gateway("10.0.0.7", "/orders"))
                        .err())
                .doesNotContain(CHARGED_ONLY_AT_SIDECAR);
    }

    @Test
    void gatewayRuleWithoutRateLimit_beforeARateLimitedWorkloadRule_warns_andNotWhenBothLimit() throws Exception {
        String trusted = "cluster.local/ns/meshguard/sa/meshguard-gateway";
        Path gw = gateway("orders.shop.svc.cluster.local", "/orders");
        assertThat(check(policies("auth: apikey\n    rate_limit: off", "edge-orders, orders-workload", trusted), gw)
                        .err())
                .contains("is rate-limited, but the gateway's rule 'edge-orders' has rate_limit: off")
                .contains(CHARGED_ONLY_AT_SIDECAR);
        assertThat(check(policies("auth: apikey", "edge-orders, orders-workload", trusted), gw)
                        .err())
                .doesNotContain("rate_limit: off");
    }

    @Test
    void theSampleThatUpPublishes_withTheShippedAndFixturePolicies_warnsNothing() throws Exception {
        Path sample = tmp.resolve("sample.yaml");
        try (var in = io.meshguard.xds.XdsController.class.getResourceAsStream("sample-gateway.yaml")) {
            Files.write(sample, in.readAllBytes());
        }
        assertThat(check(FixturePolicies.directory(), sample).err()).doesNotContain(CHARGED_ONLY_AT_SIDECAR);
        Path shipped = Path.of("..", "policies");
        assertThat(shipped.resolve("authz.yaml")).exists();
        assertThat(check(shipped, sample).err()).doesNotContain(CHARGED_ONLY_AT_SIDECAR);
    }
}
