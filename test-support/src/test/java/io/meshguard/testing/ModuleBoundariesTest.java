package io.meshguard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The whiteboard's rules about which module may use which, checked on the sources of the reactor: every qualified
 * name in a module's {@code src/main/java} (imports and names written out in code) is resolved to the module that
 * declares the class, so a package split over two modules (the engine's {@code RateLimiter} beside the server's
 * {@code RedisRateLimiter}) is judged by where each class lives. A plain scan, no bytecode: it runs before anything is
 * compiled and sees every module of the root pom, whatever the reactor order.
 */
class ModuleBoundariesTest {
    /** What one module must not use: other modules of the reactor, and package prefixes (ours or a library's). */
    record Rule(String module, List<String> forbiddenModules, List<String> forbiddenPackages, String why) {}

    /** A known breach, allowed until the named slice lands; delete the line then (the test says when it is stale). */
    record Allowance(String module, String usedClass, String until) {}

    private static final List<String> SERVERS = List.of("extauthz-server", "extproc-dlp-server");
    private static final List<String> SERVERS_AND_CONTROLLER =
            List.of("extauthz-server", "extproc-dlp-server", "xds-controller");

    static final List<Rule> RULES = List.of(
            new Rule(
                    "extauthz-server",
                    List.of("extproc-dlp-server", "xds-controller"),
                    List.of("io.meshguard.xds", "io.meshguard.dlpserver"),
                    "the servers never import each other or the controller"),
            new Rule(
                    "extproc-dlp-server",
                    List.of("extauthz-server", "xds-controller"),
                    List.of("io.meshguard.xds", "io.meshguard.extauthz.server"),
                    "the servers never import each other or the controller"),
            new Rule(
                    "authz-policy",
                    SERVERS_AND_CONTROLLER,
                    List.of("io.meshguard.xds"),
                    "the engines import no server and no controller: the servers and the controller use them"),
            new Rule(
                    "authz-policy",
                    List.of("catalog", "db", "access", "audit"),
                    List.of("io.meshguard.catalog", "io.meshguard.db", "io.meshguard.access", "io.meshguard.audit"),
                    "the engine reads the catalogue's values (catalog-model), never its stores, the database, the"
                            + " admin plane's access or the audit trail"),
            new Rule(
                    "catalog-model",
                    List.of("catalog", "db", "access", "audit", "authz-policy"),
                    List.of("io.envoyproxy", "io.meshguard.catalog", "io.meshguard.db"),
                    "the catalogue's values know no store, no database, no Envoy protos and no engine: both sides"
                            + " read them"),
            new Rule(
                    "dlp-engine",
                    SERVERS_AND_CONTROLLER,
                    List.of("io.meshguard.xds"),
                    "the engines import no server and no controller: the servers and the controller use them"),
            new Rule(
                    "envoy-emulator",
                    SERVERS_AND_CONTROLLER,
                    List.of(),
                    "the emulator plays Envoy: it knows Envoy's protocols, none of our servers"),
            new Rule(
                    "envoy-gateway",
                    List.of("extauthz-server", "extproc-dlp-server", "xds-controller", "catalog"),
                    List.of("io.envoyproxy", "io.meshguard.xds", "io.meshguard.catalog"),
                    "the Envoy Gateway renderer and CRD validator take a flattened revision: no Envoy protos, no server,"
                            + " no controller, no catalogue (the controller flattens its revision for it)"),
            new Rule(
                    "catalog",
                    SERVERS_AND_CONTROLLER,
                    List.of("io.envoyproxy"),
                    "the catalogue knows no Envoy protos and no server: servers and controller read it"),
            new Rule(
                    "xds-controller",
                    SERVERS,
                    List.of(),
                    "the controller imports no server package: what it shares with them lives in the engines,"
                            + " the catalogue or contract"),
            new Rule(
                    "xds-controller",
                    List.of("console"),
                    List.of("io.meshguard.console"),
                    "the console is mounted beside the controller by whoever wires the admin port (cli, devstack):"
                            + " the controller does not know it"));

    static final List<Allowance> ALLOWANCES = List.of();

    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
    private static final Pattern NOT_CODE = Pattern.compile(
            "\"\"\"[\\s\\S]*?\"\"\"|\"(?:\\\\.|[^\"\\\\\\n])*\"|'(?:\\\\.|[^'\\\\])+'|/\\*[\\s\\S]*?\\*/|//[^\\n]*");
    private static final Pattern QUALIFIED = Pattern.compile("\\b(?:io|com|org|dev)(?:\\.[A-Za-z_$][\\w$]*)+");

