package io.meshguard.audit.query;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A lookup by trace id (a canary's evidence through the admin plane's
 * {@code GET /audit/events?trace_id=}) is an index lookup, not a read of every row of its time window, against a real,
 * migrated PostgreSQL with 20,000 decision rows.
 */
@IntegrationTest
class TraceIdLookupTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    /** The reader's statement for a query by trace id (AuditReader#query: since, trace id, newest first, a page). */
    private static final String BY_TRACE_ID = "select event_id, occurred_at, kind, request_id, trace_id, tenant"
            + " from audit_event where occurred_at >= ? and trace_id = ?"
            + " order by occurred_at desc, event_id desc limit ?";

    @Test
    void queryByTraceId_usesTheTraceIdIndex_andFindsTheRows() throws Exception {
        try (Connection c = PG.dataSource().getConnection();
                Statement st = c.createStatement()) {
            st.execute("insert into audit_event (event_id, occurred_at, kind, request_id, trace_id, tenant)"
                    + " select gen_random_uuid(), now() - (n || ' seconds')::interval, 'authz_decision',"
                    + " 'req-' || n, lpad(to_hex(n), 32, '0'), 'acme' from generate_series(1, 20000) n");
            st.execute("analyze audit_event");

            String trace = String.format("%032x", 4242);
            List<String> plan = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("explain " + BY_TRACE_ID)) {
                bind(ps, trace);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        plan.add(rs.getString(1));
                    }
                }
            }
            // the partitions holding the rows are read through the index (an empty one may be scanned: it has nothing)
            List<String> holding = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("select distinct tableoid::regclass::text from audit_event")) {
                while (rs.next()) {
                    holding.add(rs.getString(1));
                }
            }
            String shown = String.join("\n", plan);
            assertThat(shown).as("plan").containsPattern("Index (Only )?Scan.*trace_id");
            assertThat(holding).isNotEmpty().allSatisfy(partition -> assertThat(shown)
                    .as("plan")
                    .doesNotContain("Seq Scan on " + partition + " "));

            List<String> found = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(BY_TRACE_ID)) {
                bind(ps, trace);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        found.add(rs.getString("request_id"));
                    }
                }
            }
            assertThat(found).containsExactly("req-4242");
            assertThat(new AuditReader(PG.dataSource())
                            .query(AuditQuery.since(Instant.now().minus(Duration.ofDays(1)))
                                    .withTraceId(trace)))
                    .singleElement()
                    .satisfies(e -> assertThat(e.requestId()).contains("req-4242"));
        }
    }

    private static void bind(PreparedStatement ps, String trace) throws Exception {
        ps.setObject(1, java.sql.Timestamp.from(Instant.now().minus(Duration.ofDays(1))));
        ps.setString(2, trace);
        ps.setInt(3, 100);
    }
}
