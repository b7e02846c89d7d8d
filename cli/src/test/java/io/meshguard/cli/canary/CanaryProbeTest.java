package io.meshguard.cli.canary;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jwt.SignedJWT;
import io.meshguard.cli.canary.CanaryResult.Outcome;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * How a canary is judged, the request it sends and the series it keeps (no server: the answers are those the Check,
 * the DLP and an unprotected upstream give, the audit rows those meshguard writes or none; CanaryCommandTest reads a
 * real audit API, the e2e CanaryJourneyTest sends them over the real path). An answer never passes a canary by itself.
 */
class CanaryProbeTest {
    private static final Instant NOW = Instant.parse("2026-11-26T02:00:00Z");
    private static final CanaryRoute ACCOUNTS = new CanaryRoute(
            "demo.v2.accounts",
            URI.create("http://127.0.0.1:1/demo/v2/accounts/canary"),
            "GET",
            List.of(CanaryKind.EXPIRED_TOKEN, CanaryKind.TEST_CARD),
            Map.of("x-tenant-id", "canary"));

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final CanaryProbe probe = new CanaryProbe(
            List.of(ACCOUNTS),
            request -> {
                throw new java.net.ConnectException("refused");
            },
            Optional.empty(),
            Optional.of(() -> "canary-token"),
            403,
            Duration.ofMinutes(1),
            (traceId, since) -> List.of(),
            Duration.ZERO,
            Clock.fixed(NOW, ZoneOffset.UTC),
            meters);

    /** A probe whose route answers {@code answer} and whose audit log holds {@code rows} for whatever trace. */
    private static CanaryProbe answering(CanaryTransport.Answer answer, List<CanaryEvidence.Row> rows) {
        return new CanaryProbe(
                List.of(ACCOUNTS),
                request -> answer,
                Optional.empty(),
                Optional.of(() -> "canary-token"),
                403,
                Duration.ofMinutes(1),
                (traceId, since) -> rows,
                Duration.ZERO,
                Clock.fixed(NOW, ZoneOffset.UTC),
                new SimpleMeterRegistry());
    }

    private static final String HOST = "127.0.0.1";

    @Test
    void expiredToken_meshguardsAnswer_withoutItsCheckRow_gotThrough() throws Exception {
        CanaryResult r = answering(answer(401, "{\"status\":401,\"reason\":\"token_expired\"}"), List.of())
                .probe(ACCOUNTS, CanaryKind.EXPIRED_TOKEN);
        assertThat(r.outcome()).isEqualTo(Outcome.GOT_THROUGH);
        assertThat(r.detail()).contains("meshguard did not decide it", "no Check denying its token for 127.0.0.1");
    }

    @Test
    void expiredToken_rfc6750InvalidToken_fromTheApp_gotThrough() throws Exception {
        CanaryResult r = answering(answer(401, "{\"error\":\"invalid_token\"}"), List.of())
                .probe(ACCOUNTS, CanaryKind.EXPIRED_TOKEN);
        assertThat(r.outcome()).isEqualTo(Outcome.GOT_THROUGH);
    }

    @Test
    void expiredToken_withTheChecksDenyRow_passes_butNotARowOfAnotherHostOrReason() throws Exception {
        CanaryTransport.Answer refused = answer(401, "{\"status\":401,\"reason\":\"unknown_key\"}");
        CanaryEvidence.Row deny = new CanaryEvidence.Row("authz_decision", "deny", "unknown_key", HOST + ":8443", "");
        assertThat(answering(refused, List.of(deny))
                        .probe(ACCOUNTS, CanaryKind.EXPIRED_TOKEN)
                        .outcome())
                .isEqualTo(Outcome.PASSED);
        assertThat(answering(
                                refused,
                                List.of(new CanaryEvidence.Row(
                                        "authz_decision", "deny", "unknown_key", "other.example", "")))
                        .probe(ACCOUNTS, CanaryKind.EXPIRED_TOKEN)
                        .outcome())
                .isEqualTo(Outcome.GOT_THROUGH);
        assertThat(answering(
                                refused,
                                List.of(new CanaryEvidence.Row(
                                        "authz_decision", "deny", "no_matching_route", HOST, "")))
                        .probe(ACCOUNTS, CanaryKind.EXPIRED_TOKEN)
                        .outcome())
                .isEqualTo(Outcome.GOT_THROUGH);
    }

