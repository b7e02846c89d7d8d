package io.meshguard.authz.condition;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.ast.CelReference;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which request facts one compiled {@code when:} expression reads: the header, query parameter and claim keys it
 * indexes by a constant, and whether it reads a whole map (iterates, indexes by a computed key) or the client address.
 * A decision log keeps exactly these values so the decision can be replayed against another policy without keeping
 * whole tokens or header sets.
 */
public record ConditionReads(
        Set<String> headers,
        Set<String> query,
        Set<String> claims,
        boolean wholeHeaders,
        boolean wholeQuery,
        boolean wholeClaims,
        boolean address) {
    public static final ConditionReads NONE =
            new ConditionReads(Set.of(), Set.of(), Set.of(), false, false, false, false);

    public ConditionReads {
        headers = Set.copyOf(headers);
        query = Set.copyOf(query);
        claims = Set.copyOf(claims);
    }

    /** Both together. */
    public ConditionReads and(ConditionReads o) {
        Set<String> h = new TreeSet<>(headers);
        h.addAll(o.headers);
        Set<String> q = new TreeSet<>(query);
        q.addAll(o.query);
        Set<String> c = new TreeSet<>(claims);
        c.addAll(o.claims);
        return new ConditionReads(
                h,
                q,
                c,
                wholeHeaders || o.wholeHeaders,
                wholeQuery || o.wholeQuery,
                wholeClaims || o.wholeClaims,
                address || o.address);
    }

    /** Every {@code when:} condition's reads together. */
    public static ConditionReads of(List<Condition> conditions) {
        ConditionReads r = NONE;
        for (Condition c : conditions) {
            r = r.and(c.reads());
        }
        return r;
    }

    /** What the checked expression reads. */
    static ConditionReads of(CelAbstractSyntaxTree ast) {
        Collector c = new Collector(ast);
        c.walk(ast.getExpr(), Optional.empty());
        return new ConditionReads(c.headers, c.query, c.claims, c.wholeHeaders, c.wholeQuery, c.wholeClaims, c.address);
    }

    private static final class Collector {
        private final CelAbstractSyntaxTree ast;
        final Set<String> headers = new HashSet<>();
        final Set<String> query = new HashSet<>();
        final Set<String> claims = new HashSet<>();
        boolean wholeHeaders;
        boolean wholeQuery;
        boolean wholeClaims;
        boolean address;

        Collector(CelAbstractSyntaxTree ast) {
            this.ast = ast;
        }

        private String variable(CelExpr e) {
            return ast.getReference(e.id()).map(CelReference::name).orElse("");
        }

        void walk(CelExpr e, Optional<CelExpr> parent) {
            String name = variable(e);
            switch (name) {
                case ConditionVariables.HEADERS -> keyed(e, parent, headers, () -> wholeHeaders = true);
                case ConditionVariables.QUERY -> keyed(e, parent, query, () -> wholeQuery = true);
                case ConditionVariables.CLAIMS -> keyed(e, parent, claims, () -> wholeClaims = true);
                case "source.address", "remote.address" -> address = true;
                // the MCP method, name and version are kept as the headers they are read from; mirrored arguments
                // (mcp.param) never are: a decision row holds no argument value
                case "mcp.method" -> headers.add(io.meshguard.contract.McpHeaders.METHOD);
                case "mcp.name" -> headers.add(io.meshguard.contract.McpHeaders.NAME);
                case "mcp.protocol_version" -> headers.add(io.meshguard.contract.McpHeaders.PROTOCOL_VERSION);
                default -> {}
            }
            if (!name.isEmpty()) {
                return; // a variable: the walk ends at it
            }
            switch (e.getKind()) {
                case CALL -> {
                    var call = e.call();
                    call.target().ifPresent(t -> walk(t, Optional.of(e)));
                    call.args().forEach(a -> walk(a, Optional.of(e)));
                }
                case SELECT -> walk(e.select().operand(), Optional.of(e));
                case LIST -> e.list().elements().forEach(x -> walk(x, Optional.of(e)));
                case MAP ->
                    e.map().entries().forEach(x -> {
                        walk(x.key(), Optional.of(e));
                        walk(x.value(), Optional.of(e));
                    });
                case STRUCT -> e.struct().entries().forEach(x -> walk(x.value(), Optional.of(e)));
                case COMPREHENSION -> {
                    var c = e.comprehension();
                    walk(c.iterRange(), Optional.of(e));
                    walk(c.accuInit(), Optional.of(e));
                    walk(c.loopCondition(), Optional.of(e));
                    walk(c.loopStep(), Optional.of(e));
                    walk(c.result(), Optional.of(e));
                }
                default -> {}
            }
        }

        /** A map variable read by a constant key ({@code m["k"]}, {@code m.k}, {@code has(m.k)}, {@code "k" in m}). */
        private void keyed(CelExpr map, Optional<CelExpr> parent, Set<String> keys, Runnable whole) {
            if (parent.isPresent()) {
                CelExpr p = parent.get();
                if (p.getKind() == CelExpr.ExprKind.Kind.SELECT) {
                    keys.add(p.select().field());
                    return;
                }
                if (p.getKind() == CelExpr.ExprKind.Kind.CALL) {
                    var call = p.call();
                    List<CelExpr> args = call.args();
                    if (call.function().equals("_[_]")
                            && args.size() == 2
                            && args.get(0).id() == map.id()) {
                        Optional<String> k = constant(args.get(1));
                        if (k.isPresent()) {
                            keys.add(k.get());
                            return;
                        }
                    }
                    if (call.function().equals("@in")
                            && args.size() == 2
                            && args.get(1).id() == map.id()) {
                        Optional<String> k = constant(args.get(0));
                        if (k.isPresent()) {
                            keys.add(k.get());
                            return;
                        }
                    }
                }
            }
            whole.run();
        }

        private static Optional<String> constant(CelExpr e) {
            return e.getKind() == CelExpr.ExprKind.Kind.CONSTANT
                            && e.constant().getKind() == CelConstant.Kind.STRING_VALUE
                    ? Optional.of(e.constant().stringValue())
                    : Optional.empty();
        }
    }
}
