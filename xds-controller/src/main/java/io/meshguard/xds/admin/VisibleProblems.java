package io.meshguard.xds.admin;

import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.validate.Problem;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The validation problems a tenant-scoped caller is shown. Validation runs over the whole configuration, so its
 * problems describe every tenant's APIs, upstreams and routes; a tenant sees those about the objects it may read (its
 * tenants', as {@code GET /config} shows them), the object its own call names, and the gateway groups every tenant
 * routes through. Anything else (another tenant's object, a publish, the policy files) is left out.
 */
final class VisibleProblems {
    private static final Pattern OBJECT = Pattern.compile("^(apis|upstreams|groups|routes)\\[([^\\]]+)]");

    private VisibleProblems() {
    }

    /**
     * @param visible the configuration as the caller may see it
     * @param target the segments of the caller's own request ({@code routes/g/n}): its object counts as visible
     */
    static List<Problem> of(List<Problem> problems, GatewayConfig visible, List<String> target) {
        return problems.stream().filter(p -> shown(p, visible, target)).toList();
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
        if (!target.isEmpty() && target.get(0).equals(kind)
                && String.join("/", target.subList(1, target.size())).equals(key)) {
            return true;
        }
        return switch (kind) {
            case "apis" -> visible.api(key).isPresent();
            case "upstreams" -> visible.upstream(key).isPresent();
            default -> visible.routes().stream().anyMatch(r -> (r.group() + "/" + r.name()).equals(key));
        };
    }
}
