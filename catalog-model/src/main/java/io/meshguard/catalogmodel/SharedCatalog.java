package io.meshguard.catalogmodel;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * What providers offer and every tenant's decisions share: each product publish and each plan. One resource of the
 * subscription-state stream ({@code shared}); it changes only when a publish or a plan does, never with a
 * subscription, so a subscription's change does not send it. The publishes and plans of a provider whose rows this
 * release cannot read ({@link UnreadableRows}) are held by id only: calls to those publishes are refused.
 */
public final class SharedCatalog {
    /** No publish and no plan: every product route answers {@code no_subscription}. */
    public static final SharedCatalog EMPTY = new SharedCatalog(List.of(), List.of());

    private final Map<String, ProductPublish> publishes;
    private final Map<String, Plan> plans;
    private final Map<String, String> unreadablePublishes;
    private final Set<String> unreadablePlans;

    /**
     * @throws IllegalArgumentException on a duplicate id
     */
    public SharedCatalog(Collection<ProductPublish> publishes, Collection<Plan> plans) {
        this(publishes, plans, Map.of(), Set.of());
    }

    /**
     * @param unreadablePublishes publishes this release cannot read, by id, with why (for the operator)
     * @param unreadablePlans plans this release cannot read, by id
     * @throws IllegalArgumentException on a duplicate id, or an id both read and unreadable
     */
    public SharedCatalog(
            Collection<ProductPublish> publishes,
            Collection<Plan> plans,
            Map<String, String> unreadablePublishes,
            Set<String> unreadablePlans) {
        this.publishes = byId(publishes, ProductPublish::id, "product publish");
        this.plans = byId(plans, Plan::id, "plan");
        this.unreadablePublishes = Map.copyOf(unreadablePublishes);
        this.unreadablePlans = Set.copyOf(unreadablePlans);
        for (String id : this.unreadablePublishes.keySet()) {
            if (this.publishes.containsKey(id)) {
                throw new IllegalArgumentException("product publish " + id + " is both read and unreadable");
            }
        }
        for (String id : this.unreadablePlans) {
            if (this.plans.containsKey(id)) {
                throw new IllegalArgumentException("plan " + id + " is both read and unreadable");
            }
        }
    }

    /** What every provider offers, with the publishes and plans of the unreadable ones by id. */
    public static SharedCatalog of(Collection<TenantCatalog> tenants) {
        List<ProductPublish> publishes = new ArrayList<>();
        List<Plan> plans = new ArrayList<>();
        Map<String, String> unreadablePublishes = new HashMap<>();
        Set<String> unreadablePlans = new HashSet<>();
        for (TenantCatalog t : tenants) {
            publishes.addAll(t.publishes());
            plans.addAll(t.plans());
            t.unreadable().ifPresent(u -> {
                u.publishes().forEach(p -> unreadablePublishes.put(p, "tenant " + t.tenant() + ": " + u.why()));
                unreadablePlans.addAll(u.plans());
            });
        }
        return new SharedCatalog(publishes, plans, unreadablePublishes, unreadablePlans);
    }

    public Collection<ProductPublish> publishes() {
        return publishes.values();
    }

    public Collection<Plan> plans() {
        return plans.values();
    }

    /** Publishes this release cannot read, by id, with why (for the operator). */
    public Map<String, String> unreadablePublishes() {
        return unreadablePublishes;
    }

    /** Plans this release cannot read, by id. */
    public Set<String> unreadablePlans() {
        return unreadablePlans;
    }

    boolean unreadablePublish(String id) {
        return unreadablePublishes.containsKey(id);
    }

    ProductPublish publish(String id) {
        return publishes.get(id);
    }

    Plan plan(String id) {
        return plans.get(id);
    }

    /** Whether a subscription may name {@code id}: a plan read, or one of a provider this release cannot read. */
    boolean hasPlan(String id) {
        return plans.containsKey(id) || unreadablePlans.contains(id);
    }

    @Override
    public boolean equals(Object o) {
        return o == this
                || (o instanceof SharedCatalog other
                        && publishes.equals(other.publishes)
                        && plans.equals(other.plans)
                        && unreadablePublishes.equals(other.unreadablePublishes)
                        && unreadablePlans.equals(other.unreadablePlans));
    }

    @Override
    public int hashCode() {
        return (publishes.hashCode() * 31 + plans.hashCode()) * 31
                + unreadablePublishes.keySet().hashCode();
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