    @Test
    void everyModuleKeepsTheWhiteboardsRules() {
        Path root = repositoryRoot();
        Map<String, Path> modules = modules(root);
        Map<String, String> classModule = new HashMap<>();
        Map<String, List<Source>> sources = new LinkedHashMap<>();
        modules.forEach((name, dir) -> {
            List<Source> list = mainSources(dir);
            sources.put(name, list);
            list.forEach(s -> classModule.put(s.className(), name));
        });
        assertThat(classModule).as("main classes found under %s", root).isNotEmpty();
        for (Rule rule : RULES) {
            assertThat(modules)
                    .as("rule for a module the root pom no longer lists: %s", rule)
                    .containsKey(rule.module());
            for (String m : rule.forbiddenModules()) {
                assertThat(modules).as("rule %s names an unknown module", rule).containsKey(m);
            }
        }

        List<String> breaches = new ArrayList<>();
        Set<Allowance> used = new HashSet<>();
        for (Rule rule : RULES) {
            for (Source source : sources.get(rule.module())) {
                for (String name : source.names()) {
                    Optional<String> why = breach(rule, name, classModule);
                    if (why.isEmpty()) {
                        continue;
                    }
                    Optional<Allowance> allowed = ALLOWANCES.stream()
                            .filter(e -> e.module().equals(rule.module()) && name.startsWith(e.usedClass()))
                            .findFirst();
                    if (allowed.isPresent()) {
                        used.add(allowed.get());
                    } else {
                        breaches.add(rule.module() + ": " + root.relativize(source.file()) + " uses " + name + " ("
                                + why.get() + ") — " + rule.why());
                    }
                }
            }
        }
        assertThat(breaches).as("module boundaries broken").isEmpty();
        assertThat(ALLOWANCES)
                .as("allowances no longer needed: delete them from ALLOWANCES")
                .allMatch(used::contains);
    }

    /**
     * The shared HTTP layer: the admin request loop and the refusal every admin API answers with. Any class that
     * serves HTTP may use it; it is not a surface of its own.
     */
    static final List<String> SHARED_HTTP = List.of("io.meshguard.access.http", "io.meshguard.runtime.http");

    /** Modules that only wire and drive the others (the CLI's Mains, the dev stack, benches and tests). */
    static final Set<String> WIRING_MODULES = Set.of("cli", "devstack", "bench", "e2e", "deploy-tests", "test-support");

    /** The classes of the servers that mount HTTP surfaces on a port: a page of wiring each. */
    static final Set<String> WIRING_CLASSES = Set.of(
            "io.meshguard.xds.XdsController",
            "io.meshguard.xds.zone.ZoneCentral",
            "io.meshguard.extauthz.server.ExtAuthzServer",
            "io.meshguard.console.ConsoleMount");

    /**
     * Known uses of another package's HTTP class outside the wiring, as "using class -> used class"; each goes when
     * the service it reaches moves out of the HTTP class, and the test fails once a line is no longer needed.
     */
    static final Set<String> HTTP_ALLOWANCES = Set.of();

    /**
     * HTTP stays at the edge: a class that serves HTTP (it names {@code com.sun.net.httpserver}) is named outside its
     * own package only by wiring, and by the HTTP packages of its own module (one port's APIs list each other's routes
     * in its OpenAPI document), so services and screens reach each other's services, never each other's handlers.
     */
    @Test
    void httpClassesAreNamedOnlyByWiring() {
        Path root = repositoryRoot();
        Map<String, String> classModule = new HashMap<>();
        List<Source> all = new ArrayList<>();
        modules(root).forEach((name, dir) -> {
            for (Source s : mainSources(dir)) {
                classModule.put(s.className(), name);
                all.add(s);
            }
        });
        Set<String> found = httpUses(all, classModule);
        assertThat(found).as("HTTP classes named outside the wiring").isSubsetOf(HTTP_ALLOWANCES);
        assertThat(HTTP_ALLOWANCES)
                .as("HTTP allowances no longer needed: delete them from HTTP_ALLOWANCES")
                .isSubsetOf(found);
    }

