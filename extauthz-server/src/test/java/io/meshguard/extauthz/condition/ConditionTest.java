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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConditionTest {
    private static final ConditionCompiler COMPILER = new ConditionCompiler();

    private static Condition compile(String expr) {
        List<String> errors = new ArrayList<>();
        Condition c = COMPILER.compile(expr, 10, false, (line, msg) -> errors.add(line + ": " + msg));
        assertThat(errors).as(expr).isEmpty();
        return c;
    }

    private static List<String> errors(String expr, boolean beforeCredential) {
        List<String> errors = new ArrayList<>();
        Condition c = COMPILER.compile(expr, 10, beforeCredential, (line, msg) -> errors.add(line + ": " + msg));
        assertThat(c).as("expected %s to be refused", expr).isNull();
        return errors;
    }

    private static ConditionVariables vars(Map<String, Object> claims, String... headers) {
        Map<String, List<String>> h = new java.util.LinkedHashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i], List.of(headers[i + 1]));
        }
        HttpRequestView request = HttpRequestView.of(CheckRequests.of(
                "POST",
                "API.bank.example:443",
                "/v1/transfers?amount=5000&cur=CHF&tag=a&tag=b",
                h,
                Map.of(),
                CheckRequests.Encoding.HEADER_MAP,
                "spiffe://cluster.local/ns/payments/sa/api",
                "10.0.0.7"));
        Identity id = new Identity(
                "alice",
                Optional.of("acme"),
                List.of("customer"),
                List.of("payments:write"),
                Optional.of("app"),
                "jwt",
                "bank-idp",
                Optional.empty(),
                Optional.empty(),
                ClaimValues.of(claims));
        // 2026-11-24 is a Tuesday; 09:30 UTC is 10:30 in Zurich and 18:30 in Seoul
        return new ConditionVariables(
                request,
                Caller.of("spiffe://cluster.local/ns/payments/sa/api", "10.0.0.7", Optional.of("203.0.113.9")),
                Optional.of(id),
                Instant.parse("2026-11-24T09:30:00Z"));
    }

    private static Condition.Outcome eval(String expr, Map<String, Object> claims, String... headers) {
        return compile(expr).test(vars(claims, headers));
    }

    @Test
    void everyVariable_readsTheRequestTheCallerTheCredentialAndTheTime() {
        Map<String, Object> claims =
                Map.of("amr", List.of("pwd", "mfa"), "acr", "high", "level", 3, "nested", Map.of("a", true));
        for (String expr : List.of(
                "request.method == 'POST' && request.host == 'api.bank.example' && request.path == '/v1/transfers'",
                "request.headers['x-channel'] == 'mobile'",
                "request.query['amount'] == '5000' && request.query['tag'] == 'a,b'",
                "source.principal == 'spiffe://cluster.local/ns/payments/sa/api' && source.namespace == 'payments'",
                "source.service_account == 'api' && source.trust_domain == 'cluster.local' && source.address == '10.0.0.7'",
                "remote.address == '203.0.113.9'",
                "auth.method == 'jwt' && auth.issuer == 'bank-idp' && auth.subject == 'alice' && auth.client_id == 'app'",
                "tenant == 'acme' && 'customer' in auth.roles && 'payments:write' in auth.scopes && auth.api_key_id == ''",
                "'mfa' in claims.amr && claims.acr == 'high' && claims.level >= 3 && claims.level > 2.5 && claims.nested.a",
                "now.getHours('Europe/Zurich') == 10 && now.getDayOfWeek('Europe/Zurich') == 2 && now.getHours('Asia/Seoul') == 18",
                "request.path.matches('^/v1/[a-z]+$')")) {
            assertThat(eval(expr, claims, "x-channel", "mobile")).as(expr).isInstanceOf(Condition.Outcome.Holds.class);
        }
        assertThat(eval("request.method == 'GET'", claims)).isInstanceOf(Condition.Outcome.Fails.class);
    }

    @Test
    void missingKey_isMissing_neitherHoldsNorFails_soARouteConditionFailsAndADenyRuleDenies() {
        assertThat(eval("request.headers['x-absent'] == 'y'", Map.of())).isInstanceOf(Condition.Outcome.Missing.class);
        assertThat(eval("'mfa' in claims.amr", Map.of())).isInstanceOf(Condition.Outcome.Missing.class);
        assertThat(eval("request.query['nope'] == ''", Map.of())).isInstanceOf(Condition.Outcome.Missing.class);
        // the negation of a missing key never flips to true: it stays Missing (the engine decides towards deny)
        assertThat(eval("!(claims.acr == 'low')", Map.of())).isInstanceOf(Condition.Outcome.Missing.class);
        // written with a presence test, absence can be allowed on purpose
        assertThat(eval("!('acr' in claims) || claims.acr != 'low'", Map.of()))
                .isInstanceOf(Condition.Outcome.Holds.class);
    }

    @Test
    void evaluationError_isReported_soTheEngineDenies() {
        assertThat(eval("'mfa' in claims.amr", Map.of("amr", 7))).isInstanceOf(Condition.Outcome.Error.class);
        assertThat(eval("claims.n / claims.z > 1", Map.of("n", 1, "z", 0))).isInstanceOf(Condition.Outcome.Error.class);
        // a comprehension over a claim longer than the iteration budget
        List<Object> big = new ArrayList<>();
        for (int i = 0; i < ConditionCompiler.MAX_ITERATIONS + 10; i++) {
            big.add("r" + i);
        }
        assertThat(eval("claims.list.all(x, x != 'never')", Map.of("list", big)))
                .isInstanceOf(Condition.Outcome.Error.class);
        assertThat(eval("claims.list.all(x, x != 'never')", Map.of("list", big.subList(0, 10))))
                .isInstanceOf(Condition.Outcome.Holds.class);
    }

    @Test
    void regexes_runOnRe2_soACatastrophicPatternStaysLinear() {
        String attack = "a".repeat(5000) + "!";
        assertThat(eval("request.headers['x-v'].matches('^(a+)+$')", Map.of(), "x-v", attack))
                .isInstanceOf(Condition.Outcome.Fails.class);
    }

    @Test
    void typeErrors_andUnknownVariables_areRefusedAtLoad_withTheLine() {
        assertThat(errors("request.method", false))
                .singleElement()
                .asString()
                .startsWith("10: ")
                .contains("bool");
        assertThat(errors("request.methd == 'GET'", false))
                .singleElement()
                .asString()
                .contains("undeclared reference");
        assertThat(errors("request.method == 1", false))
                .singleElement()
                .asString()
                .contains("no matching overload");
        assertThat(errors("request.method ==", false)).isNotEmpty();
        assertThat(errors("true &&\n  nope", false)).singleElement().asString().startsWith("11: ");
        assertThat(errors("  ", false)).singleElement().asString().contains("empty");
    }

    @Test
    void bounds_areEnforcedWhenThePolicyLoads() {
        assertThat(errors("'" + "a".repeat(ConditionCompiler.MAX_CODE_POINTS) + "' == request.path", false))
                .singleElement()
                .asString()
                .contains("longer than");
        assertThat(errors("(".repeat(60) + "true" + ")".repeat(60), false)).isNotEmpty();
        assertThat(errors("auth.roles.all(r, auth.scopes.exists(s, s == r))", false))
                .singleElement()
                .asString()
                .contains("inside another");
    }

    @Test
    void timeOfDay_needsAnExplicitValidZone() {
        assertThat(errors("now.getHours() > 8", false))
                .singleElement()
                .asString()
                .contains("explicit time zone");
        assertThat(errors("now.getHours('Mars/Olympus') > 8", false))
                .singleElement()
                .asString()
                .contains("unknown time zone");
        compile("now.getHours('UTC') >= 0");
    }

    @Test
    void denyRuleConditions_cannotReadTheCredential() {
        assertThat(errors("'mfa' in claims.amr", true))
                .singleElement()
                .asString()
                .contains("deny rules run before the credential");
        assertThat(errors("tenant == 'x'", true))
                .singleElement()
                .asString()
                .contains("deny rules run before the credential");
        assertThat(COMPILER.compile("request.headers['x-debug'] == '1'", 1, true, (l, m) -> {}))
                .isNotNull();
    }

    @Test
    void credentialOnlyConditions_rememberTheirOutcomePerIdentity_othersNever() {
        Condition claimsOnly = compile("'mfa' in claims.amr && tenant == 'acme'");
        Condition readsRequest = compile("'mfa' in claims.amr && request.method == 'POST'");
        Condition readsTime = compile("auth.subject == 'alice' && now.getHours('UTC') >= 0");
        assertThat(claimsOnly.memo()).isPresent();
        assertThat(readsRequest.memo()).isEmpty();
        assertThat(readsTime.memo()).isEmpty();
        ConditionVariables vars = vars(Map.of("amr", List.of("mfa")));
        Identity alice = new Identity(
                "alice",
                Optional.of("acme"),
                List.of(),
                List.of(),
                Optional.empty(),
                "jwt",
                "idp",
                Optional.empty(),
                Optional.empty(),
                ClaimValues.of(Map.of("amr", List.of("mfa"))));
        assertThat(claimsOnly.test(vars, Optional.of(alice))).isInstanceOf(Condition.Outcome.Holds.class);
        assertThat(claimsOnly.memo().orElseThrow().getIfPresent(alice)).isInstanceOf(Condition.Outcome.Holds.class);
        // an equal identity that is another instance (another token) is decided on its own
        Identity twin = new Identity(
                "alice",
                Optional.of("acme"),
                List.of(),
                List.of(),
                Optional.empty(),
                "jwt",
                "idp",
                Optional.empty(),
                Optional.empty(),
                ClaimValues.of(Map.of("amr", List.of("mfa"))));
        assertThat(claimsOnly.memo().orElseThrow().getIfPresent(twin)).isNull();
    }
}
