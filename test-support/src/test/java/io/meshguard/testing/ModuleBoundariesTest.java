package io.meshguard.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
                    List.of("io.meshguard.xds", "io.meshguard.dlp.server"),
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
                    List.of("io.meshguard.xds.console"),
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
        Set<Allowance> used = new java.util.HashSet<>();
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

    @Test
    void aForbiddenImportIsCaught_andAClassOfASplitPackageIsJudgedByItsModule() {
        Map<String, String> classModule = Map.of(
                "io.meshguard.extauthz.ratelimit.RateLimiter", "authz-policy",
                "io.meshguard.extauthz.ratelimit.RedisRateLimiter", "extauthz-server");
        Rule rule = RULES.stream()
                .filter(r -> r.module().equals("authz-policy"))
                .findFirst()
                .orElseThrow();
        String engine = """
                package io.meshguard.extauthz.decision;
                import io.meshguard.extauthz.ratelimit.RateLimiter;
                /** not {@link io.meshguard.extauthz.ratelimit.RedisRateLimiter} */
                class A { String s = "io.envoyproxy.Nothing"; }
                """;
        assertThat(names(engine)).containsExactly("io.meshguard.extauthz.ratelimit.RateLimiter");
        assertThat(breach(rule, "io.meshguard.extauthz.ratelimit.RateLimiter", classModule))
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
        Path main = module.resolve("src/main/java");
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
