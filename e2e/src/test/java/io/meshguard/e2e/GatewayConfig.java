package io.meshguard.e2e;

/**
 * The gateway configuration the scenarios publish: the group {@code local} on {@code demo.local}, the API {@code demo}
 * with an active v2 (default), a deprecated v1 and a sunset v0, a plain JSON route, an SSE chat route, and a 90/10
 * canary. Routes name the dev issuer's rule ({@code dev-demo}, which {@code up}'s extauthz loads) and the DLP
 * profiles of {@code policies/dlp.yaml}.
 */
final class GatewayConfig {
    /** The group deploy/local's Envoy bootstrap names (node.cluster), also the one up publishes its sample in. */
    static final String GROUP = "local";
    static final String HOST = "demo.local";
    static final int LISTENER_PORT = 8080;

    private GatewayConfig() {}

    static String yaml(int accounts, int llm, int stable, int canary) {
        return """
                groups:
                  - name: local
                    environment: test
                    region: local
                    hostnames: [demo.local]
                    listener_port: 8080
                    proxyless_authz: off
                upstreams:
                  - {name: accounts, protocol: http1, endpoints: [{address: 127.0.0.1, port: %d}]}
                  - {name: chat-llm, protocol: http1, endpoints: [{address: 127.0.0.1, port: %d}]}
                  - {name: quotes-stable, protocol: http1, endpoints: [{address: 127.0.0.1, port: %d}]}
                  - {name: quotes-canary, protocol: http1, endpoints: [{address: 127.0.0.1, port: %d}]}
                apis:
                  - name: demo
                    base_path: /demo
                    default_version: v2
                    versions:
                      - {version: v0, status: sunset, deprecated_at: 2025-01-01T00:00:00Z, sunset_at: 2026-01-01T00:00:00Z, successor: v2}
                      - {version: v1, status: deprecated, deprecated_at: 2026-01-01T00:00:00Z, sunset_at: 2027-06-01T00:00:00Z, successor: v2}
                      - {version: v2, status: active}
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
                """.formatted(accounts, llm, stable, canary);
    }
}
