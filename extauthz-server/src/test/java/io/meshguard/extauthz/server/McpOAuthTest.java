package io.meshguard.extauthz.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.rpc.Code;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.TestIssuer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * OAuth on MCP routes as the MCP authorization spec asks it of the server, over real gRPC on loopback with a real
 * discovery and JWKS server: Protected Resource Metadata (RFC 9728) at the route's well-known URI, the 401 and 403
 * challenges, and tokens bound to the server's canonical URI (RFC 8707) in every spelling.
 */
@IntegrationTest
class McpOAuthTest {
    @TempDir
    static Path dir;

    static TestIssuer idp;
    static ExtAuthzServer server;
    static ManagedChannel channel;
    static AuthorizationGrpc.AuthorizationBlockingStub stub;
    static final ConcurrentLinkedQueue<AuthzDecisionEvent> audit = new ConcurrentLinkedQueue<>();

    static final String RESOURCE = "https://mcp.bank.test/mcp";
    static final String METADATA = "https://mcp.bank.test/.well-known/oauth-protected-resource/mcp";

    static String policy(String issuer) {
        return """
                issuers:
                  - name: agents-idp
                    issuer: %s
                    discovery: %s/.well-known/openid-configuration
                    algorithms: [RS256]
                    claims: {subject: sub, roles: roles, scopes: scope}
                routes:
                  - name: mcp-bank
                    match: {hosts: [mcp.bank.test], path: /mcp, methods: [POST]}
                    auth: jwt
                    scopes: ["mcp:use"]
                    mcp:
                      resource: https://mcp.bank.test/mcp
                      tools:
                        - {name: get_balance, scopes: ["accounts:read"]}
                        - {name: transfer_funds, scopes: ["payments:write", "accounts:read"]}
                  - name: mcp-at-root
                    match: {hosts: [tools.bank.test], path: /, methods: [POST]}
                    auth: jwt
                    mcp:
                      resource: HTTPS://Tools.Bank.Test:443/
                      authorization_servers: [https://as.bank.test/realms/agents]
                  - name: mcp-unbound
                    match: {hosts: [plain.bank.test], path: /mcp, methods: [POST]}
                    auth: jwt
                    scopes: ["mcp:use"]
                    mcp:
                      tools:
                        - {name: get_balance, scopes: ["accounts:read"]}
                  - name: statements
                    match: {hosts: [api.bank.test], path: /statements, methods: [GET]}
                    auth: jwt
                """.formatted(issuer, issuer);
    }

