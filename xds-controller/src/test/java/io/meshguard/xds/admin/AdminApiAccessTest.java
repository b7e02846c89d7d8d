package io.meshguard.xds.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.PlainHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.meshguard.access.AdminAccessSettings;
import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.Permissions;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.model.ConfigJson;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin API behind the admin plane's gate with an OIDC issuer configured (a real discovery + JWKS HTTP
 * server; tokens as Keycloak shapes them): 401 without or with a bad token, 403 when the role lacks the route's
 * permission, break-glass off unless enabled, and every route's permission in the OpenAPI document.
 */
@IntegrationTest
class AdminApiAccessTest {
    private static final String STATIC_TOKEN = "static-token-for-break-glass-tests";
    private static final String ACCESS = """
            claims: [groups, realm_access.roles]
            roles:
              gateway-owner:
                permissions: [group:read, route:read, route:update, revision:publish, revision:rollback]
              auditor:
                permissions: [fleet:read, config:read]
              group-admin:
                permissions: [group:read, group:update, group:template]
              group-editor:
                permissions: [group:read, group:update]
              tenant-admin:
                permissions: [group:read, group:update, group:template]
            bindings:
              - {match: edge-prod-owners, role: gateway-owner, scope: "gateway:edge-prod"}
              - {match: edge-two-owners, role: gateway-owner, scope: "gateway:edge-two"}
              - {match: auditor, role: auditor, scope: system}
              - {match: edge-three-admins, role: group-admin, scope: "gateway:edge-three"}
              - {match: edge-three-editors, role: group-editor, scope: "gateway:edge-three"}
              - {match: edge-two-admins, role: group-admin, scope: "gateway:edge-two"}
              - {match: acme-admins, role: tenant-admin, scope: "tenant:acme"}
            """;

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static HttpServer idp;
    static String issuer;
    static RSAKey key;
    static XdsController xds;
    static StatusHttpServer http;
    static StatusHttpServer breakGlassHttp;
    static final List<AdminEvent> events = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        key = new RSAKeyGenerator(2048).keyID("k1").generate();
        idp = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
        issuer = "http://127.0.0.1:" + idp.getAddress().getPort() + "/realms/test";
        idp.createContext(
                "/realms/test/.well-known/openid-configuration",
                ex -> respond(ex, "{\"issuer\":\"" + issuer + "\",\"jwks_uri\":\"" + issuer + "/certs\"}"));
        idp.createContext(
                "/realms/test/certs",
                ex -> respond(ex, new JWKSet(key).toPublicJWKSet().toString()));
        idp.start();

