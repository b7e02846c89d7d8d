package io.meshguard.authz.condition;

import com.google.common.collect.ImmutableList;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelFunctionDecl;
import dev.cel.common.CelOverloadDecl;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.types.CelKind;
import dev.cel.common.types.CelType;
import dev.cel.common.types.ListType;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelFunctionBinding;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Makes a value of unexpected type an evaluation error instead of an answer. Claims are {@code dyn}: the type checker
 * cannot know that {@code claims.account_status} should be a string, and CEL's heterogeneous equality then answers
 * {@code ["frozen"] != "frozen"} with true, {@code "mfa" in {"mfa": 1}} with true, and {@code [1] == 1} with false
 * (cel-spec "Equality": values of different types are simply unequal). So a list or map where a string was expected
 * would satisfy {@code !=}, {@code in} and every negation.
 *
 * <p>After type checking, every {@code dyn} operand of a comparison ({@code == != < <= > >=}), of {@code in}, of a
 * logical operator or a ternary's condition, and every {@code dyn} range of a comprehension, is wrapped in a check of
 * the type its other operand has (string, number, bool, list). A value of another type raises an evaluation error,
 * which a route condition turns into "not allowed" and a deny rule into "deny" ({@link Condition}). Operands whose
 * expected type is itself unknown ({@code claims.a == claims.b}) are left as they are.
 */
final class ExpectedTypes {
    static final String STRING = "meshguard_expect_string";
    static final String NUMBER = "meshguard_expect_number";
    static final String BOOL = "meshguard_expect_bool";
    static final String LIST = "meshguard_expect_list";
    static final String STRINGS = "meshguard_expect_strings";
    static final String NUMBERS = "meshguard_expect_numbers";
    static final String BOOLS = "meshguard_expect_bools";

    private static final Set<String> COMPARISONS = Set.of("_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_");
    private static final Set<String> LOGICAL = Set.of("_&&_", "_||_", "!_", "@not_strictly_false");
    private static final String IN = "@in";
    private static final String TERNARY = "_?_:_";

    private final CelAbstractSyntaxTree ast;
    private long nextId;

    private ExpectedTypes(CelAbstractSyntaxTree ast) {
        this.ast = ast;
        this.nextId = maxId(ast.getExpr()) + 1;
    }

    /** The function declarations the compiler needs to check a rewritten expression. */
    static List<CelFunctionDecl> declarations() {
        return List.of(decl(STRING), decl(NUMBER), decl(BOOL), decl(LIST), decl(STRINGS), decl(NUMBERS), decl(BOOLS));
    }

    /** The runtime's implementations: each passes its value through when it has the type, else raises an error. */
    static List<CelFunctionBinding> bindings() {
        return List.of(
                binding(STRING, ExpectedTypes::isString),
                binding(NUMBER, ExpectedTypes::isNumber),
                binding(BOOL, ExpectedTypes::isBool),
                binding(LIST, v -> v instanceof List<?> l && oneKind(l)),
                binding(STRINGS, v -> v instanceof List<?> l && l.stream().allMatch(ExpectedTypes::isString)),
                binding(NUMBERS, v -> v instanceof List<?> l && l.stream().allMatch(ExpectedTypes::isNumber)),
                binding(BOOLS, v -> v instanceof List<?> l && l.stream().allMatch(ExpectedTypes::isBool)));
    }

    /** A list whose elements are all of one kind: a claim list mixing strings with maps is not a list of anything. */
    private static boolean oneKind(List<?> l) {
        return l.stream().allMatch(ExpectedTypes::isString)
                || l.stream().allMatch(ExpectedTypes::isNumber)
                || l.stream().allMatch(ExpectedTypes::isBool)
                || l.stream().allMatch(e -> e instanceof List<?>)
                || l.stream().allMatch(e -> e instanceof java.util.Map<?, ?>);
    }

    private static boolean isString(Object v) {
        return v instanceof String;
    }