    @Test
    void aServiceNamingAnotherPackagesHandler_isCaught_andWiringIsNot() {
        List<Source> sources = List.of(
                new Source(
                        Path.of("Api.java"),
                        "io.meshguard.m.http.Api",
                        Set.of("com.sun.net.httpserver.HttpHandler", "io.meshguard.access.http.AdminEndpoint")),
                new Source(
                        Path.of("AdminEndpoint.java"),
                        "io.meshguard.access.http.AdminEndpoint",
                        Set.of("com.sun.net.httpserver.HttpHandler")),
                new Source(Path.of("Screen.java"), "io.meshguard.console.Screen", Set.of("io.meshguard.m.http.Api")),
                new Source(Path.of("Main.java"), "io.meshguard.cli.Main", Set.of("io.meshguard.m.http.Api.ROUTES")),
                new Source(
                        Path.of("Doc.java"),
                        "io.meshguard.m.admin.Doc",
                        Set.of("com.sun.net.httpserver.HttpExchange", "io.meshguard.m.http.Api.ROUTES")));
        Map<String, String> classModule = Map.of(
                "io.meshguard.m.admin.Doc", "m",
                "io.meshguard.m.http.Api", "m",
                "io.meshguard.access.http.AdminEndpoint", "access",
                "io.meshguard.console.Screen", "console",
                "io.meshguard.cli.Main", "cli");
        assertThat(httpUses(sources, classModule))
                .containsExactly("io.meshguard.console.Screen -> io.meshguard.m.http.Api");
    }

    /** Every "using class -> HTTP class" of another package, outside the wiring and the shared HTTP layer. */
    static Set<String> httpUses(List<Source> sources, Map<String, String> classModule) {
        Set<String> http = new TreeSet<>();
        for (Source s : sources) {
            if (s.names().stream().anyMatch(n -> n.startsWith("com.sun.net.httpserver."))
                    && SHARED_HTTP.stream()
                            .noneMatch(p -> packageOf(s.className()).equals(p))) {
                http.add(s.className());
            }
        }
        Set<String> httpPackages = new TreeSet<>();
        http.forEach(c -> httpPackages.add(packageOf(c)));
        Set<String> uses = new TreeSet<>();
        for (Source s : sources) {
            if (WIRING_MODULES.contains(classModule.get(s.className())) || WIRING_CLASSES.contains(s.className())) {
                continue;
            }
            boolean httpPackage = httpPackages.contains(packageOf(s.className()));
            for (String name : s.names()) {
                for (String n = name; n.contains("."); n = n.substring(0, n.lastIndexOf('.'))) {
                    if (classModule.containsKey(n)) {
                        boolean sibling = httpPackage && classModule.get(n).equals(classModule.get(s.className()));
                        if (http.contains(n) && !packageOf(n).equals(packageOf(s.className())) && !sibling) {
                            uses.add(s.className() + " -> " + n);
                        }
                        break;
                    }
                }
            }
        }
        return uses;
    }

    /** Each module's package root: a stack trace or an import names the module to open. */
    static final Map<String, String> ROOTS = Map.ofEntries(
            Map.entry("contract", "io.meshguard.contract"),
            Map.entry("runtime", "io.meshguard.runtime"),
            Map.entry("db", "io.meshguard.db"),
            Map.entry("test-support", "io.meshguard.testing"),
            Map.entry("audit", "io.meshguard.audit"),
            Map.entry("access", "io.meshguard.access"),
            Map.entry("catalog-model", "io.meshguard.catalogmodel"),
            Map.entry("catalog", "io.meshguard.catalog"),
            Map.entry("authz-policy", "io.meshguard.authz"),
            Map.entry("extauthz-server", "io.meshguard.extauthz"),
            Map.entry("dlp-engine", "io.meshguard.dlp"),
            Map.entry("extproc-dlp-server", "io.meshguard.dlpserver"),
            Map.entry("envoy-validation", "io.meshguard.envoy.validation"),
            Map.entry("envoy-gateway", "io.meshguard.envoygateway"),
            Map.entry("xds-controller", "io.meshguard.xds"),
            Map.entry("console", "io.meshguard.console"),
            Map.entry("envoy-emulator", "io.meshguard.emulator"),
            Map.entry("cli", "io.meshguard.cli"),
            Map.entry("devstack", "io.meshguard.devstack"),
            Map.entry("e2e", "io.meshguard.e2e"),
            Map.entry("bench", "io.meshguard.bench"),
            Map.entry("deploy-tests", "io.meshguard.deploy"));

