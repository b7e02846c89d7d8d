package io.meshguard.devstack.demo;

import io.meshguard.emulator.UpstreamServer;
import java.io.IOException;
import java.util.List;

/**
 * The gateway configuration and the upstream services of the demo journeys (and of the end-to-end tests, which play
 * the same journeys): the API {@code demo} on {@code demo.local} with an active v2 (default), a deprecated v1 and a
 * sunset v0; a plain JSON route, an SSE chat route, a 90/10 canary, a ledger upstream named by DNS
 * ({@code localhost}); CORS for one origin; and the API {@code bank} on {@code api.bank.example} whose route names the
 * bank policy's own rule {@code accounts-read} and the DLP profile {@code llm}; an MCP server on {@code mcp.local}
 * published as docs/agents.md says (no base path, the shipped rule {@code mcp-tools}, DLP profile {@code mcp}). The
 * other routes name the rule {@code dev-demo} that {@code up}'s development policy adds and the DLP profile
 * {@code default}.
 */
public final class DemoGateway {
    public static final String HOST = "demo.local";
    public static final String BANK_HOST = "api.bank.example";
    public static final String MCP_HOST = "mcp.local";
    public static final String ALLOWED_ORIGIN = "https://app.demo.test";
    public static final int LISTENER_PORT = 8080;
    /** A card number that passes Luhn and is not on the policy's allow list of public test numbers. */
    public static final String CARD = "4539148803436467";

    public static final String EMAIL = "jane.doe@customer-mail.test";
    public static final String PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\n"
            + "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6Z1Mxb7KVVzRqQjV5M2pT7Ww0\n"
            + "q1cT2Qj4Yx0oM0r2wYpZ4l7tE0y8vKcF3pXh9kQmJ3sZ2aB1nL6dR8fT5uW7yC4v\n"
            + "-----END RSA PRIVATE KEY-----\n";

    /** The real upstream services the journeys reach, each on a free loopback port. */
    public record Upstreams(
            UpstreamServer accounts,
            UpstreamServer llm,
            UpstreamServer stable,
            UpstreamServer canary,
            UpstreamServer ledger,
            UpstreamServer mcp)
            implements AutoCloseable {

        public static Upstreams start() throws IOException {
            return new Upstreams(
                    UpstreamServer.json("accounts", 0, "{\"upstream\":\"{upstream}\",\"balance\":42}"),
                    UpstreamServer.sse(
                            "chat-llm",
                            0,
                            List.of(
                                    // the card in its usual 4-4-4-4 groups, split inside the second group across two
                                    // events
                                    Sse.event("Your card "),
                                    Sse.event("is " + grouped(CARD).substring(0, 7)),
                                    Sse.event(grouped(CARD).substring(7)),
                                    Sse.event(", thanks."),
                                    "data: [DONE]\n\n")),
                    UpstreamServer.json("quotes-stable", 0, "{\"upstream\":\"{upstream}\"}"),
                    UpstreamServer.json("quotes-canary", 0, "{\"upstream\":\"{upstream}\"}"),
                    UpstreamServer.json("ledger", 0, "{\"holder\":\"" + EMAIL + "\",\"upstream\":\"{upstream}\"}"),
                    // an MCP server's answer to tools/call get_balance: the balance with the account's card
                    UpstreamServer.json(
                            "mcp-server",
                            0,
                            "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\","
                                    + "\"text\":\"balance 12.00 EUR, card " + grouped(CARD) + "\"}]}}"));
        }

        @Override
        public void close() {
            for (UpstreamServer s : List.of(accounts, llm, stable, canary, ledger, mcp)) {
                s.close();
            }
        }
    }

    private DemoGateway() {}

    /** A card number as people write it: groups of four separated by spaces. */
    public static String grouped(String card) {
        return card.replaceAll("(\\d{4})(?=\\d)", "$1 ");
    }

    /** The configuration for gateway group {@code group}, routing to {@code upstreams}. */
    public static String yaml(String group, Upstreams upstreams) {
        return yaml(
                group,
                upstreams.accounts().port(),
                upstreams.llm().port(),
                upstreams.stable().port(),
                upstreams.canary().port(),
                upstreams.ledger().port(),
                upstreams.mcp().port());
    }

