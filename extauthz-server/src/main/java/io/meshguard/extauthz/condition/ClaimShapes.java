package io.meshguard.extauthz.condition;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.types.CelKind;
import dev.cel.common.types.CelType;
import dev.cel.common.types.ListType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The type each claim an expression compares must have, read from the checked expression: in
 * {@code claims.dept != 'blocked'} the claim {@code dept} must be a string, in {@code claims.level > 3} a number, in
 * {@code 'mfa' in claims.amr} a list. {@code claims} is a map of dyn (tokens are the issuer's JSON), and CEL's
 * heterogeneous equality answers a list compared with a string as "not equal" rather than as an error, so a claim of
 * an unexpected shape would satisfy every {@code !=} and negated {@code in}. A claim of the wrong shape is therefore an
 * evaluation error, and the engine denies on errors: conditions fail towards not allowing.
 */
final class ClaimShapes {

    /** What a claim must be. */
    enum Shape {
        STRING, NUMBER, BOOL, LIST, MAP;

        boolean admits(Object value) {
            return switch (this) {
                case STRING -> value instanceof String;
                case NUMBER -> value instanceof Long || value instanceof Double;
                case BOOL -> value instanceof Boolean;
                case LIST -> value instanceof List<?>;
                case MAP -> value instanceof Map<?, ?>;
            };
        }
    }

    private static final Set<String> COMPARISONS = Set.of("_==_", "_!=_", "_<_", "_<=_", "_>_", "_>=_");
    private static final Set<String> STRING_METHODS = Set.of("startsWith", "endsWith", "contains", "matches");

    private ClaimShapes() {
    }

    /** Claim path → the shape its comparisons need; empty when the expression compares no claim with a typed side. */
    static Map<List<String>, Shape> of(CelAbstractSyntaxTree ast) {
        Map<List<String>, Shape> out = new LinkedHashMap<>();
        collect(ast, ast.getExpr(), out);
        return Collections.unmodifiableMap(out);
    }

    /**
     * The first claim whose value has another shape than the expression needs, described for the deny (names the
     * claim, never its value); empty when every compared claim present has its shape (absent ones read as missing).
     */
    static Optional<String> mismatch(Map<List<String>, Shape> shapes, Map<?, ?> claims) {
        for (Map.Entry<List<String>, Shape> e : shapes.entrySet()) {
            Object v = claims;
            for (String part : e.getKey()) {
                v = v instanceof Map<?, ?> m ? m.get(part) : null;
                if (v == null) {
                    break;
                }
            }
            if (v != null && !e.getValue().admits(v)) {
                return Optional.of("claim " + String.join(".", e.getKey()) + " is not a "
                        + e.getValue().name().toLowerCase(java.util.Locale.ROOT));
            }
        }
        return Optional.empty();
    }

    private static void collect(CelAbstractSyntaxTree ast, CelExpr e, Map<List<String>, Shape> out) {
        switch (e.getKind()) {
            case CALL -> {
                var call = e.call();
                List<CelExpr> args = call.args();
                if (COMPARISONS.contains(call.function()) && args.size() == 2) {
                    expect(ast, args.get(0), args.get(1), out);
                    expect(ast, args.get(1), args.get(0), out);
                } else if (call.function().equals("@in") && args.size() == 2) {
                    // elem in list: the element claim has the list's element type; a claim list must be a list
                    claimPath(args.get(0)).ifPresent(p -> ast.getType(args.get(1).id())
                            .filter(t -> t instanceof ListType l && l.hasElemType()).map(t -> ((ListType) t).elemType())
                            .flatMap(ClaimShapes::shape).ifPresent(s -> out.putIfAbsent(p, s)));
                    claimPath(args.get(1)).ifPresent(p -> out.putIfAbsent(p, Shape.LIST));
                } else if (STRING_METHODS.contains(call.function()) && call.target().isPresent()) {
                    claimPath(call.target().get()).ifPresent(p -> out.putIfAbsent(p, Shape.STRING));
                }
                call.target().ifPresent(t -> collect(ast, t, out));
                args.forEach(a -> collect(ast, a, out));
            }
            case SELECT -> collect(ast, e.select().operand(), out);
            case LIST -> e.list().elements().forEach(x -> collect(ast, x, out));
            case COMPREHENSION -> {
                var c = e.comprehension();
                collect(ast, c.iterRange(), out);
                collect(ast, c.accuInit(), out);
                collect(ast, c.loopCondition(), out);
                collect(ast, c.loopStep(), out);
                collect(ast, c.result(), out);
            }
            default -> { }
        }
    }

    private static void expect(CelAbstractSyntaxTree ast, CelExpr claim, CelExpr other, Map<List<String>, Shape> out) {
        claimPath(claim).ifPresent(p -> ast.getType(other.id()).flatMap(ClaimShapes::shape)
                .ifPresent(s -> out.putIfAbsent(p, s)));
    }

    private static Optional<Shape> shape(CelType t) {
        CelKind k = t.kind();
        return switch (k) {
            case STRING -> Optional.of(Shape.STRING);
            case INT, UINT, DOUBLE -> Optional.of(Shape.NUMBER);
            case BOOL -> Optional.of(Shape.BOOL);
            case LIST -> Optional.of(Shape.LIST);
            case MAP -> Optional.of(Shape.MAP);
            default -> Optional.empty();
        };
    }

    /** {@code claims.a.b} → [a, b]; {@code claims['a']} is a map index, not a select, and is not followed. */
    private static Optional<List<String>> claimPath(CelExpr e) {
        List<String> path = new ArrayList<>();
        CelExpr cur = e;
        while (cur.getKind() == CelExpr.ExprKind.Kind.SELECT && !cur.select().testOnly()) {
            path.add(0, cur.select().field());
            cur = cur.select().operand();
        }
        if (cur.getKind() == CelExpr.ExprKind.Kind.IDENT && cur.ident().name().equals(ConditionVariables.CLAIMS)
                && !path.isEmpty()) {
            return Optional.of(List.copyOf(path));
        }
        return Optional.empty();
    }
}
