package io.meshguard.deploy;

import com.fasterxml.jackson.databind.BeanDescription;
import com.fasterxml.jackson.databind.DeserializationConfig;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.BeanDeserializerBuilder;
import com.fasterxml.jackson.databind.deser.BeanDeserializerModifier;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import io.fabric8.istio.api.networking.v1.DestinationRule;
import io.fabric8.istio.api.networking.v1alpha3.EnvoyFilter;
import io.fabric8.istio.api.security.v1.AuthorizationPolicy;
import io.fabric8.istio.api.security.v1.PeerAuthentication;
import io.fabric8.istio.api.telemetry.v1.Telemetry;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.kustomize.v1beta1.Kustomization;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Parses Kubernetes and Istio manifests into fabric8's typed models and rejects every field the model does not
 * know. fabric8 models collect unknown fields in an {@code additionalProperties} map (a Jackson any-setter), which
 * would let {@code replica: 3} or {@code failOpne: true} pass silently; this mapper removes the any-setters so an
 * unknown field fails with its JSON path instead. Istio's oneof fields go through fabric8's own unwrapping
 * deserializer, which drops what it does not recognise, so every document is also written back from the model and
 * compared with the input: a field or value that did not survive the round trip is reported as unknown.
 */
final class StrictKubernetesModels {
    /** The kinds meshguard ships, by {@code apiVersion kind}. A kind missing here is itself a failure. */
    private static final Map<String, Class<?>> KINDS = Map.ofEntries(
            Map.entry("v1 Namespace", Namespace.class),
            Map.entry("v1 ServiceAccount", ServiceAccount.class),
            Map.entry("v1 Service", Service.class),
            Map.entry("v1 ConfigMap", ConfigMap.class),
            Map.entry("v1 Secret", Secret.class),
            Map.entry("apps/v1 Deployment", Deployment.class),
            Map.entry("apps/v1 StatefulSet", StatefulSet.class),
            Map.entry("batch/v1 Job", Job.class),
            Map.entry("autoscaling/v2 HorizontalPodAutoscaler", HorizontalPodAutoscaler.class),
            Map.entry("policy/v1 PodDisruptionBudget", PodDisruptionBudget.class),
            Map.entry("networking.k8s.io/v1 NetworkPolicy", NetworkPolicy.class),
            Map.entry("rbac.authorization.k8s.io/v1 ClusterRole", ClusterRole.class),
            Map.entry("rbac.authorization.k8s.io/v1 ClusterRoleBinding", ClusterRoleBinding.class),
            Map.entry("rbac.authorization.k8s.io/v1 Role", io.fabric8.kubernetes.api.model.rbac.Role.class),
            Map.entry(
                    "rbac.authorization.k8s.io/v1 RoleBinding", io.fabric8.kubernetes.api.model.rbac.RoleBinding.class),
            Map.entry("security.istio.io/v1 AuthorizationPolicy", AuthorizationPolicy.class),
            Map.entry("security.istio.io/v1 PeerAuthentication", PeerAuthentication.class),
            Map.entry("networking.istio.io/v1 DestinationRule", DestinationRule.class),
            Map.entry("networking.istio.io/v1 Gateway", io.fabric8.istio.api.networking.v1.Gateway.class),
            Map.entry("networking.istio.io/v1 VirtualService", io.fabric8.istio.api.networking.v1.VirtualService.class),
            Map.entry("networking.istio.io/v1 ServiceEntry", io.fabric8.istio.api.networking.v1.ServiceEntry.class),
            Map.entry("networking.istio.io/v1alpha3 EnvoyFilter", EnvoyFilter.class),
            Map.entry("telemetry.istio.io/v1 Telemetry", Telemetry.class),
            Map.entry("monitoring.coreos.com/v1 PrometheusRule", PrometheusRule.class),
            Map.entry("admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy", AdmissionPolicy.Policy.class),
            Map.entry(
                    "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding", AdmissionPolicy.Binding.class),
            Map.entry("gateway.networking.k8s.io/v1 Gateway", WaypointGateway.Gateway.class),
            Map.entry("kustomize.config.k8s.io/v1beta1 Kustomization", Kustomization.class),
            // a Component has a Kustomization's fields (kustomize api/types/kustomization.go: one type for both)
            Map.entry("kustomize.config.k8s.io/v1alpha1 Component", Kustomization.class));

    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .disable(DeserializationFeature.READ_UNKNOWN_ENUM_VALUES_AS_NULL)
            .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
            .addModule(new SimpleModule("no-any-setter").setDeserializerModifier(new NoAnySetter()))
            .build();

