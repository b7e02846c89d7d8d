package io.meshguard.xds.validate;

import io.meshguard.authz.policy.RouteMatch;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.HostnamePlan;
import io.meshguard.xds.model.Route;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Refuses a route that names an authz or DLP profile the loaded policies lack: extauthz would deny every request of
 * it ({@code unknown_profile}) and the DLP server would refuse every stream, so such a configuration is an outage,
 * caught before it is published. Routes of sunset and retired versions are skipped: they answer from the gateway
 * and hand nothing over.
 */
public final class ProfileReferences {
    /** Checks nothing: for a controller run without policy files (say so in its readiness detail). */
    public static final ProfileReferences NONE = new ProfileReferences(() -> Optional.empty(), false);

    private final Supplier<Optional<ProfileCatalog>> catalog;
    private final boolean required;

    /**
     * @param catalog the loaded policies' names; empty while they are not loaded, which refuses every route
     */
    public ProfileReferences(Supplier<Optional<ProfileCatalog>> catalog) {
        this(catalog, true);
    }

    private ProfileReferences(Supplier<Optional<ProfileCatalog>> catalog, boolean required) {
        this.catalog = catalog;
        this.required = required;
    }

    /** The request headers the loaded authz policy owns; empty when none is loaded. */
    public java.util.Set<String> ownedHeaders() {
        return catalog.get().map(ProfileCatalog::ownedHeaders).orElse(java.util.Set.of());
    }

    /** Whether routes are checked at all. */
    public boolean enabled() {
        return required;
    }

    /** Errors naming each route and the profile it names that the policies lack. */
    public List<Problem> check(GatewayConfig config) {
        if (!required || config.routes().isEmpty()) {
            return List.of();
        }
        Optional<ProfileCatalog> loaded = catalog.get();
        if (loaded.isEmpty()) {
            return List.of(Problem.error(
                    ProblemCode.PROFILE_POLICIES_NOT_LOADED,
                    "routes",
                    "the policy files are not loaded, so the profiles routes name "
                            + "cannot be checked; nothing is published until they are (see the controller's /readyz)"));
        }
        return missing(config, loaded.get());
    }

    /**
     * Errors for every handed-over profile the catalog lacks; warnings for a route serving methods or hosts outside
     * the authz rule it names (every such request is denied {@code outside_profile}).
     */
    public static List<Problem> missing(GatewayConfig config, ProfileCatalog catalog) {
        List<Problem> problems = new ArrayList<>();
        for (Route r : config.routes()) {
            if (!handsOver(config, r)) {
                continue;
            }
            String path = "routes[" + r.group() + "/" + r.name() + "]";
            RouteMatch rule = catalog.authzRules().get(r.authzProfile());
            if (rule != null && r.product().isPresent()) {
                problems.addAll(productRoute(path, r, r.product().get(), rule, catalog));
            } else if (rule != null) {
                outside(config, r, rule)
                        .ifPresent(what -> problems.add(Problem.warning(
                                ProblemCode.PROFILE_ROUTE_OUTSIDE_RULE,
                                path + ".authz_profile",
                                "route " + r.name() + " serves " + what + ", which authz rule '" + r.authzProfile()
                                        + "' does not allow: those requests are denied (outside_profile)")));
            } else if (r.authzProfile().equals(Route.DEFAULT_PROFILE)) {
                // no shipped authz rule is called "default": an omitted authz_profile is a missing field, said so
                // (review IC-06), not a typo of a rule name
                problems.add(Problem.error(
                        ProblemCode.PROFILE_AUTHZ_MISSING,
                        path + ".authz_profile",
                        "route " + r.name() + " has no authz_profile: "
                                + "it is required and names the rule of " + catalog.authzSource()
                                + " that decides the route's requests" + known(catalog.authzProfiles())));
            } else {
                problems.add(Problem.error(
                        ProblemCode.PROFILE_AUTHZ_UNKNOWN,
                        path + ".authz_profile",
                        "route " + r.name() + " names authz profile '"
                                + r.authzProfile() + "', which is not a rule in " + catalog.authzSource()
                                + known(catalog.authzProfiles())));
            }
            if (!catalog.dlpProfiles().contains(r.dlpProfile())) {
                problems.add(Problem.error(
                        ProblemCode.PROFILE_DLP_UNKNOWN,
                        path + ".dlp_profile",
                        "route " + r.name() + " names DLP profile '"
                                + r.dlpProfile() + "', which is not a profile in " + catalog.dlpSource()
                                + known(catalog.dlpProfiles())));
            }
        }
        return problems;
    }

