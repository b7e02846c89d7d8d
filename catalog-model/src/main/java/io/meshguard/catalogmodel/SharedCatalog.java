package io.meshguard.catalogmodel;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What providers offer and every tenant's decisions share: each product publish and each plan. One resource of the
 * subscription-state stream ({@code shared}); it changes only when a publish or a plan does, never with a
 * subscription, so a subscription's change does not send it.
 */
public final class SharedCatalog {
    /** No publish and no plan: every product route answers {@code no_subscription}. */
    public static final SharedCatalog EMPTY = new SharedCatalog(List.of(), List.of());

    private final Map<String, ProductPublish> publishes;
    private final Map<String, Plan> plans;

    /**
     * @throws IllegalArgumentException on a duplicate id
     */
    public SharedCatalog(Collection<ProductPublish> publishes, Collection<Plan> plans) {
        this.publishes = byId(publishes, ProductPublish::id, "product publish");
        this.plans = byId(plans, Plan::id, "plan");
    }

    public Collection<ProductPublish> publishes() {
        return publishes.values();
    }

    public Collection<Plan> plans() {
        return plans.values();
    }

    ProductPublish publish(String id) {
        return publishes.get(id);
    }

    Plan plan(String id) {
        return plans.get(id);
    }

    boolean hasPlan(String id) {
        return plans.containsKey(id);
    }

    @Override
    public boolean equals(Object o) {
        return o == this
                || (o instanceof SharedCatalog other && publishes.equals(other.publishes) && plans.equals(other.plans));
    }

    @Override
    public int hashCode() {
        return publishes.hashCode() * 31 + plans.hashCode();
    }

    static <T> Map<String, T> byId(Collection<T> values, Function<T, String> key, String what) {
        Map<String, T> map = new HashMap<>();
        for (T value : values) {
            if (map.put(key.apply(value), value) != null) {
                throw new IllegalArgumentException("duplicate " + what + " " + key.apply(value));
            }
        }
        return Map.copyOf(map);
    }
}
