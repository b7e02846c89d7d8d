package io.meshguard.e2e;

import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.Gateway;
import io.meshguard.emulator.UpstreamServer;

/**
 * The payments API the product journeys sell: one route ({@code charges}) on the local group, the products' authz
 * profile and DLP profile {@code default}, published the way an operator does, and a charge as a customer sends it.
 */
final class PaymentsSample {
    private PaymentsSample() {}

    /** The group up publishes its sample to (and a gateway apply replaces). */
    static final String GROUP = "local";

    static final int PORT = 8080;
    /** The host of the product's dev publish on the local cluster. */
    static final String HOST = "payments.dev.local.api.meshguard.localhost";

    /** Publishes the payments API in front of {@code backend} and connects the emulated gateway. */
    static Gateway publish(E2eStack stack, UpstreamServer backend) throws Exception {
        return stack.publish("""
                groups:
                  - {name: local, environment: dev, region: local, hostnames: [payments.local], listener_port: %1$d,
                     proxyless_authz: off}
                upstreams:
                  - {name: payments-backend, protocol: http1, endpoints: [{address: 127.0.0.1, port: %2$d}],
                     address_exceptions: [{address: 127.0.0.1, port: %2$d, reason: "e2e backend on this machine"}]}
                apis:
                  - {name: payments, base_path: /payments, default_version: v1, versions: [{version: v1, status: active}]}
                routes:
                  - {name: charges, group: local, api: payments, version: v1, match: {path_prefix: /charges},
                     destinations: [{upstream: payments-backend, weight: 100}], authz_profile: dev-products,
                     dlp_profile: default}
                """.formatted(PORT, backend.port()), GROUP, PORT);
    }

    /**
     * Through the admin API: cluster local serves group local, and the payments product (one operation, create-charge)
     * is published with its plan free (approved at once, API keys, three calls a day) still a draft.
     */
    static void productWithFreePlan(E2eStack stack) throws Exception {
        stack.admin(
                "PUT",
                "/v1/operator/clusters/local",
                "{\"region\": \"local\", \"gateway_groups\": {\"local\": [\"default\"]}}");
        stack.admin("POST", "/v1/provider/products", """
                {"id": "payments", "tenant": "default", "name": "Payments", "visibility": "public",
                 "operations": [{"id": "create-charge", "api": "payments", "method": "post", "path": "/charges"}]}""");
        stack.admin("POST", "/v1/provider/products/payments/state", "{\"state\": \"published\"}");
        stack.admin("POST", "/v1/provider/products/payments/plans", """
                {"name": "free", "approval": "auto", "auth_modes": ["apikey"],
                 "limits": {"quota": {"period": "day", "limit": 3}}}""");
    }

    /** A charge with {@code key}, sending its tenant as the header contract of the fixture policy asks. */
    static DownstreamRequest charge(String key, String tenant) {
        return DownstreamRequest.withBody(
                "POST",
                HOST,
                "/payments/v1/charges",
                "{\"amount\": 5}",
                "x-api-key",
                key,
                "x-tenant-id",
                tenant,
                "content-type",
                "application/json");
    }
}
