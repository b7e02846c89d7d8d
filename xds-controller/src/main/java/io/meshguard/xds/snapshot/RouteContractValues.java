package io.meshguard.xds.snapshot;

import io.meshguard.contract.RouteContract;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.Route;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The route contract's values for one route (docs/route-contract.md), written once for every kind of gateway
 * template: the meshguard-served gateway puts them into {@code ExtAuthzPerRoute} and {@code ExtProcPerRoute}, the
 * Envoy Gateway renderer into {@code SecurityPolicy.extAuth.contextExtensions}, so extauthz sees one contract.
 */
public final class RouteContractValues {
    private RouteContractValues() {}

    /**
     * The ext_authz context extensions of {@code r} served as version {@code v} of {@code api}, in the order the
     * gateway's route table has always listed them (its resource versions hash the serialised table).
     */
    public static Map<String, String> authzContext(Api api, Api.ApiVersion v, Route r) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(RouteContract.AuthzContext.AUTHZ_PROFILE, r.authzProfile());
        m.put(RouteContract.AuthzContext.GATEWAY_ROUTE, r.name());
        m.put(RouteContract.AuthzContext.API, api.name());
        m.put(RouteContract.AuthzContext.API_VERSION, v.version());
        // what extauthz needs to decide a product route from the pushed subscription state (SubscriptionGate)
        r.product().ifPresent(p -> {
            m.put(RouteContract.AuthzContext.PRODUCT_PUBLISH, p.publish());
            m.put(RouteContract.AuthzContext.PRODUCT_OPERATION, p.operation());
        });
        return m;
    }

    /** The ext_proc initial metadata of {@code r}, in the order the gateway sends it. */
    public static Map<String, String> dlpMetadata(Api api, Api.ApiVersion v, Route r) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(RouteContract.DlpMetadata.DLP_PROFILE, r.dlpProfile());
        m.put(RouteContract.DlpMetadata.GATEWAY_ROUTE, r.name());
        m.put(RouteContract.DlpMetadata.API, api.name());
        m.put(RouteContract.DlpMetadata.API_VERSION, v.version());
        return m;
    }
}