    @Test
    void testCard_dlpsAnswer_passesOnlyWithTheChecksAllowAndTheDlpsBlockedSession() throws Exception {
        CanaryTransport.Answer blocked = answer(403, "{\"error\":\"dlp_blocked\"}");
        CanaryEvidence.Row allow = new CanaryEvidence.Row("authz_decision", "allow", "allowed", HOST, "");
        CanaryEvidence.Row session = new CanaryEvidence.Row("api_call", "blocked", "", HOST, "extproc-dlp");
        assertThat(answering(blocked, List.of(allow, session))
                        .probe(ACCOUNTS, CanaryKind.TEST_CARD)
                        .outcome())
                .isEqualTo(Outcome.PASSED);
        CanaryResult noSession = answering(blocked, List.of(allow)).probe(ACCOUNTS, CanaryKind.TEST_CARD);
        assertThat(noSession.outcome()).isEqualTo(Outcome.GOT_THROUGH);
        assertThat(noSession.detail()).contains("no DLP session blocking its card");
        assertThat(answering(blocked, List.of()).probe(ACCOUNTS, CanaryKind.TEST_CARD))
                .extracting(CanaryResult::outcome)
                .isEqualTo(Outcome.GOT_THROUGH);
    }

    @Test
    void auditLogUnreadable_isUnreachable_neverAPass() throws Exception {
        CanaryProbe p = new CanaryProbe(
                List.of(ACCOUNTS),
                request -> answer(401, "{\"reason\":\"token_expired\"}"),
                Optional.empty(),
                Optional.of(() -> "canary-token"),
                403,
                Duration.ofMinutes(1),
                (traceId, since) -> {
                    throw new java.io.IOException("the audit API answered 403");
                },
                Duration.ZERO,
                Clock.fixed(NOW, ZoneOffset.UTC),
                new SimpleMeterRegistry());
        CanaryResult r = p.probe(ACCOUNTS, CanaryKind.EXPIRED_TOKEN);
        assertThat(r.outcome()).isEqualTo(Outcome.UNREACHABLE);
        assertThat(r.detail()).contains("cannot read the audit log");
    }

