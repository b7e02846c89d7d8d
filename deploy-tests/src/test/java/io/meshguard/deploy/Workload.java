package io.meshguard.deploy;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.util.Optional;

/**
 * A Deployment or a StatefulSet, reduced to what the consistency checks read of either: the servers that write
 * audit events run as StatefulSets (one spool volume per replica), the others as Deployments.
 *
 * @param replicas the fixed replica count, or null when an autoscaler owns it
 * @param statefulSet the full model when the workload is a StatefulSet
 */
record Workload(
        String kind,
        ObjectMeta metadata,
        PodTemplateSpec template,
        Integer replicas,
        Optional<StatefulSet> statefulSet) {

    static Workload of(Deployment d) {
        return new Workload(
                "Deployment",
                d.getMetadata(),
                d.getSpec().getTemplate(),
                d.getSpec().getReplicas(),
                Optional.empty());
    }

    static Workload of(StatefulSet s) {
        return new Workload(
                "StatefulSet",
                s.getMetadata(),
                s.getSpec().getTemplate(),
                s.getSpec().getReplicas(),
                Optional.of(s));
    }

    String name() {
        return metadata.getName();
    }
}
