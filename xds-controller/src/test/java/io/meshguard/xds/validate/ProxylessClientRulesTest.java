package io.meshguard.xds.validate;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the validator says about proxyless clients (review IC-01..IC-03, R4-04). */
class ProxylessClientRulesTest {

    private static ValidationResult validate(String environment, String authz, String lbPolicy) {
        GatewayConfig c = GatewayYaml.read("t.yaml", """
                groups: [{name: edge, environment: %s, domain: bank.example, proxyless_authz: %s}]
                upstreams: [{name: svc, lb_policy: %s, endpoints: [{address: 10.0.0.1, port: 8080}]}]
                apis: [{name: shop, base_path: /shop, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: all, group: edge, api: shop, version: v1, match: {path_prefix: /},
                     destinations: [{upstream: svc, weight: 100}]}
                """.formatted(environment, authz, lbPolicy));
        return new ConfigValidator().validate(c);
    }

    @Test
    void lbPolicies_proxylessClientsRefuse_areWarnings_namingTheClients() {
        for (String lb : List.of("least_request", "random", "maglev")) {
            ValidationResult r = validate("dev", "required", lb);
            assertThat(r.valid()).as(lb).isTrue();
            assertThat(r.warnings())
                    .as(lb)
                    .anySatisfy(p -> assertThat(p.path()).isEqualTo("upstreams[svc].lb_policy"))
                    .anySatisfy(p -> assertThat(p.message())
                            .contains(lb)
                            .contains("grpc-js")
                            .contains("grpc-java"));
        }
        for (String lb : List.of("round_robin", "ring_hash")) {
            assertThat(validate("dev", "required", lb).warnings()).as(lb).noneSatisfy(p -> assertThat(p.path())
                    .endsWith(".lb_policy"));
        }
    }

    @Test
    void optionalProxylessAuthz_isAWarning_andRefusedInProduction() {
        assertThat(validate("dev", "optional", "round_robin").warnings())
                .anySatisfy(p ->
                        assertThat(p.message()).contains("no authorization").contains("grpc-js"));
        ValidationResult prod = validate("prod", "optional", "round_robin");
        assertThat(prod.valid()).isFalse();
        assertThat(prod.errors()).anySatisfy(p -> assertThat(p.path()).isEqualTo("groups[edge].proxyless_authz"));
    }

    @Test
    void requiredAndOff_areExplicitDecisions_acceptedInProduction() {
        for (String authz : List.of("required", "off")) {
            ValidationResult r = validate("prod", authz, "round_robin");
            assertThat(r.valid()).as(authz).isTrue();
            assertThat(r.warnings()).as(authz).noneSatisfy(p -> assertThat(p.path())
                    .endsWith(".proxyless_authz"));
        }
    }
    /** A group serving {@code hostname} for API shop, its route to upstream svc with {@code endpoint} (and host). */
    private static ValidationResult serviceHostname(String environment, String hostname, String endpoint, String host) {
        GatewayConfig c = GatewayYaml.read(
                "t.yaml", """
                groups: [{name: grpc, environment: %s, hostnames: [%s], proxyless_authz: off}]
                upstreams: [{name: svc, protocol: grpc, endpoints: [{address: %s, port: 9090}]%s}]
                apis: [{name: shop, base_path: /shop.Orders, default_version: v1, versions: [{version: v1}]}]
                routes:
                  - {name: all, group: grpc, api: shop, version: v1, match: {path_prefix: /shop.Orders/},
                     destinations: [{upstream: svc, weight: 100}]}
                """.formatted(environment, hostname, endpoint, host.isEmpty() ? "" : ", host: " + host));
        return new ConfigValidator().validate(c);
    }

    @Test
    void serviceNameHostname_routedToThatService_isTheSupportedProxylessShape() {
        String fqdn = "orders.shop.svc.cluster.local";
        for (ValidationResult r : List.of(
                serviceHostname("prod", fqdn, fqdn, ""),
                serviceHostname("prod", fqdn, "10.96.0.12", fqdn),
                serviceHostname("prod", "orders.shop.svc", "orders.shop.svc", ""))) {
            assertThat(r.valid()).as("%s", r.errors()).isTrue();
            assertThat(r.warnings()).noneSatisfy(p -> assertThat(p.code())
                    .isEqualTo(ProblemCode.ROUTE_SERVICE_HOSTNAME_OTHER_UPSTREAM));
        }
    }

    @Test
    void serviceNameHostname_routedToAnotherUpstream_isRefusedInProduction_becauseTheClientsSidecarRoutesByAuthority() {
        ValidationResult prod =
                serviceHostname("prod", "orders.shop.svc.cluster.local", "orders-v2.shop.svc.cluster.local", "");
        assertThat(prod.valid()).isFalse();
        assertThat(prod.errors()).anySatisfy(p -> {
            assertThat(p.code()).isEqualTo(ProblemCode.ROUTE_SERVICE_HOSTNAME_OTHER_UPSTREAM);
            assertThat(p.path()).isEqualTo("routes[grpc/all].destinations");
            assertThat(p.message())
                    .contains("its own sidecar")
                    .contains("Service orders.shop.svc.cluster.local")
                    .contains("upstream 'svc'");
        });
        ValidationResult dev = serviceHostname("dev", "orders.shop.svc.cluster.local", "10.96.0.12", "");
        assertThat(dev.valid()).isTrue();
        assertThat(dev.warnings())
                .anySatisfy(p -> assertThat(p.code()).isEqualTo(ProblemCode.ROUTE_SERVICE_HOSTNAME_OTHER_UPSTREAM));
    }

    @Test
    void publicHostname_isNotJudgedAsAServiceName() {
        ValidationResult r =
                serviceHostname("prod", "orders.prod.eu.bank.example", "orders.shop.svc.cluster.local", "");
        assertThat(r.valid()).as("%s", r.errors()).isTrue();
        assertThat(r.warnings())
                .noneSatisfy(p -> assertThat(p.code()).isEqualTo(ProblemCode.ROUTE_SERVICE_HOSTNAME_OTHER_UPSTREAM));
    }
}
