package io.meshguard.deploy;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.List;
import java.util.Map;

/**
 * {@code gateway.networking.k8s.io/v1} Gateway, the part an Istio ambient waypoint uses, with the Gateway API's field
 * names (kubernetes-sigs/gateway-api {@code apis/v1/gateway_types.go}: {@code gatewayClassName}, {@code listeners},
 * {@code infrastructure} from v1.1). No fabric8 model of the Gateway API is on the classpath; {@link
 * StrictKubernetesModels} rejects any field these records do not name.
 */
final class WaypointGateway {
    private WaypointGateway() {}

    record Gateway(String apiVersion, String kind, ObjectMeta metadata, Spec spec) {}

    record Spec(String gatewayClassName, Infrastructure infrastructure, List<Listener> listeners) {}

    record Infrastructure(Map<String, String> labels, Map<String, String> annotations) {}

    record Listener(String name, Integer port, String protocol) {}
}
