package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One pod of the box: what the API server would hold for it once scheduled (name, namespace, labels, pod IP, spec).
 *
 * @param owner {@code Deployment/name}, {@code StatefulSet/name}, {@code Job/name} or {@code external/name}
 * @param subdomain a StatefulSet pod's governing Service, which gives it a DNS name of its own
 */
record BoxPod(
        String name,
        String namespace,
        Map<String, String> labels,
        Map<String, String> annotations,
        String ip,
        String netns,
        PodSpec spec,
        String owner,
        Optional<String> subdomain) {

    Container container() {
        return spec.getContainers().get(0);
    }

    /** A pod with {@code template}'s labels, annotations and spec (a template may leave labels or annotations out). */
    static BoxPod of(
            String name,
            String namespace,
            PodTemplateSpec template,
            String ip,
            String netns,
            String owner,
            Optional<String> subdomain) {
        return new BoxPod(
                name,
                namespace,
                Optional.ofNullable(template.getMetadata().getLabels()).orElse(Map.of()),
                Optional.ofNullable(template.getMetadata().getAnnotations()).orElse(Map.of()),
                ip,
                netns,
                template.getSpec(),
                owner,
                subdomain);
    }

    /** The pod under the same name and address with {@code template}'s labels, annotations and spec (a rollout). */
    BoxPod rolledTo(PodTemplateSpec template) {
        return of(name, namespace, template, ip, netns, owner, subdomain);
    }

    /** The container port named {@code name} (NetworkPolicy ports, Service targetPorts, probes may name one). */
    OptionalInt port(String name) {
        for (Container c : spec.getContainers()) {
            for (ContainerPort p : Optional.ofNullable(c.getPorts()).orElse(List.of())) {
                if (name.equals(p.getName())) {
                    return OptionalInt.of(p.getContainerPort());
                }
            }
        }
        return OptionalInt.empty();
    }

    /** A numeric port, or the container port a name stands for. */
    OptionalInt port(IntOrString port) {
        if (port == null) {
            return OptionalInt.empty();
        }
        return port.getIntVal() != null ? OptionalInt.of(port.getIntVal()) : port(port.getStrVal());
    }

    /** Whether Istio injects a sidecar into this pod (namespace label, overridden by the pod's annotation). */
    boolean injected(Map<String, String> namespaceLabels) {
        String annotation = annotations.get("sidecar.istio.io/inject");
        if (annotation != null) {
            return annotation.equals("true");
        }
        String podLabel = labels.get("sidecar.istio.io/inject");
        if (podLabel != null) {
            return podLabel.equals("true");
        }
        return "enabled".equals(namespaceLabels.get("istio-injection"));
    }

    String describe() {
        return namespace + "/" + name + " (" + owner + ", " + ip + ")";
    }
}
