package io.meshguard.xds.product;

import io.meshguard.catalogmodel.Product;
import io.meshguard.catalogmodel.ServedProduct;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ProblemCode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Compiles the product publishes a gateway group serves into routes of that group, so a product is published, diffed,
 * approved and rolled back as one revision like any other change (docs/products.md).
 *
 * <p>Each operation (API, method, path) becomes, for every version of its API that has a route serving it, a route on
 * the publish's host only. The route is the API route that serves the operation, narrowed to the operation's method
 * and path: same upstreams, timeouts, header changes and authz and DLP profiles, so the security team's rules keep
 * applying to product traffic; it also carries the product publish and operation to extauthz
 * ({@code meshguard.product_publish}, {@code meshguard.product_operation}), which then admits only live
 * subscriptions.
 *
 * <p>Operation paths are relative to the version root, as route matches are: {@code /accounts} is exact,
 * {@code /accounts/{id}} matches one path segment for {@code {id}}, and a trailing {@code *} makes a prefix.
 */
public final class ProductRoutes {

    /** The configuration with the products compiled in, or why some operation cannot be served. */
    public record Compiled(GatewayConfig config, List<Problem> problems) {
        public Compiled {
            problems = List.copyOf(problems);
        }

        public boolean valid() {
            return problems.isEmpty();
        }
    }

    private static final Pattern PARAMETER = Pattern.compile("\\{[A-Za-z_][A-Za-z0-9_]*}");

    private ProductRoutes() {}

    /** The routes no product compiled: what the draft tables hold. */
    public static GatewayConfig withoutProducts(GatewayConfig config) {
        return new GatewayConfig(
                config.groups(),
                config.upstreams(),
                config.apis(),
                config.routes().stream().filter(r -> r.product().isEmpty()).toList());
    }

    /**
     * Replaces every product route of {@code config} with those {@code served} compiles to, for the groups
     * {@code config} has (a publish to a group it lacks is a problem).
     *
     * @param served the published product publishes by gateway group
     */
    public static Compiled compile(GatewayConfig config, Map<String, List<ServedProduct>> served) {
        GatewayConfig base = withoutProducts(config);
        List<Route> routes = new ArrayList<>(base.routes());
        List<Problem> problems = new ArrayList<>();
        served.forEach((group, products) -> {
            if (base.group(group).isEmpty()) {
                products.forEach(p -> problems.add(Problem.error(
                        ProblemCode.PRODUCT_UNKNOWN_GROUP,
                        "product-publishes[" + p.publishId() + "]",
                        "gateway group " + group + " does not exist")));
                return;
            }
            for (ServedProduct p : products) {
                for (Product.Operation op : p.operations()) {
                    routes.addAll(operationRoutes(base, group, p, op, problems));
                }
            }
        });
        return new Compiled(new GatewayConfig(base.groups(), base.upstreams(), base.apis(), routes), problems);
    }

    private static List<Route> operationRoutes(
            GatewayConfig base, String group, ServedProduct p, Product.Operation op, List<Problem> problems) {
        String at = "product-publishes[" + p.publishId() + "].operations[" + op.id() + "]";
        Optional<Api> api = base.api(op.api());
        if (api.isEmpty()) {
            problems.add(Problem.error(
                    ProblemCode.PRODUCT_UNKNOWN_API, at, "API " + op.api() + " is not in the gateway configuration"));
            return List.of();
        }
        String sample = samplePath(op.path());
        Route.Match match = match(op);
        List<Route> out = new ArrayList<>();
        for (Api.ApiVersion v : api.get().versions()) {
            // the API's own routes of the target group first: its upstreams are the ones that group reaches
            base.routes().stream()
                    .filter(r -> r.api().equals(op.api()) && r.version().equals(v.version()))
                    .filter(r -> serves(r, op.method(), sample))
                    .min(Comparator.comparing((Route r) -> !r.group().equals(group))
                            .thenComparing(Route::group)
                            .thenComparing(ProductRoutes::specificity)
                            .thenComparing(Route::name))
                    .ifPresent(source -> out.add(source.withGroup(group)
                            .asProduct(
                                    routeName(p.publishId(), op.id(), v.version()),
                                    new Route.Match(
                                            match.pathPrefix(),
                                            match.pathExact(),
                                            match.pathRegex(),
                                            op.method().equals("*")
                                                    ? source.match().methods()
                                                    : List.of(op.method()),
                                            source.match().headers()),
                                    new Route.ProductBinding(
                                            p.publishId(),
                                            op.id(),
                                            p.host().name(),
                                            p.authMode().name().toLowerCase(java.util.Locale.ROOT)))));
        }
        if (out.isEmpty()) {
            problems.add(Problem.error(
                    ProblemCode.PRODUCT_NO_ROUTE,
                    at,
                    "no route of API " + op.api() + " serves " + op.method() + " " + op.path()
                            + ": add one, or change the operation"));
        }
        return out;
    }

