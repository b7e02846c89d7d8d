package io.meshguard.authz.condition;

import com.github.benmanes.caffeine.cache.Caffeine;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelIssue;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationException;
import dev.cel.common.CelValidationResult;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.ast.CelReference;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerBuilder;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import io.meshguard.authz.request.Identity;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Compiles {@code when:} expressions when the policy loads: parsed, type-checked against the declared variables
 * ({@link ConditionVariables}), result type bool, and bounded — at most {@value #MAX_CODE_POINTS} code points, parse
 * nesting {@value #MAX_PARSE_DEPTH}, no comprehension inside another, {@value #MAX_ITERATIONS} iterations per
 * comprehension, regexes on RE2/J with a capped program size, time-of-day functions only with an explicit, valid time
 * zone. cel-java's defaults leave iterations and regex size unlimited (CelOptions), hence the explicit options.
 */
public final class ConditionCompiler {
    public static final int MAX_CODE_POINTS = 4096;
    static final int MAX_PARSE_DEPTH = 32;
    public static final int MAX_ITERATIONS = 1000;
    static final int MAX_REGEX_PROGRAM = 1000;
    static final int MAX_COMPREHENSION_NESTING = 1;
    private static final Set<String> CREDENTIAL_VARIABLES = credentialVariables();
    private static final Set<String> ZONED = Set.of(
            "getFullYear",
            "getMonth",
            "getDayOfYear",
            "getDayOfMonth",
            "getDate",
            "getDayOfWeek",
            "getHours",
            "getMinutes",
            "getSeconds",
            "getMilliseconds");

    private static final CelOptions OPTIONS = CelOptions.current()
            .maxExpressionCodePointSize(MAX_CODE_POINTS)
            .maxParseRecursionDepth(MAX_PARSE_DEPTH)
            .comprehensionMaxIterations(MAX_ITERATIONS)
            .maxRegexProgramSize(MAX_REGEX_PROGRAM)
            .enableHeterogeneousNumericComparisons(true)
            .build();

    private final CelCompiler full;
    private final CelCompiler beforeAuth;
    private final CelRuntime runtime;

    public ConditionCompiler() {
        this.full = variables(base(), true).build();
        this.beforeAuth = variables(base(), false).build();
        this.runtime = CelRuntimeFactory.standardCelRuntimeBuilder()
                .setOptions(OPTIONS)
                .addFunctionBindings(ExpectedTypes.bindings())
                .build();
    }

    private static Set<String> credentialVariables() {
        Set<String> s = new java.util.HashSet<>(ConditionVariables.CREDENTIAL_STRINGS);
        s.addAll(List.of(ConditionVariables.ROLES, ConditionVariables.SCOPES, ConditionVariables.CLAIMS));
        return Set.copyOf(s);
    }

    private static CelCompilerBuilder base() {
        return CelCompilerFactory.standardCelCompilerBuilder()
                .setOptions(OPTIONS)
                .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
                .addFunctionDeclarations(ExpectedTypes.declarations())
                .setResultType(SimpleType.BOOL);
    }

    private static CelCompilerBuilder variables(CelCompilerBuilder b, boolean withCredential) {
        MapType strings = MapType.create(SimpleType.STRING, SimpleType.STRING);
        for (String v : ConditionVariables.REQUEST_STRINGS) {
            b.addVar(v, SimpleType.STRING);
        }
        for (String v : ConditionVariables.MCP_STRINGS) {
            b.addVar(v, SimpleType.STRING);
        }
        b.addVar(ConditionVariables.HEADERS, strings)
                .addVar(ConditionVariables.QUERY, strings)
                .addVar(ConditionVariables.MCP_PARAM, strings)
                .addVar(ConditionVariables.NOW, SimpleType.TIMESTAMP);
        if (withCredential) {
            for (String v : ConditionVariables.CREDENTIAL_STRINGS) {
                b.addVar(v, SimpleType.STRING);
            }
            b.addVar(ConditionVariables.ROLES, ListType.create(SimpleType.STRING))
                    .addVar(ConditionVariables.SCOPES, ListType.create(SimpleType.STRING))
                    .addVar(ConditionVariables.CLAIMS, MapType.create(SimpleType.STRING, SimpleType.DYN));
        }
        return b;
    }

    /**
     * Compiles one expression; problems go to {@code error} as (line, message) and give null.
     *
     * @param line the policy file line of the expression's first character
     * @param beforeCredential deny rules run before the credential is checked: no {@code auth.*}, {@code claims}, {@code tenant}
     */
    public Condition compile(String expression, int line, boolean beforeCredential, BiConsumer<Integer, String> error) {
        if (expression.isBlank()) {
            error.accept(line, "empty expression");
            return null;
        }
        if (expression.codePointCount(0, expression.length()) > MAX_CODE_POINTS) {
            error.accept(line, "expression longer than " + MAX_CODE_POINTS + " characters");
            return null;
        }
        CelValidationResult result = (beforeCredential ? beforeAuth : full).compile(expression);
        if (result.hasError()) {
            for (CelIssue issue : result.getErrors()) {
                String msg = issue.getMessage();
                if (beforeCredential
                        && msg.contains("undeclared reference")
                        && (msg.contains("'auth") || msg.contains("'claims") || msg.contains("'tenant"))) {
                    msg +=
                            " (deny rules run before the credential is checked: auth.*, claims and tenant belong in a route's when:)";
                }
                error.accept(
                        line + Math.max(0, issue.getSourceLocation().getLine() - 1),
                        msg + " (column " + (issue.getSourceLocation().getColumn() + 1) + ")");
            }
            return null;
        }
        CelAbstractSyntaxTree ast;
        try {
            // a claim of another type than its comparison expects is an evaluation error, never an answer
            CelValidationResult typed =
                    (beforeCredential ? beforeAuth : full).check(ExpectedTypes.wrap(result.getAst()));
            ast = typed.getAst();
        } catch (CelValidationException e) {
            error.accept(line, e.getMessage());
            return null;
        }
        int[] found = {0};
        walk(ast.getExpr(), 0, line, (l, m) -> {
            found[0]++;
            error.accept(l, m);
        });
        if (found[0] > 0) {
            return null;
        }
        try {
            return new Condition(
                    expression,
                    line,
                    runtime.createProgram(ast),
                    // weak keys and no size bound: an entry lives exactly as long as its identity, which the token
                    // cache bounds; a size policy would add a read buffer to every lookup on the hot path
                    !beforeCredential && credentialOnly(ast)
                            ? Optional.of(Caffeine.newBuilder().weakKeys().<Identity, Condition.Outcome>build())
                            : Optional.empty(),
                    ConditionReads.of(ast),
                    reads(ast, ConditionVariables.MCP_VARIABLES),
                    reads(ast, java.util.Set.of(ConditionVariables.MCP_PARAM)));
        } catch (CelEvaluationException e) {
            error.accept(line, e.getMessage());
            return null;
        }
    }

    private static boolean reads(CelAbstractSyntaxTree ast, Set<String> variables) {
        for (CelReference ref : ast.getReferenceMap().values()) {
            if (variables.contains(ref.name())) {
                return true;
            }
        }
        return false;
    }

    /** True when every variable the expression reads belongs to the credential (none of request, source, time). */
    private static boolean credentialOnly(CelAbstractSyntaxTree ast) {
        boolean any = false;
        for (CelReference ref : ast.getReferenceMap().values()) {
            if (ref.name().isEmpty()) {
                continue; // a function overload
            }
            if (!CREDENTIAL_VARIABLES.contains(ref.name())) {
                return false;
            }
            any = true;
        }
        return any;
    }

    private static void walk(CelExpr e, int comprehensions, int line, BiConsumer<Integer, String> error) {
        switch (e.getKind()) {
            case CALL -> {
                var call = e.call();
                if (ZONED.contains(call.function()) && call.target().isPresent()) {
                    zone(call.function(), call.args(), line, error);
                }
                call.target().ifPresent(t -> walk(t, comprehensions, line, error));
                call.args().forEach(a -> walk(a, comprehensions, line, error));
            }
            case SELECT -> walk(e.select().operand(), comprehensions, line, error);
            case LIST -> e.list().elements().forEach(x -> walk(x, comprehensions, line, error));
            case MAP ->
                e.map().entries().forEach(x -> {
                    walk(x.key(), comprehensions, line, error);
                    walk(x.value(), comprehensions, line, error);
                });
            case STRUCT -> e.struct().entries().forEach(x -> walk(x.value(), comprehensions, line, error));
            case COMPREHENSION -> {
                if (comprehensions + 1 > MAX_COMPREHENSION_NESTING) {
                    problem(
                            line,
                            "a comprehension (all, exists, exists_one, map, filter) inside another is not allowed: "
                                    + "its cost grows with the product of both lists",
                            error);
                    return;
                }
                var c = e.comprehension();
                walk(c.iterRange(), comprehensions, line, error);
                walk(c.accuInit(), comprehensions + 1, line, error);
                walk(c.loopCondition(), comprehensions + 1, line, error);
                walk(c.loopStep(), comprehensions + 1, line, error);
                walk(c.result(), comprehensions + 1, line, error);
            }
            default -> {
                // constants and identifiers end the walk
            }
        }
    }

    private static void zone(String function, List<CelExpr> args, int line, BiConsumer<Integer, String> error) {
        if (args.isEmpty()) {
            problem(
                    line,
                    function + "() needs an explicit time zone, e.g. now." + function + "(\"Europe/Zurich\")",
                    error);
            return;
        }
        CelExpr tz = args.get(0);
        if (tz.getKind() == CelExpr.ExprKind.Kind.CONSTANT
                && tz.constant().getKind() == CelConstant.Kind.STRING_VALUE) {
            try {
                ZoneId.of(tz.constant().stringValue());
            } catch (DateTimeException ex) {
                problem(line, function + ": unknown time zone '" + tz.constant().stringValue() + "'", error);
            }
        }
    }

    private static void problem(int line, String message, BiConsumer<Integer, String> error) {
        error.accept(line, message);
    }
}
