package io.meshguard.cli.authz;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.util.JsonFormat;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import io.meshguard.cli.Main;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The CLI contract the security team and other tools rely on: policy check|test, authz check, apikey. */
@IntegrationTest
class AuthzCommandsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    /** The product's own fixture policies, never the working tree's policies/ (a bank edits those). */
    static final Path POLICIES = io.meshguard.testing.FixturePolicies.directory();

    @TempDir
    Path tmp;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream originalOut;
    private PrintStream originalErr;

    @BeforeEach
    void capture() {
        originalOut = System.out;
        originalErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restore() {
        System.setOut(originalOut);
        System.setErr(originalErr);
    }

    private int run(String... args) {
        out.reset();
        err.reset();
        return Main.execute(args);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void policyCheck_shippedPolicies_exit0() {
        assertThat(run("policy", "check", POLICIES.toString())).isEqualTo(0);
        assertThat(out()).contains("ok  ").contains("authz.yaml");
    }

    @Test
    void policyCheck_invalidPolicy_exit1WithFileLineErrors() throws Exception {
        Files.writeString(tmp.resolve("authz.yaml"), "routes:\n  - {name: r, match: {path: nope}, auth: maybe}\n");
        assertThat(run("policy", "check", tmp.toString())).isEqualTo(1);
        assertThat(err())
                .contains(tmp.resolve("authz.yaml") + ":2: route r.match: paths start with '/'")
                .contains(":2: route r.auth: 'maybe' is not one of");
    }

    @Test
    void policyCheck_publicRouteWithoutHosts_warnsButPasses() throws Exception {
        Files.writeString(
                tmp.resolve("authz.yaml"), "routes:\n  - {name: login, match: {path_prefix: /login}, auth: none}\n");
        assertThat(run("policy", "check", tmp.toString())).isEqualTo(0);
        assertThat(err())
                .contains("warning: " + tmp.resolve("authz.yaml") + ":2: route login: auth none without 'hosts'");
        assertThat(out()).contains("ok  ");
    }

    @Test
    void policyCheck_shippedPolicies_haveNoWarnings() {
        assertThat(run("policy", "check", POLICIES.toString())).isEqualTo(0);
        assertThat(err()).doesNotContain("warning:");
    }

    @Test
    void policyCheck_emptyDirectory_exit1AndSaysWhatItLookedFor() {
        assertThat(run("policy", "check", tmp.toString())).isEqualTo(1);
        assertThat(err()).contains("no policy files in").contains("authz.yaml");
    }

    @Test
    void policyTest_shippedCases_passAndEndWithTheSummaryLine() {
        assertThat(run("policy", "test", POLICIES.toString())).isEqualTo(0);
        List<String> lines = out().lines().toList();
        assertThat(lines.get(lines.size() - 1)).matches("\\d+ passed, 0 failed");
        // every header a case checks is shown with the append_action Envoy gets
        assertThat(out()).contains("sets x-user-id: alice [OVERWRITE_IF_EXISTS_OR_ADD]");
        assertThat(Integer.parseInt(lines.get(lines.size() - 1).split(" ")[0])).isGreaterThanOrEqualTo(20);
    }

    @Test
    void policyTest_aWrongExpectation_failsWithTheDifference_exit1() throws Exception {
        Files.copy(POLICIES.resolve("authz.yaml"), tmp.resolve("authz.yaml"));
        Files.createDirectories(tmp.resolve("tests"));
        Files.writeString(tmp.resolve("tests/authz-wrong.yaml"), """
                cases:
                  - name: health is wrongly expected to be denied
                    request: {method: GET, host: api.bank.example, path: /healthz}
                    expect: {allowed: false, status: 403}
                  - name: unknown path denied
                    request: {method: GET, host: api.bank.example, path: /nope, headers: {x-tenant-id: a}}
                    expect: {allowed: false, status: 403, reason: no_matching_route}
                """);
        assertThat(run("policy", "test", tmp.toString())).isEqualTo(1);
        assertThat(out())
                .contains("FAIL  authz  authz-wrong.yaml: health is wrongly expected to be denied")
                .contains("expected allowed=false, got true")
                .contains("PASS  authz  authz-wrong.yaml: unknown path denied");
        assertThat(out().lines().reduce((a, b) -> b).orElseThrow()).isEqualTo("1 passed, 1 failed");
    }

    /**
     * The natural spelling of a debug switch: {@code policy check} warns that a request without the parameter is
     * denied, and {@code policy test} takes cases whose query has a malformed escape (before, its runner threw
     * URLDecoder's error and the case could not be written) and shows the deny they get.
     */
    @Test
    void denyRuleReadingAQueryKey_checkWarnsAndNamesTheGuard_andTestCasesMayCarryMalformedEscapes() throws Exception {
        Files.writeString(tmp.resolve("authz.yaml"), """
                deny:
                  - name: no-debug
                    when: ['request.query["debug"] == "1"']
                routes:
                  - {name: status, match: {hosts: [api.bank.example], path_prefix: /status}, auth: none}
                """);
        assertThat(run("policy", "check", tmp.toString())).isEqualTo(0);
        assertThat(err())
                .contains("warning: " + tmp.resolve("authz.yaml") + ":3: deny rule no-debug reads"
                        + " request.query[\"debug\"] without a presence test")
                .contains("'\"debug\" in request.query && …'");
        Files.createDirectories(tmp.resolve("tests"));
        Files.writeString(tmp.resolve("tests/authz-escapes.yaml"), """
                cases:
                  - name: without the parameter the unguarded rule denies
                    request: {method: GET, host: api.bank.example, path: /status}
                    expect: {allowed: false, status: 403, reason: denied_by_rule}
                  - name: a malformed escape is an evaluation error, which denies
                    request: {method: GET, host: api.bank.example, path: "/status?debug=%zz"}
                    expect: {allowed: false, status: 403, reason: condition_error, body_contains: malformed percent-escape}
                  - name: a well-formed escape is decoded
                    request: {method: GET, host: api.bank.example, path: "/status?debug=%31"}
                    expect: {allowed: false, reason: denied_by_rule}
                """);
        assertThat(run("policy", "test", tmp.toString())).as(out()).isEqualTo(0);
        assertThat(out().lines().reduce((a, b) -> b).orElseThrow()).isEqualTo("3 passed, 0 failed");
    }

    @Test
    void authzCheck_withLocalJwks_printsTheExactDecisionObject() throws Exception {
        TestKeys key = TestKeys.generate("local-1", JWSAlgorithm.ES256);
        Path jwks = tmp.resolve("jwks.json");
        Files.writeString(jwks, TestKeys.publicSet(List.of(key)).toString());
        Instant now = Instant.parse("2026-11-21T10:00:00Z");
        String token = key.sign(new JWTClaimsSet.Builder()
                .issuer("https://idp.bank.example/realms/retail")
                .subject("alice")
                .audience("meshguard")
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(300)))
                .claim("tenant", "acme-corp")
                .claim("scope", "accounts:read")
                .claim("realm_access", Map.of("roles", List.of("customer")))
                .build());
        Path req = tmp.resolve("req.json");
        Files.writeString(
                req,
                JsonFormat.printer()
                        .print(CheckRequests.of(
                                "GET",
                                "api.bank.example",
                                "/v1/accounts/42",
                                Map.of(
                                        "authorization",
                                        List.of("Bearer " + token),
                                        "x-tenant-id",
                                        List.of("acme-corp"),
                                        "x-request-id",
                                        List.of("r-1")),
                                Map.of(),
                                CheckRequests.Encoding.HEADERS)));

        assertThat(run(
                        "authz",
                        "check",
                        "--policy",
                        POLICIES.toString(),
                        "--request",
                        req.toString(),
                        "--jwks",
                        "bank-idp=" + jwks,
                        "--now",
                        now.toString()))
                .isEqualTo(0);
        JsonNode d = new ObjectMapper().readTree(out());
        assertThat(d.fieldNames())
                .toIterable()
                .containsExactly(
                        "allowed",
                        "status",
                        "reason",
                        "headers_set",
                        "headers_append_action",
                        "headers_removed",
                        "body");
        assertThat(d.get("headers_append_action").get("x-user-id").asText()).isEqualTo("OVERWRITE_IF_EXISTS_OR_ADD");
        assertThat(d.get("headers_append_action").get("x-dwp-source").asText()).isEqualTo("OVERWRITE_IF_EXISTS_OR_ADD");
        assertThat(d.get("allowed").asBoolean()).isTrue();
        assertThat(d.get("status").asInt()).isEqualTo(200);
        assertThat(d.get("reason").asText()).isEqualTo("allowed");
        assertThat(d.get("headers_set").get("x-user-id").asText()).isEqualTo("alice");
        assertThat(d.get("headers_removed").toString()).contains("\"authorization\"");
        assertThat(d.get("body").asText()).isEmpty();

        // the same request an hour later: the token has expired
        assertThat(run(
                        "authz",
                        "check",
                        "--policy",
                        POLICIES.toString(),
                        "--request",
                        req.toString(),
                        "--jwks",
                        "bank-idp=" + jwks,
                        "--now",
                        now.plusSeconds(3600).toString()))
                .isEqualTo(0);
        JsonNode late = new ObjectMapper().readTree(out());
        assertThat(late.get("status").asInt()).isEqualTo(401);
        assertThat(late.get("reason").asText()).isEqualTo("token_expired");
        assertThat(late.get("body").asText()).contains("\"request_id\":\"r-1\"");
    }

    @Test
    void authzCheck_badInputs_exit1WithAClearMessage() throws Exception {
        Path req = tmp.resolve("bad.json");
        Files.writeString(req, "{\"attributes\": {\"nope\": 1}}");
        assertThat(run("authz", "check", "--policy", POLICIES.toString(), "--request", req.toString()))
                .isEqualTo(1);
        assertThat(err()).contains("not a CheckRequest in protobuf JSON");
        assertThat(run(
                        "authz",
                        "check",
                        "--policy",
                        POLICIES.toString(),
                        "--request",
                        req.toString(),
                        "--now",
                        "yesterday"))
                .isEqualTo(2);
        assertThat(err()).contains("--now: not an ISO-8601 instant");
    }

    /** The default: through the admin API's /apikeys as the token's caller, confined to its tenants and audited. */
    @Test
    void apikey_createListRotateRevoke_throughTheAdminApi_asTheCaller() throws Exception {
        io.meshguard.testing.TestIssuer issuer = new io.meshguard.testing.TestIssuer();
        Path acmeToken = tmp.resolve("acme-token");
        Files.writeString(
                acmeToken, issuer.accessToken("acme-admin", "meshguard-admin", List.of("acme-admins")) + "\n");
        io.meshguard.access.AdminGate acmeAdmins = shippedAccess(issuer);
        java.util.List<io.meshguard.audit.AuditEvent> audited = new java.util.concurrent.CopyOnWriteArrayList<>();
        io.meshguard.runtime.http.StatusHttpServer http = new io.meshguard.runtime.http.StatusHttpServer(
                "apikeys-test",
                io.meshguard.runtime.http.HttpServerSettings.onPort(0),
                new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                        io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT));
        http.addHandler(
                io.meshguard.catalog.apikey.ApiKeyAdminApi.PREFIX,
                new io.meshguard.catalog.apikey.ApiKeyAdminApi(
                        Optional.of(new io.meshguard.catalog.apikey.JdbcApiKeyStore(PG.dataSource())),
                        java.time.Clock.systemUTC(),
                        acmeAdmins,
                        Optional.of(audited::add)));
        http.start();
        try {
            String url = "http://127.0.0.1:" + http.port();
            String[] admin = {"--url", url, "--token-file", acmeToken.toString()};
            // a tier is the bank's grant: a tenant's admin who names one is refused and gets no key
            assertThat(run(concat(
                            new String[] {"apikey", "create"},
                            admin,
                            "--name",
                            "export",
                            "--owner",
                            "partner-a",
                            "--tenant",
                            "acme",
                            "--tier",
                            "premium",
                            "--reason",
                            "partner onboarding")))
                    .isEqualTo(1);
            assertThat(err()).contains("403").contains("tier: granted by the bank");
            assertThat(audited).isEmpty();
            assertThat(run(concat(
                            new String[] {"apikey", "create"},
                            admin,
                            "--name",
                            "export",
                            "--owner",
                            "partner-a",
                            "--tenant",
                            "acme",
                            "--reason",
                            "partner onboarding")))
                    .as(err())
                    .isEqualTo(0);
            Matcher m =
                    Pattern.compile("(mgk_([0-9a-f]{16})_[A-Za-z0-9_-]{43})").matcher(out());
            assertThat(m.find()).as(out()).isTrue();
            String keyId = m.group(2);
            assertThat(audited).singleElement().satisfies(e -> {
                assertThat(e.subject()).hasValueSatisfying(s -> assertThat(s).contains("acme-admin"));
                assertThat(e.details()).containsEntry("key_id", keyId);
                assertThat(e.details().toString() + e.reason())
                        .doesNotContain(m.group(1))
                        .contains("partner onboarding");
            });

            // another tenant: refused, nothing created
            assertThat(run(concat(
                            new String[] {"apikey", "create"},
                            admin,
                            "--name",
                            "x",
                            "--owner",
                            "o",
                            "--tenant",
                            "globex")))
                    .isEqualTo(1);
            assertThat(err()).contains("403").contains("tenant 'globex' is not one of yours");

            assertThat(run(concat(new String[] {"apikey", "list"}, admin))).isEqualTo(0);
            assertThat(out()).contains(keyId).contains("tenant=acme").doesNotContain(m.group(1));
            assertThat(run(concat(new String[] {"apikey", "rotate"}, admin, keyId, "--grace", "1h")))
                    .isEqualTo(0);
            assertThat(run(concat(new String[] {"apikey", "rotate"}, admin, keyId, "--grace", "31d")))
                    .isEqualTo(1);
            assertThat(err()).contains("between 0 and 2592000");
            assertThat(run(concat(new String[] {"apikey", "revoke"}, admin, keyId, "--reason", "partner left")))
                    .isEqualTo(0);
            assertThat(run(concat(new String[] {"apikey", "revoke"}, admin, keyId)))
                    .isEqualTo(1);
            assertThat(audited).anySatisfy(e -> assertThat(e.reason()).contains("partner left"));
            // the same changes are rows of the hash-chained admin trail, which verifies
            assertThat(PG.dsl()
                            .fetchCount(PG.dsl().selectFrom("admin_trail").where("target = 'apikeys/" + keyId + "'")))
                    .isGreaterThanOrEqualTo(2);
            assertThat(new io.meshguard.audit.trail.AdminTrailVerifier(PG.dataSource())
                            .verify(Optional.empty())
                            .intact())
                    .isTrue();
        } finally {
            http.close();
            issuer.close();
        }
    }

    /**
     * A key the catalogue binds to an application: rotating it moves the application's credential to the successor
     * (as the developer portal does), a grace the catalogue cannot express is refused before anything changes, and
     * break-glass refuses to split the key from its binding.
     */
    @Test
    void apikeyRotate_ofAKeyBoundToAnApplication_movesTheCataloguesCredentialToo() throws Exception {
        PG.dsl().execute("insert into tenant (id) values ('acme') on conflict do nothing");
        io.meshguard.testing.TestIssuer issuer = new io.meshguard.testing.TestIssuer();
        Path acmeToken = tmp.resolve("acme-token-catalogue");
        Files.writeString(
                acmeToken, issuer.accessToken("acme-admin", "meshguard-admin", List.of("acme-admins")) + "\n");
        io.meshguard.access.AdminGate acmeAdmins = shippedAccess(issuer);
        io.meshguard.runtime.http.StatusHttpServer http = new io.meshguard.runtime.http.StatusHttpServer(
                "admin-test",
                io.meshguard.runtime.http.HttpServerSettings.onPort(0),
                new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                        io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT));
        http.addHandler(
                io.meshguard.catalog.apikey.ApiKeyAdminApi.PREFIX,
                new io.meshguard.catalog.apikey.ApiKeyAdminApi(
                        Optional.of(new io.meshguard.catalog.apikey.JdbcApiKeyStore(PG.dataSource())),
                        java.time.Clock.systemUTC(),
                        acmeAdmins,
                        Optional.empty()));
        http.addHandler(
                io.meshguard.catalog.api.CatalogApi.PREFIX,
                new io.meshguard.catalog.api.CatalogApi(
                        new io.meshguard.catalog.CatalogStore(PG.dataSource()),
                        acmeAdmins,
                        e -> {},
                        java.time.Clock.systemUTC(),
                        "example.test",
                        (publish, serve, change) -> {
                            throw new UnsupportedOperationException("no gateway in this test");
                        }));
        http.start();
        try {
            String[] admin = {"--url", "http://127.0.0.1:" + http.port(), "--token-file", acmeToken.toString()};
            assertThat(run(concat(
                            new String[] {"apikey", "create"},
                            admin,
                            "--name",
                            "mobile",
                            "--owner",
                            "app-team",
                            "--tenant",
                            "acme")))
                    .as(err())
                    .isEqualTo(0);
            Matcher m = Pattern.compile("mgk_([0-9a-f]{16})_").matcher(out());
            assertThat(m.find()).isTrue();
            String keyId = m.group(1);
            assertThat(run(concat(
                            new String[] {"catalog", "application", "create"},
                            admin,
                            "acme-mobile",
                            "--name",
                            "Mobile")))
                    .as(err())
                    .isEqualTo(0);
            // a second application of the name, in any case, is refused with its code; a free name renames
            assertThat(run(concat(
                            new String[] {"catalog", "application", "create"},
                            admin,
                            "acme-mobile-2",
                            "--name",
                            "MOBILE")))
                    .isEqualTo(1);
            assertThat(err()).contains("409").contains("MG-APPLICATION-001").contains("acme-mobile");
            assertThat(run(concat(
                            new String[] {"catalog", "application", "rename"},
                            admin,
                            "acme-mobile",
                            "--name",
                            "Mobile app")))
                    .as(err())
                    .isEqualTo(0);
            assertThat(out()).contains("\"name\" : \"Mobile app\"");
            assertThat(run(concat(
                            new String[] {"catalog", "credential", "bind"},
                            admin,
                            "--application",
                            "acme-mobile",
                            "--kind",
                            "apikey",
                            "--id",
                            keyId)))
                    .as(err())
                    .isEqualTo(0);
            String keysBefore = PG.dsl()
                    .fetch("select key_id from api_keys order by key_id")
                    .formatCSV();

            assertThat(run(concat(new String[] {"apikey", "rotate"}, admin, keyId, "--grace", "30m")))
                    .isEqualTo(1);
            assertThat(err()).contains("bound to application acme-mobile").contains("whole hours");
            assertThat(PG.dsl()
                            .fetch("select key_id from api_keys order by key_id")
                            .formatCSV())
                    .isEqualTo(keysBefore);

            Path pw = tmp.resolve("pw-bound");
            Files.writeString(pw, PG.password());
            Path config = tmp.resolve("db-bound.yaml");
            Files.writeString(
                    config,
                    "db:\n  url: " + PG.jdbcUrl() + "\n  user: " + PG.user() + "\n  password_file: " + pw + "\n");
            assertThat(run("apikey", "rotate", "--direct-db", "--config", config.toString(), keyId, "--grace", "1h"))
                    .isEqualTo(1);
            assertThat(err()).contains("bound to application acme-mobile").contains("without --direct-db");

            assertThat(run(concat(new String[] {"apikey", "rotate"}, admin, keyId, "--grace", "2h")))
                    .as(err())
                    .isEqualTo(0);
            Matcher next = Pattern.compile("mgk_([0-9a-f]{16})_").matcher(out());
            assertThat(next.find()).isTrue();
            var credentials = PG.dsl()
                    .fetch("select id, state, application_id from credential where kind = 'apikey'"
                            + " and application_id = 'acme-mobile' order by state");
            assertThat(credentials.map(r -> r.get(0) + " " + r.get(1) + " " + r.get(2)))
                    .containsExactly(next.group(1) + " active acme-mobile", keyId + " rotating acme-mobile");
        } finally {
            http.close();
            issuer.close();
        }
    }

    /** The admin plane's gate as the fixture policies' access file binds people, tokens from {@code issuer}. */
    private static io.meshguard.access.AdminGate shippedAccess(io.meshguard.testing.TestIssuer issuer) {
        return new io.meshguard.access.AdminGate(
                Optional.of(
                        new io.meshguard.access.AdminTokenVerifier(new io.meshguard.access.AdminTokenVerifier.Settings(
                                issuer.issuer(), "meshguard-admin", java.time.Duration.ofSeconds(30)))),
                io.meshguard.access.RoleBindings.load(POLICIES.resolve("access.yaml")),
                new io.meshguard.runtime.http.BearerTokens(Optional.empty()),
                false,
                new io.meshguard.access.LoggedAdminEvents(),
                java.time.Clock.systemUTC(),
                "admin.token_file");
    }

    private static String[] concat(String[] first, String[] second, String... rest) {
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of(first));
        all.addAll(java.util.List.of(second));
        all.addAll(java.util.List.of(rest));
        return all.toArray(String[]::new);
    }

    @Test
    void apikey_directDb_isBreakGlass_andSaysSo() throws Exception {
        Path pw = tmp.resolve("pw");
        Files.writeString(pw, PG.password());
        Path config = tmp.resolve("db.yaml");
        Files.writeString(
                config, "db:\n  url: " + PG.jdbcUrl() + "\n  user: " + PG.user() + "\n  password_file: " + pw + "\n");

        assertThat(run(
                        "apikey",
                        "create",
                        "--direct-db",
                        "--config",
                        config.toString(),
                        "--name",
                        "export",
                        "--owner",
                        "partner-a",
                        "--tenant",
                        "acme",
                        "--roles",
                        "statements-reader",
                        "--tier",
                        "premium"))
                .as(err())
                .isEqualTo(0);
        assertThat(err()).contains("--direct-db writes with the database's credentials");
        Matcher m = Pattern.compile("(mgk_([0-9a-f]{16})_[A-Za-z0-9_-]{43})").matcher(out());
        assertThat(m.find()).isTrue();
        String keyId = m.group(2);

        assertThat(run("apikey", "list", "--direct-db", "--config", config.toString()))
                .isEqualTo(0);
        assertThat(out()).contains(keyId).contains("tenant=acme").doesNotContain(m.group(1));

        assertThat(run("apikey", "rotate", "--direct-db", "--config", config.toString(), keyId, "--grace", "1h"))
                .isEqualTo(0);
        assertThat(err()).contains("Old key " + keyId + " stops working at");

        assertThat(run("apikey", "revoke", "--direct-db", "--config", config.toString(), keyId))
                .isEqualTo(0);
        assertThat(run("apikey", "revoke", "--direct-db", "--config", config.toString(), keyId))
                .isEqualTo(1);
        assertThat(err()).contains("no active key " + keyId);
        assertThat(run("apikey", "list", "--direct-db", "--config", config.toString()))
                .isEqualTo(0);
        assertThat(out()).doesNotContain(keyId + "  ");
        assertThat(run("apikey", "list", "--direct-db", "--config", config.toString(), "--all"))
                .isEqualTo(0);
        assertThat(out()).contains(keyId);
        assertThat(run("apikey", "rotate", "--direct-db", "--config", config.toString(), keyId, "--grace", "soon"))
                .isEqualTo(2);
    }

    /**
     * A key issued before ids were checked against the audit's masking, whose id spells a registration number: the
     * logs show it masked, so the listing says so and what to do; a clean id's line says nothing of the kind.
     */
    @Test
    void apikeyList_flagsAKeyWhoseIdTheLogsShowMasked() throws Exception {
        Path pw = tmp.resolve("pw");
        Files.writeString(pw, PG.password());
        Path config = tmp.resolve("db.yaml");
        Files.writeString(
                config, "db:\n  url: " + PG.jdbcUrl() + "\n  user: " + PG.user() + "\n  password_file: " + pw + "\n");
        io.meshguard.catalog.apikey.JdbcApiKeyStore store =
                new io.meshguard.catalog.apikey.JdbcApiKeyStore(PG.dataSource());
        for (String id : List.of("e0d8907161402088", "0123456789abcdef")) {
            store.insert(
                    new io.meshguard.catalogmodel.apikey.ApiKey(
                            id,
                            "old-" + id,
                            "partner",
                            "acme",
                            List.of(),
                            List.of(),
                            "free",
                            Instant.parse("2026-01-01T00:00:00Z"),
                            Optional.empty(),
                            Optional.empty(),
                            Optional.empty(),
                            Optional.empty(),
                            0),
                    new byte[32]);
        }

        assertThat(run("apikey", "list", "--direct-db", "--config", config.toString()))
                .isEqualTo(0);
        String masked = out().lines()
                .filter(l -> l.startsWith("e0d8907161402088 "))
                .findFirst()
                .orElseThrow();
        assertThat(masked).endsWith("id_in_logs=masked (rotate it for an id the logs show)");
        assertThat(out().lines().filter(l -> l.startsWith("0123456789abcdef ")).findFirst())
                .hasValueSatisfying(l -> assertThat(l).doesNotContain("id_in_logs"));
    }

    @Test
    void apikeyRevoke_givenTheWholeKey_revokesByItsId_andNeverPrintsTheSecret() throws Exception {
        Path pw = tmp.resolve("pw");
        Files.writeString(pw, PG.password());
        Path config = tmp.resolve("db.yaml");
        Files.writeString(
                config, "db:\n  url: " + PG.jdbcUrl() + "\n  user: " + PG.user() + "\n  password_file: " + pw + "\n");
        assertThat(run(
                        "apikey",
                        "create",
                        "--direct-db",
                        "--config",
                        config.toString(),
                        "--name",
                        "leaked",
                        "--owner",
                        "p",
                        "--tenant",
                        "acme"))
                .as(err())
                .isEqualTo(0);
        Matcher m = Pattern.compile("(mgk_([0-9a-f]{16})_([A-Za-z0-9_-]{43}))").matcher(out());
        assertThat(m.find()).isTrue();

        assertThat(run(
                        "apikey",
                        "revoke",
                        "--direct-db",
                        "--config",
                        config.toString(),
                        m.group(1),
                        "--reason",
                        "leaked"))
                .as(err())
                .isEqualTo(0);
        assertThat(out().lines().filter(l -> !l.startsWith("{"))).containsExactly("revoked " + m.group(2));
        assertThat(out() + err()).doesNotContain(m.group(3));
        assertThat(err()).contains("whole key");
        assertThat(run("apikey", "list", "--direct-db", "--config", config.toString(), "--all"))
                .isEqualTo(0);
        assertThat(out()).contains(m.group(2)).doesNotContain("revoked=no");
    }

    @Test
    void extauthz_badConfig_exit1NamingTheKeyAndLine() throws Exception {
        Path config = tmp.resolve("extauthz.yaml");
        Files.writeString(config, "grpc:\n  port: 9001\ntoken_cache:\n  max_entrys: 5\n");
        assertThat(run("extauthz", "--config", config.toString())).isEqualTo(1);
        assertThat(err()).contains("token_cache.max_entrys").contains(":4");
    }
}