    /**
     * A product publish's route: a publish host or method outside the rule it names would be a product nobody can
     * call (every request {@code outside_profile}), so it is an error and the publish is refused; a rule without
     * {@code products_only} is a warning, because it also admits its credentials on the API's own hosts without any
     * subscription, which a provider selling the API only through products does not want.
     */
    private static List<Problem> productRoute(
            String path, Route r, Route.ProductBinding product, RouteMatch rule, ProfileCatalog catalog) {
        List<Problem> problems = new ArrayList<>();
        List<String> methods = r.match().methods().isEmpty()
                ? List.of("any method")
                : r.match().methods();
        for (String method : methods) {
            Optional<String> out = rule.outsideMethodOrHost(product.host(), method);
            if (out.isPresent()) {
                problems.add(Problem.error(
                        ProblemCode.PROFILE_PRODUCT_OUTSIDE_RULE,
                        path + ".authz_profile",
                        "product publish " + product.publish()
                                + " serves "
                                + (out.get().equals("host") ? "host " + product.host() : "method " + method)
                                + " through authz rule '" + r.authzProfile()
                                + "', which does not allow it: every call of "
                                + "operation " + product.operation()
                                + " would be denied (outside_profile). Add the publish "
                                + "host (or *.api.<domain>) and the method to the rule's match in "
                                + catalog.authzSource()));
                break;
            }
        }
        io.meshguard.authz.policy.AuthMode auth = catalog.ruleAuth().get(r.authzProfile());
        boolean admits =
                switch (product.authMode()) {
                    case "apikey" -> auth == null || auth.acceptsApiKey();
                    case "oauth2" -> auth == null || auth.acceptsJwt();
                    default -> true;
                };
        if (!admits) {
            problems.add(Problem.error(
                    ProblemCode.PROFILE_PRODUCT_AUTH_MODE,
                    path + ".authz_profile",
                    "product publish " + product.publish() + " takes "
                            + product.authMode() + " credentials, but authz rule '" + r.authzProfile() + "' is auth: "
                            + auth.yaml() + ": every call of operation " + product.operation()
                            + " would be refused (401). "
                            + "Name a rule that admits "
                            + (product.authMode().equals("apikey")
                                    ? "API keys"
                                    : "the clients' tokens (jwt or jwt_or_apikey)")
                            + " in " + catalog.authzSource()));
        }
        if (!catalog.productsOnlyRules().contains(r.authzProfile())) {
            problems.add(Problem.warning(
                    ProblemCode.PROFILE_PRODUCT_NOT_PRODUCTS_ONLY,
                    path + ".authz_profile",
                    "product publish " + product.publish()
                            + " uses authz rule '" + r.authzProfile() + "', which is not products_only: the rule also "
                            + "admits its credentials on the API's own hosts without a subscription (set products_only: true "
                            + "on a rule of its own for product routes, docs/products.md)"));
        }
        return problems;
    }

    /** The first method or host the route serves that the rule excludes, e.g. {@code "DELETE"}. */
    private static Optional<String> outside(GatewayConfig config, Route r, RouteMatch rule) {
        Optional<GatewayGroup> group = config.group(r.group());
        Optional<Api> api = config.api(r.api());
        if (group.isEmpty() || api.isEmpty()) {
            return Optional.empty(); // the structural validation reports these
        }
        List<String> methods = r.match().methods().isEmpty()
                ? List.of("any method")
                : r.match().methods();
        for (String host : HostnamePlan.hostnames(group.get(), api.get())) {
            for (String method : methods) {
                Optional<String> out = rule.outsideMethodOrHost(host, method);
                if (out.isPresent()) {
                    return Optional.of(
                            out.get().equals("host")
                                    ? "host " + host
                                    : r.match().methods().isEmpty() ? "any method" : "method " + method);
                }
            }
        }
        return Optional.empty();
    }

    /** True when the route is served by its upstreams (its version is active or deprecated). */
    private static boolean handsOver(GatewayConfig config, Route r) {
        Optional<Api.Status> status =
                config.api(r.api()).flatMap(a -> a.version(r.version())).map(Api.ApiVersion::status);
        return status.map(s -> s == Api.Status.ACTIVE || s == Api.Status.DEPRECATED)
                .orElse(true);
    }

    private static String known(Set<String> names) {
        if (names.isEmpty()) {
            return " (it defines none)";
        }
        List<String> sorted = names.stream().sorted().limit(20).toList();
        return " (it has: " + String.join(", ", sorted) + (names.size() > 20 ? ", …" : "") + ")";
    }
}
