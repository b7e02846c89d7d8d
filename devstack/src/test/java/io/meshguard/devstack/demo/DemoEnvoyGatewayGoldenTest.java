package io.meshguard.devstack.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.catalogmodel.AuthMode;
import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.PublishHost;
import io.meshguard.catalogmodel.ServedProduct;
import io.meshguard.envoygateway.render.EnvoyGatewayPublishCheck;
import io.meshguard.envoygateway.render.EnvoyGatewayTemplate;
import io.meshguard.envoygateway.render.RenderedResources;
import io.meshguard.xds.envoygateway.EnvoyGatewayRevisions;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayYaml;
import io.meshguard.xds.product.ProductRoutes;
import io.meshguard.xds.validate.ConfigValidator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The demo's gateway group with its product publish (step 11: {@code payments}, POST /charges, API keys, dev on cluster
 * local) rendered for a cluster whose gateway template is of kind {@code envoy-gateway}: every resource valid for the
 * bundled Gateway API and Envoy Gateway CRDs with their CEL rules, and equal to the golden file reviewed by hand
 * ({@code -Dgolden.update=true} rewrites it). Fixed ports stand in for the demo's loopback upstreams.
 */
class DemoEnvoyGatewayGoldenTest {

    @Test
    void demoWithItsProductPublish_rendersValidResources_matchingTheGoldenFile() throws Exception {
        GatewayConfig draft = GatewayYaml.read(
                "meshguard demo", DemoGateway.yaml(DemoCommand.GROUP, 18081, 18082, 18083, 18084, 18085, 18086));
        ProductRoutes.Compiled compiled = ProductRoutes.compile(
                draft,
                new TreeMap<>(Map.of(
                        DemoCommand.GROUP,
                        List.of(new ServedProduct(
                                ProductsDemo.PUBLISH,
                                ProductsDemo.PRODUCT,
                                DemoCommand.GROUP,
                                new PublishHost(ProductsDemo.HOST),
                                AuthMode.APIKEY,
                                List.of(new Product.Operation(
                                        "create-charge", "demo-payments", "POST", "/charges")))))));
        assertThat(compiled.problems()).isEmpty();
        assertThat(new ConfigValidator().validate(compiled.config()).errors()).isEmpty();

        EnvoyGatewayPublishCheck check = new EnvoyGatewayPublishCheck(EnvoyGatewayTemplate.defaults());
        RenderedResources rendered = check.render(EnvoyGatewayRevisions.of(compiled.config(), DemoCommand.GROUP, 1));
        assertThat(rendered.problems(check.validators())).isEmpty();
        String yaml = rendered.yaml();
        // the product route, on the publish's host only, naming its publish to extauthz
        assertThat(yaml)
                .contains("meshguard.io/product-publish: " + ProductsDemo.PUBLISH)
                .contains("- " + ProductsDemo.HOST)
                .contains("value: " + ProductsDemo.PUBLISH)
                // the 90/10 canary, the CORS policy, the streaming chat route without a request timeout
                .contains("weight: 90")
                .contains("type: CORS")
                .contains("request: 0s");

        Path golden = Path.of("src/test/resources/golden/envoy-gateway/demo.yaml");
        if (Boolean.getBoolean("golden.update") || !Files.exists(golden)) {
            Files.createDirectories(golden.getParent());
            Files.writeString(golden, yaml);
        }
        assertThat(yaml).isEqualTo(Files.readString(golden));
    }
}