    @Test
    void everyRequest_carriesAFreshTraceId_theEvidenceIsLookedUpBy() throws Exception {
        List<String> asked = new java.util.ArrayList<>();
        List<String> sent = new java.util.ArrayList<>();
        CanaryProbe p = new CanaryProbe(
                List.of(ACCOUNTS),
                request -> {
                    sent.add(request.headers().get("traceparent"));
                    return answer(401, "{\"reason\":\"token_expired\"}");
                },
                Optional.empty(),
                Optional.of(() -> "canary-token"),
                403,
                Duration.ofMinutes(1),
                (traceId, since) -> {
                    asked.add(traceId);
                    return List.of();
                },
                Duration.ZERO,
                Clock.fixed(NOW, ZoneOffset.UTC),
                new SimpleMeterRegistry());
        p.probe(ACCOUNTS, CanaryKind.EXPIRED_TOKEN);
        p.probe(ACCOUNTS, CanaryKind.EXPIRED_TOKEN);
        assertThat(sent).hasSize(2).allSatisfy(tp -> assertThat(tp).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01"));
        assertThat(asked)
                .containsExactly(sent.get(0).substring(3, 35), sent.get(1).substring(3, 35));
        assertThat(asked.get(0)).isNotEqualTo(asked.get(1));
    }

    @Test
    void expiredToken_checksRefusal401_isLeftToTheAuditLog() {
        assertThat(probe.failedByTheAnswer(
                        "r", CanaryKind.EXPIRED_TOKEN, answer(401, "{\"status\":401,\"reason\":\"token_expired\"}")))
                .isEmpty();
    }

    @Test
    void expiredToken_anApplicationsOwn401_isNotTakenForTheCheck() {
        CanaryResult r = probe.failedByTheAnswer(
                        "r", CanaryKind.EXPIRED_TOKEN, answer(401, "{\"error\":\"login required\"}"))
                .orElseThrow();
        assertThat(r.outcome()).isEqualTo(Outcome.GOT_THROUGH);
    }

    @Test
    void expiredToken_answered200_gotThrough() {
        CanaryResult r = probe.failedByTheAnswer(
                        "r", CanaryKind.EXPIRED_TOKEN, answer(200, "{\"upstream\":\"accounts\"}"))
                .orElseThrow();
        assertThat(r.outcome()).isEqualTo(Outcome.GOT_THROUGH);
        assertThat(r.detail()).contains("HTTP 200");
    }

    @Test
    void noRouteOrServerError_isUnreachable_notPassed() {
        assertThat(probe.failedByTheAnswer("r", CanaryKind.EXPIRED_TOKEN, answer(404, "")))
                .map(CanaryResult::outcome)
                .contains(Outcome.UNREACHABLE);
        assertThat(probe.failedByTheAnswer("r", CanaryKind.TEST_CARD, answer(503, "no healthy upstream")))
                .map(CanaryResult::outcome)
                .contains(Outcome.UNREACHABLE);
    }

    @Test
    void testCard_dlpBlockAnswer_isLeftToTheAuditLog_butTheChecksOwn403_gotThrough() {
        assertThat(probe.failedByTheAnswer(
                        "r",
                        CanaryKind.TEST_CARD,
                        answer(403, "{\"error\":\"dlp_blocked\",\"message\":\"…\",\"detector\":\"card\"}")))
                .isEmpty();
        assertThat(probe.failedByTheAnswer(
                        "r", CanaryKind.TEST_CARD, answer(403, "{\"reason\":\"insufficient_role\"}")))
                .map(CanaryResult::outcome)
                .contains(Outcome.GOT_THROUGH);
    }

    @Test
    void testCard_echoedBack_gotThrough_andRefusedCredential_isUnreachable() {
        assertThat(probe.failedByTheAnswer("r", CanaryKind.TEST_CARD, answer(200, "card " + CanaryProbe.CARD)))
                .map(CanaryResult::outcome)
                .contains(Outcome.GOT_THROUGH);
        CanaryResult refused = probe.failedByTheAnswer(
                        "r", CanaryKind.TEST_CARD, answer(401, "{\"reason\":\"token_expired\"}"))
                .orElseThrow();
        assertThat(refused.outcome()).isEqualTo(Outcome.UNREACHABLE);
        assertThat(refused.detail()).startsWith("canary credential refused");
    }

    @Test
    void requests_carryTheCanaryHeader_theRouteHeaders_andTheirCredential() throws Exception {
        CanaryTransport.Request expired =
                probe.request(ACCOUNTS, CanaryKind.EXPIRED_TOKEN, "0af7651916cd43dd8448eb211c80319c");
        assertThat(expired.method()).isEqualTo("GET");
        assertThat(expired.headers())
                .containsEntry(CanaryProbe.HEADER, "expired_token")
                .containsEntry("x-tenant-id", "canary");
        SignedJWT token = SignedJWT.parse(expired.headers().get("authorization").substring("Bearer ".length()));
        assertThat(token.getJWTClaimsSet().getExpirationTime().toInstant()).isBefore(NOW);

        CanaryTransport.Request card =
                probe.request(ACCOUNTS, CanaryKind.TEST_CARD, "0af7651916cd43dd8448eb211c80319c");
        assertThat(card.method()).isEqualTo("POST");
        assertThat(card.headers())
                .containsEntry(CanaryProbe.HEADER, "test_card")
                .containsEntry("authorization", "Bearer canary-token");
        assertThat(card.body()).contains("card number " + CanaryProbe.CARD);
    }

    @Test
    void everyKind_isOneTheAccessLogReceiverRecords() {
        assertThat(java.util.Arrays.stream(CanaryKind.values()).map(CanaryKind::id))
                .containsExactlyElementsOf(io.meshguard.contract.RouteContract.AccessLogTags.CANARY_KINDS);
        assertThat(io.meshguard.contract.RouteContract.AccessLogTags.REQUEST_HEADERS)
                .as("the gateway logs the marker")
                .contains(CanaryProbe.HEADER);
    }

    @Test
    void canaryCard_isLuhnValid() {
        int sum = 0;
        String digits = CanaryProbe.CARD;
        for (int i = 0; i < digits.length(); i++) {
            int d = digits.charAt(digits.length() - 1 - i) - '0';
            sum += i % 2 == 1 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d;
        }
        assertThat(sum % 10).isZero();
    }

    @Test
    void everySeries_existsAtZeroFromStart_andAnUnreachableRouteCountsAsSuch() throws Exception {
        assertThat(meters.find("meshguard.canary.checks").counters()).hasSize(6).allSatisfy(c -> assertThat(c.count())
                .isZero());
        assertThat(meters.get("meshguard.canary.last_success.timestamp.seconds")
                        .tag("kind", "test_card")
                        .gauge()
                        .value())
                .isEqualTo(NOW.getEpochSecond());

        List<CanaryResult> results = probe.runOnce();

        assertThat(results).extracting(CanaryResult::outcome).containsOnly(Outcome.UNREACHABLE);
        assertThat(meters.get("meshguard.canary.checks")
                        .tags("route", "demo.v2.accounts", "kind", "expired_token", "result", "unreachable")
                        .counter()
                        .count())
                .isEqualTo(1.0);
    }

    @Test
    void cardCanaries_withoutACredential_areRefusedAtStart() {
        assertThatThrownBy(() -> new CanaryProbe(
                        List.of(ACCOUNTS),
                        request -> answer(200, ""),
                        Optional.empty(),
                        Optional.empty(),
                        403,
                        Duration.ofMinutes(1),
                        (traceId, since) -> List.of(),
                        Duration.ZERO,
                        Clock.systemUTC(),
                        new SimpleMeterRegistry()))
                .hasMessageContaining("canary.credential_file");
    }

    @Test
    void routesFile_readsRoutes_andRefusesAnUnknownKeyOrKind() {
        List<CanaryRoute> routes = CanaryRoute.parse("""
                routes:
                  - name: demo.v2.accounts
                    url: https://api.bank.example/demo/v2/accounts/canary
                    kinds: [expired_token, test_card]
                    headers: {X-Tenant-Id: canary}
                """, "routes.yaml");
        assertThat(routes).singleElement().satisfies(r -> {
            assertThat(r.kinds()).containsExactly(CanaryKind.EXPIRED_TOKEN, CanaryKind.TEST_CARD);
            assertThat(r.headers()).containsEntry("x-tenant-id", "canary");
        });
        assertThatThrownBy(() -> CanaryRoute.parse("routes: [{name: a, url: 'http://x/', kind: [expired_token]}]", "f"))
                .hasMessageContaining("unknown key 'kind'");
        assertThatThrownBy(() -> CanaryRoute.parse("routes: [{name: a, url: 'http://x/', kinds: [sql]}]", "f"))
                .hasMessageContaining("unknown canary kind 'sql'");
        assertThatThrownBy(() -> CanaryRoute.parse("routes: [{name: a, url: 'ftp://x/', kinds: [test_card]}]", "f"))
                .hasMessageContaining("http or https");
        assertThat(CanaryRoute.parse("routes: [{name: a, url: 'http://x/', method: post, kinds: [expired_token]}]", "f")
                        .getFirst()
                        .method())
                .isEqualTo("POST");
        assertThatThrownBy(() -> CanaryRoute.parse(
                        "routes: [{name: a, url: 'http://x/', method: TRACE, kinds: [expired_token]}]", "f"))
                .hasMessageContaining("method TRACE");
    }

    private static CanaryTransport.Answer answer(int status, String body) {
        return new CanaryTransport.Answer(status, body);
    }
}
