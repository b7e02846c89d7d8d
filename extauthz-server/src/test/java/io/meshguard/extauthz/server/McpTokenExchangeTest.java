package io.meshguard.extauthz.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.rpc.Code;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.exchange.TokenExchangeSettings;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.KeycloakServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Token exchange on MCP routes against a real Keycloak (the build's one, a realm of this class) through the real
 * extauthz server over gRPC on loopback: the MCP server gets a token Keycloak issued for it (RFC 8693 standard token
 * exchange), never the caller's; each decision row names user → agent → server; and without a token for the server
 * the request is refused, never forwarded.
 */
@IntegrationTest
class McpTokenExchangeTest {
    @TempDir
    static Path dir;

    static final ObjectMapper JSON = new ObjectMapper();
    static final String REALM = "mcp-token-exchange";
    static final String PAYMENTS = "https://mcp.bank.test/mcp";
    static final String LEDGER = "https://ledger.bank.test/mcp";
    static final String VAULT = "https://vault.bank.test/mcp";

    static KeycloakServer keycloak;
    static Path secretFile;
    static Running main;
    static String aliceToken;
    static String bobToken;

    /**
     * The realm docs/agents.md tells an operator to set up: the agent's client puts the MCP servers' URIs and the
     * gateway's exchange client in its tokens' aud; the exchange client has standard token exchange on and the MCP
     * servers it may exchange to mapped as audiences; the vault server is a client the gateway has no mapping for.
     */
    static String realm() {
        return """
                {
                  "realm": "%s",
                  "enabled": true,
                  "accessTokenLifespan": 300,
                  "eventsEnabled": true,
                  "enabledEventTypes": ["TOKEN_EXCHANGE", "TOKEN_EXCHANGE_ERROR"],
                  "roles": {"realm": [{"name": "agent"}]},
                  "clients": [
                    {"clientId": "payments-agent", "publicClient": false, "secret": "agent-secret",
                     "standardFlowEnabled": false, "directAccessGrantsEnabled": true,
                     "protocolMappers": [
                       %s, %s, %s,
                       {"name": "gateway-audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
                        "config": {"included.client.audience": "meshguard-gateway", "access.token.claim": "true"}}
                     ]},
                    {"clientId": "other-agent", "publicClient": false, "secret": "other-secret",
                     "standardFlowEnabled": false, "directAccessGrantsEnabled": true,
                     "protocolMappers": [%s]},
                    {"clientId": "meshguard-gateway", "publicClient": false, "secret": "gateway-secret",
                     "standardFlowEnabled": false, "directAccessGrantsEnabled": false,
                     "attributes": {"standard.token.exchange.enabled": "true"},
                     "protocolMappers": [%s, %s]},
                    {"clientId": "%s", "publicClient": false, "secret": "unused-1", "standardFlowEnabled": false},
                    {"clientId": "%s", "publicClient": false, "secret": "unused-2", "standardFlowEnabled": false},
                    {"clientId": "%s", "publicClient": false, "secret": "unused-3", "standardFlowEnabled": false}
                  ],
                  "users": [%s, %s]
                }
                """.formatted(
                        REALM,
                        customAudience("payments-server", PAYMENTS),
                        customAudience("ledger-server", LEDGER),
                        customAudience("vault-server", VAULT),
                        customAudience("payments-server", PAYMENTS),
                        clientAudience("payments-server", PAYMENTS),
                        clientAudience("ledger-server", LEDGER),
                        PAYMENTS,
                        LEDGER,
                        VAULT,
                        user("alice"),
                        user("bob"));
    }

    static String customAudience(String name, String audience) {
        return """
                {"name": "%s", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
                 "config": {"included.custom.audience": "%s", "access.token.claim": "true"}}""".formatted(name, audience);
    }

    static String clientAudience(String name, String client) {
        return """
                {"name": "%s", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
                 "config": {"included.client.audience": "%s", "access.token.claim": "true"}}""".formatted(name, client);
    }

    static String user(String name) {
        return """
                {"username": "%s", "enabled": true, "email": "%s@bank.test", "emailVerified": true,
                 "firstName": "%s", "lastName": "Tester", "realmRoles": ["agent"],
                 "credentials": [{"type": "password", "value": "%s-password", "temporary": false}]}""".formatted(name, name, name, name);
    }

    static String policy(String issuer) {
        return """
                issuers:
                  - name: agents
                    issuer: %s
                    discovery: %s/.well-known/openid-configuration
                    algorithms: [RS256]
                    claims: {subject: sub, roles: realm_access.roles, scopes: scope, client_id: azp}
                routes:
                  - name: payments-mcp
                    match: {hosts: [mcp.bank.test], path: /mcp, methods: [POST]}
                    auth: jwt
                    roles: [agent]
                    mcp:
                      resource: %s
                      token_exchange: {}
                  - name: ledger-mcp
                    match: {hosts: [ledger.bank.test], path: /mcp, methods: [POST]}
                    auth: jwt
                    mcp:
                      resource: %s
                      token_exchange: {}
                  - name: vault-mcp
                    match: {hosts: [vault.bank.test], path: /mcp, methods: [POST]}
                    auth: jwt
                    mcp:
                      resource: %s
                      token_exchange: {audience: %s}
                  - name: payments-unexchanged
                    match: {hosts: [mcp.bank.test], path: /plain, methods: [POST]}
                    auth: jwt
                    mcp:
                      resource: %s
                  - name: payments-admin
                    match: {hosts: [mcp.bank.test], path: /admin, methods: [POST]}
                    auth: jwt
                    roles: [payments-admin]
                    mcp:
                      resource: %s
                      token_exchange: {}
                """.formatted(issuer, issuer, PAYMENTS, LEDGER, VAULT, VAULT, PAYMENTS, PAYMENTS);
    }

    /** A server, its channel, its decision rows and its meters. */
    record Running(
            ExtAuthzServer server,
            ManagedChannel channel,
            AuthorizationGrpc.AuthorizationBlockingStub stub,
            ConcurrentLinkedQueue<AuthzDecisionEvent> audit,
            MeterRegistry registry)
            implements AutoCloseable {
        @Override
        public void close() {
            channel.shutdownNow();
            server.close();
        }

        CheckResponse toolCall(String host, String token, String... headers) {
            return toolCallAt(host, "/mcp", token, headers);
        }

        CheckResponse toolCallAt(String host, String path, String token, String... headers) {
            Map<String, List<String>> h = new LinkedHashMap<>();
            h.put("mcp-protocol-version", List.of("2026-07-28"));
            h.put("mcp-method", List.of("tools/call"));
            h.put("mcp-name", List.of("transfer_funds"));
            h.put("authorization", List.of("Bearer " + token));
            for (int i = 0; i < headers.length; i += 2) {
                h.put(headers[i], List.of(headers[i + 1]));
            }
            return stub.check(CheckRequests.of("POST", host, path, h, Map.of(), CheckRequests.Encoding.HEADERS));
        }

        /** The row of the last Check (rows are written after the answer: waited for). */
        AuthzDecisionEvent lastRow(int before) {
            await().atMost(Duration.ofSeconds(10)).until(() -> audit.size() > before);
            return new ArrayList<>(audit).get(audit.size() - 1);
        }

        double exchanges(String result) {
            return registry.get("meshguard_extauthz_token_exchange_total")
                    .tag("result", result)
                    .counter()
                    .count();
        }

        long keycloakCalls() {
            return registry.get("meshguard_extauthz_token_exchange_duration_seconds")
                    .timer()
                    .count();
        }
    }

    static String tokenEndpoint() {
        return keycloak.issuer(REALM) + "/protocol/openid-connect/token";
    }

    static TokenExchangeSettings exchangeAt(String endpoint, String clientId, Duration timeout) {
        return new TokenExchangeSettings(
                Optional.of(URI.create(endpoint)),
                clientId,
                Optional.of(secretFile),
                timeout,
                1000,
                Duration.ofSeconds(30));
    }

    static Running start(TokenExchangeSettings exchange) throws Exception {
        Path file = Files.createTempFile(dir, "authz", ".yaml");
        Files.writeString(file, policy(keycloak.issuer(REALM)));
        ConcurrentLinkedQueue<AuthzDecisionEvent> audit = new ConcurrentLinkedQueue<>();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        ExtAuthzConfig config =
                ExtAuthzConfig.onLoopback(file, Duration.ofSeconds(30)).withTokenExchange(exchange);
        ExtAuthzServer server = new ExtAuthzServer(config, registry, Optional.empty(), audit::add, Clock.systemUTC());
        server.start();
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", server.grpcPort())
                .usePlaintext()
                .build();
        await().atMost(Duration.ofSeconds(30)).until(() -> server.notReady().isEmpty());
        return new Running(
                server,
                channel,
                AuthorizationGrpc.newBlockingStub(channel).withDeadlineAfter(Duration.ofSeconds(30)),
                audit,
                registry);
    }

    @BeforeAll
    static void setUp() throws Exception {
        keycloak = KeycloakServer.shared();
        keycloak.importRealm(realm());
        secretFile = dir.resolve("exchange-client-secret");
        Files.writeString(secretFile, "gateway-secret\n");
        main = start(exchangeAt(tokenEndpoint(), "meshguard-gateway", Duration.ofSeconds(5)));
        aliceToken = userToken("alice");
        bobToken = userToken("bob");
    }

    @AfterAll
    static void tearDown() {
        if (main != null) {
            main.close();
        }
    }

    /** A token the agent got for {@code user} (password grant: the user's own session in Keycloak). */
    static String userToken(String user) {
        return userToken(user, "payments-agent", "agent-secret");
    }

    static String userToken(String user, String agent, String agentSecret) {
        var r = keycloak.token(
                REALM,
                Map.of(
                        "grant_type",
                        "password",
                        "client_id",
                        agent,
                        "client_secret",
                        agentSecret,
                        "username",
                        user,
                        "password",
                        user + "-password",
                        "scope",
                        "openid"));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return KeycloakServer.jsonField(r.body(), "access_token");
    }

    static JWTClaimsSet claims(String jwt) throws Exception {
        return SignedJWT.parse(jwt).getJWTClaimsSet();
    }

    static boolean allowed(CheckResponse r) {
        return r.getStatus().getCode() == Code.OK_VALUE;
    }

    static String upstreamAuthorization(CheckResponse r) {
        List<HeaderValueOption> set = r.getOkResponse().getHeadersList().stream()
                .filter(h -> h.getHeader().getKey().equals("authorization"))
                .toList();
        assertThat(set).singleElement().satisfies(h -> assertThat(h.getAppendAction())
                .isEqualTo(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD));
        String value = set.get(0).getHeader().getValue();
        assertThat(value).startsWith("Bearer ");
        return value.substring("Bearer ".length());
    }

    /** Keycloak's own count of the exchanges it answered in this realm (its event store). */
    static int keycloakExchangeEvents() throws Exception {
        var r = keycloak.admin("GET", "/admin/realms/" + REALM + "/events?type=TOKEN_EXCHANGE&max=1000", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body()).size();
    }

    static JsonNode body(CheckResponse r) throws Exception {
        return JSON.readTree(r.getDeniedResponse().getBody());
    }

    // --- the exchanged token goes upstream, the caller's never -------------------------------------------------------

    @Test
    void check_mcpRouteWithExchange_sendsKeycloaksTokenForTheServer_neverTheCallers() throws Exception {
        int rows = main.audit().size();
        CheckResponse r = main.toolCall("mcp.bank.test", aliceToken, "x-forwarded-access-token", aliceToken);

        assertThat(allowed(r)).as(r.toString()).isTrue();
        String exchanged = upstreamAuthorization(r);
        assertThat(exchanged).isNotEqualTo(aliceToken);
        JWTClaimsSet in = claims(aliceToken);
        JWTClaimsSet out = claims(exchanged);
        assertThat(out.getAudience()).containsExactly(PAYMENTS);
        assertThat(out.getSubject()).isEqualTo(in.getSubject());
        assertThat(out.getIssuer()).isEqualTo(keycloak.issuer(REALM));
        // Keycloak 26.4's standard token exchange is impersonation-shaped: the requester becomes azp, no act is
        // written (delegation, with act, is keycloak/keycloak#38279, not in 26.4)
        assertThat(out.getStringClaim("azp")).isEqualTo("meshguard-gateway");
        assertThat(out.getClaim("act")).isNull();
        // the caller's token is in no header the upstream gets: authorization is overwritten (never removed after
        // being set), the copy the client put in another header is removed
        assertThat(r.getOkResponse().getHeadersList())
                .noneSatisfy(h -> assertThat(h.getHeader().getValue()).contains(aliceToken));
        assertThat(r.getOkResponse().getHeadersToRemoveList())
                .contains("x-forwarded-access-token")
                .doesNotContain("authorization");

        AuthzDecisionEvent row = main.lastRow(rows);
        assertThat(row.decision()).isEqualTo("allow");
        assertThat(row.details()).containsEntry("token_exchange", "exchanged").doesNotContainKey("exchanged_act");
        JsonNode chain = JSON.readTree(row.details().get("delegation"));
        assertThat(chain.path("sub").asText()).isEqualTo(in.getSubject());
        assertThat(chain.path("act").path("sub").asText()).isEqualTo("payments-agent");
        assertThat(chain.path("act").has("act")).isFalse();
        assertThat(chain.path("aud").asText()).isEqualTo(PAYMENTS);
        assertThat(row.details().values()).noneSatisfy(v -> assertThat(v).contains(exchanged));
    }

    @Test
    void check_sameCallerAgain_reusesTheExchange_keycloakAskedOnce() throws Exception {
        String token = userToken("alice");
        int eventsBefore = keycloakExchangeEvents();
        long callsBefore = main.keycloakCalls();

        String first = upstreamAuthorization(main.toolCall("mcp.bank.test", token));
        int rows = main.audit().size();
        String second = upstreamAuthorization(main.toolCall("mcp.bank.test", token));

        assertThat(second).isEqualTo(first);
        assertThat(main.lastRow(rows).details()).containsEntry("token_exchange", "cached");
        assertThat(keycloakExchangeEvents()).isEqualTo(eventsBefore + 1);
        assertThat(main.keycloakCalls()).isEqualTo(callsBefore + 1);
    }

    @Test
    void check_concurrentFirstCallsOfOneCaller_makeOneKeycloakRequest() throws Exception {
        String token = userToken("alice");
        int eventsBefore = keycloakExchangeEvents();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> got = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                got.add(pool.submit(() -> upstreamAuthorization(main.toolCall("mcp.bank.test", token))));
            }
            List<String> tokens = new ArrayList<>();
            for (Future<String> f : got) {
                tokens.add(f.get(30, TimeUnit.SECONDS));
            }
            assertThat(tokens).containsOnly(tokens.get(0));
        } finally {
            pool.shutdownNow();
        }
        assertThat(keycloakExchangeEvents()).isEqualTo(eventsBefore + 1);
    }

    @Test
    void check_oneCallerOnTwoServers_eachGetsATokenForItself_neverTheOthers() throws Exception {
        String token = userToken("alice");
        String payments = upstreamAuthorization(main.toolCall("mcp.bank.test", token));
        String ledger = upstreamAuthorization(main.toolCall("ledger.bank.test", token));
        String paymentsAgain = upstreamAuthorization(main.toolCall("mcp.bank.test", token));

        assertThat(claims(payments).getAudience()).containsExactly(PAYMENTS);
        assertThat(claims(ledger).getAudience()).containsExactly(LEDGER);
        assertThat(ledger).isNotEqualTo(payments);
        assertThat(paymentsAgain).isEqualTo(payments);
    }

    @Test
    void check_twoUsersThroughOneAgent_eachGetsATokenForThemselves() throws Exception {
        String forAlice = upstreamAuthorization(main.toolCall("mcp.bank.test", aliceToken));
        String forBob = upstreamAuthorization(main.toolCall("mcp.bank.test", bobToken));

        assertThat(claims(forAlice).getSubject()).isEqualTo(claims(aliceToken).getSubject());
        assertThat(claims(forBob).getSubject()).isEqualTo(claims(bobToken).getSubject());
        assertThat(claims(forBob).getSubject()).isNotEqualTo(claims(forAlice).getSubject());
    }

    @Test
    void check_mcpRouteWithoutExchange_stripsTheCallersToken_andSetsNone() {
        CheckResponse r = main.toolCallAt("mcp.bank.test", "/plain", aliceToken);
        assertThat(allowed(r)).isTrue();
        assertThat(r.getOkResponse().getHeadersToRemoveList()).contains("authorization");
        assertThat(r.getOkResponse().getHeadersList())
                .noneSatisfy(h -> assertThat(h.getHeader().getKey()).isEqualTo("authorization"));
    }

    @Test
    void check_policyDenies_noExchangeMade_rowStillNamesTheChain() throws Exception {
        int rows = main.audit().size();
        long calls = main.keycloakCalls();
        Map<String, List<String>> h = new LinkedHashMap<>();
        h.put("authorization", List.of("Bearer " + aliceToken));
        CheckResponse r = main.stub()
                .check(CheckRequests.of(
                        "POST", "mcp.bank.test", "/admin", h, Map.of(), CheckRequests.Encoding.HEADERS));
        assertThat(allowed(r)).isFalse();
        assertThat(main.keycloakCalls()).isEqualTo(calls);
        AuthzDecisionEvent row = main.lastRow(rows);
        assertThat(row.reason()).isEqualTo("insufficient_role");
        assertThat(JSON.readTree(row.details().get("delegation")).path("aud").asText())
                .isEqualTo(PAYMENTS);
    }

    // --- no token for the server: refused, never forwarded -----------------------------------------------------------

    @Test
    void check_keycloakRefusesTheAudience_denied403TokenExchangeRefused_notForwarded() throws Exception {
        int rows = main.audit().size();
        CheckResponse r = main.toolCall("vault.bank.test", aliceToken);

        assertThat(allowed(r)).isFalse();
        assertThat(r.hasOkResponse()).isFalse();
        assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(403);
        assertThat(body(r).path("reason").asText()).isEqualTo("token_exchange_refused");
        AuthzDecisionEvent row = main.lastRow(rows);
        assertThat(row.reason()).isEqualTo("token_exchange_refused");
        assertThat(row.details()).containsEntry("token_exchange", "refused");
        assertThat(JSON.readTree(row.details().get("delegation")).path("aud").asText())
                .isEqualTo(VAULT);
        assertThat(main.exchanges("refused")).isGreaterThanOrEqualTo(1);
        // the policy allowed it: a draft cannot change what the identity provider refused, so replay says so
        var recorded = io.meshguard.authz.replay.RecordedDecision.fromJson(
                row.replay().orElseThrow().json(), row.requestId(), row.time(), Optional.empty());
        var policy = new io.meshguard.authz.policy.AuthzPolicyParser()
                .parse("authz.yaml", new java.io.StringReader(policy(keycloak.issuer(REALM))));
        assertThat(new io.meshguard.authz.replay.DecisionReplay(policy).replay(recorded))
                .isInstanceOfSatisfying(
                        io.meshguard.authz.replay.ReplayOutcome.NotReplayable.class,
                        n -> assertThat(n.toString()).contains("refused by the token exchange"));
    }

    @Test
    void check_agentWhoseTokensDoNotNameTheGateway_refused403_keycloakLetsOnlyNamedRequestersExchange()
            throws Exception {
        String token = userToken("alice", "other-agent", "other-secret");
        assertThat(claims(token).getAudience()).containsExactly(PAYMENTS);
        CheckResponse r = main.toolCall("mcp.bank.test", token);
        assertThat(allowed(r)).isFalse();
        assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(403);
        assertThat(body(r).path("reason").asText()).isEqualTo("token_exchange_refused");
    }

    @Test
    void check_keycloakUnreachable_denied503_notForwarded() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        try (Running down = start(exchangeAt(
                "http://127.0.0.1:" + closedPort + "/realms/" + REALM + "/protocol/openid-connect/token",
                "meshguard-gateway",
                Duration.ofSeconds(5)))) {
            CheckResponse r = down.toolCall("mcp.bank.test", aliceToken);
            assertThat(allowed(r)).isFalse();
            assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(503);
            assertThat(body(r).path("reason").asText()).isEqualTo("token_exchange_unavailable");
            assertThat(down.exchanges("unreachable")).isEqualTo(1);
        }
    }

    @Test
    void check_keycloakSlowerThanTheTimeout_denied503WithinIt() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                Running slow = start(exchangeAt(
                        "http://127.0.0.1:" + silent.getLocalPort() + "/token",
                        "meshguard-gateway",
                        Duration.ofMillis(400)))) {
            // accepts and never answers
            List<Socket> held = new ArrayList<>();
            Thread acceptor = Thread.ofVirtual().start(() -> {
                try {
                    while (true) {
                        held.add(silent.accept());
                    }
                } catch (java.io.IOException closed) {
                    // the test is over
                }
            });
            long start = System.nanoTime();
            CheckResponse r = slow.toolCall("mcp.bank.test", aliceToken);
            long millis = (System.nanoTime() - start) / 1_000_000;
            assertThat(allowed(r)).isFalse();
            assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(503);
            assertThat(slow.exchanges("timeout")).isEqualTo(1);
            assertThat(millis).isLessThan(3000);
            silent.close();
            acceptor.join(Duration.ofSeconds(5));
        }
    }

    @Test
    void check_exchangeClientSecretWrong_denied503ClientRejected() throws Exception {
        Path wrong = dir.resolve("wrong-secret");
        Files.writeString(wrong, "not-the-secret");
        TokenExchangeSettings s = new TokenExchangeSettings(
                Optional.of(URI.create(tokenEndpoint())),
                "meshguard-gateway",
                Optional.of(wrong),
                Duration.ofSeconds(5),
                1000,
                Duration.ofSeconds(30));
        try (Running rejected = start(s)) {
            CheckResponse r = rejected.toolCall("mcp.bank.test", aliceToken);
            assertThat(allowed(r)).isFalse();
            assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(503);
            assertThat(rejected.exchanges("client_rejected")).isEqualTo(1);
        }
    }

    @Test
    void check_tokenEndpointAnswersGarbage_denied503BadResponse() throws Exception {
        HttpServer garbage = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        List<String> answers = List.of(
                "{\"access_token\":\"not-a-jwt\",\"token_type\":\"Bearer\"}",
                // a well-formed token, but the caller's own: it names no MCP server
                "{\"access_token\":\"" + aliceToken + "\",\"token_type\":\"Bearer\"}",
                "<html>maintenance</html>");
        int[] next = {0};
        garbage.createContext("/token", ex -> {
            byte[] b = answers.get(Math.min(next[0]++, answers.size() - 1)).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("content-type", "application/json");
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        garbage.start();
        try (Running bad = start(exchangeAt(
                "http://127.0.0.1:" + garbage.getAddress().getPort() + "/token",
                "meshguard-gateway",
                Duration.ofSeconds(5)))) {
            for (int i = 0; i < answers.size(); i++) {
                CheckResponse r = bad.toolCall("mcp.bank.test", aliceToken);
                assertThat(allowed(r)).as(answers.get(i)).isFalse();
                assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(503);
            }
            assertThat(bad.exchanges("bad_response")).isEqualTo(answers.size());
        } finally {
            garbage.stop(0);
        }
    }

    @Test
    void check_noExchangeConfigured_exchangeRoutesDenied503_othersServed() throws Exception {
        try (Running none = start(TokenExchangeSettings.NONE)) {
            CheckResponse r = none.toolCall("mcp.bank.test", aliceToken);
            assertThat(allowed(r)).isFalse();
            assertThat(r.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(503);
            assertThat(none.exchanges("not_configured")).isEqualTo(1);
            assertThat(allowed(none.toolCallAt("mcp.bank.test", "/plain", aliceToken)))
                    .isTrue();
        }
    }
}
