package io.meshguard.deploy;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.List;

/**
 * {@code admissionregistration.k8s.io/v1} ValidatingAdmissionPolicy and its Binding, the part meshguard's file
 * uses, with the API's field names. No fabric8 model of these kinds is on the classpath; {@link
 * StrictKubernetesModels} rejects any field these records do not name.
 */
final class AdmissionPolicy {
    private AdmissionPolicy() {}

    record Policy(String apiVersion, String kind, ObjectMeta metadata, PolicySpec spec) {}

    record PolicySpec(
            String failurePolicy,
            MatchConstraints matchConstraints,
            List<NamedExpression> matchConditions,
            List<NamedExpression> variables,
            List<Validation> validations) {}

    record MatchConstraints(List<ResourceRule> resourceRules) {}

    record ResourceRule(
            List<String> apiGroups, List<String> apiVersions, List<String> operations, List<String> resources) {}

    record NamedExpression(String name, String expression) {}

    record Validation(String expression, String message) {}

    record Binding(String apiVersion, String kind, ObjectMeta metadata, BindingSpec spec) {}

    record BindingSpec(String policyName, List<String> validationActions) {}
}
