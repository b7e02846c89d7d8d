package io.meshguard.deploy;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import java.util.List;
import java.util.Map;

/**
 * The Prometheus Operator's {@code monitoring.coreos.com/v1 PrometheusRule}, the part meshguard's alert file uses,
 * with the field names of the operator's CRD ({@code spec.groups[].rules[]}). There is no fabric8 model on the
 * classpath; {@link StrictKubernetesModels} rejects any field these records do not name.
 */
record PrometheusRule(String apiVersion, String kind, ObjectMeta metadata, Spec spec) {
    record Spec(List<Group> groups) {}

    record Group(String name, String interval, List<Rule> rules) {}

    /** One alerting rule; {@code for} is a Java keyword, hence the property name. */
    record Rule(
            String alert,
            String expr,
            @JsonProperty("for") String pendingFor,
            Map<String, String> labels,
            Map<String, String> annotations) {}
}