    /**
     * Package cycles inside a module that still stand, as "module: package, package, …" (sorted); each goes when the
     * services leave the HTTP packages, and the test fails once a line is no longer needed.
     */
    static final Set<String> CYCLE_ALLOWANCES = Set.of();

    @Test
    void everySourceLivesUnderItsModulesPackageRoot() {
        Path root = repositoryRoot();
        Map<String, Path> modules = modules(root);
        assertThat(ROOTS.keySet())
                .as("a package root for every module of the root pom")
                .isEqualTo(modules.keySet());
        List<String> outside = new ArrayList<>();
        modules.forEach((name, dir) -> {
            String prefix = ROOTS.get(name);
            for (String tree : List.of("src/main/java", "src/test/java")) {
                for (Source s : sources(dir.resolve(tree))) {
                    String pkg = packageOf(s.className());
                    if (!pkg.equals(prefix) && !pkg.startsWith(prefix + ".")) {
                        outside.add(name + ": " + root.relativize(s.file()) + " is in " + pkg + ", outside " + prefix);
                    }
                }
            }
        });
        assertThat(outside).as("sources outside their module's package root").isEmpty();
        List<String> nested = new ArrayList<>();
        ROOTS.forEach((a, ra) -> ROOTS.forEach((b, rb) -> {
            if (!a.equals(b) && rb.startsWith(ra + ".")) {
                nested.add(b + "'s root " + rb + " lies inside " + a + "'s " + ra);
            }
        }));
        assertThat(nested).as("package roots inside other modules' roots").isEmpty();
    }

    /** The README's module map is where a reader looks up a package: it names each module's root, as built. */
    @Test
    void theReadmesModuleMapNamesEachModulesPackageRoot() {
        Matcher row = Pattern.compile("(?m)^\\| `([\\w-]+)/` \\| `([\\w.]+)` \\|")
                .matcher(read(repositoryRoot().resolve("README.md")));
        Map<String, String> documented = new TreeMap<>();
        while (row.find()) {
            documented.put(row.group(1), row.group(2));
        }
        assertThat(documented).isEqualTo(new TreeMap<>(ROOTS));
    }

    @Test
    void noPackageLivesInTwoModules() {
        Path root = repositoryRoot();
        Map<String, Set<String>> modulesOfPackage = new TreeMap<>();
        modules(root).forEach((name, dir) -> {
            for (Source s : mainSources(dir)) {
                modulesOfPackage
                        .computeIfAbsent(packageOf(s.className()), k -> new TreeSet<>())
                        .add(name);
            }
        });
        assertThat(modulesOfPackage).as("main packages of the reactor").isNotEmpty();
        assertThat(splitPackages(modulesOfPackage))
                .as("packages split over modules")
                .isEmpty();
    }

    @Test
    void noPackageCycleInsideAModule() {
        Path root = repositoryRoot();
        Set<String> cycles = new TreeSet<>();
        modules(root).forEach((name, dir) -> {
            for (Set<String> cycle : packageCycles(mainSources(dir))) {
                cycles.add(name + ": " + String.join(", ", cycle));
            }
        });
        assertThat(cycles).as("package cycles inside modules").isSubsetOf(CYCLE_ALLOWANCES);
        assertThat(CYCLE_ALLOWANCES)
                .as("cycle allowances no longer needed: delete them from CYCLE_ALLOWANCES")
                .isSubsetOf(cycles);
    }

    private static final Pattern COMMENT = Pattern.compile("/\\*[\\s\\S]*?\\*/|//[^\\n]*");
    private static final Pattern ISSUE_CITED = Pattern.compile("\\b[Ii]ssues? #?\\d+(?![-\\w])");

