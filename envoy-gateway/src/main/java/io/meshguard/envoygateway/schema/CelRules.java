package io.meshguard.envoygateway.schema;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelFunctionDecl;
import dev.cel.common.CelOptions;
import dev.cel.common.CelOverloadDecl;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.ListType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelFunctionBinding;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The {@code x-kubernetes-validations} rules of the bundled CRDs, compiled with cel-java as the Kubernetes API server
 * compiles them: {@code self} (and {@code oldSelf} for transition rules) bound to the value at the rule's node, the
 * standard macros, and of Kubernetes' CEL libraries the functions the bundled rules use ({@code lowerAscii},
 * {@code upperAscii}, {@code split} of the strings extension; {@code duration}, {@code matches}, {@code startsWith},
 * {@code endsWith}, {@code contains} are standard CEL). A rule that does not compile here — a library function we do not
 * provide — is never passed: it is an {@link Outcome.Unevaluable} problem, so the resource is refused (fail closed).
 */
final class CelRules {

    /** What evaluating one rule against one value gave. */
    sealed interface Outcome {
        /** The rule holds. */
        record Holds() implements Outcome {}

        /** The rule is false for the value. */
        record Violated() implements Outcome {}

        /** The rule could not be compiled or evaluated: refused, never passed. */
        record Unevaluable(String why) implements Outcome {}
    }

    private static final Pattern OLD_SELF = Pattern.compile("\\boldSelf\\b");

    // the API server bounds rule cost up front (CRD cost estimation); here an iteration bound keeps a bad rule finite
    private static final CelOptions OPTIONS = CelOptions.current()
            .comprehensionMaxIterations(100_000)
            .enableHeterogeneousNumericComparisons(true)
            .build();

    private final CelCompiler compiler;
    private final CelRuntime runtime;
    private final Map<String, Compiled> cache = new ConcurrentHashMap<>();

    private record Compiled(Optional<CelRuntime.Program> program, String error) {}

    CelRules() {
        this.compiler = CelCompilerFactory.standardCelCompilerBuilder()
                .setOptions(OPTIONS)
                .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
                .addVar("self", SimpleType.DYN)
                .addVar("oldSelf", SimpleType.DYN)
                .addFunctionDeclarations(stringsLibrary())
                .build();
        this.runtime = CelRuntimeFactory.standardCelRuntimeBuilder()
                .setOptions(OPTIONS)
                .addFunctionBindings(stringsBindings())
                .build();
    }

    /** Whether the rule compares against the stored object: the API server evaluates it on updates only. */
    static boolean isTransitionRule(String rule) {
        return OLD_SELF.matcher(rule).find();
    }

    /** Why {@code rule} cannot be evaluated here, or empty when it compiles. */
    Optional<String> compileError(String rule) {
        Compiled c = compile(rule);
        return c.program().isPresent() ? Optional.empty() : Optional.of(c.error());
    }

    Outcome evaluate(String rule, Object self, Optional<Object> oldSelf) {
        Compiled c = compile(rule);
        if (c.program().isEmpty()) {
            return new Outcome.Unevaluable(c.error());
        }
        Map<String, Object> vars =
                oldSelf.isPresent() ? Map.of("self", self, "oldSelf", oldSelf.get()) : Map.of("self", self);
        try {
            Object result = c.program().get().eval(vars);
            if (result instanceof Boolean b) {
                return b ? new Outcome.Holds() : new Outcome.Violated();
            }
            return new Outcome.Unevaluable("the rule gave " + result + ", not a bool");
        } catch (CelEvaluationException e) {
            // the API server reports an evaluation error (no such key, bad duration) as a failed validation too
            return new Outcome.Unevaluable(e.getMessage());
        }
    }

    private Compiled compile(String rule) {
        return cache.computeIfAbsent(rule, r -> {
            CelValidationResult result = compiler.compile(r);
            if (result.hasError()) {
                return new Compiled(Optional.empty(), "cannot compile: " + result.getErrorString());
            }
            try {
                CelAbstractSyntaxTree ast = result.getAst();
                return new Compiled(Optional.of(runtime.createProgram(ast)), "");
            } catch (dev.cel.common.CelValidationException | CelEvaluationException e) {
                return new Compiled(Optional.empty(), "cannot compile: " + e.getMessage());
            }
        });
    }

    private static List<CelFunctionDecl> stringsLibrary() {
        return List.of(
                CelFunctionDecl.newFunctionDeclaration(
                        "lowerAscii",
                        CelOverloadDecl.newMemberOverload("string_lower_ascii", SimpleType.STRING, SimpleType.STRING)),
                CelFunctionDecl.newFunctionDeclaration(
                        "upperAscii",
                        CelOverloadDecl.newMemberOverload("string_upper_ascii", SimpleType.STRING, SimpleType.STRING)),
                CelFunctionDecl.newFunctionDeclaration(
                        "split",
                        CelOverloadDecl.newMemberOverload(
                                "string_split_string",
                                ListType.create(SimpleType.STRING),
                                SimpleType.STRING,
                                SimpleType.STRING)));
    }

    // CEL declares its bindings @Immutable; these are static methods without state
    @SuppressWarnings("Immutable")
    private static List<CelFunctionBinding> stringsBindings() {
        return List.of(
                CelFunctionBinding.from("string_lower_ascii", String.class, CelRules::lowerAscii),
                CelFunctionBinding.from("string_upper_ascii", String.class, CelRules::upperAscii),
                CelFunctionBinding.from("string_split_string", String.class, String.class, CelRules::split));
    }

    /** cel-go's strings extension lower-cases ASCII letters only, leaving every other code point as it is. */
    private static String lowerAscii(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.chars().forEach(c -> b.append(c >= 'A' && c <= 'Z' ? (char) (c + 32) : (char) c));
        return b.toString();
    }

    private static String upperAscii(String s) {
        StringBuilder b = new StringBuilder(s.length());
        s.chars().forEach(c -> b.append(c >= 'a' && c <= 'z' ? (char) (c - 32) : (char) c));
        return b.toString();
    }

    /** Go's strings.Split: every separator splits, an empty separator splits into code points. */
    private static List<String> split(String s, String separator) {
        if (separator.isEmpty()) {
            return s.codePoints().mapToObj(Character::toString).toList();
        }
        return Arrays.asList(s.split(Pattern.quote(separator), -1));
    }
}
