package io.meshguard.xds.admin;

import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.validate.Problem;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The validation problems a tenant-scoped caller is shown. Validation runs over the whole configuration, so its
 * problems describe every tenant's APIs, upstreams and routes; a tenant sees those about the objects it may read (its
 * tenants', as {@code GET /config} shows them), the object its own call names, and the gateway groups every tenant
 * routes through. Anything else (another tenant's object, a publish, the policy files) is left out.
 *
 * <p>A gateway owner's publish of its group ({@link #ofGroup}) sees the problems of that group's slice only: its
 * group, its routes, the APIs and upstreams those routes name, and the product publishes served in it. The rest of the
 * draft is other owners' and other tenants' business.
 */
final class VisibleProblems {
    private static final Pattern OBJECT = Pattern.compile("^(apis|upstreams|groups|routes)\\[([^\\]]+)]");
    private static final Pattern PRODUCT_PUBLISH = Pattern.compile("^product-publishes\\[([^\\]]+)]");

    private VisibleProblems() {}

    /**
     * @param visible the configuration as the caller may see it
     * @param target the segments of the caller's own request ({@code routes/g/n}): its object counts as visible
     */
    static List<Problem> of(List<Problem> problems, GatewayConfig visible, List<String> target) {
        return problems.stream().filter(p -> shown(p, visible, target)).toList();
    }

    /**
     * @param slice the group's slice of the configuration the publish validated ({@link GatewayConfig#slice})
     * @param group the group the caller publishes
     */
    static List<Problem> ofGroup(List<Problem> problems, GatewayConfig slice, String group) {
        Set<String> publishes = slice.routes().stream()
                .flatMap(r -> r.product().stream())
                .map(Route.ProductBinding::publish)
                .collect(Collectors.toSet());
        return problems.stream()
                .filter(p -> {
                    Matcher product = PRODUCT_PUBLISH.matcher(p.path());
                    if (product.find()) {
                        return publishes.contains(product.group(1));
                    }
                    Matcher m = OBJECT.matcher(p.path());
                    return m.find()
                            && (m.group(1).equals("groups")
                                    ? m.group(2).equals(group)
                                    : shownIn(slice, m.group(1), m.group(2)));
                })
                .toList();
    }

    private static boolean shown(Problem p, GatewayConfig visible, List<String> target) {
        Matcher m = OBJECT.matcher(p.path());
        if (!m.find()) {
            return false;
        }
        String kind = m.group(1);
        String key = m.group(2);
        if (kind.equals("groups")) {
            return true;
        }
        if (!target.isEmpty()
                && target.get(0).equals(kind)
                && String.join("/", target.subList(1, target.size())).equals(key)) {
            return true;
        }
        return shownIn(visible, kind, key);
    }

    private static boolean shownIn(GatewayConfig visible, String kind, String key) {
        return switch (kind) {
            case "apis" -> visible.api(key).isPresent();
            case "upstreams" -> visible.upstream(key).isPresent();
            default -> visible.routes().stream().anyMatch(r -> (r.group() + "/" + r.name()).equals(key));
        };
    }
}
