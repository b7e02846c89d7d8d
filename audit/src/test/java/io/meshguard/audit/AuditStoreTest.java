package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.audit.query.AuditQuery;
import io.meshguard.audit.query.AuditReader;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@IntegrationTest
class AuditStoreTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static PostgresAuditStore store(BatchWriteMethod method) {
        return new PostgresAuditStore(ConnectionSource.of(PG.dataSource()), method, Duration.ofSeconds(10));
    }

    private static long count(String where) throws SQLException {
        try (var c = PG.dataSource().getConnection();
                var rs = c.createStatement().executeQuery("select count(*) from audit_event where " + where)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @ParameterizedTest
    @EnumSource(BatchWriteMethod.class)
    void everyKind_roundTripsThroughPostgres(BatchWriteMethod method) throws Exception {
        Instant at = Instant.parse("2026-11-21T09:00:00.123456Z").plusSeconds(method.ordinal() * 60L);
        List<AuditEvent> events = TestEvents.everyKind(at);
        try (PostgresAuditStore store = store(method)) {
            store.write(events);
        }
        List<AuditEvent> back =
                new AuditReader(PG.dataSource()).query(AuditQuery.since(at).withUntil(at.plusSeconds(1)));
        back = new ArrayList<>(back);
        back.sort(Comparator.comparing(AuditEvent::occurredAt));
        assertThat(back).containsExactlyElementsOf(events);
        assertThat(back.get(1).detailsJson()).doesNotContain("4111111111111111");
        assertThat(back.get(1).details()).containsEntry("value_hmac", TestEvents.HASHER.hmac("4111111111111111"));
    }

    @ParameterizedTest
    @EnumSource(BatchWriteMethod.class)
    void textNeedingEscapes_survivesTheWritePath(BatchWriteMethod method) throws Exception {
        Instant at = Instant.parse("2026-11-21T09:30:00Z").plusSeconds(method.ordinal());
        AuditEvent tricky = AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(at)
                .path("/a\\b\tc\nd\re\\N")
                .subject("ünïcødé 🙂")
                .tenant("\\N")
                .detail("quote", "\"q\" \\ \n")
                .build();
        try (PostgresAuditStore store = store(method)) {
            store.write(List.of(tricky));
        }
        List<AuditEvent> back =
                new AuditReader(PG.dataSource()).query(AuditQuery.since(at).withUntil(at.plusSeconds(1)));
        assertThat(back).containsExactly(tricky);
    }

    @ParameterizedTest
    @EnumSource(BatchWriteMethod.class)
    void batchOfManyCopyChunks_arrivesWhole_freshAndIdempotent(BatchWriteMethod method) throws Exception {
        // ~1 MB of COPY text: streamed to PostgreSQL in many chunks, rows split across chunk boundaries
        Instant at = Instant.parse("2026-11-21T07:00:00Z").plusSeconds(method.ordinal() * 100L);
        List<AuditEvent> events = new ArrayList<>();
        for (int i = 0; i < 1500; i++) {
            events.add(AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                    .occurredAt(at.plusMillis(i))
                    .requestId("req-" + i)
                    .path("/v1/orders/" + i)
                    .detail("facts", ("ünïcødé 🙂 \\ \t " + i).repeat(30))
                    .build());
        }
        try (PostgresAuditStore store = store(method)) {
            store.write(events.subList(0, 700));
            assertThat(store.writeIdempotent(events)).isEqualTo(800);
        }
        List<AuditEvent> back = new ArrayList<>(new AuditReader(PG.dataSource())
                .query(AuditQuery.since(at).withUntil(at.plusSeconds(2)).withLimit(2000)));
        back.sort(Comparator.comparing(AuditEvent::occurredAt));
        assertThat(back).containsExactlyElementsOf(events);
    }

    @ParameterizedTest
    @EnumSource(BatchWriteMethod.class)
    void idempotentWrite_skipsRowsAlreadyThere(BatchWriteMethod method) throws Exception {
        Instant at = Instant.parse("2026-11-21T08:00:00Z").plusSeconds(method.ordinal() * 100L);
        List<AuditEvent> events = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            events.add(TestEvents.numbered(i, at.plusMillis(i)));
        }
        try (PostgresAuditStore store = store(method)) {
            store.write(events.subList(0, 20));
            assertThat(store.writeIdempotent(events)).isEqualTo(30);
            assertThat(store.writeIdempotent(events)).isZero();
        }
        assertThat(count("occurred_at >= '" + at + "' and occurred_at < '" + at.plusSeconds(1) + "'"))
                .isEqualTo(50);
    }

    @Test
    void plainWrite_ofAnExistingRow_failsWithAPermanentError() throws Exception {
        AuditEvent e = TestEvents.numbered(1, Instant.parse("2026-11-21T07:00:00Z"));
        try (PostgresAuditStore store = store(BatchWriteMethod.COPY)) {
            store.write(List.of(e));
            assertThatThrownBy(() -> store.write(List.of(e)))
                    .isInstanceOfSatisfying(SQLException.class, ex -> assertThat(SqlFailures.isTransient(ex))
                            .isFalse());
        }
    }

    @Test
    void eventOutsideAnyMonthlyPartition_landsInTheDefaultPartition() throws Exception {
        Instant farFuture = Instant.parse("2031-03-04T05:06:07Z");
        try (PostgresAuditStore store = store(BatchWriteMethod.COPY)) {
            store.write(List.of(TestEvents.numbered(7, farFuture)));
        }
        try (var c = PG.dataSource().getConnection();
                var rs = c.createStatement()
                        .executeQuery(
                                "select count(*) from audit_event_default where occurred_at = '" + farFuture + "'")) {
            rs.next();
            assertThat(rs.getLong(1)).isEqualTo(1);
        }
    }

    @Test
    void unreachableDatabase_isATransientFailure() {
        ConnectionSource nowhere =
                ConnectionSource.forUrl("jdbc:postgresql://127.0.0.1:1/none", "u", "p", Duration.ofSeconds(1));
        try (PostgresAuditStore store = new PostgresAuditStore(nowhere, BatchWriteMethod.COPY, Duration.ofSeconds(1))) {
            assertThatThrownBy(() -> store.write(List.of(TestEvents.numbered(1, Instant.now()))))
                    .isInstanceOfSatisfying(SQLException.class, ex -> assertThat(SqlFailures.isTransient(ex))
                            .isTrue());
        }
    }
}
