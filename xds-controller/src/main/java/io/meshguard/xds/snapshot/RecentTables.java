package io.meshguard.xds.snapshot;

import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The last few route tables of each name that passed a check, held weakly (a table lives while a snapshot or a build
 * holds it). A one-route change makes a new table that is one of them with a virtual host or two replaced; a check
 * compares the new table with the closest one by the identity of its virtual hosts, place by place, and looks again
 * only at the hosts that differ. A few per name, not one: the draft's validation and the publish build
 * tables of the same name from builders of their own (other instances; in a deployment, other filter targets too),
 * and one per name would push the other out.
 */
public final class RecentTables {
    private static final int PER_NAME = 4;
    private static final int NAMES = 4_096;

    private final Map<String, Deque<WeakReference<RouteConfiguration>>> byName = new LinkedHashMap<>(256, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Deque<WeakReference<RouteConfiguration>>> e) {
            return size() > NAMES;
        }
    };

    /**
     * The remembered table of {@code table}'s name, accepted by {@code usable}, with the fewest virtual hosts that are
     * not the instance in the same place of {@code table}.
     */
    public synchronized Optional<RouteConfiguration> closest(
            RouteConfiguration table, Predicate<RouteConfiguration> usable) {
        Deque<WeakReference<RouteConfiguration>> known = byName.get(table.getName());
        if (known == null) {
            return Optional.empty();
        }
        RouteConfiguration best = null;
        int fewest = Integer.MAX_VALUE;
        for (Iterator<WeakReference<RouteConfiguration>> it = known.iterator(); it.hasNext(); ) {
            RouteConfiguration t = it.next().get();
            if (t == null) {
                it.remove();
                continue;
            }
            if (!usable.test(t)) {
                continue;
            }
            int differ = differing(table, t, fewest);
            if (differ < fewest) {
                fewest = differ;
                best = t;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Remembers {@code table} as passed, the most recent of its name; the oldest of more than a few is forgotten. */
    public synchronized void remember(RouteConfiguration table) {
        Deque<WeakReference<RouteConfiguration>> known =
                byName.computeIfAbsent(table.getName(), n -> new ArrayDeque<>());
        known.removeIf(r -> r.get() == null || r.get() == table);
        known.addFirst(new WeakReference<>(table));
        while (known.size() > PER_NAME) {
            known.removeLast();
        }
    }

    /** How many of {@code table}'s virtual hosts are not {@code other}'s in the same place, counted up to {@code atMost}. */
    private static int differing(RouteConfiguration table, RouteConfiguration other, int atMost) {
        int n = table.getVirtualHostsCount();
        int differ = Math.max(0, n - other.getVirtualHostsCount());
        for (int i = 0; i < Math.min(n, other.getVirtualHostsCount()) && differ < atMost; i++) {
            if (table.getVirtualHosts(i) != other.getVirtualHosts(i)) {
                differ++;
            }
        }
        return differ;
    }
}
