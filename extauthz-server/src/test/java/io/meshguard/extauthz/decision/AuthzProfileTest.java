package io.meshguard.extauthz.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Reason;
import io.meshguard.contract.RouteContract;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The gateway route's {@code meshguard.authz_profile} names the rule; the rule still limits methods and hosts. */
class AuthzProfileTest {
    static AuthzPipeline pipeline;

    @BeforeAll
    static void start() {
        String yaml = """
                header_contract: {tenant_header: x-tenant-id}
                routes:
                  - name: status
                    match: {hosts: ['*.bank.example', api.test.example], path: /status, methods: [GET, HEAD]}
                    auth: none
                  - name: catch-all-public
                    match: {path_prefix: /}
                    auth: none
                """;
        pipeline = Fixtures.pipeline(Fixtures.parse(yaml), new SimpleMeterRegistry(), Optional.empty());
    }

    @AfterAll
    static void stop() {
        pipeline.close();
    }

    private static Decision decide(String method, String host, String path, String profile) {
        return pipeline.decide(HttpRequestView.of(CheckRequests.of(
                method,
                host,
                path,
                Map.of(),
                Map.of(RouteContract.AuthzContext.AUTHZ_PROFILE, profile),
                CheckRequests.Encoding.HEADERS)));
    }

    @Test
    void namedRule_decides_whateverTheGatewayPath() {
        Decision d = decide("GET", "api.test.example", "/v2/anything/else", "status");
        assertThat(d.allowed()).isTrue();
        assertThat(d.route()).contains("status");
    }

    @Test
    void namedRule_methodOutsideTheRule_isDenied_notHandedToAnotherRule() {
        for (String method : new String[] {"POST", "DELETE", "PUT", "OPTIONS"}) {
            Decision d = decide(method, "api.test.example", "/status", "status");
            assertThat(d.allowed()).as(method).isFalse();
            assertThat(d.reason()).as(method).isEqualTo(Reason.OUTSIDE_PROFILE);
            assertThat(d.description()).as(method).contains("method");
            assertThat(d.route()).as(method).contains("status");
        }
    }

    @Test
    void namedRule_hostOutsideTheRule_isDenied_inEverySpelling() {
        for (String host : new String[] {
            "evil.example", "bank.example", "api.test.example.evil", "xbank.example", "api.test.example.evil.:443", ""
        }) {
            Decision d = decide("GET", host, "/status", "status");
            assertThat(d.allowed()).as(host).isFalse();
            assertThat(d.reason()).as(host).isEqualTo(Reason.OUTSIDE_PROFILE);
            assertThat(d.description()).as(host).contains("host");
        }
    }

    @Test
    void namedRule_hostInsideTheRule_withPortOrCase_isAllowed() {
        // one canonical host (CanonicalHost): the fully qualified spelling with its trailing dot is the same name
        for (String host : new String[] {
            "API.test.example:8443",
            "ops.bank.example",
            "a.b.bank.example",
            "api.test.example.:443",
            "api.test.example."
        }) {
            assertThat(decide("HEAD", host, "/x", "status").allowed()).as(host).isTrue();
        }
    }

    @Test
    void unknownProfile_isDenied_evenWhereACatchAllRuleWouldAllow() {
        for (String name : new String[] {"nope", "", "STATUS", "status ", "catch-all-public\u0000"}) {
            Decision d = decide("GET", "api.test.example", "/status", name);
            assertThat(d.allowed()).as(name).isFalse();
            assertThat(d.status()).as(name).isEqualTo(403);
            assertThat(d.reason()).as(name).isEqualTo(Reason.UNKNOWN_PROFILE);
        }
    }

    @Test
    void noProfile_keepsHostAndPathMatching_forSidecars() {
        Decision d = pipeline.decide(HttpRequestView.of(
                CheckRequests.of("POST", "svc.local", "/status", Map.of(), Map.of(), CheckRequests.Encoding.HEADERS)));
        assertThat(d.allowed()).isTrue();
        assertThat(d.route()).contains("catch-all-public");
    }
}
