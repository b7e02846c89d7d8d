package io.meshguard.extauthz.condition;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.condition.ClaimValues;
import io.meshguard.authz.condition.Condition;
import io.meshguard.authz.condition.ConditionCompiler;
import io.meshguard.authz.condition.ConditionVariables;
import io.meshguard.authz.mesh.Caller;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.extauthz.tools.CheckRequests;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A claim of an unexpected type must never satisfy a condition. Every operator × every claim value type ×
 * both kinds of rule: a value of the expected type answers as written; any other type (list, map, number, bool,
 * null, nested) makes a deny rule fire and an allow condition not hold — never the other way round.
 */
class ClaimTypeTableTest {
    private static final ConditionCompiler COMPILER = new ConditionCompiler();

    private enum Kind {
        STRING,
        NUMBER,
        BOOL,
        LIST
    }

    /** Claim values by type; "null" is a JSON null (left out of the claims, so read as a missing key). */
    private static final Map<String, Object> VALUES = values();

    private static Map<String, Object> values() {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("string", "x");
        v.put("int", 3L);
        v.put("double", 3.5);
        v.put("bool", true);
        v.put("list", List.of("x"));
        v.put("empty list", List.of());
        v.put("map", Map.of("x", "x"));
        v.put("nested list", List.of(List.of("x")));
        v.put("list with a map", List.of("x", Map.of("x", 1)));
        v.put("nested map", Map.of("x", Map.of("x", "x")));
        v.put("null", null);
        return v;
    }

    private static Kind kindOf(Object value) {
        if (value instanceof String) {
            return Kind.STRING;
        }
        if (value instanceof Number) {
            return Kind.NUMBER;
        }
        if (value instanceof Boolean) {
            return Kind.BOOL;
        }
        if (value instanceof List<?> l && l.stream().allMatch(e -> e instanceof String)) {
            return Kind.LIST;
        }
        return null; // map, null, a list of other things: never the expected type of any row
    }

    /** One row: an expression over {@code claims.v} and the type it expects {@code v} to have. */
    private record Row(String operator, String expression, Kind expects) {}

    private static final List<Row> ROWS = List.of(
            new Row("==", "claims.v == 'x'", Kind.STRING),
            new Row("!=", "claims.v != 'x'", Kind.STRING),
            new Row("!= (reversed)", "'x' != claims.v", Kind.STRING),
            new Row("in", "claims.v in ['x', 'y']", Kind.STRING),
            new Row("not in", "!(claims.v in ['x', 'y'])", Kind.STRING),
            new Row("in a map's keys", "claims.v in {'x': 1}", Kind.STRING),
            new Row("startsWith", "claims.v.startsWith('x')", Kind.STRING),
            new Row("not startsWith", "!claims.v.startsWith('y')", Kind.STRING),
            new Row("matches", "claims.v.matches('^x$')", Kind.STRING),
            new Row("not matches", "!claims.v.matches('^y$')", Kind.STRING),
            new Row("negated ==", "!(claims.v == 'y')", Kind.STRING),
            new Row("== int", "claims.v == 3", Kind.NUMBER),
            new Row("!= int", "claims.v != 4", Kind.NUMBER),
            new Row(">", "claims.v > 1", Kind.NUMBER),
            new Row(">=", "claims.v >= 1", Kind.NUMBER),
            new Row("<", "claims.v < 10", Kind.NUMBER),
            new Row("<=", "claims.v <= 10.0", Kind.NUMBER),
            new Row("negated <", "!(claims.v < 1)", Kind.NUMBER),
            new Row("bool as condition", "claims.v", Kind.BOOL),
            new Row("negated bool", "!claims.v", Kind.BOOL),
            new Row("== true", "claims.v == true", Kind.BOOL),
            new Row("!= false", "claims.v != false", Kind.BOOL),
            new Row("bool in &&", "claims.v && request.method == 'POST'", Kind.BOOL),
            new Row("element in list", "'x' in claims.v", Kind.LIST),
            new Row("element not in list", "!('y' in claims.v)", Kind.LIST),
            new Row("exists", "claims.v.exists(g, g == 'x')", Kind.LIST),
            new Row("all !=", "claims.v.all(g, g != 'y')", Kind.LIST),
            new Row("has then !=", "has(claims.v) && claims.v != 'y'", Kind.STRING),
            new Row("has nested", "has(claims.v.x)", null));

