package io.meshguard.authz.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringReader;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code token_exchange:} on a route's {@code mcp:}: what it asks for, and every shape refused at load with its line. */
class McpTokenExchangeParserTest {
    private static String route(String auth, String mcp) {
        return AuthzPolicyParserTest.ISSUER + """
                routes:
                  - name: tools
                    match: {hosts: [mcp.bank.test], path: /mcp, methods: [POST]}
                    auth: %s
                    mcp:
                %s
                """.formatted(auth, mcp.indent(6).stripTrailing());
    }

    private static List<PolicyError> errors(String yaml) {
        return AuthzPolicyParserTest.errors(yaml);
    }

    private static Optional<McpTokenExchange> exchangeOf(String yaml) throws PolicyInvalidException {
        AuthzPolicy p = new AuthzPolicyParser().parse("authz.yaml", new StringReader(yaml));
        return p.routeNamed("tools").orElseThrow().access().mcp().orElseThrow().tokenExchange();
    }

    @Test
    void tokenExchange_withoutAudience_asksForTheRoutesResourceUri_inItsCanonicalSpelling() throws Exception {
        Optional<McpTokenExchange> e =
                exchangeOf(route("jwt", "resource: HTTPS://MCP.bank.test:443/mcp/\ntoken_exchange: {}"));
        assertThat(e).contains(new McpTokenExchange("https://mcp.bank.test/mcp", Optional.empty()));
    }

    @Test
    void tokenExchange_namedAudienceAndScope_areAskedForAsWritten() throws Exception {
        Optional<McpTokenExchange> e = exchangeOf(
                route("jwt", "token_exchange: {audience: payments-mcp, scope: 'payments:read payments:write'}"));
        assertThat(e).contains(new McpTokenExchange("payments-mcp", Optional.of("payments:read payments:write")));
    }

    @Test
    void mcpRouteWithoutTokenExchange_exchangesNothing() throws Exception {
        assertThat(exchangeOf(route("jwt", "resource: https://mcp.bank.test/mcp")))
                .isEmpty();
    }

    @Test
    void tokenExchange_withNeitherAudienceNorResource_refusedWithItsLine() {
        assertThat(errors(route("jwt", "token_exchange: {}"))).singleElement().satisfies(err -> {
            assertThat(err.line()).isEqualTo(10);
            assertThat(err.message())
                    .contains("route tools.mcp.token_exchange")
                    .contains("name the MCP server's audience");
        });
    }

    @Test
    void tokenExchange_onApiKeyOrMeshRoutes_refused_onlyATokenCanBeExchanged() {
        for (String auth : List.of("apikey", "mtls")) {
            assertThat(errors(route(auth, "token_exchange: {audience: payments-mcp}")))
                    .as(auth)
                    .anySatisfy(err -> assertThat(err.message()).contains("only a token can be exchanged (auth jwt)"));
        }
    }

    @Test
    void tokenExchange_whenAuthorizationIsNoCredentialHeader_refused() {
        String yaml = "settings: {credential_headers: [x-api-key]}\n"
                + route("jwt", "token_exchange: {audience: payments-mcp}");
        assertThat(errors(yaml)).anySatisfy(err -> assertThat(err.message())
                .contains("keep authorization in settings.credential_headers"));
    }

    @Test
    void tokenExchange_besideAnUpstreamCredential_refused_theServerGetsOneCredential() {
        String yaml = route("jwt", "token_exchange: {audience: payments-mcp}")
                + "    upstream_credential: {header: authorization, prefix: 'Bearer ', file: /secrets/t}\n";
        assertThat(errors(yaml)).anySatisfy(err -> assertThat(err.message()).contains("also sets upstream_credential"));
    }

    @Test
    void tokenExchange_badAudienceScopeOrUnknownKey_refused() {
        assertThat(errors(route("jwt", "token_exchange: {audience: 'two words'}")))
                .anySatisfy(err -> assertThat(err.message()).contains(".audience: one client id or URI"));
        assertThat(errors(route("jwt", "token_exchange: {audience: a, scope: \"x\\ny\"}")))
                .anySatisfy(err -> assertThat(err.message()).contains(".scope: space-separated scope names"));
        assertThat(errors(route("jwt", "token_exchange: {audience: a, client_secret: s}")))
                .anySatisfy(err -> assertThat(err.message()).contains("unknown key 'client_secret'"));
    }
}