        Path tokenFile = tmp.resolve("token");
        Files.writeString(tokenFile, "ops:" + STATIC_TOKEN + "\n");
        Path accessFile = tmp.resolve("access.yaml");
        Files.writeString(accessFile, ACCESS);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        xds = XdsController.create(AdminApiTest.settings(Optional.of(tokenFile)), PG.dataSource(), registry, c -> {});
        http = new StatusHttpServer("xds-oidc", HttpServerSettings.onPort(0), registry);
        xds.mountAdminApi(
                http,
                settings(accessFile, false)
                        .gate(new BearerTokens(Optional.of(tokenFile)), "xds.admin.token_file", events::add));
        breakGlassHttp = new StatusHttpServer("xds-break-glass", HttpServerSettings.onPort(0), registry);
        xds.mountAdminApi(
                breakGlassHttp,
                settings(accessFile, true)
                        .gate(new BearerTokens(Optional.of(tokenFile)), "xds.admin.token_file", events::add));
        xds.start();
        http.start();
        breakGlassHttp.start();
    }

    private static AdminAccessSettings settings(Path accessFile, boolean breakGlass) {
        return new AdminAccessSettings(
                Optional.of(issuer), "meshguard-admin", Duration.ofSeconds(5), Optional.of(accessFile), breakGlass);
    }

    private static void respond(com.sun.net.httpserver.HttpExchange ex, String body) throws java.io.IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, b.length);
        ex.getResponseBody().write(b);
        ex.close();
    }

    @AfterAll
    static void stop() {
        breakGlassHttp.close();
        http.close();
        xds.close();
        idp.stop(0);
    }

    static JWTClaimsSet.Builder claims(String user, List<String> groups) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .issuer(issuer)
                .subject("sub-" + user)
                .audience(List.of("meshguard-admin", "account"))
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plusSeconds(300)))
                .claim("typ", "Bearer")
                .claim("preferred_username", user)
                .claim("groups", groups);
    }

    static String sign(JWTClaimsSet claims, RSAKey with) throws Exception {
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256)
                        .keyID(with.getKeyID())
                        .type(JOSEObjectType.JWT)
                        .build(),
                claims);
        jwt.sign(new RSASSASigner(with));
        return jwt.serialize();
    }

    static String token(String user, String... groups) throws Exception {
        return sign(claims(user, List.of(groups)).build(), key);
    }

    static HttpResponse<String> call(StatusHttpServer server, String method, String path, String token)
            throws Exception {
        return AdminHttp.send(server.port(), token, method, path, method.equals("GET") ? null : "{\"reason\":\"x\"}");
    }

    static HttpResponse<String> call(String method, String path, String token) throws Exception {
        return call(http, method, path, token);
    }

    @Test
    void everyRouteOnTheAdminPort_declaresAKnownPermission_andOpenApiShowsItPerOperation() throws Exception {
        var doc = ConfigJson.mapper().readTree(AdminPortDocument.controller());
        assertThat(AdminApi.PORT_ROUTES)
                .as("the audit routes are served on this port too")
                .containsAll(AuditAdminApi.ROUTES);
        assertThat(AdminApi.PORT_ROUTES)
                .as("and the zone routes, where central's zone hub runs")
                .containsAll(io.meshguard.xds.zone.ZoneAdminApi.ROUTES);
        for (AdminRoute r : AdminApi.PORT_ROUTES) {
            boolean zoneRoute = io.meshguard.xds.zone.ZoneAdminApi.ROUTES.contains(r);
            assertThat(r.isOpen()
                            || Permissions.CONTROLLER.contains(r.permission())
                            || Permissions.AUDIT.contains(r.permission())
                            || Permissions.COVERAGE.contains(r.permission())
                            // a zone route: registration and revocation, or editing the cluster (the catalogue's
                            // permission)
                            || zoneRoute
                                    && (Permissions.ZONES.contains(r.permission())
                                            || r.permission().equals("cluster:update")))
                    .as("%s %s declares a permission of the controller", r.method(), r.path())
                    .isTrue();
            assertThat(doc.path("paths")
                            .path(r.path())
                            .path(r.method().toLowerCase(Locale.ROOT))
                            .path("x-meshguard-permission")
                            .asText())
                    .as("%s %s in openapi.json", r.method(), r.path())
                    .isEqualTo(r.permission());
        }
        assertThat(AdminApi.PORT_ROUTES.stream().filter(AdminRoute::isOpen).map(AdminRoute::path))
                .containsExactly("/openapi.json");
        Set<String> used =
                AdminApi.PORT_ROUTES.stream().map(AdminRoute::permission).collect(Collectors.toSet());
        assertThat(used)
                .as("no permission of the catalogue is left without a route")
                .containsAll(Permissions.CONTROLLER)
                .containsAll(Permissions.AUDIT)
                .containsAll(Permissions.ZONES);
    }

    @Test
    void noOrMalformedToken_is401WithABearerChallenge_andAudited() throws Exception {
        HttpResponse<String> anonymous = call("GET", "/fleet", null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate")).contains("Bearer");
        assertThat(anonymous.body()).contains(issuer);
        assertThat(call("GET", "/fleet", "a.b.c").statusCode()).isEqualTo(401);
        assertThat(call("GET", "/groups/a/b/c", null).statusCode())
                .as("401 before 405: paths are not probed")
                .isEqualTo(401);
        // no route serves the path: 404 as on every admin API; a path with routes for other methods is 405
        assertThat(call("GET", "/groups/a/b/c", token("dora", "auditor")).statusCode())
                .isEqualTo(404);
        HttpResponse<String> wrongMethod = call("DELETE", "/fleet", token("dora", "auditor"));
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Allow")).contains("GET");
        assertThat(events).anySatisfy(e -> assertThat(e.outcome()).startsWith("refused 401"));
    }

    @Test
    void forgedTokens_everyClass_are401() throws Exception {
        RSAKey attacker = new RSAKeyGenerator(2048).keyID("k1").generate();
        JWTClaimsSet good = claims("mallory", List.of("auditor")).build();
        // signed with another key under the issuer's key id
        assertThat(call("GET", "/fleet", sign(good, attacker)).statusCode()).isEqualTo(401);
        // the attacker's key embedded in the header
        SignedJWT embedded = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256)
                        .jwk(attacker.toPublicJWK())
                        .build(),
                good);
        embedded.sign(new RSASSASigner(attacker));
        assertThat(call("GET", "/fleet", embedded.serialize()).statusCode()).isEqualTo(401);
        // HS256 with the public key's bytes as the secret (algorithm confusion)
        SignedJWT hs = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), good);
        hs.sign(new MACSigner(key.toPublicJWK().toRSAPublicKey().getEncoded()));
        assertThat(call("GET", "/fleet", hs.serialize()).statusCode()).isEqualTo(401);
        // alg none
        assertThat(call("GET", "/fleet", new PlainJWT(new PlainHeader(), good).serialize())
                        .statusCode())
                .isEqualTo(401);
        // wrong issuer, wrong audience, expired, an ID token
        assertThat(call("GET", "/fleet", token(claims("m", List.of("auditor")).issuer("http://evil/realms/test")))
                        .statusCode())
                .isEqualTo(401);
        assertThat(call("GET", "/fleet", token(claims("m", List.of("auditor")).audience("account")))
                        .statusCode())
                .isEqualTo(401);
        assertThat(call(
                                "GET",
                                "/fleet",
                                token(claims("m", List.of("auditor"))
                                        .expirationTime(Date.from(Instant.now().minusSeconds(60)))))
                        .statusCode())
                .isEqualTo(401);
        assertThat(call("GET", "/fleet", token(claims("m", List.of("auditor")).claim("typ", "ID")))
                        .statusCode())
                .isEqualTo(401);
        assertThat(call("GET", "/fleet", token("dora", "auditor")).statusCode())
                .as("the genuine token")
                .isEqualTo(200);
    }

    private static String token(JWTClaimsSet.Builder claims) throws Exception {
        return sign(claims.build(), key);
    }

    @Test
    void roleWithoutThePermission_is403_namingThePermission() throws Exception {
        String auditor = token("dora", "auditor");
        assertThat(call("GET", "/fleet", auditor).statusCode()).isEqualTo(200);
        HttpResponse<String> publish = call("POST", "/publish", auditor);
        assertThat(publish.statusCode()).isEqualTo(403);
        assertThat(publish.body()).contains("revision:publish");
        assertThat(call("PUT", "/config", auditor).statusCode()).isEqualTo(403);
        assertThat(call("GET", "/fleet", token("nobody")).statusCode())
                .as("no bound group: nothing")
                .isEqualTo(403);
        assertThat(events).anySatisfy(e -> {
            assertThat(e.actor()).startsWith("dora");
            assertThat(e.outcome()).startsWith("refused 403");
        });
    }

    @Test
    void gatewayOwner_reachesOnlyItsGatewayGroup_andRoutesBelongToTenants() throws Exception {
        String owner = token("bob", "edge-prod-owners");
        assertThat(call("GET", "/groups/edge-prod", owner).statusCode())
                .as("allowed, absent")
                .isEqualTo(404);
        assertThat(call("GET", "/groups/edge-dev", owner).statusCode()).isEqualTo(403);
        // routes are tenant-owned objects: a gateway grant does not reach them, a tenant grant or a system one does
        assertThat(call("GET", "/routes/edge-prod/orders", owner).statusCode()).isEqualTo(403);
        assertThat(call("GET", "/routes", owner).statusCode()).isEqualTo(403);
        // its own group's publish and rollback (absent here: 404), never another group's or the platform's
        assertThat(call("POST", "/groups/edge-prod/publish", owner).statusCode())
                .isNotEqualTo(403);
        assertThat(call("POST", "/groups/edge-prod/rollback/1", owner).statusCode())
                .isNotEqualTo(403);
        assertThat(call("POST", "/groups/edge-dev/publish", owner).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/groups/edge-dev/rollback/1", owner).statusCode())
                .isEqualTo(403);
        assertThat(call("POST", "/publish", owner).statusCode()).isEqualTo(403);
        assertThat(call("POST", "/rollback/1", owner).statusCode()).isEqualTo(403);
    }

    /**
     * The whole draft is validated at a group's publish, but a gateway owner is shown its own group's problems only:
     * another group's routes, APIs and upstreams (other tenants' names and addresses) are counted, never named. A
     * system caller publishing the same group sees every problem.
     */
    @Test
    void gatewayOwnersPublish_showsItsOwnGroupsProblems_andOnlyCountsTheRest() throws Exception {
        String breakGlass = STATIC_TOKEN;
        assertThat(send(breakGlassHttp, "PUT", "/config", breakGlass, ConfigJson.write(XdsController.sampleConfig()))
                        .statusCode())
                .isEqualTo(200);
        assertThat(send(breakGlassHttp, "PUT", "/groups/edge-two", breakGlass, """
                {"name": "edge-two", "environment": "prod", "region": "two", "domain": "meshguard.test",
                 "listener_port": 8081}""")
                        .statusCode())
                .isBetween(200, 201);
        assertThat(send(breakGlassHttp, "PUT", "/routes/edge-two/transfers", breakGlass, """
                {"name": "transfers", "group": "edge-two", "api": "payments", "version": "v2",
                 "match": {"path_prefix": "/transfers"}, "destinations": [{"upstream": "payments-v2", "weight": 100}]}""")
                        .statusCode())
                .isEqualTo(200);
        String owner = token("erin", "edge-two-owners");
        HttpResponse<String> clean = send(http, "POST", "/groups/edge-two/publish", owner, "{\"reason\":\"first\"}");
        assertThat(clean.statusCode()).as(clean.body()).isEqualTo(200);
        assertThat(clean.body()).as("warnings of group local's objects").doesNotContain("routes[local/", "llm-backend");

        // both groups' routes go bad under the controller (a DBA's edit, or a rule an upgrade added)
        try (var c = PG.dataSource().getConnection();
                var st = c.createStatement()) {
            assertThat(st.executeUpdate("update route set idle_timeout_ms = 0"
                            + " where name in ('chat-completions', 'transfers')"))
                    .isEqualTo(2);
        }
        HttpResponse<String> mine = send(http, "POST", "/groups/edge-two/publish", owner, "{\"reason\":\"second\"}");
        assertThat(mine.statusCode()).as(mine.body()).isEqualTo(422);
        var problems = ConfigJson.mapper().readTree(mine.body()).path("problems");
        assertThat(problems.findValuesAsText("path"))
                .contains("routes[edge-two/transfers].idle_timeout_ms")
                .as("its group's route and what that route names")
                .allMatch(path -> path.startsWith("routes[edge-two/")
                        || path.startsWith("upstreams[payments-v2]")
                        || path.startsWith("apis[payments]"));
        assertThat(mine.body())
                .doesNotContain("local/", "chat-completions")
                .contains("1 problem(s) outside group edge-two");

        HttpResponse<String> operator =
                send(breakGlassHttp, "POST", "/groups/edge-two/publish", breakGlass, "{\"reason\":\"second\"}");
        assertThat(operator.statusCode()).isEqualTo(422);
        assertThat(ConfigJson.mapper()
                        .readTree(operator.body())
                        .path("problems")
                        .findValuesAsText("path"))
                .contains(
                        "routes[edge-two/transfers].idle_timeout_ms", "routes[local/chat-completions].idle_timeout_ms");
        assertThat(operator.body()).doesNotContain("not shown");
    }

    private static HttpResponse<String> send(
            StatusHttpServer server, String method, String path, String token, String body) throws Exception {
        return AdminHttp.send(server.port(), token, method, path, body);
    }

    /**
     * A group's template kind moves it to another data plane: only a holder of {@code group:template} on that group (or
     * system-wide) sets it, never a tenant, never another group's admin, and editing the group's other settings keeps
     * the stored kind.
     */
    @Test
    void templateKind_isSetOnlyWithGroupTemplateOnThatGroup_andAGroupEditKeepsIt() throws Exception {
        String group = "/groups/edge-three";
        assertThat(send(breakGlassHttp, "PUT", group, STATIC_TOKEN, """
                        {"name": "edge-three", "environment": "dev", "region": "three"}""").statusCode())
                .isEqualTo(200);
        String toEnvoyGateway = "{\"kind\": \"envoy-gateway\"}";

        HttpResponse<String> tenant =
                send(http, "PUT", group + "/template", token("ted", "acme-admins"), toEnvoyGateway);
        assertThat(tenant.statusCode())
                .as("a tenant grant admits nothing on a gateway group's routes: " + tenant.body())
                .isEqualTo(403);
        assertThat(send(http, "PUT", group + "/template", token("otto", "edge-two-admins"), toEnvoyGateway)
                        .statusCode())
                .as("another group's admin")
                .isEqualTo(403);
        String editor = token("eve", "edge-three-editors");
        HttpResponse<String> byEditor = send(http, "PUT", group + "/template", editor, toEnvoyGateway);
        assertThat(byEditor.statusCode()).isEqualTo(403);
        assertThat(byEditor.body()).contains("group:template");
        HttpResponse<String> smuggled = send(http, "PUT", group, editor, """
                {"name": "edge-three", "environment": "dev", "region": "three", "template_kind": "envoy-gateway"}""");
        assertThat(smuggled.statusCode())
                .as("group:update cannot move the group: " + smuggled.body())
                .isEqualTo(409);
        assertThat(smuggled.body()).contains("group:template");
        assertThat(kind(group, editor)).isEqualTo("meshguard");

        String admin = token("ada", "edge-three-admins");
        assertThat(send(http, "PUT", group + "/template", admin, "{\"kind\": \"istio\"}")
                        .statusCode())
                .isEqualTo(422);
        HttpResponse<String> moved = send(http, "PUT", group + "/template", admin, toEnvoyGateway);
        assertThat(moved.statusCode()).as(moved.body()).isEqualTo(200);
        assertThat(kind(group, admin)).as("stored (read back from PostgreSQL)").isEqualTo("envoy-gateway");

        HttpResponse<String> edited = send(http, "PUT", group, editor, """
                {"name": "edge-three", "environment": "dev", "region": "three-b"}""");
        assertThat(edited.statusCode()).as(edited.body()).isEqualTo(200);
        assertThat(kind(group, editor))
                .as("an edit without the field keeps the kind")
                .isEqualTo("envoy-gateway");
        assertThat(send(http, "PUT", "/groups/nowhere/template", token("root", "auditor"), toEnvoyGateway)
                        .statusCode())
                .isEqualTo(403);
    }

    private static String kind(String group, String token) throws Exception {
        HttpResponse<String> r = call("GET", group, token);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return ConfigJson.mapper().readTree(r.body()).path("template_kind").asText();
    }

    @Test
    void staticTokenFile_isOffWithAnIssuer_unlessBreakGlassIsEnabled_andEachUseIsAudited() throws Exception {
        assertThat(call("GET", "/fleet", STATIC_TOKEN).statusCode()).isEqualTo(401);
        assertThat(events).anySatisfy(e -> assertThat(e.outcome()).contains("admin.break_glass"));

        assertThat(call(breakGlassHttp, "GET", "/fleet", STATIC_TOKEN).statusCode())
                .isEqualTo(200);
        assertThat(events).anySatisfy(e -> {
            assertThat(e.authMethod()).isEqualTo("break-glass");
            assertThat(e.actor()).isEqualTo("break-glass:ops");
            assertThat(e.action()).isEqualTo("GET /fleet");
        });
        assertThat(call(breakGlassHttp, "GET", "/fleet", "not-the-token-at-all-xx")
                        .statusCode())
                .isEqualTo(401);
    }
}