    @BeforeAll
    static void start() throws Exception {
        idp = new TestIssuer();
        Path file = dir.resolve("authz.yaml");
        Files.writeString(file, policy(idp.issuer()));
        ExtAuthzConfig config = ExtAuthzConfig.defaults()
                .withGrpc("127.0.0.1", 0)
                .withShutdown(Duration.ZERO, Duration.ofSeconds(5))
                .withPolicy(file, Duration.ofMillis(100));
        server = new ExtAuthzServer(config, new SimpleMeterRegistry(), Optional.empty(), audit::add, Clock.systemUTC());
        server.start();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort())
                .usePlaintext()
                .build();
        stub = AuthorizationGrpc.newBlockingStub(channel).withDeadlineAfter(Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(20)).until(() -> server.notReady().isEmpty());
    }

    @AfterAll
    static void stop() {
        channel.shutdownNow();
        server.close();
        idp.close();
    }

    static String token(Object aud, String scope) {
        Map<String, Object> claims = new HashMap<>();
        claims.put("sub", "agent-7");
        claims.put("roles", List.of("agent"));
        claims.put("scope", scope);
        if (aud != null) {
            claims.put("aud", aud);
        }
        return idp.token(claims, Duration.ofMinutes(5));
    }

    static CheckResponse check(String method, String host, String path, Map<String, String> ext, String... headers) {
        Map<String, List<String>> h = new LinkedHashMap<>();
        for (int i = 0; i < headers.length; i += 2) {
            h.put(headers[i], List.of(headers[i + 1]));
        }
        return stub.check(CheckRequests.of(method, host, path, h, ext, CheckRequests.Encoding.HEADERS));
    }

    static CheckResponse toolCall(String host, String tool, Optional<String> token) {
        return toolCall(host, "/mcp", tool, token);
    }

    static CheckResponse toolCall(String host, String path, String tool, Optional<String> token) {
        List<String> h = new ArrayList<>(
                List.of("mcp-protocol-version", "2026-07-28", "mcp-method", "tools/call", "mcp-name", tool));
        token.ifPresent(t -> h.addAll(List.of("authorization", "Bearer " + t)));
        return check("POST", host, path, Map.of(), h.toArray(String[]::new));
    }

    static int status(CheckResponse r) {
        return r.getStatus().getCode() == Code.OK_VALUE
                ? 200
                : r.getDeniedResponse().getStatus().getCodeValue();
    }

    static boolean allowed(CheckResponse r) {
        return r.getStatus().getCode() == Code.OK_VALUE;
    }

    static Map<String, String> deniedHeaders(CheckResponse r) {
        return r.getDeniedResponse().getHeadersList().stream()
                .collect(Collectors.toMap(
                        o -> o.getHeader().getKey(), o -> o.getHeader().getValue()));
    }

    // --- RFC 9728: the metadata at the path-inserted well-known URI
    // ---------------------------------------------------

    @Test
    void metadata_servedAtThePathInsertedWellKnownUri_namingResourceIssuerAndEveryScope() {
        for (String method : List.of("GET", "HEAD")) {
            CheckResponse r = check(method, "mcp.bank.test", "/.well-known/oauth-protected-resource/mcp", Map.of());
            assertThat(allowed(r)).as("never forwarded to the MCP server").isFalse();
            assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(200);
            assertThat(deniedHeaders(r)).containsEntry("content-type", "application/json");
            assertThat(r.getDeniedResponse().getBody())
                    .isEqualTo("{\"resource\":\"" + RESOURCE + "\",\"authorization_servers\":[\"" + idp.issuer()
                            + "\"],\"scopes_supported\":[\"accounts:read\",\"mcp:use\",\"payments:write\"],"
                            + "\"bearer_methods_supported\":[\"header\"]}");
        }
        // the host in any spelling Envoy may pass (case, port)
        assertThat(status(check("GET", "MCP.bank.test:443", "/.well-known/oauth-protected-resource/mcp", Map.of())))
                .isEqualTo(200);
        // a gateway route that names the MCP rule
        assertThat(status(check(
                        "GET",
                        "mcp.bank.test",
                        "/.well-known/oauth-protected-resource/mcp",
                        Map.of(RouteContract.AuthzContext.AUTHZ_PROFILE, "mcp-bank"))))
                .isEqualTo(200);
    }

    @Test
    void metadata_atTheOriginRoot_namesTheConfiguredAuthorizationServer_inTheCanonicalSpelling() {
        CheckResponse r = check("GET", "tools.bank.test", "/.well-known/oauth-protected-resource", Map.of());
        assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(200);
        assertThat(r.getDeniedResponse().getBody())
                .startsWith("{\"resource\":\"https://tools.bank.test\","
                        + "\"authorization_servers\":[\"https://as.bank.test/realms/agents\"]");
    }

    @Test
    void metadata_onlyAtItsOwnUri_otherHostsPathsMethodsAndRulesAreNotAnswered() {
        // the root URI of a server that lives at /mcp is another resource's metadata (RFC 9728 §3.3)
        assertThat(status(check("GET", "mcp.bank.test", "/.well-known/oauth-protected-resource", Map.of())))
                .isEqualTo(403);
        assertThat(status(check("GET", "evil.test", "/.well-known/oauth-protected-resource/mcp", Map.of())))
                .isEqualTo(403);
        assertThat(status(check("GET", "mcp.bank.test", "/.well-known/oauth-protected-resource/mcp/x", Map.of())))
                .isEqualTo(403);
        assertThat(status(check("POST", "mcp.bank.test", "/.well-known/oauth-protected-resource/mcp", Map.of())))
                .isEqualTo(403);
        // a gateway route naming another rule gets no metadata of this one
        assertThat(status(check(
                        "GET",
                        "mcp.bank.test",
                        "/.well-known/oauth-protected-resource/mcp",
                        Map.of(RouteContract.AuthzContext.AUTHZ_PROFILE, "mcp-unbound"))))
                .isEqualTo(403);
    }

    // --- 401: the challenge names the metadata and the scopes
    // -----------------------------------------------------------

    @Test
    void noToken_401_challengeNamesTheMetadataAndTheScopesTheCallNeeds_withoutAnError() {
        CheckResponse r = toolCall("mcp.bank.test", "transfer_funds", Optional.empty());
        assertThat(status(r)).isEqualTo(401);
        assertThat(deniedHeaders(r))
                .containsEntry(
                        "www-authenticate",
                        "Bearer scope=\"accounts:read mcp:use payments:write\", resource_metadata=\"" + METADATA
                                + "\"");
    }

    @Test
    void invalidToken_401_invalidTokenChallengeNamesTheMetadataAndScopes() {
        CheckResponse r = toolCall("mcp.bank.test", "get_balance", Optional.of("not.a.token"));
        assertThat(status(r)).isEqualTo(401);
        assertThat(deniedHeaders(r).get("www-authenticate"))
                .startsWith("Bearer error=\"invalid_token\", scope=\"accounts:read mcp:use\", resource_metadata=\""
                        + METADATA + "\", error_description=\"");
    }

    // --- 403: insufficient_scope with the full set
    // ----------------------------------------------------------------------

    @Test
    void toolScopeLacking_403_insufficientScope_namesTheFullScopeSetOfTheCall() {
        CheckResponse r =
                toolCall("mcp.bank.test", "transfer_funds", Optional.of(token(RESOURCE, "mcp:use accounts:read")));
        assertThat(status(r)).isEqualTo(403);
        assertThat(r.getDeniedResponse().getBody()).contains("\"reason\":\"insufficient_scope\"");
        assertThat(deniedHeaders(r).get("www-authenticate"))
                .startsWith("Bearer error=\"insufficient_scope\", scope=\"accounts:read mcp:use payments:write\", "
                        + "resource_metadata=\"" + METADATA + "\"");
        assertThat(allowed(toolCall(
                        "mcp.bank.test",
                        "transfer_funds",
                        Optional.of(token(RESOURCE, "mcp:use accounts:read payments:write")))))
                .isTrue();
    }

    @Test
    void routeScopeLacking_403_insufficientScope_namesTheRoutesAndTheToolsScopes() {
        CheckResponse r = toolCall("mcp.bank.test", "get_balance", Optional.of(token(RESOURCE, "accounts:read")));
        assertThat(status(r)).isEqualTo(403);
        assertThat(deniedHeaders(r).get("www-authenticate"))
                .startsWith("Bearer error=\"insufficient_scope\", scope=\"accounts:read mcp:use\", resource_metadata=");
    }

    @Test
    void mcpRouteWithoutResource_scopeChallenges_withoutMetadata() {
        CheckResponse r = toolCall("plain.bank.test", "get_balance", Optional.of(token("anything", "mcp:use")));
        assertThat(status(r)).isEqualTo(403);
        assertThat(deniedHeaders(r).get("www-authenticate"))
                .isEqualTo("Bearer error=\"insufficient_scope\", scope=\"accounts:read mcp:use\", "
                        + "error_description=\"caller lacks a scope the tool requires\"");
        // and without the resource, no audience binding either
        assertThat(allowed(toolCall(
                        "plain.bank.test", "get_balance", Optional.of(token("anything", "mcp:use accounts:read")))))
                .isTrue();
    }

    // --- RFC 8707: the token is bound to the server's canonical URI
    // -----------------------------------------------------

    @Test
    void audience_everySpellingOfTheServersUri_accepted() {
        for (Object aud : List.<Object>of(
                RESOURCE,
                RESOURCE + "/",
                "HTTPS://MCP.Bank.Test/mcp",
                "https://mcp.bank.test:443/mcp",
                List.of(RESOURCE),
                List.of("meshguard", "https://mcp.bank.test:443/mcp/"))) {
            CheckResponse r =
                    toolCall("mcp.bank.test", "get_balance", Optional.of(token(aud, "mcp:use accounts:read")));
            assertThat(allowed(r))
                    .as("aud %s: %s", aud, r.getDeniedResponse().getBody())
                    .isTrue();
        }
    }

    @Test
    void audience_anyOtherResourceOrNone_refused401InvalidToken_andAudited() {
        List<Object> others = new ArrayList<>(List.of(
                "https://mcp.bank.test/MCP", // paths are case-sensitive
                "https://mcp.bank.test", // the origin is another resource
                "https://mcp.bank.test/mcp/tools", // so is a path below
                "https://mcp.bank.test/mc",
                "http://mcp.bank.test/mcp", // another scheme
                "https://mcp.bank.test:8443/mcp", // another port
                "https://mcp.bank.test.evil.test/mcp",
                "https://evil.test/mcp",
                "https://mcp.bank.test/mcp?x=1",
                "https://mcp.bank.test/mcp#f",
                "https://agent@mcp.bank.test/mcp",
                "mcp.bank.test/mcp", // no scheme
                " https://mcp.bank.test/mcp",
                "meshguard",
                "",
                List.of(),
                List.of("meshguard", "https://other.bank.test/mcp")));
        others.add(null); // no aud at all
        for (Object aud : others) {
            CheckResponse r =
                    toolCall("mcp.bank.test", "get_balance", Optional.of(token(aud, "mcp:use accounts:read")));
            assertThat(status(r)).as("aud %s", aud).isEqualTo(401);
            assertThat(r.getDeniedResponse().getBody()).as("aud %s", aud).contains("\"reason\":\"wrong_audience\"");
            assertThat(deniedHeaders(r).get("www-authenticate"))
                    .as("aud %s", aud)
                    .startsWith("Bearer error=\"invalid_token\", scope=\"accounts:read mcp:use\", resource_metadata=\""
                            + METADATA + "\"");
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> audit.stream()
                .anyMatch(e -> e.reason().equals("wrong_audience")
                        && e.route().orElse("").equals("mcp-bank")
                        && e.status() == 401));
    }

    @Test
    void boundToken_onAnotherApiOrAnotherMcpServerOfTheSameIssuer_refused401WrongAudience() {
        for (Object aud : List.<Object>of(
                RESOURCE,
                "HTTPS://MCP.Bank.Test:443/mcp/",
                List.of("meshguard", RESOURCE),
                List.of(RESOURCE, "https://api.bank.test"))) {
            String token = token(aud, "mcp:use accounts:read");
            CheckResponse api =
                    check("GET", "api.bank.test", "/statements", Map.of(), "authorization", "Bearer " + token);
            assertThat(status(api)).as("aud %s on a plain API", aud).isEqualTo(401);
            assertThat(api.getDeniedResponse().getBody()).as("aud %s", aud).contains("\"reason\":\"wrong_audience\"");
            CheckResponse unbound = toolCall("plain.bank.test", "get_balance", Optional.of(token));
            assertThat(status(unbound))
                    .as("aud %s on an MCP route naming no server", aud)
                    .isEqualTo(401);
            assertThat(status(toolCall("tools.bank.test", "/", "get_balance", Optional.of(token))))
                    .as("aud %s on another MCP server", aud)
                    .isEqualTo(401);
            assertThat(allowed(toolCall("mcp.bank.test", "get_balance", Optional.of(token))))
                    .as("aud %s on its own server", aud)
                    .isTrue();
        }
    }

    @Test
    void unboundToken_onAnotherApi_stillAllowed() {
        for (Object aud : Arrays.<Object>asList(null, "meshguard", List.of("meshguard", "https://api.bank.test"))) {
            String token = token(aud, "mcp:use");
            CheckResponse api =
                    check("GET", "api.bank.test", "/statements", Map.of(), "authorization", "Bearer " + token);
            assertThat(allowed(api))
                    .as("aud %s: %s", aud, api.getDeniedResponse().getBody())
                    .isTrue();
        }
    }

    // --- the policy refuses what could not work
    // -------------------------------------------------------------------------

    @Test
    void policy_resourceThatIsNotACanonicalServerUri_refusedWithItsLine() {
        for (String bad : List.of(
                "mcp.bank.test/mcp",
                "ftp://mcp.bank.test/mcp",
                "https://mcp.bank.test/mcp?x=1",
                "https://mcp.bank.test/mcp#f",
                "https://agent@mcp.bank.test/mcp",
                "https:///mcp",
                "https://mcp.bank.test/mé")) {
            assertThatThrownBy(() -> Fixtures.parse(route("auth: jwt", "resource: '" + bad + "'")))
                    .as(bad)
                    .hasMessageContaining("mcp.resource");
        }
    }

    @Test
    void policy_resourceOnARouteWithoutTokensOrOnAHostTheRouteDoesNotMatch_refused() {
        assertThatThrownBy(() -> Fixtures.parse(route("auth: apikey", "resource: https://mcp.bank.test/mcp")))
                .hasMessageContaining("takes tokens");
        assertThatThrownBy(() -> Fixtures.parse(route("auth: jwt", "resource: https://elsewhere.test/mcp")))
                .hasMessageContaining("is not one the route matches");
        assertThatThrownBy(() -> Fixtures.parse(route("auth: jwt", "authorization_servers: [https://as.test]")))
                .hasMessageContaining("resource");
        // a policy that would let the client's token through to the MCP server
        assertThatThrownBy(() -> Fixtures.parse("settings: {credential_headers: [x-api-key, cookie]}\n"
                        + route("auth: jwt", "resource: https://mcp.bank.test/mcp")))
                .hasMessageContaining("never gets the client's token");
    }

    @Test
    void allowedToolCall_theClientsTokenNeverReachesTheMcpServer() {
        CheckResponse r =
                toolCall("mcp.bank.test", "get_balance", Optional.of(token(RESOURCE, "mcp:use accounts:read")));
        assertThat(allowed(r)).isTrue();
        assertThat(r.getOkResponse().getHeadersToRemoveList()).contains("authorization");
        assertThat(r.getOkResponse().getHeadersList())
                .noneMatch(h -> h.getHeader().getKey().equalsIgnoreCase("authorization"));
    }

    static String route(String auth, String mcp) {
        return """
                issuers:
                  - {name: i, issuer: https://i.test, jwks_uri: http://127.0.0.1:1/jwks.json, algorithms: [RS256]}
                routes:
                  - name: r
                    match: {hosts: [mcp.bank.test], path: /mcp}
                    %s
                    mcp:
                      %s
                """.formatted(auth, mcp);
    }
}