    private static ConditionVariables vars(Object value) {
        Map<String, Object> claims = new HashMap<>();
        claims.put("sub", "alice");
        claims.put("v", value);
        HttpRequestView request = HttpRequestView.of(CheckRequests.of(
                "POST",
                "api.bank.example",
                "/v1/transfers",
                Map.of(),
                Map.of(),
                CheckRequests.Encoding.HEADER_MAP,
                "spiffe://cluster.local/ns/payments/sa/api",
                "10.0.0.7"));
        Identity id = new Identity(
                "alice",
                Optional.empty(),
                List.of(),
                List.of(),
                Optional.empty(),
                "jwt",
                "bank-idp",
                Optional.empty(),
                Optional.empty(),
                ClaimValues.of(claims));
        return new ConditionVariables(
                request,
                Caller.of("spiffe://cluster.local/ns/payments/sa/api", "10.0.0.7", Optional.empty()),
                Optional.of(id),
                Instant.parse("2026-11-24T09:30:00Z"));
    }

    /** As AuthzEngine.denyRule reads an outcome: only "false" keeps a deny rule from firing. */
    private static boolean denyRuleFires(Condition.Outcome o) {
        return !(o instanceof Condition.Outcome.Fails);
    }

    /** As AuthzEngine.conditions reads an outcome: only "true" admits. */
    private static boolean allowAdmits(Condition.Outcome o) {
        return o instanceof Condition.Outcome.Holds;
    }

    private static Condition compile(String expr) {
        List<String> errors = new ArrayList<>();
        Condition c = COMPILER.compile(expr, 1, false, (line, msg) -> errors.add(line + ": " + msg));
        assertThat(errors).as(expr).isEmpty();
        return c;
    }

    @Test
    void aClaimOfUnexpectedType_firesADenyRule_andNeverSatisfiesAnAllowCondition_forEveryOperator() {
        List<String> failures = new ArrayList<>();
        int wrongTyped = 0;
        for (Row row : ROWS) {
            Condition c = compile(row.expression());
            for (Map.Entry<String, Object> value : VALUES.entrySet()) {
                Kind kind = kindOf(value.getValue());
                if (row.expects() != null && kind == row.expects()) {
                    continue; // the expected type: answered as written (next test)
                }
                if (value.getValue() == null && row.expression().startsWith("has(claims.v)")) {
                    continue; // a null claim is an absent one, and this row tests for absence first (next test)
                }
                if (row.expects() == null && value.getValue() instanceof Map<?, ?>) {
                    continue; // has(claims.v.x) on a map is presence, the one reading a map is made for
                }
                wrongTyped++;
                Condition.Outcome o = c.test(vars(value.getValue()));
                if (!denyRuleFires(o) || allowAdmits(o)) {
                    failures.add(row.operator() + " [" + row.expression() + "] with " + value.getKey() + " -> " + o);
                }
            }
        }
        assertThat(failures)
                .as("wrong-typed claims that answered instead of failing towards deny")
                .isEmpty();
        assertThat(wrongTyped).isGreaterThan(ROWS.size() * 5);
    }

    @Test
    void aClaimOfTheExpectedType_isAnsweredAsWritten() {
        // (expression, value, holds)
        Object[][] cases = {
            {"claims.v == 'x'", "x", true},
            {"claims.v == 'x'", "y", false},
            {"claims.v != 'x'", "y", true},
            {"claims.v != 'x'", "x", false},
            {"claims.v in ['x', 'y']", "y", true},
            {"!(claims.v in ['x', 'y'])", "z", true},
            {"claims.v.startsWith('x')", "xy", true},
            {"claims.v.matches('^x$')", "y", false},
            {"claims.v > 1", 3L, true},
            {"claims.v <= 10.0", 11L, false},
            {"claims.v == 3", 3.0, true},
            {"claims.v", true, true},
            {"!claims.v", true, false},
            {"claims.v != false", true, true},
            {"'x' in claims.v", List.of("y", "x"), true},
            {"!('y' in claims.v)", List.of("x"), true},
            {"'x' in claims.v", List.of(), false},
            {"claims.v.exists(g, g == 'x')", List.of("x"), true},
            {"claims.v.all(g, g != 'y')", List.of("y"), false},
            {"has(claims.v) && claims.v != 'y'", null, false},
            {"has(claims.v.x)", Map.of("x", "x"), true},
            {"has(claims.v.x)", Map.of("y", "x"), false},
        };
        for (Object[] c : cases) {
            Condition.Outcome o = compile((String) c[0]).test(vars(c[1]));
            assertThat(o)
                    .as(c[0] + " with " + c[1])
                    .isInstanceOf((Boolean) c[2] ? Condition.Outcome.Holds.class : Condition.Outcome.Fails.class);
        }
    }

    @Test
    void aClaimReadAsTheWholeCondition_mustBeABool() {
        Condition whole = compile("claims.v");
        assertThat(whole.test(vars(List.of("x")))).isInstanceOf(Condition.Outcome.Error.class);
        assertThat(whole.test(vars("true"))).isInstanceOf(Condition.Outcome.Error.class);
        assertThat(Arrays.asList(whole.test(vars(true)), whole.test(vars(false))))
                .hasExactlyElementsOfTypes(Condition.Outcome.Holds.class, Condition.Outcome.Fails.class);
    }
}
