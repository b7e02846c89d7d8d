package io.meshguard.dlpserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class DlpMetricsTest {
    @Test
    void vectorBytes_showsTheVectorSearchesOfThisJvm() {
        // Test JVMs run with the vector module, as deployments do, on CPUs with 256- or 512-bit vectors.
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new DlpMetrics(registry);
        assertThat(registry.get("meshguard_dlp_vector_bytes").gauge().value()).isIn(32.0, 64.0);
    }

    @Test
    void rareEventCounters_areExposedAtZero_beforeTheFirstEvent() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DlpMetrics metrics = new DlpMetrics(registry);

        assertThat(registry.get("meshguard_dlp_decoder_limit_total")
                        .tag("direction", "response")
                        .counter()
                        .count())
                .isZero();
        assertThat(registry.get("meshguard_dlp_streams_over_deadline_total")
                        .tag("phase", "body")
                        .tag("direction", "request")
                        .counter()
                        .count())
                .isZero();
        assertThat(registry.get("meshguard_dlp_streams_over_deadline_total")
                        .tag("phase", "stream")
                        .tag("direction", "none")
                        .counter()
                        .count())
                .isZero();
        assertThat(registry.get("meshguard_dlp_protocol_errors_total").counters())
                .hasSize(DlpMetrics.PROTOCOL_ERRORS.size());
        assertThat(registry.get("meshguard_dlp_policy_reloads_total")
                        .tag("result", "invalid")
                        .counter()
                        .count())
                .isZero();

        metrics.overDeadline("body", "request");
        assertThat(registry.get("meshguard_dlp_streams_over_deadline_total")
                        .tag("phase", "body")
                        .tag("direction", "request")
                        .counter()
                        .count())
                .isEqualTo(1);
    }

    /** Review IC-10: the alerts DlpUnknownProfile and DlpUnscannedBytes read series that exist before the first event. */
    @Test
    void unknownProfileTotalAndUnscannedBytes_existAtZero_andTheFirstEventCounts() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DlpMetrics metrics = new DlpMetrics(registry);
        assertThat(registry.get("meshguard_dlp_unknown_profile_streams_total")
                        .counter()
                        .count())
                .isZero();
        for (String direction : new String[] {"request", "response"}) {
            for (String reason : DlpMetrics.UNSCANNED_REASONS) {
                assertThat(registry.get("meshguard_dlp_unscanned_bytes_total")
                                .tag("direction", direction)
                                .tag("reason", reason)
                                .counter()
                                .count())
                        .as("%s %s", direction, reason)
                        .isZero();
            }
        }

        metrics.unknownProfile("typo-profile");
        metrics.unscanned("request", "non_text", 10);
        assertThat(registry.get("meshguard_dlp_unknown_profile_streams_total")
                        .counter()
                        .count())
                .isEqualTo(1);
        assertThat(registry.get("meshguard_dlp_unknown_profile_total")
                        .tag("profile", "typo-profile")
                        .counter()
                        .count())
                .isEqualTo(1);
        assertThat(registry.get("meshguard_dlp_unscanned_bytes_total")
                        .tag("direction", "request")
                        .tag("reason", "non_text")
                        .counter()
                        .count())
                .isEqualTo(10);
    }

    /** The per-name series the dashboards break down has a sample at zero before any unknown name. */
    @Test
    void unknownProfilePerNameSeries_existsAtZeroFromStart() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        new DlpMetrics(registry);
        assertThat(registry.get("meshguard_dlp_unknown_profile_total")
                        .tag("profile", io.meshguard.contract.ProfileLabels.OTHER)
                        .counter()
                        .count())
                .isZero();
    }

    /** Review IC-12: every meter says what it counts (a HELP line in the exposition). */
    @Test
    void everyMeter_hasADescription() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DlpMetrics metrics = new DlpMetrics(registry);
        metrics.blocked("request", "card");
        metrics.malformed("request", "json");
        assertThat(registry.getMeters()).isNotEmpty().allSatisfy(m -> assertThat(
                        m.getId().getDescription())
                .as(m.getId().getName())
                .isNotBlank());
    }
}