    /** A comment says why the code is as it is; the tracker's numbers and the story of a change live in git. */
    @Test
    void noCommentCitesAnIssue() {
        Path root = repositoryRoot();
        List<String> citing = new ArrayList<>();
        modules(root).forEach((name, dir) -> {
            for (Source s : Stream.concat(mainSources(dir).stream(), sources(dir.resolve("src/test/java")).stream())
                    .toList()) {
                citing.addAll(issueCitations(root.relativize(s.file()).toString(), read(s.file())));
            }
        });
        assertThat(citing)
                .as("comments in main or test code that cite an issue number")
                .isEmpty();
        assertThat(issueCitations("A.java", "int a; // fixed in issue " + 48 + "\n/** BC cards issue 94xx */"))
                .containsExactly("A.java: // fixed in issue " + 48);
    }

    static List<String> issueCitations(String file, String text) {
        List<String> found = new ArrayList<>();
        Matcher c = COMMENT.matcher(text);
        while (c.find()) {
            if (ISSUE_CITED.matcher(c.group()).find()) {
                found.add(file + ": "
                        + c.group()
                                .lines()
                                .filter(l -> ISSUE_CITED.matcher(l).find())
                                .findFirst()
                                .orElse("")
                                .strip());
            }
        }
        return found;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aSplitPackageAndACycleAreCaught() {
        assertThat(splitPackages(Map.of(
                        "io.meshguard.a", new TreeSet<>(Set.of("x")),
                        "io.meshguard.b", new TreeSet<>(Set.of("x", "y")))))
                .containsExactly("io.meshguard.b in [x, y]");
        List<Source> sources = List.of(
                new Source(Path.of("A.java"), "io.meshguard.m.a.A", Set.of("io.meshguard.m.b.B.Inner")),
                new Source(Path.of("B.java"), "io.meshguard.m.b.B", Set.of("io.meshguard.m.c.C")),
                new Source(Path.of("C.java"), "io.meshguard.m.c.C", Set.of("io.meshguard.m.a.A", "java.util.List")),
                new Source(Path.of("D.java"), "io.meshguard.m.d.D", Set.of("io.meshguard.m.a.A")));
        assertThat(packageCycles(sources))
                .containsExactly(new TreeSet<>(Set.of("io.meshguard.m.a", "io.meshguard.m.b", "io.meshguard.m.c")));
    }

    static List<String> splitPackages(Map<String, ? extends Set<String>> modulesOfPackage) {
        List<String> split = new ArrayList<>();
        modulesOfPackage.forEach((pkg, mods) -> {
            if (mods.size() > 1) {
                split.add(pkg + " in " + mods);
            }
        });
        return split;
    }

    /** The strongly connected groups of two or more packages among one module's sources (Tarjan's algorithm). */
    static List<Set<String>> packageCycles(List<Source> sources) {
        Map<String, String> classPackage = new HashMap<>();
        sources.forEach(s -> classPackage.put(s.className(), packageOf(s.className())));
        Map<String, Set<String>> edges = new TreeMap<>();
        for (Source s : sources) {
            String from = packageOf(s.className());
            Set<String> out = edges.computeIfAbsent(from, k -> new TreeSet<>());
            for (String name : s.names()) {
                for (String n = name; n.contains("."); n = n.substring(0, n.lastIndexOf('.'))) {
                    String to = classPackage.get(n);
                    if (to != null) {
                        if (!to.equals(from)) {
                            out.add(to);
                        }
                        break;
                    }
                }
            }
        }
        return new Tarjan(edges).components();
    }

    private static final class Tarjan {
        private final Map<String, Set<String>> edges;
        private final Map<String, Integer> index = new HashMap<>();
        private final Map<String, Integer> low = new HashMap<>();
        private final Deque<String> stack = new ArrayDeque<>();
        private final Set<String> onStack = new HashSet<>();
        private final List<Set<String>> components = new ArrayList<>();

        Tarjan(Map<String, Set<String>> edges) {
            this.edges = edges;
        }

        List<Set<String>> components() {
            edges.keySet().forEach(v -> {
                if (!index.containsKey(v)) {
                    visit(v);
                }
            });
            return components;
        }

        private void visit(String v) {
            index.put(v, index.size());
            low.put(v, index.get(v));
            stack.push(v);
            onStack.add(v);
            for (String w : edges.getOrDefault(v, Set.of())) {
                if (!index.containsKey(w)) {
                    visit(w);
                    low.put(v, Math.min(low.get(v), low.get(w)));
                } else if (onStack.contains(w)) {
                    low.put(v, Math.min(low.get(v), index.get(w)));
                }
            }
            if (low.get(v).equals(index.get(v))) {
                Set<String> component = new TreeSet<>();
                String w;
                do {
                    w = stack.pop();
                    onStack.remove(w);
                    component.add(w);
                } while (!w.equals(v));
                if (component.size() > 1) {
                    components.add(component);
                }
            }
        }
    }

    private static String packageOf(String className) {
        return className.contains(".") ? className.substring(0, className.lastIndexOf('.')) : "";
    }

    @Test
    void aForbiddenImportIsCaught_andAClassOfASplitPackageIsJudgedByItsModule() {
        Map<String, String> classModule = Map.of(
                "io.meshguard.authz.ratelimit.RateLimiter", "authz-policy",
                "io.meshguard.extauthz.ratelimit.RedisRateLimiter", "extauthz-server");
        Rule rule = RULES.stream()
                .filter(r -> r.module().equals("authz-policy"))
                .findFirst()
                .orElseThrow();
        String engine = """
                package io.meshguard.extauthz.decision;
                import io.meshguard.authz.ratelimit.RateLimiter;
                /** not {@link io.meshguard.extauthz.ratelimit.RedisRateLimiter} */
                class A { String s = "io.envoyproxy.Nothing"; }
                """;
        assertThat(names(engine)).containsExactly("io.meshguard.authz.ratelimit.RateLimiter");
        assertThat(breach(rule, "io.meshguard.authz.ratelimit.RateLimiter", classModule))
                .isEmpty();
        assertThat(breach(rule, "io.meshguard.extauthz.ratelimit.RedisRateLimiter.Script", classModule))
                .contains("a class of extauthz-server");
        Rule catalog = RULES.stream()
                .filter(r -> r.module().equals("catalog"))
                .findFirst()
                .orElseThrow();
        assertThat(breach(catalog, "io.envoyproxy.envoy.config.core.v3.Node", classModule))
                .contains("package io.envoyproxy");
    }

    /** Why {@code name} breaks {@code rule}, if it does. */
    static Optional<String> breach(Rule rule, String name, Map<String, String> classModule) {
        for (String prefix : rule.forbiddenPackages()) {
            if (name.equals(prefix) || name.startsWith(prefix + ".")) {
                return Optional.of("package " + prefix);
            }
        }
        // the longest prefix that names a class of the reactor: a.b.C.Inner and a.b.C.method both resolve to a.b.C
        for (String n = name; n.contains("."); n = n.substring(0, n.lastIndexOf('.'))) {
            String owner = classModule.get(n);
            if (owner != null) {
                return rule.forbiddenModules().contains(owner) ? Optional.of("a class of " + owner) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    record Source(Path file, String className, Set<String> names) {}

    private static List<Source> mainSources(Path module) {
        return sources(module.resolve("src/main/java"));
    }

    private static List<Source> sources(Path main) {
        if (!Files.isDirectory(main)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(main)) {
            return files.filter(f -> f.toString().endsWith(".java"))
                    .map(ModuleBoundariesTest::source)
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Source source(Path file) {
        try {
            String text = Files.readString(file);
            Matcher p = PACKAGE.matcher(text);
            String pkg = p.find() ? p.group(1) + "." : "";
            String simple = file.getFileName().toString().replace(".java", "");
            return new Source(file, pkg + simple, names(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every qualified name in the code (imports included), comments and string literals left out. */
    static Set<String> names(String text) {
        String code = NOT_CODE.matcher(text).replaceAll(" ");
        code = PACKAGE.matcher(code).replaceAll(" ");
        Set<String> names = new TreeSet<>();
        Matcher m = QUALIFIED.matcher(code);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    /** The modules the root pom lists, by directory name. */
    private static Map<String, Path> modules(Path root) {
        try {
            String pom = Files.readString(root.resolve("pom.xml"));
            Map<String, Path> modules = new LinkedHashMap<>();
            Matcher m = Pattern.compile("<module>([^<]+)</module>").matcher(pom);
            while (m.find()) {
                modules.put(m.group(1).trim(), root.resolve(m.group(1).trim()));
            }
            return modules;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The nearest ancestor of the working directory whose pom.xml lists modules (Maven runs tests in the module). */
    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            Path pom = p.resolve("pom.xml");
            try {
                if (Files.isRegularFile(pom) && Files.readString(pom).contains("<module>")) {
                    return p;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no pom.xml with <modules> above " + dir);
    }
}
