package io.meshguard.catalogmodel;

import java.util.List;
import java.util.Objects;

/**
 * A published product publish as its gateway group serves it: the host, and the operations that become routes there.
 * The gateway controller compiles these into the group's revision ({@code io.meshguard.xds.product.ProductRoutes}).
 */
public record ServedProduct(
        String publishId,
        String productId,
        String gatewayGroup,
        PublishHost host,
        AuthMode authMode,
        List<Product.Operation> operations) {

    public ServedProduct {
        Objects.requireNonNull(publishId, "publishId");
        Objects.requireNonNull(productId, "productId");
        Objects.requireNonNull(gatewayGroup, "gatewayGroup");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(authMode, "authMode");
        operations = List.copyOf(operations);
    }
}
