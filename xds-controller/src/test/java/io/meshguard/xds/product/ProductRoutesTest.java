package io.meshguard.xds.product;

import static io.meshguard.xds.TestConfigs.active;
import static io.meshguard.xds.TestConfigs.route;
import static io.meshguard.xds.TestConfigs.to;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.catalogmodel.Environment;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.PublishHost;
import io.meshguard.catalogmodel.ServedProduct;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.validate.ConfigValidator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** How one product operation becomes routes: which API route it copies, its match, its name, and what it refuses. */
class ProductRoutesTest {
    private static final PublishHost HOST = PublishHost.of("payments", Environment.DEV, "local", "example.test");

    private static GatewayConfig config(Route... routes) {
        GatewayGroup dev = new GatewayGroup(
                "dev", "dev", "eu", Optional.empty(), List.of(), null, 8080, null, Optional.empty(), Map.of());
        Upstream up = io.meshguard.xds.model.ConfigJson.read("""
                {"name": "payments", "protocol": "http1", "endpoints": [{"address": "10.1.0.7", "port": 8080}]}""", Upstream.class);
        Api api = new Api("payments", "/payments", "v1", List.of(), List.of(active("v1")));
        return new GatewayConfig(List.of(dev), List.of(up), List.of(api), List.of(routes));
    }

    private static ProductRoutes.Compiled compile(GatewayConfig config, Product.Operation... ops) {
        return ProductRoutes.compile(
                config,
                Map.of(
                        "dev",
                        List.of(new ServedProduct(
                                "payments-dev-local",
                                "payments",
                                "dev",
                                HOST,
                                io.meshguard.catalogmodel.AuthMode.APIKEY,
                                List.of(ops)))));
    }

    private static List<Route> productRoutes(ProductRoutes.Compiled c) {
        return c.config().routes().stream().filter(r -> r.product().isPresent()).toList();
    }

    @Test
    void operation_copiesTheApiRouteThatServesIt_narrowedToItsMethodAndPath() {
        Route charges = route("dev", "charges", "payments", "v1", "/charges", to("payments", 100));
        ProductRoutes.Compiled c =
                compile(config(charges), new Product.Operation("get-charge", "payments", "GET", "/charges/{id}"));

        assertThat(c.problems()).isEmpty();
        Route r = productRoutes(c).get(0);
        assertThat(r.match().pathRegex()).contains("/charges/[^/]+");
        assertThat(r.match().methods()).containsExactly("GET");
        assertThat(r.destinations()).isEqualTo(charges.destinations());
        assertThat(r.authzProfile()).isEqualTo(charges.authzProfile());
        assertThat(r.product())
                .contains(new Route.ProductBinding("payments-dev-local", "get-charge", HOST.name(), "apikey"));
        assertThat(new ConfigValidator().validate(c.config()).valid())
                .as("the compiled config publishes")
                .isTrue();
    }

    @Test
    void paths_areExact_prefix_orOneSegmentPerParameter() {
        assertThat(ProductRoutes.match(new Product.Operation("a", "payments", "GET", "/charges"))
                        .pathExact())
                .contains("/charges");
        assertThat(ProductRoutes.match(new Product.Operation("a", "payments", "GET", "/charges/*"))
                        .pathPrefix())
                .contains("/charges/");
        assertThat(ProductRoutes.samplePath("/accounts/{id}/charges/{charge}")).isEqualTo("/accounts/x/charges/x");
    }

    /** R4-09: the gateway's prefixes stop at a segment boundary, so the product compiler's must too. */
    @Test
    void operation_whosePathOnlyBeginsWithARoutesPrefix_isNotServedByIt() {
        Route charges = route("dev", "charges", "payments", "v1", "/charges", to("payments", 100));
        for (String path : List.of("/chargesAdmin", "/charges-admin/{id}", "/chargesAdmin*")) {
            ProductRoutes.Compiled c =
                    compile(config(charges), new Product.Operation("admin", "payments", "POST", path));
            assertThat(c.valid()).as(path).isFalse();
            assertThat(c.problems().get(0).message()).as(path).contains("no route of API payments");
            assertThat(productRoutes(c)).as(path).isEmpty();
        }
        ProductRoutes.Compiled below = compile(
                config(charges),
                new Product.Operation("all", "payments", "POST", "/charges"),
                new Product.Operation("one", "payments", "GET", "/charges/{id}"),
                new Product.Operation("tree", "payments", "GET", "/charges*"),
                new Product.Operation("subtree", "payments", "GET", "/charges/*"));
        assertThat(below.problems()).isEmpty();
        assertThat(productRoutes(below)).hasSize(4);
        Route root = route("dev", "root", "payments", "v1", "/", to("payments", 100));
        assertThat(compile(config(root), new Product.Operation("admin", "payments", "POST", "/chargesAdmin"))
                        .problems())
                .as("a prefix ending in / is already segment-aware")
                .isEmpty();
    }

    @Test
    void operation_noRouteServes_isAProblem_namingIt() {
        Route refunds = route("dev", "refunds", "payments", "v1", "/refunds", to("payments", 100));
        ProductRoutes.Compiled c =
                compile(config(refunds), new Product.Operation("create-charge", "payments", "POST", "/charges"));

        assertThat(c.valid()).isFalse();
        assertThat(c.problems().get(0).message()).contains("POST /charges").contains("no route of API payments");
        assertThat(productRoutes(c)).isEmpty();
    }

    @Test
    void methodTheRouteRefuses_isNotServed() {
        Route getOnly = route(
                "dev",
                "charges",
                "payments",
                "v1",
                new Route.Match(Optional.of("/charges"), Optional.empty(), Optional.empty(), List.of("GET"), List.of()),
                Optional.empty(),
                to("payments", 100));
        assertThat(compile(config(getOnly), new Product.Operation("c", "payments", "POST", "/charges"))
                        .valid())
                .isFalse();
    }

    @Test
    void routeNames_areStableDnsLabels_distinctPerPublishOperationAndVersion() {
        String a = ProductRoutes.routeName("payments-dev-local", "create-charge", "v1");
        assertThat(a)
                .matches("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
                .isEqualTo(ProductRoutes.routeName("payments-dev-local", "create-charge", "v1"));
        assertThat(a)
                .isNotEqualTo(ProductRoutes.routeName("payments-prod-local", "create-charge", "v1"))
                .isNotEqualTo(ProductRoutes.routeName("payments-dev-local", "create-charge", "v2"));
        assertThat(ProductRoutes.routeName("p", "x".repeat(100) + "." + "y".repeat(100), "v1")
                        .length())
                .isLessThanOrEqualTo(63);
    }

    @Test
    void recompiling_replacesEarlierProductRoutes_andWithdrawingRemovesThem() {
        Route charges = route("dev", "charges", "payments", "v1", "/charges", to("payments", 100));
        ProductRoutes.Compiled once =
                compile(config(charges), new Product.Operation("c", "payments", "POST", "/charges"));
        ProductRoutes.Compiled twice = ProductRoutes.compile(
                once.config(),
                Map.of(
                        "dev",
                        List.of(new ServedProduct(
                                "payments-dev-local",
                                "payments",
                                "dev",
                                HOST,
                                io.meshguard.catalogmodel.AuthMode.APIKEY,
                                List.of(new Product.Operation("c", "payments", "POST", "/charges"))))));
        assertThat(twice.config()).isEqualTo(once.config());
        assertThat(productRoutes(ProductRoutes.compile(once.config(), Map.of())))
                .isEmpty();
    }
}
