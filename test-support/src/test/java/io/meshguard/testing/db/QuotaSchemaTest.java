package io.meshguard.testing.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.util.UUID;
import org.jooq.exception.DataAccessException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** V28: quota counters, their change history and once-only alerts; audit events of kind quota. */
@IntegrationTest
class QuotaSchemaTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @Test
    void auditEvent_acceptsKindQuota_andStillRefusesUnknownKinds() {
        assertThat(PG.dsl()
                        .execute(
                                "insert into audit_event (event_id, occurred_at, kind, decision) values (?, now(), 'quota', 'alert')",
                                UUID.randomUUID()))
                .isEqualTo(1);
        assertThatThrownBy(() -> PG.dsl()
                        .execute(
                                "insert into audit_event (event_id, occurred_at, kind) values (?, now(), 'quotas')",
                                UUID.randomUUID()))
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("audit_event_kind_check");
    }

    @Test
    void quotaUsage_oneRowPerQuotaCallerAndPeriod_andOnlyDayOrMonth() {
        PG.dsl()
                .execute("insert into quota_usage (quota, caller, period_start, period, period_end, used) "
                        + "values ('q', 'tenant:a', date '2026-11-22', 'day', timestamptz '2026-11-22T15:00:00Z', 3)");
        assertThatThrownBy(
                        () -> PG.dsl()
                                .execute(
                                        "insert into quota_usage (quota, caller, period_start, period, period_end) "
                                                + "values ('q', 'tenant:a', date '2026-11-22', 'day', timestamptz '2026-11-22T15:00:00Z')"))
                .hasMessageContaining("quota_usage_pkey");
        assertThatThrownBy(
                        () -> PG.dsl()
                                .execute(
                                        "insert into quota_usage (quota, caller, period_start, period, period_end) "
                                                + "values ('q', 'tenant:b', date '2026-11-22', 'week', timestamptz '2026-11-29T15:00:00Z')"))
                .hasMessageContaining("quota_usage_period_check");
    }

    @Test
    void quotaAdjustment_needsAReasonAndAnActor() {
        String insert =
                "insert into quota_adjustment (quota, caller, period_start, action, delta, used_before, used_after, "
                        + "actor, via, reason) values ('q', 'tenant:a', date '2026-11-22', ?, -3, 3, 0, ?, 'cli', ?)";
        assertThat(PG.dsl().execute(insert, "reset", "alice", "ticket 1")).isEqualTo(1);
        assertThatThrownBy(() -> PG.dsl().execute(insert, "reset", "alice", ""))
                .hasMessageContaining("quota_adjustment_reason_check");
        assertThatThrownBy(() -> PG.dsl().execute(insert, "reset", "", "why"))
                .hasMessageContaining("quota_adjustment_actor_check");
        assertThatThrownBy(() -> PG.dsl().execute(insert, "delete", "alice", "why"))
                .hasMessageContaining("quota_adjustment_action_check");
    }

    @Test
    void quotaAlert_isRecordedOncePerCallerPeriodAndThreshold() {
        String insert = "insert into quota_alert (quota, caller, period_start, threshold, used, quota_limit) "
                + "values ('q', 'tenant:a', date '2026-11-22', ?, 8, 10) on conflict do nothing";
        assertThat(PG.dsl().execute(insert, 80)).isEqualTo(1);
        assertThat(PG.dsl().execute(insert, 80)).isZero();
        assertThat(PG.dsl().execute(insert, 100)).isEqualTo(1);
        assertThatThrownBy(() -> PG.dsl().execute(insert, 150)).hasMessageContaining("quota_alert_threshold_check");
    }
}
