package io.meshguard.e2e;

/**
 * The gateway configuration the scenarios publish: the group {@code local} on {@code demo.local}, the API {@code demo}
 * with an active v2 (default), a deprecated v1 and a sunset v0, a plain JSON route, an SSE chat route, and a 90/10
 * canary, a ledger upstream named by DNS ({@code localhost}); CORS for one origin; and the API {@code bank} on
 * {@code api.bank.example} whose route names the bank policy's rule {@code accounts-read}. Routes name the dev issuer's rule ({@code dev-demo}, which {@code up}'s extauthz loads) and the DLP
 * profiles of {@code policies/dlp.yaml}.
 */
final class GatewayConfig {
    /** The group deploy/local's Envoy bootstrap names (node.cluster), also the one up publishes its sample in. */
    static final String GROUP = "local";
    static final String HOST = "demo.local";
    static final int LISTENER_PORT = 8080;

    private GatewayConfig() {}

    static final String BANK_HOST = "api.bank.example";
    static final String ALLOWED_ORIGIN = "https://app.demo.test";

    static String yaml(int accounts, int llm, int stable, int canary, int ledger) {
        return """
                groups:
                  - name: local
                    environment: test
                    region: local
                    hostnames: [demo.local]
                    listener_port: 8080
                    proxyless_authz: off
                    cors: {allowed_origins: [https://app.demo.test]}
                upstreams:
                  - {name: accounts, protocol: http1, endpoints: [{address: 127.0.0.1, port: %d}]}
                  - {name: chat-llm, protocol: http1, endpoints: [{address: 127.0.0.1, port: %d}]}
                  - {name: quotes-stable, protocol: http1, endpoints: [{address: 127.0.0.1, port: %d}]}
                  - {name: quotes-canary, protocol: http1, endpoints: [{address: 127.0.0.1, port: %d}]}
                  # named by DNS: Envoy needs a DNS cluster for it (an EDS endpoint must be an IP)
                  - {name: ledger, protocol: http1, endpoints: [{address: localhost, port: %d}]}
                apis:
                  - name: demo
                    base_path: /demo
                    default_version: v2
                    versions:
                      - {version: v0, status: sunset, deprecated_at: 2025-01-01T00:00:00Z, sunset_at: 2026-01-01T00:00:00Z, successor: v2}
                      - {version: v1, status: deprecated, deprecated_at: 2026-01-01T00:00:00Z, sunset_at: 2027-06-01T00:00:00Z, successor: v2}
                      - {version: v2, status: active}
                  - name: bank
                    base_path: ""
                    hostnames: [api.bank.example]
                    default_version: v1
                    versions:
                      - {version: v1, status: active}
                routes:
                  - {name: accounts-v1, group: local, api: demo, version: v1, match: {path_prefix: /accounts},
                     destinations: [{upstream: accounts, weight: 100}], authz_profile: dev-demo, dlp_profile: default}
                  - {name: accounts, group: local, api: demo, version: v2, match: {path_prefix: /accounts},
                     destinations: [{upstream: accounts, weight: 100}], authz_profile: dev-demo, dlp_profile: default}
                  - {name: chat, group: local, api: demo, version: v2, match: {path_prefix: /chat/completions, methods: [POST]},
                     destinations: [{upstream: chat-llm, weight: 100}], streaming: true, authz_profile: dev-demo, dlp_profile: llm}
                  - {name: quotes, group: local, api: demo, version: v2, match: {path_prefix: /quotes},
                     destinations: [{upstream: quotes-stable, weight: 90}, {upstream: quotes-canary, weight: 10}],
                     authz_profile: dev-demo, dlp_profile: default}
                  - {name: ledger, group: local, api: demo, version: v2, match: {path_prefix: /ledger},
                     destinations: [{upstream: ledger, weight: 100}], authz_profile: dev-demo, dlp_profile: default}
                  # the bank policy's own rule and the LLM DLP profile, chosen by the gateway route
                  - {name: bank-accounts, group: local, api: bank, version: v1, match: {path_prefix: /accounts},
                     destinations: [{upstream: ledger, weight: 100}], authz_profile: accounts-read, dlp_profile: llm}
                """.formatted(accounts, llm, stable, canary, ledger);
    }
}
