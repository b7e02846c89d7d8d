package io.meshguard.devstack.demo;

import io.meshguard.xds.model.GatewayConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * The controller's draft with the demo's group added, and nothing else changed: the demo's upstreams are on loopback
 * ports that close when it ends, so a group of the operator's that came to route to one of them (same upstream or
 * API name) would be published with a backend that is gone a minute later. Such a clash is refused, not merged.
 */
final class DemoDraft {
    private DemoDraft() {}

    /**
     * {@code theirs} with {@code mine} (the demo's group {@code group}, its upstreams, APIs and routes) in place of
     * any earlier demo.
     *
     * @throws IllegalStateException when another group would serve something different afterwards
     */
    static GatewayConfig merge(GatewayConfig theirs, GatewayConfig mine, String group) {
        List<String> groups = mine.groups().stream().map(g -> g.name()).toList();
        List<String> upstreams = mine.upstreams().stream().map(u -> u.name()).toList();
        List<String> apis = mine.apis().stream().map(a -> a.name()).toList();
        GatewayConfig merged = new GatewayConfig(
                concat(theirs.groups(), g -> !groups.contains(g.name()), mine.groups()),
                concat(theirs.upstreams(), u -> !upstreams.contains(u.name()), mine.upstreams()),
                concat(theirs.apis(), a -> !apis.contains(a.name()), mine.apis()),
                concat(theirs.routes(), r -> !r.group().equals(group), mine.routes()));
        for (var g : theirs.groups()) {
            if (!g.name().equals(group) && !merged.slice(g.name()).equals(theirs.slice(g.name()))) {
                throw new IllegalStateException("the demo's upstreams or APIs (" + String.join(", ", upstreams) + "; "
                        + String.join(", ", apis) + ") share a name with what gateway group '" + g.name()
                        + "' uses: publishing would change that group; rename yours or run the demo on a fresh stack");
            }
        }
        return merged;
    }

    private static <T> List<T> concat(List<T> theirs, Predicate<T> keep, List<T> mine) {
        List<T> out = new ArrayList<>(theirs.stream().filter(keep).toList());
        out.addAll(mine);
        return out;
    }
}
