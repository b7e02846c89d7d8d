package io.meshguard.extauthz.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.meshguard.contract.RouteContract.AccessLogTags;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.TestPipeline;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.audit.DecisionEvents;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.testing.OpenResources;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every allow goes back to Envoy with its own nonce in the CheckResponse's dynamic metadata, and the decision's audit
 * row keeps the same nonce: proof of coverage joins the proxy's access-log row (which carries the stream's dynamic
 * metadata) to its Check by it. Served over real gRPC on loopback.
 */
class DecisionNonceTest {
    @AutoClose
    final OpenResources open = new OpenResources();

    private final List<AuthzDecisionEvent> rows = new CopyOnWriteArrayList<>();
    private AuthorizationGrpc.AuthorizationBlockingStub stub;

    @BeforeEach
    void server() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AuthzPipeline pipeline = TestPipeline.running(
                Fixtures.parse(Fixtures.policyYaml("jwks_uri: http://127.0.0.1:9/jwks", "")), registry, p -> {});
        stub = AuthzOnLoopback.serve(open, pipeline, rows::add, registry);
    }

    private static CheckRequest get(String path) {
        return CheckRequests.of("GET", "api.test.example", path, Map.of(), Map.of(), CheckRequests.Encoding.HEADERS);
    }

    private static String nonce(CheckResponse r) {
        return r.getDynamicMetadata()
                .getFieldsOrDefault(AccessLogTags.AUTHZ_NONCE, com.google.protobuf.Value.getDefaultInstance())
                .getStringValue();
    }

    @Test
    void check_everyAllow_carriesAFreshNonce_theDecisionRowKeepsIt_aDenyCarriesNone() {
        CheckResponse first = stub.check(get("/healthz"));
        CheckResponse second = stub.check(get("/healthz"));
        CheckResponse denied = stub.check(get("/api/x"));

        assertThat(first.getStatus().getCode()).isZero();
        assertThat(nonce(first)).matches("[A-Za-z0-9_-]{22}");
        assertThat(nonce(second)).matches("[A-Za-z0-9_-]{22}").isNotEqualTo(nonce(first));
        // at the top level only: a deprecated ok_response.dynamic_metadata would replace it in Envoy
        assertThat(first.getOkResponse().hasDynamicMetadata()).isFalse();
        assertThat(denied.getStatus().getCode()).isNotZero();
        assertThat(denied.hasDynamicMetadata()).isFalse();

        // the row is written after the answer left
        await().atMost(java.time.Duration.ofSeconds(10)).until(() -> rows.size() == 3);
        assertThat(rows.get(0).details()).containsEntry(DecisionEvents.NONCE_DETAIL, nonce(first));
        assertThat(rows.get(1).details()).containsEntry(DecisionEvents.NONCE_DETAIL, nonce(second));
        assertThat(rows.get(2).details()).doesNotContainKey(DecisionEvents.NONCE_DETAIL);
    }
}