    /** Exact before prefix before regex, longer prefixes first: the route Envoy would pick among those that match. */
    private static int specificity(Route r) {
        return r.match().pathExact().isPresent()
                ? 0
                : r.match()
                        .pathPrefix()
                        .map(prefix -> 100_000 - prefix.length())
                        .orElse(200_000);
    }

    /**
     * Whether the route's match takes {@code method} on {@code path} (relative to the version root), as the gateway
     * matches it: a prefix stops at a segment boundary ({@code path_separated_prefix}, SnapshotBuilder#pathPrefix),
     * so an operation {@code /chargesAdmin} is not served by the {@code /charges} route and never gets its
     * authorisation rule, DLP profile and upstream.
     */
    static boolean serves(Route r, String method, String path) {
        Route.Match m = r.match();
        boolean methodOk = m.methods().isEmpty() || m.methods().contains(method);
        if (method.equals("*")) {
            methodOk = true; // the compiled route keeps the source's methods
        }
        if (!methodOk) {
            return false;
        }
        if (m.pathExact().isPresent()) {
            return m.pathExact().get().equals(path);
        }
        if (m.pathPrefix().isPresent()) {
            String prefix = m.pathPrefix().get();
            if (prefix.isEmpty() || prefix.endsWith("/")) {
                return path.startsWith(prefix);
            }
            return path.equals(prefix) || path.startsWith(prefix + "/");
        }
        try {
            // route regexes are RE2 (Envoy's safe_regex), matched here as Envoy does
            return m.pathRegex()
                    .map(re -> com.google.re2j.Pattern.matches(re, path))
                    .orElse(false);
        } catch (com.google.re2j.PatternSyntaxException e) {
            return false;
        }
    }

    /**
     * A concrete path the operation's template takes, to find the API route that serves it. A prefix operation
     * ({@code /charges*}) is compiled to a segment-aware prefix, so its sample is the prefix itself, or one segment
     * below a prefix ending in {@code /}.
     */
    static String samplePath(String template) {
        String path = PARAMETER.matcher(template).replaceAll("x");
        if (!path.endsWith("*")) {
            return path;
        }
        String fixed = path.substring(0, path.length() - 1);
        return fixed.isEmpty() || fixed.endsWith("/") ? fixed + "x" : fixed;
    }

    /** The operation's path as a route match: exact, a prefix (trailing {@code *}), or a regex for parameters. */
    static Route.Match match(Product.Operation op) {
        String path = op.path();
        boolean prefix = path.endsWith("*");
        String fixed = prefix ? path.substring(0, path.length() - 1) : path;
        if (!PARAMETER.matcher(fixed).find()) {
            return prefix
                    ? Route.Match.prefix(fixed)
                    : new Route.Match(Optional.empty(), Optional.of(fixed), Optional.empty(), List.of(), List.of());
        }
        StringBuilder re = new StringBuilder();
        var m = PARAMETER.matcher(fixed);
        int last = 0;
        while (m.find()) {
            re.append(com.google.re2j.Pattern.quote(fixed.substring(last, m.start())))
                    .append("[^/]+");
            last = m.end();
        }
        re.append(com.google.re2j.Pattern.quote(fixed.substring(last)));
        if (prefix) {
            re.append(".*");
        }
        return new Route.Match(Optional.empty(), Optional.empty(), Optional.of(re.toString()), List.of(), List.of());
    }

    /** A route name (a DNS label) that is the same for the same publish, operation and version, and only for them. */
    static String routeName(String publish, String operation, String version) {
        String readable =
                operation.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        if (readable.length() > 40) {
            readable = readable.substring(0, 40).replaceAll("-+$", "");
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((publish + "\u0000" + operation + "\u0000" + version).getBytes(StandardCharsets.UTF_8));
            return "p-" + (readable.isEmpty() ? "" : readable + "-")
                    + HexFormat.of().formatHex(digest, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
