package io.meshguard.extauthz.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Reason;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Published class "path-matcher charset differentials": Envoy's URI template matcher left {@code *} out of the
 * characters {@code *}/{@code **} match, so {@code /admin/*x} slipped past an RBAC rule (GHSA-c7cm-838g-6g67 /
 * CVE-2025-46821); opa-envoy-plugin read a leading {@code //x} as an authority and dropped it (GHSA-9f29-v6mm-pw6w /
 * CVE-2026-26205). Every spelling of a path under a denied prefix — star, encoded star, parameters, doubled or
 * back slashes — is held by the deny rule (regex and prefix alike) or refused as a path an upstream could read
 * differently; none reaches the open route.
 */
class PathMatcherCharsetTest {

    @Test
    void denyRules_holdForEveryCharsetSpellingUnderThem_orTheRequestIsRefused() {
        AuthzPipeline p = Fixtures.pipeline(Fixtures.parse("""
                deny:
                  - name: no-admin
                    match: {path_prefix: /admin}
                  - name: no-keys
                    match: {path_regex: "/keys/.+"}
                routes:
                  - {name: open, match: {path_prefix: /}, auth: none, header_contract: exempt}
                """), new SimpleMeterRegistry(), Optional.empty());
        try (p) {
            for (String path : List.of(
                    "/admin/*",
                    "/admin/*x",
                    "/admin/%2A",
                    "/admin/%2a/users",
                    "/admin/**",
                    "/admin;x=1/users",
                    "/admin/users;x",
                    "/keys/*",
                    "/keys/%2A",
                    "/keys/a*b",
                    "/keys/;x")) {
                Decision d = decide(p, path);
                assertThat(d.allowed()).as(path).isFalse();
                assertThat(d.reason()).as(path).isIn(Reason.DENIED_BY_RULE, Reason.INVALID_PATH);
            }
            for (String path :
                    List.of("//admin/users", "/x//admin", "/admin\\users", "/x\\..\\admin", "/%2A/../admin", "*")) {
                Decision d = decide(p, path);
                assertThat(d.allowed()).as(path).isFalse();
                assertThat(d.reason()).as(path).isEqualTo(Reason.INVALID_PATH);
            }
            // the control: a star outside the denied prefixes is an ordinary character on the open route
            assertThat(decide(p, "/reports/*").allowed()).isTrue();
            assertThat(decide(p, "/reports/%2A").allowed()).isTrue();
        }
    }

    private static Decision decide(AuthzPipeline p, String path) {
        return p.decide(HttpRequestView.of(CheckRequests.of(
                "GET", "api.bank.example", path, Map.of(), Map.of(), CheckRequests.Encoding.HEADERS, "", "10.0.0.1")));
    }
}
