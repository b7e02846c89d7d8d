package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.audit.trail.AdminTrail;
import io.meshguard.audit.trail.AdminTrailMaintenance;
import io.meshguard.audit.trail.TrailEntries;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The servers run on a login role that is only a member of {@code meshguard_server} (migration V95): rows yes, schema
 * no. Partition maintenance and retention of the audit log and the admin trail still work, through the owner's
 * security-definer functions, while every statement that would change the schema is refused.
 */
@IntegrationTest
class ServerRoleTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final String LOGIN =
            "mg_server_" + UUID.randomUUID().toString().substring(0, 8);
    private static final String PASSWORD = UUID.randomUUID().toString();
    private static PGSimpleDataSource server;

    @BeforeAll
    static void aLoginRoleWithTheServersGrantsOnly() throws SQLException {
        owner("create role " + LOGIN + " login password '" + PASSWORD + "' nosuperuser nocreatedb nocreaterole");
        owner("grant meshguard_server to " + LOGIN);
        server = new PGSimpleDataSource();
        server.setURL(PG.jdbcUrl());
        server.setUser(LOGIN);
        server.setPassword(PASSWORD);
    }

    private static void owner(String statement) throws SQLException {
        run(PG.dataSource(), statement);
    }

    private static void run(DataSource ds, String statement) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }

    private static boolean exists(String table) throws SQLException {
        try (Connection c = PG.dataSource().getConnection();
                var rs = c.createStatement().executeQuery("select to_regclass('" + table + "') is not null")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    @Test
    void serverRole_writesAndReadsRows() throws Exception {
        run(
                server,
                "insert into audit_event (event_id, occurred_at, kind) values (gen_random_uuid(), now(), 'api_call')");
        try (Connection c = server.getConnection();
                var rs = c.createStatement().executeQuery("select count(*) from audit_event")) {
            rs.next();
            assertThat(rs.getLong(1)).isPositive();
        }
    }

    @Test
    void serverRole_copiesAuditBatches_throughTheStage_whenRowLevelSecurityRefusesCopy() throws Exception {
        Instant at = Instant.now();
        List<AuditEvent> first = List.of(TestEvents.numbered(1, at), TestEvents.numbered(2, at));
        List<AuditEvent> second = List.of(TestEvents.numbered(3, at));
        try (PostgresAuditStore store =
                new PostgresAuditStore(ConnectionSource.of(server), BatchWriteMethod.COPY, Duration.ofSeconds(10))) {
            store.write(first);
            store.write(second);
        }
        for (AuditEvent e : List.of(first.get(0), first.get(1), second.get(0))) {
            try (Connection c = PG.dataSource().getConnection();
                    var ps = c.prepareStatement("select count(*) from audit_event where event_id = ?")) {
                ps.setObject(1, e.eventId());
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getLong(1)).as("event %s", e.eventId()).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void serverRole_cannotChangeTheSchema() {
        for (String ddl : new String[] {
            "create table mg_intruder (id int)",
            "alter table audit_event add column mg_intruder int",
            "drop table audit_legal_hold",
            "alter table audit_event detach partition audit_event_default",
            "truncate audit_event",
            "insert into flyway_schema_history (installed_rank, version, description, type, script, installed_by,"
                    + " execution_time, success) values (99999, '99999', 'x', 'SQL', 'x', 'x', 0, true)"
        }) {
            assertThatThrownBy(() -> run(server, ddl))
                    .as(ddl)
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState())
                            .as("%s: %s", ddl, e.getMessage())
                            .isIn("42501", "42P01"));
        }
    }

    @Test
    void auditPartitions_createdAheadAndDroppedPastRetention_byTheServerRole() throws Exception {
        owner("select audit_ensure_partitions('2029-07-01', 0)");
        PartitionMaintenance job = new PartitionMaintenance(
                server,
                Clock.fixed(Instant.parse("2030-11-15T12:00:00Z"), ZoneOffset.UTC),
                2,
                13,
                new SimpleMeterRegistry());

        PartitionMaintenance.Result r = job.runOnce();

        assertThat(exists("audit_event_2031_01")).as("created ahead").isTrue();
        assertThat(r.dropped()).contains("audit_event_2029_07");
        assertThat(exists("audit_event_2029_07")).as("dropped past retention").isFalse();
    }

    @Test
    void adminTrailMonths_createdAheadAndRetired_byTheServerRole() throws Exception {
        YearMonth old = YearMonth.now(ZoneOffset.UTC).minusMonths(20);
        owner("delete from admin_trail");
        owner("delete from admin_trail_anchor");
        owner("update admin_trail_head set seq = 0, row_hash = repeat('0', 64)");
        owner("select admin_trail_ensure_partitions('" + old.atDay(1) + "', 0)");
        new AdminTrail(server)
                .append(TrailEntries.upsert(
                        old.atDay(3).atStartOfDay().toInstant(ZoneOffset.UTC),
                        "alice",
                        Optional.of("acme"),
                        "routes/edge/r1"));

        AdminTrailMaintenance.Result r = new AdminTrailMaintenance(server, Clock.systemUTC(), 2, 13).runOnce();

        YearMonth ahead = YearMonth.now(ZoneOffset.UTC).plusMonths(2);
        assertThat(exists(String.format("admin_trail_%04d_%02d", ahead.getYear(), ahead.getMonthValue())))
                .isTrue();
        assertThat(r.dropped()).contains(old);
    }

    @Test
    void partitionFunctions_areNotCallableByOtherRoles() throws Exception {
        String stranger = "mg_stranger_" + UUID.randomUUID().toString().substring(0, 8);
        owner("create role " + stranger + " login password '" + PASSWORD + "'");
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(PG.jdbcUrl());
        ds.setUser(stranger);
        ds.setPassword(PASSWORD);
        for (String call : new String[] {
            "select audit_ensure_partitions('2040-01-01', 0)",
            "select audit_drop_month('2029-08-01')",
            "select admin_trail_ensure_partitions('2040-01-01', 0)",
            "select admin_trail_drop_month('2020-01-01', 13, 'x')"
        }) {
            assertThatThrownBy(() -> run(ds, call))
                    .as(call)
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isIn("42501"));
        }
    }
}