    private StrictKubernetesModels() {}

    /** The model class for a document's apiVersion and kind. */
    static Optional<Class<?>> modelFor(String apiVersion, String kind) {
        return Optional.ofNullable(KINDS.get(apiVersion + " " + kind));
    }

    /**
     * The document as its typed model.
     *
     * @throws ManifestException naming the document and the offending field when a field is unknown, a value has
     *     the wrong type, or the kind has no model
     */
    static Object parse(SourcedDocument doc) {
        Class<?> type = modelFor(doc.apiVersion(), doc.kind())
                .orElseThrow(() -> new ManifestException(doc.describe() + ": no typed model for apiVersion '"
                        + doc.apiVersion() + "' kind '" + doc.kind() + "'"));
        return parse(doc, type);
    }

    /** The document as {@code type}. */
    static <T> T parse(SourcedDocument doc, Class<T> type) {
        T model;
        try {
            model = STRICT.treeToValue(doc.node(), type);
        } catch (JsonMappingException e) {
            throw new ManifestException(
                    doc.describe() + ": " + e.getOriginalMessage() + " at " + e.getPathReference(), e);
        } catch (Exception e) {
            throw new ManifestException(doc.describe() + ": " + e.getMessage(), e);
        }
        List<String> lost = new ArrayList<>();
        compare(doc.node(), STRICT.valueToTree(model), "", lost);
        if (!lost.isEmpty()) {
            throw new ManifestException(doc.describe() + ": not understood by the " + type.getSimpleName() + " model: "
                    + String.join("; ", lost));
        }
        return model;
    }

    /** Adds to {@code lost} every field of {@code input} that is missing or different in {@code output}. */
    private static void compare(JsonNode input, JsonNode output, String path, List<String> lost) {
        if (input.isObject()) {
            if (!output.isObject()) {
                lost.add("unexpected object at " + pathOrRoot(path));
                return;
            }
            for (Map.Entry<String, JsonNode> field : input.properties()) {
                JsonNode counterpart = output.get(field.getKey());
                String fieldPath = path + "/" + field.getKey();
                if (counterpart == null || counterpart.isNull()) {
                    JsonNode value = field.getValue();
                    if (value.isValueNode() && !value.isNull()) {
                        lost.add("unknown field or value " + fieldPath + " ('" + value.asText() + "')");
                    } else if (!value.isNull()) {
                        lost.add("unknown field " + fieldPath);
                    }
                } else {
                    compare(field.getValue(), counterpart, fieldPath, lost);
                }
            }
        } else if (input.isArray()) {
            if (!output.isArray() || output.size() != input.size()) {
                lost.add("list changed at " + pathOrRoot(path));
                return;
            }
            for (int i = 0; i < input.size(); i++) {
                compare(input.get(i), output.get(i), path + "/" + i, lost);
            }
        } else if (!input.asText().equals(output.asText())) {
            // Scalars compare as text: a Quantity written as 1 comes back as "1", which is the same value.
            lost.add("value at " + pathOrRoot(path) + " read as '" + output.asText() + "' instead of '" + input.asText()
                    + "'");
        }
    }

    private static String pathOrRoot(String path) {
        return path.isEmpty() ? "/" : path;
    }

    /** Turns off every any-setter, so unknown properties reach FAIL_ON_UNKNOWN_PROPERTIES. */
    private static final class NoAnySetter extends BeanDeserializerModifier {
        @Override
        public BeanDeserializerBuilder updateBuilder(
                DeserializationConfig config, BeanDescription beanDesc, BeanDeserializerBuilder builder) {
            builder.setAnySetter(null);
            return builder;
        }
    }
}