    private static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof com.google.common.primitives.UnsignedLong;
    }

    private static boolean isBool(Object v) {
        return v instanceof Boolean;
    }

    /** The checked expression with its {@code dyn} operands wrapped; returned as a parsed tree to check again. */
    static CelAbstractSyntaxTree wrap(CelAbstractSyntaxTree checked) {
        ExpectedTypes t = new ExpectedTypes(checked);
        CelExpr root = t.rewrite(checked.getExpr());
        if (t.isDyn(checked.getExpr())) {
            root = t.call(BOOL, root);
        }
        return CelAbstractSyntaxTree.newParsedAst(root, checked.getSource());
    }

    private CelExpr rewrite(CelExpr e) {
        return switch (e.getKind()) {
            case CALL -> call(e);
            case SELECT ->
                CelExpr.ofSelect(
                        e.id(),
                        rewrite(e.select().operand()),
                        e.select().field(),
                        e.select().testOnly());
            case LIST ->
                CelExpr.ofList(
                        e.id(),
                        e.list().elements().stream().map(this::rewrite).collect(ImmutableList.toImmutableList()),
                        e.list().optionalIndices());
            case MAP ->
                CelExpr.ofMap(
                        e.id(),
                        e.map().entries().stream()
                                .map(x -> CelExpr.ofMapEntry(
                                        x.id(), rewrite(x.key()), rewrite(x.value()), x.optionalEntry()))
                                .collect(ImmutableList.toImmutableList()));
            case COMPREHENSION -> {
                var c = e.comprehension();
                CelExpr range = rewrite(c.iterRange());
                if (isDyn(c.iterRange())) {
                    range = call(LIST, range); // a map where a list was expected would iterate its keys
                }
                yield CelExpr.ofComprehension(
                        e.id(),
                        c.iterVar(),
                        c.iterVar2(),
                        range,
                        c.accuVar(),
                        rewrite(c.accuInit()),
                        rewrite(c.loopCondition()),
                        rewrite(c.loopStep()),
                        rewrite(c.result()));
            }
            default -> e;
        };
    }

    private CelExpr call(CelExpr e) {
        var c = e.call();
        Optional<CelExpr> target = c.target().map(this::rewrite);
        List<CelExpr> args = c.args().stream().map(this::rewrite).toList();
        String f = c.function();
        CelExpr[] out = args.toArray(CelExpr[]::new);
        if (COMPARISONS.contains(f) && args.size() == 2) {
            out[0] = expect(c.args().get(0), out[0], type(c.args().get(1)));
            out[1] = expect(c.args().get(1), out[1], type(c.args().get(0)));
        } else if (f.equals(IN) && args.size() == 2) {
            CelType container = type(c.args().get(1)).orElse(SimpleType.DYN);
            if (isDyn(c.args().get(1))) {
                // a list of the element's type: a map would answer for its keys, [["mfa"]] or ["mfa", {..}] is not it
                out[1] = call(listOf(type(c.args().get(0))), out[1]);
            } else if (container instanceof ListType l) {
                out[0] = expect(c.args().get(0), out[0], Optional.of(l.elemType()));
            } else if (container instanceof MapType m) {
                out[0] = expect(c.args().get(0), out[0], Optional.of(m.keyType()));
            }
        } else if (LOGICAL.contains(f)) {
            for (int i = 0; i < out.length; i++) {
                out[i] = expect(c.args().get(i), out[i], Optional.of(SimpleType.BOOL));
            }
        } else if (f.equals(TERNARY) && args.size() == 3) {
            out[0] = expect(c.args().get(0), out[0], Optional.of(SimpleType.BOOL));
        }
        return CelExpr.ofCall(e.id(), target, f, ImmutableList.copyOf(out));
    }

    /** The operand, wrapped when it is {@code dyn} and the expected type is one the checks know. */
    private CelExpr expect(CelExpr original, CelExpr rewritten, Optional<CelType> expected) {
        if (!isDyn(original) || expected.isEmpty()) {
            return rewritten;
        }
        return switch (expected.get().kind()) {
            case STRING -> call(STRING, rewritten);
            case INT, UINT, DOUBLE -> call(NUMBER, rewritten);
            case BOOL -> call(BOOL, rewritten);
            case LIST -> call(LIST, rewritten);
            default -> rewritten;
        };
    }

    private static String listOf(Optional<CelType> element) {
        return switch (element.map(CelType::kind).orElse(CelKind.DYN)) {
            case STRING -> STRINGS;
            case INT, UINT, DOUBLE -> NUMBERS;
            case BOOL -> BOOLS;
            default -> LIST;
        };
    }

    private Optional<CelType> type(CelExpr e) {
        return ast.getType(e.id()).filter(t -> t.kind() != CelKind.DYN);
    }

    private boolean isDyn(CelExpr e) {
        return ast.getType(e.id()).map(t -> t.kind() == CelKind.DYN).orElse(false);
    }

    private CelExpr call(String function, CelExpr arg) {
        return CelExpr.ofCall(nextId++, Optional.empty(), function, ImmutableList.of(arg));
    }

    private static long maxId(CelExpr e) {
        long[] max = {e.id()};
        visit(e, x -> max[0] = Math.max(max[0], x.id()));
        return max[0];
    }

    private static void visit(CelExpr e, java.util.function.Consumer<CelExpr> f) {
        f.accept(e);
        switch (e.getKind()) {
            case CALL -> {
                e.call().target().ifPresent(t -> visit(t, f));
                e.call().args().forEach(a -> visit(a, f));
            }
            case SELECT -> visit(e.select().operand(), f);
            case LIST -> e.list().elements().forEach(x -> visit(x, f));
            case MAP ->
                e.map().entries().forEach(x -> {
                    f.accept(CelExpr.ofNotSet(x.id()));
                    visit(x.key(), f);
                    visit(x.value(), f);
                });
            case STRUCT ->
                e.struct().entries().forEach(x -> {
                    f.accept(CelExpr.ofNotSet(x.id()));
                    visit(x.value(), f);
                });
            case COMPREHENSION -> {
                var c = e.comprehension();
                for (CelExpr x : List.of(c.iterRange(), c.accuInit(), c.loopCondition(), c.loopStep(), c.result())) {
                    visit(x, f);
                }
            }
            default -> {
                // leaves
            }
        }
    }

    private static CelFunctionDecl decl(String name) {
        return CelFunctionDecl.newFunctionDeclaration(
                name, CelOverloadDecl.newGlobalOverload(name + "_dyn", SimpleType.DYN, SimpleType.DYN));
    }

    // CEL declares its bindings @Immutable; typed is one of the stateless lambdas and method references above
    @SuppressWarnings("Immutable")
    private static CelFunctionBinding binding(String name, java.util.function.Predicate<Object> typed) {
        String expected = name.substring("meshguard_expect_".length())
                .replace("strings", "list of strings")
                .replace("numbers", "list of numbers")
                .replace("bools", "list of bools");
        return CelFunctionBinding.from(name + "_dyn", Object.class, v -> {
            if (typed.test(v)) {
                return v;
            }
            // the message reaches the client as the deny reason: it names the problem, never the value
            throw new CelEvaluationException("a value of unexpected type where a " + expected + " was expected");
        });
    }
}