    /** The configuration for gateway group {@code group}, routing to the demo's upstreams on these loopback ports. */
    public static String yaml(String group, int accounts, int llm, int stable, int canary, int ledger, int mcp) {
        return """
                groups:
                  - name: {group}
                    environment: test
                    region: local
                    hostnames: [demo.local]
                    listener_port: 8080
                    proxyless_authz: off
                    cors: {allowed_origins: [https://app.demo.test, 'https://*.preview.demo.test']}
                upstreams:
                  # the demo backends run on this machine: each loopback endpoint names its own exception. Named
                  # after the group: they close when the demo ends, so no other group may come to route to them.
                  - {name: {group}-accounts, protocol: http1, endpoints: [{address: 127.0.0.1, port: %1$d}],
                     address_exceptions: [{address: 127.0.0.1, port: %1$d, reason: "demo backend on this machine"}]}
                  - {name: {group}-chat-llm, protocol: http1, endpoints: [{address: 127.0.0.1, port: %2$d}],
                     address_exceptions: [{address: 127.0.0.1, port: %2$d, reason: "demo backend on this machine"}]}
                  - {name: {group}-quotes-stable, protocol: http1, endpoints: [{address: 127.0.0.1, port: %3$d}],
                     address_exceptions: [{address: 127.0.0.1, port: %3$d, reason: "demo backend on this machine"}]}
                  - {name: {group}-quotes-canary, protocol: http1, endpoints: [{address: 127.0.0.1, port: %4$d}],
                     address_exceptions: [{address: 127.0.0.1, port: %4$d, reason: "demo backend on this machine"}]}
                  # named by DNS: Envoy needs a DNS cluster for it (an EDS endpoint must be an IP)
                  - {name: {group}-ledger, protocol: http1, endpoints: [{address: localhost, port: %5$d}],
                     address_exceptions: [{address: localhost, port: %5$d, reason: "demo backend on this machine"}]}
                  - {name: {group}-mcp, protocol: http1, endpoints: [{address: 127.0.0.1, port: %6$d}],
                     address_exceptions: [{address: 127.0.0.1, port: %6$d, reason: "demo backend on this machine"}]}
                apis:
                  - name: demo
                    base_path: /demo
                    default_version: v2
                    versions:
                      - {version: v0, status: sunset, deprecated_at: 2025-01-01T00:00:00Z, sunset_at: 2026-01-01T00:00:00Z, successor: v2}
                      - {version: v1, status: deprecated, deprecated_at: 2026-01-01T00:00:00Z, sunset_at: 2027-06-01T00:00:00Z, successor: v2}
                      - {version: v2, status: active}
                  # sold as a product (meshguard demo, step 11): served on the product's own host once published
                  - name: demo-payments
                    base_path: /payments
                    default_version: v1
                    versions:
                      - {version: v1, status: active}
                  - name: bank
                    base_path: ""
                    hostnames: [api.bank.example]
                    default_version: v1
                    versions:
                      - {version: v1, status: active}
                  # an MCP server answers at one URL: no base path, so its default version serves /mcp as it is
                  - name: agents-mcp
                    base_path: ""
                    hostnames: [mcp.local]
                    default_version: v1
                    versions:
                      - {version: v1, status: active}
                routes:
                  - {name: accounts-v1, group: {group}, api: demo, version: v1, match: {path_prefix: /accounts},
                     destinations: [{upstream: {group}-accounts, weight: 100}], authz_profile: dev-demo, dlp_profile: default}
                  - {name: accounts, group: {group}, api: demo, version: v2, match: {path_prefix: /accounts},
                     destinations: [{upstream: {group}-accounts, weight: 100}], authz_profile: dev-demo, dlp_profile: default}
                  - {name: chat, group: {group}, api: demo, version: v2, match: {path_prefix: /chat/completions, methods: [POST]},
                     destinations: [{upstream: {group}-chat-llm, weight: 100}], streaming: true, authz_profile: dev-demo, dlp_profile: llm}
                  - {name: quotes, group: {group}, api: demo, version: v2, match: {path_prefix: /quotes},
                     destinations: [{upstream: {group}-quotes-stable, weight: 90}, {upstream: {group}-quotes-canary, weight: 10}],
                     authz_profile: dev-demo, dlp_profile: default}
                  - {name: ledger, group: {group}, api: demo, version: v2, match: {path_prefix: /ledger},
                     destinations: [{upstream: {group}-ledger, weight: 100}], authz_profile: dev-demo, dlp_profile: default}
                  - {name: payments-charges, group: {group}, api: demo-payments, version: v1,
                     match: {path_prefix: /charges, methods: [GET, POST]},
                     destinations: [{upstream: {group}-accounts, weight: 100}], authz_profile: dev-products, dlp_profile: default}
                  # the bank policy's own rule and the LLM DLP profile, chosen by the gateway route
                  - {name: bank-accounts, group: {group}, api: bank, version: v1, match: {path_prefix: /accounts, methods: [GET]},
                     destinations: [{upstream: {group}-ledger, weight: 100}], authz_profile: accounts-read, dlp_profile: llm}
                  # MCP tool calls: decided on their Mcp-* headers by the shipped rule, bodies held to them by DLP
                  - {name: mcp, group: {group}, api: agents-mcp, version: v1, match: {path_exact: /mcp, methods: [POST]},
                     destinations: [{upstream: {group}-mcp, weight: 100}], authz_profile: mcp-tools, dlp_profile: mcp}
                """.replace("{group}", group).formatted(accounts, llm, stable, canary, ledger, mcp);
    }
}
