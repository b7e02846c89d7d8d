package io.meshguard.dlp.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class DlpPolicyParserTest {
    /** The parser's errors of {@code yaml}, each {@code file:line: message}; empty when it is valid. */
    static List<String> errors(String yaml) {
        try {
            DlpPolicyParser.parse("dlp.yaml", yaml);
            return List.of();
        } catch (PolicyInvalidException e) {
            return e.errors().stream().map(PolicyError::toString).toList();
        }
    }

    @Test
    void everyErrorCarriesFileAndLine_andAllAreReportedAtOnce() {
        List<String> e = errors("""
                version: 1
                detectors:
                  emp:
                    pattern: 'EMP-\\d+'
                  bad_re:
                    pattern: '(unclosed'
                profiles:
                  - name: a
                    match: {paths: ["no-slash"]}
                    request:
                      detectors:
                        card: shred
                        nosuch: mask
                        email: {action: mask, keep_last: 99}
                      oversize: maybe
                    colour: red
                """);
        assertThat(e)
                .contains(
                        "dlp.yaml:4: pattern of 'emp': unbounded repetition '+' at character 7; give a maximum, e.g. {1,64}",
                        "dlp.yaml:9: path 'no-slash' must start with '/'",
                        "dlp.yaml:12: unknown action 'shred'; use mask, redact, hash, block or alert",
                        "dlp.yaml:14: 99 is out of range [0, 16]",
                        "dlp.yaml:15: 'oversize' must be 'pass' or 'block'",
                        "dlp.yaml:16: unknown key 'colour'; allowed here: match, mcp, mcp_approval, mcp_pins, name, request, response,"
                                + " websocket");
        assertThat(e).anyMatch(s -> s.startsWith("dlp.yaml:6: pattern of 'bad_re' is not valid RE2 syntax"));
        assertThat(e).anyMatch(s -> s.startsWith("dlp.yaml:13: unknown detector 'nosuch'"));
    }

    @Test
    void brokenYaml_andMissingPieces_areClearErrors() {
        assertThat(errors("version: 1\nprofiles: [\n"))
                .singleElement()
                .asString()
                .startsWith("dlp.yaml:");
        assertThat(errors("profiles: []")).containsExactly("dlp.yaml:1: 'version: 1' is required");
        assertThat(errors("version: 2\nprofiles: []"))
                .containsExactly("dlp.yaml:1: unsupported version; this meshguard reads version 1");
        assertThat(errors("version: 1\nblock_response: {status: 200}\nprofiles: []"))
                .containsExactly("dlp.yaml:2: 200 is out of range [400, 499]");
    }

    @Test
    void profiles_matchByPathHostAndContentType_firstWins() throws Exception {
        DlpPolicy p = DlpPolicyParser.parse("dlp.yaml", """
                version: 1
                profiles:
                  - name: json-api
                    match: {hosts: ["*.bank.internal"], paths: ["/api/*/cards"], content_types: ["application/json"]}
                    response: {detectors: {card: mask}}
                  - name: rest
                    response: {detectors: {card: redact}}
                """);
        assertThat(p.select(
                                Direction.RESPONSE,
                                "pay.bank.internal:8443",
                                "/api/v1/cards?x=1",
                                "application/json; charset=utf-8")
                        .orElseThrow()
                        .profile())
                .isEqualTo("json-api");
        assertThat(p.select(Direction.RESPONSE, "pay.bank.internal", "/api/v1/cards", "text/plain")
                        .orElseThrow()
                        .profile())
                .isEqualTo("rest");
        assertThat(p.select(Direction.REQUEST, "x", "/", "")).isEmpty();
    }

    @Test
    void keywordDetectors_areBuiltWithoutRegexes() throws Exception {
        assertThatThrownBy(() -> DlpPolicyParser.parse("dlp.yaml", """
                version: 1
                detectors:
                  marking: {keywords: []}
                profiles: []
                """))
                .hasMessageContaining("dlp.yaml:3: 'keywords' must list at least one word");
    }

    @Test
    void websocketAndGrpc_dispositions_defaultToBlockAndToNonText_andRefuseOtherWords() throws Exception {
        DlpPolicy p = DlpPolicyParser.parse("dlp.yaml", """
                version: 1
                profiles:
                  - name: ws
                    websocket: pass
                    request: {detectors: {card: mask}, non_text: block}
                  - name: rpc
                    request: {detectors: {card: mask}, grpc: block}
                    response: {detectors: {card: mask}, non_text: block, grpc: pass}
                """);
        DlpPolicy.Profile ws = p.profile("ws").orElseThrow();
        DlpPolicy.Profile rpc = p.profile("rpc").orElseThrow();
        assertThat(ws.websocket()).isEqualTo(DirectionPolicy.Disposition.PASS);
        assertThat(rpc.websocket())
                .as("a bank refuses frames it cannot scan unless told otherwise")
                .isEqualTo(DirectionPolicy.Disposition.BLOCK);
        assertThat(ws.request().orElseThrow().grpc())
                .as("absent: as non_text")
                .isEqualTo(DirectionPolicy.Disposition.BLOCK);
        assertThat(rpc.request().orElseThrow().grpc()).isEqualTo(DirectionPolicy.Disposition.BLOCK);
        assertThat(rpc.request().orElseThrow().nonText()).isEqualTo(DirectionPolicy.Disposition.PASS);
        assertThat(rpc.response().orElseThrow().grpc()).isEqualTo(DirectionPolicy.Disposition.PASS);

        assertThat(errors("""
                version: 1
                profiles:
                  - name: a
                    websocket: scan
                    request:
                      detectors: {card: mask}
                      grpc: maybe
                """))
                .containsExactlyInAnyOrder(
                        "dlp.yaml:4: 'websocket' must be 'pass' or 'block'",
                        "dlp.yaml:7: 'grpc' must be 'pass' or 'block'");
    }

    @Test
    void upgradeProfile_isTheRoutesOrTheFirstMatchingHostAndPath_whateverItsContentTypes() throws Exception {
        DlpPolicy p = DlpPolicyParser.parse("dlp.yaml", """
                version: 1
                profiles:
                  - name: json-only
                    match: {paths: ["/ws"], content_types: ["application/json"]}
                    request: {detectors: {card: mask}}
                  - name: rest
                    websocket: pass
                    request: {detectors: {card: mask}}
                """);
        assertThat(p.upgradeProfile(java.util.Optional.empty(), "h", "/ws/chat").map(DlpPolicy.Profile::name))
                .contains("json-only");
        assertThat(p.upgradeProfile(java.util.Optional.of("rest"), "h", "/ws/chat")
                        .map(DlpPolicy.Profile::name))
                .contains("rest");
        assertThat(p.upgradeProfile(java.util.Optional.empty(), "h", "/other").map(DlpPolicy.Profile::name))
                .contains("rest");
    }

    @Test
    void grpcContentTypes_inEverySpelling_areNonTextGrpc_evenWithAJsonSuffix() {
        for (String t : List.of(
                "application/grpc",
                "application/grpc+proto",
                "Application/GRPC+json",
                "application/grpc-web",
                "application/grpc-web+proto",
                "application/grpc-web-text",
                "application/grpc-web-text+proto",
                "application/grpc; charset=utf-8")) {
            assertThat(MediaTypes.isGrpc(t)).as(t).isTrue();
            assertThat(MediaTypes.kind(t)).as(t).isEqualTo(MediaTypes.Kind.NON_TEXT);
        }
        for (String t : List.of("application/grpcx", "application/json", "text/grpc", "application/octet-stream", "")) {
            assertThat(MediaTypes.isGrpc(t)).as(t).isFalse();
        }
    }

    @Test
    void mcpApproval_readWithItsTools_expiry_owners_andThePolicyVersion() throws Exception {
        String yaml = """
                version: 1
                profiles:
                  - name: mcp
                    mcp: true
                    mcp_approval:
                      tools: [transfer_funds]
                      expires_seconds: 600
                      agent_owners: {agent-7: owner-olga}
                """;
        DlpPolicy p = DlpPolicyParser.parse("dlp.yaml", yaml);
        McpApproval a = p.profile("mcp").orElseThrow().mcpApproval().orElseThrow();
        assertThat(a.holds("transfer_funds")).isTrue();
        assertThat(a.holds("get_balance")).isFalse();
        assertThat(a.expires()).isEqualTo(java.time.Duration.ofMinutes(10));
        assertThat(a.agentOwners()).containsEntry("agent-7", "owner-olga");
        assertThat(p.version())
                .as("the version is the file's SHA-256, as the admin trail's reload rows name it")
                .isEqualTo(io.meshguard.runtime.policy.PolicyReload.digestOf(
                        yaml.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(DlpPolicyParser.parse("dlp.yaml", yaml + "\n").version()).isNotEqualTo(p.version());
    }

    @Test
    void identityHeaders_defaultToExtauthzs_andFollowARename() throws Exception {
        assertThat(DlpPolicyParser.parse("dlp.yaml", "version: 1\nprofiles: []").identityHeaders())
                .isEqualTo(IdentityHeaderNames.DEFAULTS);
        IdentityHeaderNames renamed = DlpPolicyParser.parse(
                        "dlp.yaml",
                        "version: 1\nidentity_headers: {subject: X-MG-Subject, client_id: x-mg-agent}\n"
                                + "profiles: []")
                .identityHeaders();
        assertThat(renamed).isEqualTo(new IdentityHeaderNames("x-mg-subject", "x-auth-issuer", "x-mg-agent"));
    }

    @Test
    void identityHeaders_notAHeaderName_orAnUnknownKey_refused() {
        assertThat(errors("version: 1\nidentity_headers: {subject: \"x user\", tenant: x-t}\nprofiles: []"))
                .containsExactlyInAnyOrder(
                        "dlp.yaml:2: unknown key 'tenant'; allowed here: client_id, issuer, subject",
                        "dlp.yaml:2: identity_headers.subject must be a header name (letters, digits, '-')");
    }

    @Test
    void mcpApproval_withoutMcp_withoutTools_orWithAnExpiryOutOfRange_refused() {
        assertThat(errors("""
                version: 1
                profiles:
                  - name: a
                    mcp_approval: {tools: [x]}
                  - name: b
                    mcp: true
                    mcp_approval: {expires_seconds: 10}
                """))
                .contains(
                        "dlp.yaml:4: 'mcp_approval' holds MCP tool calls: the profile needs 'mcp: true'",
                        "dlp.yaml:7: 'mcp_approval' needs 'tools': the tool names whose calls two people approve",
                        "dlp.yaml:7: 10 is out of range [60, 86400]");
    }
}
