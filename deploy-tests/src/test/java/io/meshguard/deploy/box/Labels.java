package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Kubernetes label selectors (apimachinery {@code labels.Selector}): every {@code matchLabels} pair and every
 * {@code matchExpressions} requirement (In, NotIn, Exists, DoesNotExist) must hold; an empty selector selects all.
 */
final class Labels {
    private Labels() {}

    static boolean matches(LabelSelector selector, Map<String, String> labels) {
        if (selector == null) {
            return true;
        }
        for (Map.Entry<String, String> e :
                Optional.ofNullable(selector.getMatchLabels()).orElse(Map.of()).entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        for (LabelSelectorRequirement r :
                Optional.ofNullable(selector.getMatchExpressions()).orElse(List.of())) {
            String value = labels.get(r.getKey());
            List<String> values = Optional.ofNullable(r.getValues()).orElse(List.of());
            boolean ok =
                    switch (r.getOperator()) {
                        case "In" -> value != null && values.contains(value);
                        case "NotIn" -> value == null || !values.contains(value);
                        case "Exists" -> value != null;
                        case "DoesNotExist" -> value == null;
                        default -> throw new IllegalArgumentException("unknown selector operator " + r.getOperator());
                    };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** A Service's plain {@code selector} map (every pair must match; an empty map selects nothing here). */
    static boolean matches(Map<String, String> selector, Map<String, String> labels) {
        return selector != null
                && !selector.isEmpty()
                && selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }
}
