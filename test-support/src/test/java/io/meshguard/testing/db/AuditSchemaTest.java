package io.meshguard.testing.db;

import static io.meshguard.testing.jooq.Tables.AUDIT_EVENT;
import static io.meshguard.testing.jooq.Tables.AUDIT_LEGAL_HOLD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.db.Migrations;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.jooq.tables.records.AuditEventRecord;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.UUID;
import org.jooq.DSLContext;
import org.jooq.JSONB;
import org.jooq.exception.DataAccessException;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

@IntegrationTest
class AuditSchemaTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final DateTimeFormatter PARTITION_SUFFIX = DateTimeFormatter.ofPattern("yyyy_MM");

    @Test
    void migrations_freshDatabase_allApplied() {
        assertThat(Migrations.pendingVersions(PG.dataSource())).isEmpty();
        assertThat(Migrations.currentVersion(PG.dataSource()))
                .hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isGreaterThanOrEqualTo(1));
        assertThat(Migrations.apply(PG.dataSource()).applied()).isZero();
    }

    @Test
    void auditEvent_isPartitionedWithPartitionsForThisAndNextTwoMonths() {
        DSLContext dsl = PG.dsl();
        assertThat(dsl.fetchValue("select relkind::text from pg_class where oid = 'audit_event'::regclass"))
                .isEqualTo("p");

        YearMonth now = YearMonth.now(ZoneOffset.UTC);
        assertThat(partitions(dsl))
                .contains(
                        "audit_event_" + now.format(PARTITION_SUFFIX),
                        "audit_event_" + now.plusMonths(1).format(PARTITION_SUFFIX),
                        "audit_event_" + now.plusMonths(2).format(PARTITION_SUFFIX),
                        "audit_event_default");
    }

    @Test
    void partitionBounds_areUtcMonths() {
        DSLContext dsl = PG.dsl();
        YearMonth now = YearMonth.now(ZoneOffset.UTC);
        String bound = dsl.transactionResult(tx -> {
            tx.dsl().execute("set local timezone = 'UTC'");
            return tx.dsl()
                    .fetchValue(
                            "select pg_get_expr(relpartbound, oid) from pg_class where relname = ?",
                            "audit_event_" + now.format(PARTITION_SUFFIX))
                    .toString();
        });
        assertThat(bound)
                .isEqualTo("FOR VALUES FROM ('" + now.atDay(1) + " 00:00:00+00') TO ('"
                        + now.plusMonths(1).atDay(1) + " 00:00:00+00')");
    }

    @Test
    void ensurePartitions_calledTwice_createsThemOnce() {
        DSLContext dsl = PG.dsl();

        int first = asInt(dsl.fetchValue("select audit_ensure_partitions(date '2030-01-15', 3)"));
        int second = asInt(dsl.fetchValue("select audit_ensure_partitions(date '2030-01-01', 3)"));

        assertThat(first).isEqualTo(4);
        assertThat(second).isZero();
        assertThat(partitions(dsl))
                .contains("audit_event_2030_01", "audit_event_2030_02", "audit_event_2030_03", "audit_event_2030_04")
                .doesNotContain("audit_event_2029_12", "audit_event_2030_05");
    }

    @Test
    void ensurePartitions_invalidMonthsAhead_rejectedWithClearError() {
        assertThatThrownBy(() -> PG.dsl().execute("select audit_ensure_partitions(date '2030-01-01', -1)"))
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("months_ahead must be between 0 and 120");
    }

    @Test
    void insert_eventInMonthWithoutPartition_keptInDefault_thenMovedWhenPartitionCreated() {
        DSLContext dsl = PG.dsl();
        AuditEventRecord event = event(OffsetDateTime.parse("2031-05-10T12:00:00Z"));
        assertThat(dsl.insertInto(AUDIT_EVENT).set(event).execute()).isEqualTo(1);
        assertThat(countIn(dsl, "audit_event_default", event.getEventId())).isEqualTo(1);

        dsl.execute("select audit_ensure_partitions(date '2031-05-01', 0)");

        assertThat(countIn(dsl, "audit_event_default", event.getEventId())).isZero();
        assertThat(countIn(dsl, "audit_event_2031_05", event.getEventId())).isEqualTo(1);
        assertThat(dsl.fetchCount(AUDIT_EVENT, AUDIT_EVENT.EVENT_ID.eq(event.getEventId())))
                .isEqualTo(1);
    }

    @Test
    void insert_sameEventTwice_onConflictDoNothingKeepsOneRow() {
        DSLContext dsl = PG.dsl();
        AuditEventRecord event = event(OffsetDateTime.now(ZoneOffset.UTC));

        int first = dsl.insertInto(AUDIT_EVENT)
                .set(event)
                .onConflict(AUDIT_EVENT.OCCURRED_AT, AUDIT_EVENT.EVENT_ID)
                .doNothing()
                .execute();
        int replay = dsl.insertInto(AUDIT_EVENT)
                .set(event)
                .onConflict(AUDIT_EVENT.OCCURRED_AT, AUDIT_EVENT.EVENT_ID)
                .doNothing()
                .execute();
        int replayUntargeted =
                dsl.insertInto(AUDIT_EVENT).set(event).onConflictDoNothing().execute();

        assertThat(first).isEqualTo(1);
        assertThat(replay).isZero();
        assertThat(replayUntargeted).isZero();
        assertThat(dsl.fetchCount(AUDIT_EVENT, AUDIT_EVENT.EVENT_ID.eq(event.getEventId())))
                .isEqualTo(1);
    }

    @Test
    void jooqRoundTrip_eventWithJsonbDetails_readsBackEveryColumn() {
        DSLContext dsl = PG.dsl();
        OffsetDateTime at = OffsetDateTime.parse("2026-03-04T05:06:07.123456+02:00");
        dsl.execute("select audit_ensure_partitions(date '2026-03-01', 0)");
        AuditEventRecord event = event(at)
                .setKind("dlp_finding")
                .setDetails(JSONB.valueOf(
                        "{\"detector\": \"pan\", \"location\": \"response.body\", \"length\": 16, \"hmac\": \"3f9a\"}"))
                .setIsStream(true)
                .setLatencyUs(1234L)
                .setRequestBytes(0L)
                .setResponseBytes(987654321L);
        dsl.insertInto(AUDIT_EVENT).set(event).execute();

        AuditEventRecord read = dsl.selectFrom(AUDIT_EVENT)
                .where(AUDIT_EVENT.EVENT_ID.eq(event.getEventId()))
                .fetchSingle();

        assertThat(read.getOccurredAt().toInstant()).isEqualTo(at.toInstant());
        assertThat(read.getKind()).isEqualTo("dlp_finding");
        assertThat(read.getTenant()).isEqualTo("acme-bank");
        assertThat(read.getSubject()).isEqualTo("user-42");
        assertThat(read.getStatus()).isEqualTo(403);
        assertThat(read.getIsStream()).isTrue();
        assertThat(read.getResponseBytes()).isEqualTo(987654321L);
        assertThat(read.getDetails())
                .isEqualTo(
                        JSONB.valueOf(
                                "{\"hmac\": \"3f9a\", \"length\": 16, \"detector\": \"pan\", \"location\": \"response.body\"}"));
        // Stored as jsonb, so PostgreSQL's JSON operators work on it.
        assertThat(dsl.fetchValue(
                        "select details ->> 'detector' from audit_event where event_id = ?", event.getEventId()))
                .isEqualTo("pan");
        assertThat(dsl.fetchValue(
                        "select pg_typeof(details)::text from audit_event where event_id = ?", event.getEventId()))
                .isEqualTo("jsonb");
    }

    @Test
    void insert_withoutDetails_defaultsToEmptyObject() {
        DSLContext dsl = PG.dsl();
        UUID id = UUID.randomUUID();
        dsl.insertInto(AUDIT_EVENT, AUDIT_EVENT.EVENT_ID, AUDIT_EVENT.OCCURRED_AT, AUDIT_EVENT.KIND)
                .values(id, OffsetDateTime.now(ZoneOffset.UTC), "config_change")
                .execute();

        AuditEventRecord read =
                dsl.selectFrom(AUDIT_EVENT).where(AUDIT_EVENT.EVENT_ID.eq(id)).fetchSingle();
        assertThat(read.getDetails()).isEqualTo(JSONB.valueOf("{}"));
        assertThat(read.getIsStream()).isFalse();
        assertThat(dsl.fetchValue("select jsonb_typeof(details) from audit_event where event_id = ?", id))
                .isEqualTo("object");
    }

    @Test
    void insert_unknownKind_rejectedByCheckConstraint() {
        AuditEventRecord event = event(OffsetDateTime.now(ZoneOffset.UTC)).setKind("login");

        assertThatThrownBy(() -> PG.dsl().insertInto(AUDIT_EVENT).set(event).execute())
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("audit_event_kind_check");
    }

    @Test
    void insert_negativeSize_rejectedByCheckConstraint() {
        AuditEventRecord event = event(OffsetDateTime.now(ZoneOffset.UTC)).setRequestBytes(-1L);

        assertThatThrownBy(() -> PG.dsl().insertInto(AUDIT_EVENT).set(event).execute())
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("audit_event_sizes_check");
    }

    @Test
    void legalHold_monthRange_storedAndMidMonthRejected() {
        DSLContext dsl = PG.dsl();
        dsl.insertInto(AUDIT_LEGAL_HOLD)
                .set(AUDIT_LEGAL_HOLD.FROM_MONTH, LocalDate.of(2026, 1, 1))
                .set(AUDIT_LEGAL_HOLD.TO_MONTH, LocalDate.of(2026, 3, 1))
                .set(AUDIT_LEGAL_HOLD.REASON, "regulator request 2026-17")
                .set(AUDIT_LEGAL_HOLD.CREATED_BY, "alice@security")
                .execute();

        assertThat(dsl.fetchCount(
                        AUDIT_LEGAL_HOLD,
                        AUDIT_LEGAL_HOLD
                                .FROM_MONTH
                                .le(LocalDate.of(2026, 2, 1))
                                .and(AUDIT_LEGAL_HOLD.TO_MONTH.ge(LocalDate.of(2026, 2, 1)))))
                .isEqualTo(1);
        assertThat(dsl.fetchValue(DSL.select(AUDIT_LEGAL_HOLD.CREATED_AT).from(AUDIT_LEGAL_HOLD)))
                .isNotNull();
        assertThatThrownBy(() -> dsl.insertInto(AUDIT_LEGAL_HOLD)
                        .set(AUDIT_LEGAL_HOLD.FROM_MONTH, LocalDate.of(2026, 1, 15))
                        .set(AUDIT_LEGAL_HOLD.TO_MONTH, LocalDate.of(2026, 3, 1))
                        .set(AUDIT_LEGAL_HOLD.REASON, "x")
                        .set(AUDIT_LEGAL_HOLD.CREATED_BY, "bob")
                        .execute())
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("audit_legal_hold_first_day_check");
        assertThatThrownBy(() -> dsl.insertInto(AUDIT_LEGAL_HOLD)
                        .set(AUDIT_LEGAL_HOLD.FROM_MONTH, LocalDate.of(2026, 4, 1))
                        .set(AUDIT_LEGAL_HOLD.TO_MONTH, LocalDate.of(2026, 3, 1))
                        .set(AUDIT_LEGAL_HOLD.REASON, "x")
                        .set(AUDIT_LEGAL_HOLD.CREATED_BY, "bob")
                        .execute())
                .isInstanceOf(DataAccessException.class)
                .hasMessageContaining("audit_legal_hold_range_check");
    }

    private static AuditEventRecord event(OffsetDateTime at) {
        return new AuditEventRecord()
                .setEventId(UUID.randomUUID())
                .setOccurredAt(at)
                .setKind("authz_decision")
                .setRequestId("req-" + UUID.randomUUID())
                .setTraceId("4bf92f3577b34da6a3ce929d0e0e4736")
                .setTenant("acme-bank")
                .setSubject("user-42")
                .setClientId("mobile-app")
                .setSource("extauthz")
                .setCallerType("user")
                .setMethod("POST")
                .setAuthority("payments.acme.internal")
                .setPath("/v1/payments")
                .setRoute("payments-v1")
                .setStatus(403)
                .setDecision("deny")
                .setReason("missing_scope");
    }

    private static List<String> partitions(DSLContext dsl) {
        return dsl.fetch("select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid "
                        + "where i.inhparent = 'audit_event'::regclass")
                .getValues(0, String.class);
    }

    private static int countIn(DSLContext dsl, String partition, UUID eventId) {
        return asInt(dsl.fetchValue("select count(*) from " + partition + " where event_id = ?", eventId));
    }

    private static int asInt(Object value) {
        return ((Number) value).intValue();
    }
}
