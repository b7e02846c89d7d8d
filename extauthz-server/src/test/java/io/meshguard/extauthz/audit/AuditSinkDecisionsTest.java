package io.meshguard.extauthz.audit;

import static io.meshguard.extauthz.Fixtures.RS1;
import static io.meshguard.extauthz.Fixtures.claims;
import static io.meshguard.extauthz.Fixtures.headers;
import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.authz.replay.RecordedDecision;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.JwksServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

@IntegrationTest
class AuditSinkDecisionsTest {
    @Test
    void decision_becomesAnAuthzDecisionAuditEvent_withIdentityAndReason_butNoToken() throws Exception {
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)));
                AuthzPipeline p = Fixtures.pipeline(
                        Fixtures.parse(Fixtures.policyYaml("jwks_uri: " + jwks.jwksUri(), "")),
                        new SimpleMeterRegistry(),
                        Optional.empty())) {
            String token = RS1.sign(claims("alice", "big-tenant", List.of("viewer"))
                    .claim("azp", "web")
                    .build());
            HttpRequestView view = Fixtures.request(
                    "/api/orders?card=4111111111111111",
                    headers(
                            "authorization",
                            "Bearer " + token,
                            "x-tenant-id",
                            "big-tenant",
                            "x-request-id",
                            "req-7",
                            "x-dwp-source",
                            "MOBILE",
                            "traceparent",
                            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
            Decision d = p.decide(view);
            List<AuditEvent> written = new ArrayList<>();
            new AuditSinkDecisions(written::add)
                    .record(DecisionEvents.of(view, d, Instant.parse("2026-11-21T10:00:00Z"), 42));

            AuditEvent e = written.get(0);
            assertThat(e.kind()).isEqualTo(AuditKind.AUTHZ_DECISION);
            assertThat(e.requestId()).contains("req-7");
            assertThat(e.traceId()).contains("4bf92f3577b34da6a3ce929d0e0e4736");
            assertThat(e.tenant()).contains("big-tenant");
            assertThat(e.subject()).contains("alice");
            assertThat(e.clientId()).contains("web");
            // the client's x-dwp-source is never recorded as if meshguard had set it (a deny sets nothing)
            assertThat(e.source()).isEmpty();
            assertThat(e.route()).contains("api");
            assertThat(e.status()).hasValue(403);
            assertThat(e.decision()).contains("deny");
            assertThat(e.reason()).contains("insufficient_role");
            assertThat(e.latencyUs()).hasValue(42);
            assertThat(e.path()).contains("/api/orders");
            assertThat(e.toString() + e.detailsJson())
                    .doesNotContain(token)
                    .doesNotContain(token.substring(token.lastIndexOf('.') + 1))
                    .doesNotContain("4111111111111111");
        }
    }

    @Test
    void decisionWithReplayFacts_writesThemUnderDetailsReplay_whenTheWriterReadsTheDetails_withoutTheToken()
            throws Exception {
        try (JwksServer jwks = new JwksServer(Fixtures.ISSUER, TestKeys.publicSet(List.of(RS1)));
                AuthzPipeline p = Fixtures.pipeline(
                        Fixtures.parse(Fixtures.policyYaml("jwks_uri: " + jwks.jwksUri(), "")),
                        new SimpleMeterRegistry(),
                        Optional.empty())) {
            String token =
                    RS1.sign(claims("alice", "big-tenant", List.of("viewer")).build());
            HttpRequestView view = Fixtures.request(
                    "/api/orders",
                    headers("authorization", "Bearer " + token, "x-tenant-id", "big-tenant", "x-request-id", "req-8"));
            AuthzPipeline.Recorded recorded = p.decideRecorded(view);
            AuthzDecisionEvent decision = DecisionEvents.of(
                    view, recorded.decision(), Instant.parse("2026-11-21T10:00:00Z"), 7, recorded.kept());
            List<AuditEvent> written = new ArrayList<>();

            new AuditSinkDecisions(written::add).record(decision);

            assertThat(decision.details()).doesNotContainKey(RecordedDecision.AUDIT_DETAIL);
            AuditEvent e = written.get(0);
            // the writer's thread reads the details: the facts are made there, and are the ones a replay reads
            Thread writer = new Thread(e::detailsJson);
            writer.start();
            writer.join();
            assertThat(e.details())
                    .containsEntry(
                            RecordedDecision.AUDIT_DETAIL, decision.replayJson().orElseThrow());
            io.meshguard.authz.replay.RecordedDecision facts = io.meshguard.authz.replay.RecordedDecision.fromJson(
                    (String) e.details().get(RecordedDecision.AUDIT_DETAIL), "req-8", Instant.EPOCH, Optional.empty());
            assertThat(facts.identity())
                    .hasValueSatisfying(id -> assertThat(id.subject()).isEqualTo("alice"));
            assertThat(facts.status()).isEqualTo(403);
            assertThat(e.detailsJson()).doesNotContain(token.substring(token.lastIndexOf('.') + 1));
        }
    }
}
