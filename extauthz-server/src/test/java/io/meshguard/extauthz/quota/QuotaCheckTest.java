package io.meshguard.extauthz.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.decision.CheckResponses;
import io.meshguard.authz.quota.QuotaVerdict;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Reason;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.InMemoryApiKeyStore;
import io.meshguard.extauthz.Fixtures;
import io.meshguard.extauthz.TestPipeline;
import io.meshguard.extauthz.audit.AuthzDecisionEvent;
import io.meshguard.extauthz.audit.DecisionEvents;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.MovableClock;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Quotas as Envoy sees them: 429 with Retry-After and a reason naming the quota, X-Quota-* headers, the flag header. */
@IntegrationTest
class QuotaCheckTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private final MovableClock clock = new MovableClock(Instant.parse("2026-11-22T14:00:00Z"));
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final InMemoryApiKeyStore keys = new InMemoryApiKeyStore();
    private AuthzPipeline pipeline;
    private String key;

    @BeforeEach
    void setUp() throws Exception {
        QuotaCounter counter =
                QuotaTestSupport.postgresOnly(PG.dataSource(), clock, QuotaTestSupport.settings(), registry);
        pipeline = TestPipeline.build(registry, p -> {
            p.apiKeys = Optional.of(new ApiKeyAuthenticator(keys, clock, Duration.ZERO));
            p.clock = clock;
            p.quotas = counter;
        });
        pipeline.use(QuotaTestSupport.policy("""
                quotas:
                  - {name: seoul-daily, per: api_key, period: day, timezone: Asia/Seoul, limits: {free: 2}, routes: [api]}
                  - {name: soft-monthly, per: tenant, period: month, timezone: Asia/Seoul, limits: {free: 1},
                     on_exceed: allow_and_flag, routes: [other]}
                """));
        key = new ApiKeyService(keys, clock)
                .create("ci", "svc", "acme-" + UUID.randomUUID(), List.of(), List.of(), "free", Optional.empty())
                .text();
    }

    @AfterEach
    void close() {
        pipeline.close();
    }

    private Decision check(String path, String... extraHeaders) {
        String[] kv = new String[extraHeaders.length + 2];
        kv[0] = "x-api-key";
        kv[1] = key;
        System.arraycopy(extraHeaders, 0, kv, 2, extraHeaders.length);
        return pipeline.decide(Fixtures.request(path, Fixtures.headers(kv)));
    }

    @Test
    void overTheQuota_429WithRetryAfterUntilSeoulMidnight_andAReasonNamingTheQuota() {
        Decision first = check("/api/a");
        assertThat(first.allowed()).isTrue();
        assertThat(first.responseHeaders())
                .containsEntry("x-quota-name", "seoul-daily")
                .containsEntry("x-quota-limit", "2")
                .containsEntry("x-quota-remaining", "1")
                .containsEntry("x-quota-reset", "3600");
        assertThat(check("/api/a").allowed()).isTrue();
        Decision refused = check("/api/a");
        assertThat(refused.allowed()).isFalse();
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.reason()).isEqualTo(Reason.QUOTA_EXCEEDED);
        assertThat(refused.responseHeaders())
                .containsEntry("retry-after", "3600")
                .containsEntry("x-quota-remaining", "0");
        assertThat(refused.body()).contains("\"reason\":\"quota_exceeded\"").contains("\"quota\":\"seoul-daily\"");
        CheckResponse wire = CheckResponses.toResponse(refused);
        assertThat(wire.getDeniedResponse().getStatus().getCodeValue()).isEqualTo(429);
        assertThat(wire.getDeniedResponse().getHeadersList()).anySatisfy(h -> {
            assertThat(h.getHeader().getKey()).isEqualTo("retry-after");
            assertThat(h.getHeader().getValue()).isEqualTo("3600");
        });
    }

    @Test
    void allowedResponse_carriesQuotaHeadersToTheClient_throughResponseHeadersToAdd() {
        CheckResponse wire = CheckResponses.toResponse(check("/api/a"));
        assertThat(wire.getOkResponse().getResponseHeadersToAddList()).anySatisfy(h -> {
            assertThat(h.getHeader().getKey()).isEqualTo("x-quota-remaining");
            assertThat(h.getHeader().getValue()).isEqualTo("1");
        });
    }

    @Test
    void allowAndFlag_allowsWithTheFlagHeaderForTheUpstream_andTheAuditRecordsIt() {
        Decision within = check("/other/x", QuotaVerdict.FLAG_HEADER, "forged-by-client");
        assertThat(within.allowed()).isTrue();
        assertThat(within.headersRemoved()).contains(QuotaVerdict.FLAG_HEADER); // a client cannot pre-flag itself
        assertThat(Fixtures.set(within)).doesNotContainKey(QuotaVerdict.FLAG_HEADER);
        Decision over = check("/other/x");
        assertThat(over.allowed()).isTrue();
        assertThat(Fixtures.set(over)).containsEntry(QuotaVerdict.FLAG_HEADER, "soft-monthly");
        HttpRequestView request = Fixtures.request("/other/x", Fixtures.headers("x-api-key", key));
        AuthzDecisionEvent event = DecisionEvents.of(request, over, clock.instant(), 10);
        assertThat(event.details())
                .containsEntry("quota_exceeded", "soft-monthly")
                .containsEntry("quota", "soft-monthly");
    }
}
