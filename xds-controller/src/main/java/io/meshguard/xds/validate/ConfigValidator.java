package io.meshguard.xds.validate;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import io.meshguard.contract.OwnedHeaderNames;
import io.meshguard.envoy.validation.EnvoyRegexBudget;
import io.meshguard.envoygateway.render.RenderedResources;
import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.model.HostnamePlan;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.SameInstance;
import io.meshguard.xds.model.Upstream;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.snapshot.SnapshotBuilder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Checks a whole configuration before it can become a revision: names, references (a dangling name would stall every
 * xDS client of the group), weights, regexes (compiled on RE2, the linear-time engine Envoy uses), lifecycle rules
 * and overlapping routes (a warning: the first route wins).
 */
public final class ConfigValidator {
    private static final java.util.regex.Pattern NAME =
            java.util.regex.Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final java.util.regex.Pattern VERSION =
            java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,31}");
    private static final java.util.regex.Pattern HOSTNAME = java.util.regex.Pattern.compile(
            "(\\*\\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*");
    private static final java.util.regex.Pattern HEADER_NAME =
            java.util.regex.Pattern.compile("[a-z0-9!#$%&'*+.^_`|~-]+");
    private static final Set<String> METHODS =
            Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT");
    private static final Set<String> RESERVED_HEADERS = Set.of(
            "host",
            "content-length",
            "transfer-encoding",
            "connection",
            "keep-alive",
            "proxy-connection",
            "te",
            "trailer",
            "upgrade");
    private static final String LAST_EVENT_ID = "last-event-id";
    private static final Set<String> STREAMING_OWNED = Set.of("x-accel-buffering", "content-type");
    private static final java.util.regex.Pattern NO_STORING =
            java.util.regex.Pattern.compile("(?i)(^|[,\\s])no-(cache|store)($|[,\\s=])");

    /** A Kubernetes Service's cluster DNS name: {@code name.namespace.svc}, optionally with the cluster domain. */
    private static final java.util.regex.Pattern SERVICE_NAME = java.util.regex.Pattern.compile(
            "[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?\\.svc(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    private final ProfileReferences profiles;
    private final TemplateCheck templates;

    /**
     * What a group's gateway template kind adds to the checks: a group that is not served by meshguard's own gateway
     * (Envoy Gateway, {@code io.meshguard.xds.envoygateway.EnvoyGatewayGroups}) must also render to what its cluster
     * accepts. Runs only on a configuration that passed every other check.
     */
    @FunctionalInterface
    public interface TemplateCheck {
        TemplateCheck NONE = config -> List.of();

        List<Problem> problems(GatewayConfig config);

        /**
         * The resources a cluster applies for revision {@code revision} of {@code group} (a stored revision's
         * configuration), when the group's kind is rendered by this check; empty for meshguard-served groups.
         */
        default Optional<RenderedResources> rendered(GatewayConfig config, String group, long revision) {
            return Optional.empty();
        }

        /** This check's problems, then {@code next}'s; what this check renders, else what {@code next} does. */
        default TemplateCheck and(TemplateCheck next) {
            TemplateCheck first = this;
            return new TemplateCheck() {
                @Override
                public List<Problem> problems(GatewayConfig config) {
                    List<Problem> out = new java.util.ArrayList<>(first.problems(config));
                    out.addAll(next.problems(config));
                    return out;
                }

                @Override
                public Optional<RenderedResources> rendered(GatewayConfig config, String group, long revision) {
                    return first.rendered(config, group, revision).or(() -> next.rendered(config, group, revision));
                }
            };
        }
    }

    /** What the group's template kind renders for its cluster, when it is not served by meshguard's own gateway. */
    public Optional<RenderedResources> templateRender(GatewayConfig config, String group, long revision) {
        return templates.rendered(config, group, revision);
    }

    /** Checks the configuration itself; the profiles routes name are not checked. */
    public ConfigValidator() {
        this(ProfileReferences.NONE);
    }

    /** Also refuses routes naming an authz or DLP profile the loaded policies lack. */
    public ConfigValidator(ProfileReferences profiles) {
        this(profiles, TemplateCheck.NONE);
    }

    /** Also refuses what the groups' gateway template kinds cannot serve. */
    public ConfigValidator(ProfileReferences profiles, TemplateCheck templates) {
        this(profiles, templates, true);
    }

    private ConfigValidator(ProfileReferences profiles, TemplateCheck templates, boolean remembers) {
        this.profiles = profiles;
        this.templates = templates;
        this.upstreamProblems = SameInstance.recentlyUsed(remembers ? REMEMBERED_UPSTREAMS : 0);
        this.apiProblems = SameInstance.recentlyUsed(remembers ? REMEMBERED_APIS : 0);
        this.routeProblems = SameInstance.recentlyUsed(remembers ? REMEMBERED_ROUTES : 0);
        this.remembers = remembers;
        if (remembers) {
            SnapshotBuilder drafts = new SnapshotBuilder(FilterTargets.DEFAULTS);
            this.builders = () -> drafts;
        } else {
            this.builders = () -> SnapshotBuilder.forOneOff(FilterTargets.DEFAULTS);
        }
    }

    /**
     * The same checks, remembering nothing of what they check by identity: for a configuration that arrives whole in a
     * request ({@code POST /validate}). Its objects are new instances that are never seen again, so remembering them
     * would only push out what the draft's publishes reuse and keep garbage alive for the collector to copy (a
     * 2,000-route body each round doubled a publish benchmark's G1 pause time). Routes and clusters remembered by their
     * content are still shared ({@link SnapshotBuilder#forOneOff}).
     */
    public ConfigValidator forOneOff() {
        return remembers ? new ConfigValidator(profiles, templates, false) : this;
    }

    /** Upstreams whose own problems are remembered, least recently used out. */
    static final int REMEMBERED_UPSTREAMS = 16_384;

    private final Map<SameInstance, List<Problem>> upstreamProblems;
    private final boolean remembers;
    /**
     * The builder of a validation's Envoy checks: one for every draft, each build starting from the draft's before
     * (one change apart); or, remembering nothing, a one-off builder per validation.
     */
    private final java.util.function.Supplier<SnapshotBuilder> builders;

    /** APIs whose own problems are remembered, least recently used out. */
    static final int REMEMBERED_APIS = 16_384;

    private final Map<SameInstance, List<Problem>> apiProblems;

    /** Routes whose own problems are remembered, least recently used out. */
    static final int REMEMBERED_ROUTES = 65_536;

    /** A route's own problems and what they were worked out against: its API (absent: none) and the owned headers. */
    private record RouteChecked(Api api, Set<String> policyOwned, List<Problem> problems) {}

    private final Map<SameInstance, RouteChecked> routeProblems;

    /** How the profiles routes name are checked. */
    public ProfileReferences profiles() {
        return profiles;
    }

    /**
     * Builds a configuration's resources and says what Envoy would refuse in them. The publisher supplies its own: the
     * deployment's filter targets, and the resources kept for serving, so a publish builds them once.
     */
    @FunctionalInterface
    public interface EnvoyLoad {
        List<Problem> problems(GatewayConfig config);
    }

    /** Validates the whole configuration; Envoy's checks on it as built with the default filter targets. */
    public ValidationResult validate(GatewayConfig config) {
        return validate(config, this::envoyLoad);
    }

    /**
     * Validates the whole configuration, {@code envoyLoad} deciding what Envoy would refuse; it runs only on a
     * configuration that passed every other check of its own.
     */
    public ValidationResult validate(GatewayConfig config, EnvoyLoad envoyLoad) {
        List<Problem> problems = checked(config, profiles.ownedHeaders()).problems();
        problems.addAll(profiles.check(config));
        if (problems.stream().noneMatch(p -> p.severity() == Problem.Severity.ERROR)) {
            problems.addAll(envoyLoad.problems(config));
        }
        if (problems.stream().noneMatch(p -> p.severity() == Problem.Severity.ERROR)) {
            problems.addAll(templates.problems(config));
        }
        return new ValidationResult(problems);
    }

    /** Most recent checks kept to carry over to the next configuration, most recent first. */
    private static final int KEPT_CHECKS = 4;

    private final java.util.Deque<CheckedRoutes> kept = new java.util.ArrayDeque<>();

    /**
     * The checks of {@code config} but the profiles', Envoy's and the templates': carried over from a kept check of a
     * configuration a few routes apart (a draft's next edit, its publish), else worked out whole.
     */
    private CheckedRoutes checked(GatewayConfig config, Set<String> policyOwned) {
        if (!remembers) {
            return whole(config, policyOwned);
        }
        Optional<CheckedRoutes> base = Optional.empty();
        synchronized (kept) {
            for (java.util.Iterator<CheckedRoutes> it = kept.iterator(); it.hasNext(); ) {
                CheckedRoutes k = it.next();
                if (k.sameObjects(config, policyOwned)) {
                    it.remove(); // its counts move to the check carried over: no one else may use it
                    base = Optional.of(k);
                    break;
                }
            }
        }
        CheckedRoutes checked = base.flatMap(b -> b.changedTo(config, policyOwned, routeCheck))
                .orElseGet(() -> whole(config, policyOwned));
        synchronized (kept) {
            kept.addFirst(checked);
            while (kept.size() > KEPT_CHECKS) {
                kept.removeLast();
            }
        }
        return checked;
    }

    private CheckedRoutes whole(GatewayConfig config, Set<String> policyOwned) {
        List<Problem> problems = new ArrayList<>();
        Map<String, GatewayGroup> groups = new HashMap<>();
        for (GatewayGroup g : config.groups()) {
            String path = "groups[" + g.name() + "]";
            name(problems, path + ".name", g.name());
            if (groups.put(g.name(), g) != null) {
                problems.add(Problem.error(ProblemCode.GROUP_DUPLICATE, path, "duplicate group name"));
            }
            if (g.listenerPort() < 1 || g.listenerPort() > 65535) {
                problems.add(Problem.error(
                        ProblemCode.GROUP_LISTENER_PORT,
                        path + ".listener_port",
                        "must be 1..65535, got " + g.listenerPort()));
            }
            for (String h : g.hostnames()) {
                hostname(problems, path + ".hostnames", h);
            }
            proxylessAuthz(problems, path, g);
            g.cors().ifPresent(c -> CorsRules.check(problems, path + ".cors", g, c));
            g.apiCors().forEach((api, c) -> {
                if (config.api(api).isEmpty()) {
                    problems.add(Problem.error(
                            ProblemCode.GROUP_API_CORS_UNKNOWN_API,
                            path + ".api_cors[" + api + "]",
                            "unknown API '" + api + "'"));
                }
                CorsRules.check(problems, path + ".api_cors[" + api + "]", g, c);
            });
            for (String placeholder : List.of("{api}")) {
                if (g.hostnames().isEmpty() && !g.hostnameTemplate().contains(placeholder)) {
                    problems.add(Problem.error(
                            ProblemCode.GROUP_HOSTNAME_TEMPLATE,
                            path + ".hostname_template",
                            "must contain " + placeholder + " so that every API gets its own hostname"));
                }
            }
        }
        Set<String> upstreamKeys = new HashSet<>();
        Set<String> upstreamNames = new HashSet<>();
        config.upstreams().forEach(u -> upstreamNames.add(u.name()));
        for (Upstream u : config.upstreams()) {
            if (!upstreamKeys.add(u.name())) {
                problems.add(Problem.error(
                        ProblemCode.UPSTREAM_DUPLICATE, "upstreams[" + u.name() + "]", "duplicate upstream name"));
            }
            problems.addAll(upstreamProblems(u));
        }
        Map<String, Api> apis = new HashMap<>();
        for (Api api : config.apis()) {
            if (apis.put(api.name(), api) != null) {
                problems.add(
                        Problem.error(ProblemCode.API_DUPLICATE, "apis[" + api.name() + "]", "duplicate API name"));
            }
            problems.addAll(apiProblems(api));
        }
        Map<String, Upstream> upstreamsByName = new HashMap<>();
        config.upstreams().forEach(u -> upstreamsByName.putIfAbsent(u.name(), u));
        List<Problem> clashes = new ArrayList<>();
        hostnameClashes(clashes, config, groups);
        return CheckedRoutes.whole(
                config,
                policyOwned,
                new CheckedRoutes.Named(groups, upstreamNames, apis, upstreamsByName),
                List.copyOf(problems),
                List.copyOf(clashes),
                routeCheck);
    }

    /** A route's own findings, checked against its configuration's objects; remembered by identity where they can. */
    private final CheckedRoutes.RouteCheck routeCheck = new CheckedRoutes.RouteCheck() {
        @Override
        public List<Problem> own(Route r, CheckedRoutes against) {
            List<Problem> references = routeReferences(against.upstreamNames, r, against.groups);
            List<Problem> own = routeProblems(r, against.apis.get(r.api()), against.policyOwned());
            if (references.isEmpty()) {
                return own;
            }
            List<Problem> both = new ArrayList<>(references);
            both.addAll(own);
            return List.copyOf(both);
        }

        @Override
        public List<Problem> services(Route r, CheckedRoutes against) {
            return serviceHostnames(r, against);
        }
    };

    /**
     * What is wrong with one upstream on its own (its name, endpoints, addresses, TLS, cluster kind, host): remembered
     * by the upstream's identity, so a publish re-checks the upstreams it changed, not the group's thousand.
     */
    private List<Problem> upstreamProblems(Upstream u) {
        return remembered(upstreamProblems, u, ConfigValidator::validateUpstream);
    }

    /** What {@code check} finds wrong with {@code object}, remembered in {@code memo} by the object's identity. */
    private static <T> List<Problem> remembered(
            Map<SameInstance, List<Problem>> memo, T object, java.util.function.BiConsumer<List<Problem>, T> check) {
        SameInstance key = new SameInstance(object);
        List<Problem> known = memo.get(key);
        if (known != null) {
            return known;
        }
        List<Problem> problems = new ArrayList<>();
        check.accept(problems, object);
        List<Problem> checked = List.copyOf(problems);
        memo.put(key, checked);
        return checked;
    }

    private static void validateUpstream(List<Problem> problems, Upstream u) {
        String path = "upstreams[" + u.name() + "]";
        name(problems, path + ".name", u.name());
        if (u.connectTimeoutMs() < 1) {
            problems.add(Problem.error(
                    ProblemCode.UPSTREAM_CONNECT_TIMEOUT, path + ".connect_timeout_ms", "must be positive"));
        }
        if (u.endpoints().isEmpty()) {
            problems.add(Problem.warning(
                    ProblemCode.UPSTREAM_NO_ENDPOINTS,
                    path + ".endpoints",
                    "no endpoints: requests routed here get 503"));
        }
        for (int i = 0; i < u.endpoints().size(); i++) {
            Upstream.Endpoint e = u.endpoints().get(i);
            String ep = path + ".endpoints[" + i + "]";
            if (e.address() == null || e.address().isBlank()) {
                problems.add(Problem.error(ProblemCode.UPSTREAM_ADDRESS_REQUIRED, ep + ".address", "required"));
            } else if (!Upstream.isIpLiteral(e.address())
                    && (e.address().length() > 253
                            || !HOSTNAME.matcher(e.address()).matches()
                            || e.address().startsWith("*."))) {
                problems.add(Problem.error(
                        ProblemCode.UPSTREAM_ADDRESS_INVALID,
                        ep + ".address",
                        "'" + e.address() + "' is neither an IP address nor a DNS name (lowercase, no wildcard)"));
            }
            if (e.port() < 1 || e.port() > 65535) {
                problems.add(
                        Problem.error(ProblemCode.UPSTREAM_PORT, ep + ".port", "must be 1..65535, got " + e.port()));
            }
            if (e.weight() < 1 || e.weight() > 128) {
                problems.add(Problem.error(
                        ProblemCode.UPSTREAM_WEIGHT, ep + ".weight", "must be 1..128, got " + e.weight()));
            }
        }
        platformAddresses(problems, path, u);
        proxylessLbPolicy(problems, path, u);
        u.tls().ifPresent(tls -> validateTls(problems, path + ".tls", u, tls));
        clusterKind(problems, path, u);
        upstreamHost(problems, path, u);
    }

    /**
     * What Envoy would refuse in the resources the configuration becomes (MG-ENVOY-001), built with the default filter
     * targets; a publish checks them as built with the deployment's own instead (see {@link EnvoyLoad}).
     */
    private List<Problem> envoyLoad(GatewayConfig config) {
        SnapshotBuilder builder = builders.get();
        List<Problem> out = new ArrayList<>();
        for (GatewayGroup g : config.groups()) {
            try {
                out.addAll(EnvoyLoadCheck.problems(builder.build(config, g.name())));
            } catch (RuntimeException e) {
                out.add(Problem.error(ProblemCode.PUBLISH_SNAPSHOT, "groups[" + g.name() + "]", e.getMessage()));
            }
        }
        return out;
    }

    /** What is wrong with one API on its own (names, base path, hostnames, versions), remembered by its identity. */
    private List<Problem> apiProblems(Api api) {
        return remembered(apiProblems, api, ConfigValidator::validateApi);
    }

    private static void validateApi(List<Problem> problems, Api api) {
        String path = "apis[" + api.name() + "]";
        name(problems, path + ".name", api.name());
        if (!api.basePath().isEmpty()
                && (!api.basePath().startsWith("/") || api.basePath().endsWith("/"))) {
            problems.add(Problem.error(
                    ProblemCode.API_BASE_PATH,
                    path + ".base_path",
                    "must be empty or start with '/' and not end with '/', got '" + api.basePath() + "'"));
        }
        if (pathCharacters(api.basePath())) {
            problems.add(Problem.error(
                    ProblemCode.API_BASE_PATH_CHARACTERS,
                    path + ".base_path",
                    "must not contain '%', '?', '#' or '//', got '" + api.basePath() + "'"));
        }
        for (String h : api.hostnames()) {
            hostname(problems, path + ".hostnames", h);
        }
        Set<String> seen = new HashSet<>();
        for (Api.ApiVersion v : api.versions()) {
            String vp = path + ".versions[" + v.version() + "]";
            if (v.version() == null || !VERSION.matcher(v.version()).matches()) {
                problems.add(
                        Problem.error(ProblemCode.API_VERSION_SYNTAX, vp, "version must match " + VERSION.pattern()));
                continue;
            }
            if (!seen.add(v.version())) {
                problems.add(Problem.error(ProblemCode.API_VERSION_DUPLICATE, vp, "duplicate version"));
            }
            v.successor().ifPresent(s -> {
                if (api.version(s).isEmpty()) {
                    problems.add(Problem.error(
                            ProblemCode.API_SUCCESSOR_UNKNOWN, vp + ".successor", "unknown version '" + s + "'"));
                } else if (s.equals(v.version())) {
                    problems.add(Problem.error(
                            ProblemCode.API_SUCCESSOR_SELF, vp + ".successor", "a version cannot succeed itself"));
                }
            });
            if (v.status() == Api.Status.DEPRECATED && v.deprecatedAt().isEmpty()) {
                problems.add(Problem.error(
                        ProblemCode.API_DEPRECATED_AT_REQUIRED,
                        vp + ".deprecated_at",
                        "required for a deprecated version (the Deprecation response header carries it)"));
            }
            if (v.status() != Api.Status.ACTIVE && v.successor().isEmpty()) {
                problems.add(Problem.warning(
                        ProblemCode.API_NO_SUCCESSOR,
                        vp + ".successor",
                        "no successor: clients are not told where to go"));
            }
            if (v.deprecatedAt().isPresent()
                    && v.sunsetAt().isPresent()
                    && v.sunsetAt().get().isBefore(v.deprecatedAt().get())) {
                problems.add(Problem.error(
                        ProblemCode.API_SUNSET_BEFORE_DEPRECATION, vp + ".sunset_at", "is before deprecated_at"));
            }
        }
        if (api.versions().isEmpty()) {
            problems.add(Problem.error(
                    ProblemCode.API_NO_VERSIONS, path + ".versions", "an API needs at least one version"));
        }
        Optional<Api.ApiVersion> def = api.version(api.defaultVersion());
        if (def.isEmpty()) {
            problems.add(Problem.error(
                    ProblemCode.API_DEFAULT_VERSION_UNKNOWN,
                    path + ".default_version",
                    "unknown version '" + api.defaultVersion() + "'"));
        } else if (def.get().status() == Api.Status.SUNSET || def.get().status() == Api.Status.RETIRED) {
            problems.add(Problem.error(
                    ProblemCode.API_DEFAULT_VERSION_ENDED,
                    path + ".default_version",
                    "the default version must be active or deprecated, '" + api.defaultVersion() + "' is "
                            + def.get().status().name().toLowerCase(java.util.Locale.ROOT)));
        }
    }

    /**
     * A gRPC method path: {@code /package.Service/Method}, a dotted full name whose last part (the service) starts
     * upper case, as protobuf style names services; {@code /index.html} or {@code /orders.v2} are not.
     */
    private static final java.util.regex.Pattern GRPC_SERVICE = java.util.regex.Pattern.compile(
            "/[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*\\.[A-Z][A-Za-z0-9_]*(/.*)?");

    /**
     * Review IC-08: a gRPC client calls {@code /package.Service/Method} and a server answers only that path, but the
     * route is served at {@code <base_path>/<version>/package.Service/Method} and reaches the server unchanged, which
     * answers UNIMPLEMENTED. Only an API with no base path serves it without a prefix, and then only through its
     * default version. Version gRPC APIs in the package name ({@code helloworld.v1.Greeter}), as gRPC does.
     */
    private static void grpcPathVersion(List<Problem> problems, String path, Api api, Optional<String> match) {
        if (match.isEmpty() || !GRPC_SERVICE.matcher(match.get()).matches()) {
            return;
        }
        String served = api.basePath().isEmpty()
                ? "/<version>" + match.get() + " (and " + match.get() + " for the default version)"
                : api.basePath() + "/<version>" + match.get();
        problems.add(
                Problem.warning(
                        ProblemCode.ROUTE_GRPC_PATH_VERSIONED,
                        path,
                        "this looks like a gRPC method path, served at " + served
                                + ": a gRPC server answers only " + match.get()
                                + " and returns UNIMPLEMENTED for a prefixed path, "
                                + "which the gateway forwards unchanged. Give the API no base_path and reach it through its default "
                                + "version, and version gRPC services in the package name (helloworld.v1.Greeter), not in the path"));
    }

    /** What a route names that must exist beside it: its group and its upstreams (a unique name is checked across). */
    private static List<Problem> routeReferences(Set<String> upstreamNames, Route r, Map<String, GatewayGroup> groups) {
        List<Problem> problems = new ArrayList<>(0);
        if (!groups.containsKey(r.group())) {
            problems.add(Problem.error(
                    ProblemCode.ROUTE_UNKNOWN_GROUP, routePath(r) + ".group", "unknown group '" + r.group() + "'"));
        }
        for (Route.Destination d : r.destinations()) {
            if (!upstreamNames.contains(d.upstream())) {
                problems.add(Problem.error(
                        ProblemCode.ROUTE_UNKNOWN_UPSTREAM,
                        routePath(r) + ".destinations[" + d.upstream() + "]",
                        "unknown upstream '" + d.upstream() + "'"));
            }
        }
        return problems;
    }

    private static String routePath(Route r) {
        return "routes[" + r.group() + "/" + r.name() + "]";
    }

    /**
     * What is wrong with one route given its API ({@code null}: the configuration has none of that name) and the
     * headers the policies own: remembered by the route's identity while those two stay the same, so a publish checks
     * the routes it changed, not the group's thousands.
     */
    private List<Problem> routeProblems(Route r, Api api, Set<String> policyOwned) {
        SameInstance key = new SameInstance(r);
        RouteChecked known = routeProblems.get(key);
        if (known != null && known.api() == api && known.policyOwned().equals(policyOwned)) {
            return known.problems();
        }
        List<Problem> problems = new ArrayList<>();
        validateRoute(problems, r, api, policyOwned);
        List<Problem> checked = List.copyOf(problems);
        routeProblems.put(key, new RouteChecked(api, policyOwned, checked));
        return checked;
    }

    private static void validateRoute(List<Problem> problems, Route r, Api api, Set<String> policyOwned) {
        String path = routePath(r);
        name(problems, path + ".name", r.name());
        if (api == null) {
            problems.add(Problem.error(ProblemCode.ROUTE_UNKNOWN_API, path + ".api", "unknown API '" + r.api() + "'"));
        } else if (api.version(r.version()).isEmpty()) {
            problems.add(Problem.error(
                    ProblemCode.ROUTE_UNKNOWN_VERSION,
                    path + ".version",
                    "API '" + r.api() + "' has no version '" + r.version() + "'"));
        }
        if (r.match() == null) {
            problems.add(Problem.error(ProblemCode.ROUTE_MATCH_REQUIRED, path + ".match", "required"));
        } else {
            Route.Match m = r.match();
            int set = (m.pathPrefix().isPresent() ? 1 : 0)
                    + (m.pathExact().isPresent() ? 1 : 0)
                    + (m.pathRegex().isPresent() ? 1 : 0);
            if (set != 1) {
                problems.add(Problem.error(
                        ProblemCode.ROUTE_ONE_PATH_MATCH,
                        path + ".match",
                        "exactly one of path_prefix, path_exact, path_regex is required"));
            }
            m.pathPrefix().ifPresent(p -> relativePath(problems, path + ".match.path_prefix", p));
            m.pathExact().ifPresent(p -> relativePath(problems, path + ".match.path_exact", p));
            if (api != null) {
                grpcPathVersion(problems, path + ".match", api, m.pathPrefix().or(m::pathExact));
            }
            // Envoy sees the regex behind the route's quoted root (RouteTranslator.match): size that, the longest root
            String root = api == null ? "" : api.basePath() + "/" + r.version();
            m.pathRegex()
                    .ifPresent(p -> regex(
                            problems,
                            path + ".match.path_regex",
                            p,
                            Pattern.quote(root) + (p.startsWith("^") ? p.substring(1) : p)));
            for (String method : m.methods()) {
                if (!METHODS.contains(method)) {
                    problems.add(Problem.error(
                            ProblemCode.ROUTE_METHOD_UNKNOWN,
                            path + ".match.methods",
                            "unknown HTTP method '" + method + "'"));
                }
            }
            for (Route.HeaderMatch h : m.headers()) {
                String hp = path + ".match.headers[" + h.name() + "]";
                headerName(problems, hp, h.name());
                int kinds = (h.exact().isPresent() ? 1 : 0)
                        + (h.prefix().isPresent() ? 1 : 0)
                        + (h.regex().isPresent() ? 1 : 0);
                if (kinds > 1) {
                    problems.add(Problem.error(
                            ProblemCode.ROUTE_HEADER_MATCH_KINDS, hp, "at most one of exact, prefix, regex"));
                }
                h.regex().ifPresent(x -> regex(problems, hp + ".regex", x, x));
            }
        }
        if (r.destinations().isEmpty()) {
            problems.add(Problem.error(
                    ProblemCode.ROUTE_NO_DESTINATION, path + ".destinations", "at least one destination is required"));
        } else {
            int sum = 0;
            Set<String> seen = new HashSet<>();
            for (Route.Destination d : r.destinations()) {
                if (d.weight() < 0 || d.weight() > 100) {
                    problems.add(Problem.error(
                            ProblemCode.ROUTE_DESTINATION_WEIGHT,
                            path + ".destinations[" + d.upstream() + "].weight",
                            "must be 0..100, got " + d.weight()));
                }
                sum += d.weight();
                if (!seen.add(d.upstream())) {
                    problems.add(Problem.error(
                            ProblemCode.ROUTE_DESTINATION_TWICE,
                            path + ".destinations[" + d.upstream() + "]",
                            "listed twice"));
                }
            }
            if (sum != 100) {
                problems.add(Problem.error(
                        ProblemCode.ROUTE_WEIGHT_SUM, path + ".destinations", "weights must sum to 100, got " + sum));
            }
        }
        r.timeoutMs()
                .filter(t -> t < 0)
                .ifPresent(t -> problems.add(Problem.error(
                        ProblemCode.ROUTE_TIMEOUT, path + ".timeout_ms", "must be 0 (none) or positive")));
        r.idleTimeoutMs()
                .filter(t -> t <= 0)
                .ifPresent(t -> problems.add(
                        Problem.error(ProblemCode.ROUTE_IDLE_TIMEOUT, path + ".idle_timeout_ms", "must be positive")));
        r.retry().ifPresent(retry -> {
            if (retry.attempts() < 0 || retry.attempts() > 10) {
                problems.add(
                        Problem.error(ProblemCode.ROUTE_RETRY_ATTEMPTS, path + ".retry.attempts", "must be 0..10"));
            }
            if (retry.backoffMaxMs() < retry.backoffBaseMs()) {
                problems.add(Problem.error(
                        ProblemCode.ROUTE_RETRY_BACKOFF,
                        path + ".retry.backoff_max_ms",
                        "must not be below backoff_base_ms"));
            }
        });
        for (Route.HeaderValue h : r.requestHeadersToAdd()) {
            headerChange(problems, path + ".request_headers_to_add[" + h.name() + "]", h.name(), policyOwned);
        }
        for (Route.HeaderValue h : r.responseHeadersToAdd()) {
            headerChange(problems, path + ".response_headers_to_add[" + h.name() + "]", h.name(), policyOwned);
        }
        for (String h : r.requestHeadersToRemove()) {
            headerChange(problems, path + ".request_headers_to_remove[" + h + "]", h, policyOwned);
        }
        streamingHeaders(problems, path, r);
        if (r.streaming() && r.timeoutMs().isPresent()) {
            problems.add(Problem.warning(
                    ProblemCode.ROUTE_STREAMING_TIMEOUT_IGNORED,
                    path + ".timeout_ms",
                    "ignored: a streaming route has no request timeout, only idle_timeout_ms"));
        }
    }

    /**
     * Headers the gateway owns on a streaming route: SSE clients resume with {@code last-event-id}, which must reach
     * the upstream as the client sent it; {@code x-accel-buffering} is set by the gateway, {@code cache-control} must
     * forbid storing, and {@code content-type} stays the upstream's ({@code text/event-stream}).
     */
    private static void streamingHeaders(List<Problem> problems, String path, Route r) {
        for (String h : r.requestHeadersToRemove()) {
            if (h.equals(LAST_EVENT_ID)) {
                problems.add(Problem.error(
                        ProblemCode.ROUTE_LAST_EVENT_ID,
                        path + ".request_headers_to_remove[" + h + "]",
                        "SSE clients resume " + "with last-event-id: it reaches the upstream untouched"));
            }
        }
        for (Route.HeaderValue h : r.requestHeadersToAdd()) {
            if (h.name().equals(LAST_EVENT_ID)) {
                problems.add(Problem.error(
                        ProblemCode.ROUTE_LAST_EVENT_ID,
                        path + ".request_headers_to_add[" + h.name() + "]",
                        "SSE clients resume " + "with last-event-id: it reaches the upstream untouched"));
            }
        }
        if (r.streaming()) {
            for (Route.HeaderValue h : r.responseHeadersToAdd()) {
                String at = path + ".response_headers_to_add[" + h.name() + "]";
                if (STREAMING_OWNED.contains(h.name())) {
                    problems.add(Problem.error(
                            ProblemCode.ROUTE_STREAMING_OWNED_HEADER,
                            at,
                            "a streaming route gets x-accel-buffering: no from the gateway "
                                    + "and keeps the upstream's content-type"));
                } else if (h.name().equals("cache-control")
                        && !NO_STORING.matcher(h.value()).find()) {
                    problems.add(Problem.error(
                            ProblemCode.ROUTE_STREAMING_CACHED,
                            at,
                            "a streaming response must not be cached: include no-cache or "
                                    + "no-store (the gateway sets no-cache when the route sets nothing)"));
                }
            }
        }
    }

    /**
     * Two APIs of a group on one hostname with the same base path (one of them is unreachable), and a product
     * publish's host that is also an API's hostname in the group: Envoy takes one virtual host per domain (a second is
     * NACKed under RDS; under VHDS, keyed by name, it silently replaces the API's). The messages name the caller's
     * own host and base path only, never the other API, which may be another tenant's.
     */
    private static void hostnameClashes(
            List<Problem> problems, GatewayConfig config, Map<String, GatewayGroup> groups) {
        for (GatewayGroup g : groups.values()) {
            Set<String> basePathTaken = new HashSet<>();
            Map<String, String> apiHosts = new java.util.TreeMap<>();
            Set<String> servingOwnRoutes = new HashSet<>();
            Map<String, List<Route>> productRoutesByHost = new java.util.TreeMap<>();
            for (Route r : config.routesOf(g.name())) {
                if (r.product().isPresent()) {
                    productRoutesByHost
                            .computeIfAbsent(
                                    r.product().get().host().toLowerCase(java.util.Locale.ROOT), h -> new ArrayList<>())
                            .add(r);
                } else {
                    servingOwnRoutes.add(r.api());
                }
            }
            for (Api api : config.apisOf(g.name())) {
                for (String host : HostnamePlan.hostnames(g, api)) {
                    if (!basePathTaken.add(host + "|" + api.basePath())) {
                        problems.add(Problem.error(
                                ProblemCode.HOSTNAME_BASE_PATH_CLASH,
                                "apis[" + api.name() + "].base_path",
                                "another API already serves '" + api.basePath() + "' on " + host + " in group "
                                        + g.name()));
                    }
                    if (servingOwnRoutes.contains(api.name())) {
                        apiHosts.putIfAbsent(host.toLowerCase(java.util.Locale.ROOT), api.name());
                    }
                }
            }
            for (Map.Entry<String, List<Route>> product : productRoutesByHost.entrySet()) {
                for (Map.Entry<String, String> api : apiHosts.entrySet()) {
                    if (!HostnamePlan.overlap(product.getKey(), api.getKey())) {
                        continue;
                    }
                    problems.add(Problem.error(
                            ProblemCode.HOSTNAME_PRODUCT_HOST_CLASH,
                            "apis[" + api.getValue() + "].hostnames",
                            "hostname " + api.getKey() + " in group " + g.name()
                                    + " is also a product publish's host: a domain has one virtual host"));
                    for (Route r : product.getValue()) {
                        problems.add(Problem.error(
                                ProblemCode.HOSTNAME_PRODUCT_HOST_CLASH,
                                "routes[" + r.group() + "/" + r.name() + "].product.host",
                                "product host " + product.getKey() + " in group " + g.name()
                                        + " is also an API's hostname there: a domain has one virtual host"));
                    }
                }
            }
        }
    }

    /**
     * A hostname that is a Kubernetes Service's cluster name ({@code name.namespace.svc[.cluster domain]}) is the
     * supported shape for proxyless gRPC clients in the mesh (docs/proxyless-clients.md, review R4-04): the client's
     * own sidecar routes each call by its {@code :authority}, the xds target, so only a Service name reaches a STRICT
     * backend with the client's mTLS identity. But that sidecar then sends the call to that Service's endpoints,
     * whatever the route chose: a destination upstream that is not that Service (its DNS endpoint or its
     * {@code host}) is silently never reached by those clients, and a weighted split between such upstreams is not
     * applied. An error in a production group, a warning elsewhere.
     */
    private static List<Problem> serviceHostnames(Route r, CheckedRoutes against) {
        GatewayGroup g = against.groups.get(r.group());
        Api api = against.apis.get(r.api());
        if (g == null || api == null) {
            return List.of();
        }
        List<String> services =
                against.serviceHostnames(g, api, h -> SERVICE_NAME.matcher(h).matches());
        if (services.isEmpty()) {
            return List.of();
        }
        List<Problem> problems = new ArrayList<>();
        for (Route.Destination d : r.destinations()) {
            Upstream u = against.upstreams.get(d.upstream());
            if (d.weight() == 0 || u == null) {
                continue;
            }
            for (String h : services) {
                if (isService(u, h)) {
                    continue;
                }
                String at = "routes[" + r.group() + "/" + r.name() + "].destinations";
                String message = "hostname " + h + " is a Service name: a proxyless client calling "
                        + "xds:///" + h
                        + " goes through its own sidecar, which routes the call by :authority "
                        + "to Service " + h + ", not to upstream '" + u.name()
                        + "' that this route chose; give "
                        + "the upstream the endpoint " + h + " (or host: " + h
                        + "), or serve this API under "
                        + "the Service name of its upstream";
                problems.add(
                        g.production()
                                ? Problem.error(ProblemCode.ROUTE_SERVICE_HOSTNAME_OTHER_UPSTREAM, at, message)
                                : Problem.warning(ProblemCode.ROUTE_SERVICE_HOSTNAME_OTHER_UPSTREAM, at, message));
            }
        }
        return List.copyOf(problems);
    }

    /** Whether the upstream is the Service {@code host}: its host, or every endpoint named by it. */
    private static boolean isService(Upstream u, String host) {
        if (u.host().isPresent()) {
            return u.host().get().equalsIgnoreCase(host);
        }
        return !u.endpoints().isEmpty() && u.endpoints().stream().allMatch(e -> host.equalsIgnoreCase(e.address()));
    }

    private static void name(List<Problem> problems, String path, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            problems.add(Problem.error(
                    ProblemCode.NAME_INVALID,
                    path,
                    "must be lowercase letters, digits and '-' (1-63), got '" + name + "'"));
        }
    }

    /**
     * What {@code proxyless_authz} means per client (docs/proxyless-clients.md). {@code required} fails closed for a
     * client without ext_authz (grpc-js; grpc-java without GRPC_EXPERIMENTAL_XDS_EXT_AUTHZ_ON_CLIENT): it NACKs the
     * listener ("filter is not optional", grpc/grpc-node {@code packages/grpc-js-xds/src/http-filter.ts}). {@code
     * optional} lets such a client skip the filter silently and call backends unauthorized: a warning, and refused in
     * a production group, where "some clients are not authorized" is never the intent.
     */
    private static void proxylessAuthz(List<Problem> problems, String path, GatewayGroup g) {
        // required (fail closed for clients without ext_authz) and off (backends authorize themselves) are explicit
        // decisions, documented per client in docs/proxyless-clients.md; only optional silently differs per client
        if (g.proxylessAuthz() == GatewayGroup.ProxylessAuthz.OPTIONAL) {
            String at = path + ".proxyless_authz";
            String message = "optional: a proxyless client without ext_authz (grpc-js, grpc-java without "
                    + "GRPC_EXPERIMENTAL_XDS_EXT_AUTHZ_ON_CLIENT) skips the filter silently and its calls reach "
                    + "the backends with no authorization; required fails closed for such clients instead";
            problems.add(
                    g.production()
                            ? Problem.error(
                                    ProblemCode.GROUP_PROXYLESS_AUTHZ_OPTIONAL,
                                    at,
                                    message + "; use required (or off with backends "
                                            + "that authorize themselves) in a production group")
                            : Problem.warning(ProblemCode.GROUP_PROXYLESS_AUTHZ_OPTIONAL, at, message));
        }
    }

    /**
     * Load-balancing policies proxyless clients refuse: grpc-js NACKs a cluster whose legacy {@code lb_policy} is
     * LEAST_REQUEST, RANDOM or MAGLEV ("load_balancing_policy unset and unsupported lb_policy", grpc/grpc-node
     * {@code packages/grpc-js-xds/src/xds-resource-type/cluster-resource-type.ts}); grpc-java refuses RANDOM and MAGLEV
     * and takes LEAST_REQUEST only behind its flag (grpc/grpc-java {@code xds/.../LegacyLoadBalancerConfigBuilder.java}
     * "unsupported lb policy"). Envoy serves all of them, so it is a warning: every group also serves proxyless
     * listeners, and a proxyless client routed to this upstream gets UNAVAILABLE.
     */
    private static void proxylessLbPolicy(List<Problem> problems, String path, Upstream u) {
        switch (u.lbPolicy()) {
            case LEAST_REQUEST, RANDOM, MAGLEV ->
                problems.add(Problem.warning(
                        ProblemCode.UPSTREAM_LB_POLICY_PROXYLESS,
                        path + ".lb_policy",
                        u.lbPolicy().name().toLowerCase(java.util.Locale.ROOT)
                                + " works on Envoy gateways only: grpc-js "
                                + "NACKs the cluster and grpc-java refuses "
                                + (u.lbPolicy() == Upstream.LbPolicy.LEAST_REQUEST
                                        ? "it without its least_request flag"
                                        : "it")
                                + ", so proxyless calls routed here fail UNAVAILABLE; use round_robin "
                                + "or ring_hash for upstreams proxyless clients reach"));
            default -> {}
        }
    }

    /**
     * Refuses endpoints at the gateway pod itself or the platform ({@link PlatformAddresses}) unless the upstream
     * lists an exception naming that exact address and port with a reason. Every exception in use is reported (info),
     * so each validation and publish output shows it beside the audited change.
     */
    private static void platformAddresses(List<Problem> problems, String path, Upstream u) {
        Set<Upstream.AddressException> used = new HashSet<>();
        for (int i = 0; i < u.endpoints().size(); i++) {
            Upstream.Endpoint e = u.endpoints().get(i);
            if (e.address() == null || e.address().isBlank()) {
                continue;
            }
            Optional<String> why = PlatformAddresses.forbidden(e.address(), e.port());
            if (why.isEmpty()) {
                continue;
            }
            Optional<Upstream.AddressException> exception = u.addressExceptions().stream()
                    .filter(x -> x.address().equals(e.address())
                            && x.port() == e.port()
                            && !x.reason().isBlank())
                    .findFirst();
            String ep = path + ".endpoints[" + i + "]";
            if (exception.isPresent()) {
                used.add(exception.get());
                problems.add(Problem.info(
                        ProblemCode.UPSTREAM_ADDRESS_EXCEPTION_USED,
                        ep,
                        "address exception in use for " + e.address() + ":" + e.port() + " (" + why.get() + "): "
                                + exception.get().reason()));
            } else {
                problems.add(Problem.error(
                        ProblemCode.UPSTREAM_PLATFORM_ADDRESS,
                        ep + ".address",
                        why.get() + "; an upstream may point there only with "
                                + "an address_exceptions entry naming " + e.address() + " and port " + e.port()
                                + " with a reason"));
            }
        }
        for (int i = 0; i < u.addressExceptions().size(); i++) {
            Upstream.AddressException x = u.addressExceptions().get(i);
            String xp = path + ".address_exceptions[" + i + "]";
            if (x.reason().isBlank()) {
                problems.add(Problem.error(
                        ProblemCode.UPSTREAM_ADDRESS_EXCEPTION_REASON,
                        xp + ".reason",
                        "required: say why this endpoint may reach the gateway " + "pod or the platform"));
            } else if (!used.contains(x)) {
                problems.add(Problem.error(
                        ProblemCode.UPSTREAM_ADDRESS_EXCEPTION_UNUSED,
                        xp,
                        "names " + x.address() + ":" + x.port() + ", which is no endpoint "
                                + "of this upstream needing an exception; remove it"));
            }
        }
    }

    /**
     * Says which Envoy cluster the upstream becomes ({@link Upstream#discovery()}), refuses a mix of IP and DNS
     * endpoints (no cluster type takes both: EDS refuses names, {@code upstream_impl.cc}; a DNS cluster would resolve
     * the IPs as names), and warns where proxyless gRPC clients cannot follow.
     */
    private static void clusterKind(List<Problem> problems, String path, Upstream u) {
        switch (u.discovery()) {
            case EDS ->
                problems.add(Problem.info(
                        ProblemCode.UPSTREAM_CLUSTER_KIND,
                        path,
                        "Envoy cluster type EDS: the endpoints are IP addresses, " + "pushed as a load assignment"));
            case LOGICAL_DNS ->
                problems.add(Problem.info(
                        ProblemCode.UPSTREAM_CLUSTER_KIND,
                        path,
                        "Envoy cluster type LOGICAL_DNS: '"
                                + u.endpoints().get(0).address()
                                + "' is resolved by the gateway (IPv4 preferred, every 5 s); "
                                + "new connections go to the first address of the answer"));
            case STRICT_DNS -> {
                problems.add(
                        Problem.info(
                                ProblemCode.UPSTREAM_CLUSTER_KIND,
                                path,
                                "Envoy cluster type STRICT_DNS: every address each name resolves to "
                                        + "is a host of the cluster, weighted as its endpoint (IPv4 preferred, re-resolved every 5 s)"));
                problems.add(
                        Problem.warning(
                                ProblemCode.UPSTREAM_STRICT_DNS_PROXYLESS,
                                path + ".endpoints",
                                "proxyless gRPC clients accept only EDS and "
                                        + "LOGICAL_DNS clusters (grpc-java XdsClusterResource): with several DNS names this upstream "
                                        + "serves Envoy gateways only; give it one name or IP addresses for proxyless clients"));
            }
            case MIXED ->
                problems.add(Problem.error(
                        ProblemCode.UPSTREAM_MIXED_ENDPOINTS,
                        path + ".endpoints",
                        "mixes IP addresses and DNS names: Envoy "
                                + "takes IP endpoints only in an EDS cluster and names only in a DNS cluster; split it into two "
                                + "upstreams and weigh them in the route's destinations"));
        }
    }

    /**
     * The Host Envoy gateways send to the upstream ({@code host_rewrite_literal}) must be a DNS name. An IP-literal
     * upstream without one keeps the client's Host: inside the mesh the gateway's sidecar routes outbound HTTP by Host,
     * finds no Service for it and sends the request to Istio's PassthroughCluster in plaintext (pilot
     * {@code httproute.go} buildCatchAllVirtualHost, {@code cluster_builder.go} buildDefaultPassthroughCluster), so a
     * STRICT backend resets every request (review R4-06). A warning: an IP outside the mesh is fine; loopback and
     * link-local endpoints (local development, reviewed address exceptions) are not warned about.
     */
    private static void upstreamHost(List<Problem> problems, String path, Upstream u) {
        if (u.host().isPresent()) {
            String h = u.host().get();
            if (h.startsWith("*.") || h.length() > 253 || !HOSTNAME.matcher(h).matches()) {
                problems.add(Problem.error(
                        ProblemCode.UPSTREAM_HOST_INVALID,
                        path + ".host",
                        "'" + h
                                + "' is not a DNS name (lowercase, no wildcard, no port): give the backend Service's FQDN, "
                                + "e.g. orders.shop.svc.cluster.local"));
            }
        } else if (u.discovery() == Upstream.Discovery.EDS
                && u.endpoints().stream().anyMatch(e -> {
                    // loopback, link-local and unspecified addresses never reach a mesh Service (their own checks
                    // apply)
                    java.net.InetAddress a = com.google.common.net.InetAddresses.forString(e.address());
                    return !a.isLoopbackAddress() && !a.isLinkLocalAddress() && !a.isAnyLocalAddress();
                })) {
            problems.add(Problem.warning(
                    ProblemCode.UPSTREAM_IP_WITHOUT_HOST,
                    path + ".host",
                    "IP-literal endpoints "
                            + "without a host: Envoy gateways send the client's Host, which names no mesh Service, so the "
                            + "gateway's sidecar sends the request through Istio's PassthroughCluster in plaintext and a STRICT "
                            + "(mTLS-only) backend resets it (503). If this is a ClusterIP or pod IP in the mesh, set host to "
                            + "the backend Service's FQDN (e.g. orders.shop.svc.cluster.local)"));
        }
    }

    private static void validateTls(List<Problem> problems, String path, Upstream u, Upstream.Tls tls) {
        if (u.tlsServerName().isEmpty()) {
            problems.add(Problem.error(
                    ProblemCode.TLS_SNI_REQUIRED,
                    path + ".sni",
                    "required: the endpoints are IP addresses or differ, so "
                            + "there is no name to send and check the certificate against"));
        }
        tls.sni().ifPresent(sni -> dnsName(problems, path + ".sni", sni));
        tls.subjectAltNames().forEach(san -> dnsName(problems, path + ".subject_alt_names", san));
        tls.caFile()
                .filter(f -> !f.startsWith("/"))
                .ifPresent(f -> problems.add(Problem.error(
                        ProblemCode.TLS_CA_FILE_PATH, path + ".ca_file", "must be an absolute path, got '" + f + "'")));
        problems.add(Problem.warning(
                ProblemCode.TLS_CA_FILE_PROXYLESS,
                path,
                "proxyless gRPC clients refuse a cluster with a CA file (grpc-java accepts "
                        + "only certificate providers): route only Envoy gateway groups to this upstream"));
    }

    /** A DNS name without wildcard: the name Envoy matches a certificate against (the certificate may hold a wildcard). */
    private static void dnsName(List<Problem> problems, String path, String h) {
        if (h.startsWith("*.") || h.length() > 253 || !HOSTNAME.matcher(h).matches()) {
            problems.add(Problem.error(ProblemCode.TLS_DNS_NAME, path, "'" + h + "' is not a DNS name"));
        }
    }

    private static void hostname(List<Problem> problems, String path, String h) {
        if (h == null || h.length() > 253 || !HOSTNAME.matcher(h).matches()) {
            problems.add(Problem.error(ProblemCode.HOSTNAME_INVALID, path, "not a valid hostname: '" + h + "'"));
        } else if (h.equalsIgnoreCase(io.meshguard.xds.snapshot.EnvoyNames.READINESS_HOST)) {
            // every Envoy route table carries this virtual host; a second one with the domain is NACKed by Envoy
            problems.add(Problem.error(
                    ProblemCode.HOSTNAME_INVALID, path, "'" + h + "' is reserved for the gateway's readiness probe"));
        }
    }

    private static void relativePath(List<Problem> problems, String path, String p) {
        if (!p.isEmpty() && !p.startsWith("/")) {
            problems.add(Problem.error(
                    ProblemCode.ROUTE_PATH_FORM, path, "must be empty or start with '/', got '" + p + "'"));
        }
        if (pathCharacters(p)) {
            problems.add(
                    Problem.error(ProblemCode.ROUTE_PATH_CHARACTERS, path, "must not contain '%', '?', '#' or '//'"));
        }
    }

    /**
     * Characters a path that routes must not hold: Envoy decodes percent-encoded characters before it matches
     * ({@code normalize_path}), so a {@code %} in a match never matches, and the base path also goes into the lifecycle
     * {@code link} header, whose value Envoy parses as a format string ({@code %} starts a command).
     */
    private static boolean pathCharacters(String p) {
        return p.contains("%") || p.contains("?") || p.contains("#") || p.contains("//");
    }

    /** A regex RE2 compiles and whose emitted form ({@code emitted}) fits Envoy's program-size limit. */
    private static void regex(List<Problem> problems, String path, String regex, String emitted) {
        try {
            Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            problems.add(
                    Problem.error(ProblemCode.ROUTE_REGEX_INVALID, path, "not a valid RE2 regex: " + e.getMessage()));
            return;
        }
        if (EnvoyRegexBudget.tooLarge(emitted)) {
            problems.add(
                    Problem.error(ProblemCode.ROUTE_REGEX_TOO_LARGE, path, EnvoyRegexBudget.tooLargeMessage(emitted)));
        }
    }

    private static void headerName(List<Problem> problems, String path, String name) {
        if (name == null || !HEADER_NAME.matcher(name).matches()) {
            problems.add(Problem.error(
                    ProblemCode.ROUTE_HEADER_NAME, path, "header names are lowercase tokens, got '" + name + "'"));
        }
    }

    /**
     * A header a route adds or removes: a lowercase token, never a pseudo-header or a framing header, and never one
     * meshguard's security policy owns ({@link OwnedHeaderNames}, plus the loaded policy's names) in any spelling, so
     * configuration cannot undo what the policy decides (forge an identity, drop the tenant, leak a credential).
     */
    private static void headerChange(List<Problem> problems, String path, String name, Set<String> policyOwned) {
        if (name == null) {
            headerName(problems, path, name);
            return;
        }
        String canonical = OwnedHeaderNames.canonical(name);
        Optional<String> owned = OwnedHeaderNames.ownedBy(name, policyOwned);
        if (owned.isPresent()) {
            problems.add(Problem.error(
                    ProblemCode.ROUTE_HEADER_POLICY_OWNED,
                    path,
                    "'" + name + "' is owned by meshguard's security policy (" + owned.get()
                            + "); no route may set or remove it"));
            return;
        }
        if (canonical.startsWith(":") || RESERVED_HEADERS.contains(canonical)) {
            // pseudo-headers, host and message framing belong to the proxy
            problems.add(Problem.error(
                    ProblemCode.ROUTE_HEADER_PROXY_OWNED, path, "'" + name + "' cannot be changed by a route"));
            return;
        }
        headerName(problems, path, name);
    }
}
