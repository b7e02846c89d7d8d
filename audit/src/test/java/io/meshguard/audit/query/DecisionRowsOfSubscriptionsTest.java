package io.meshguard.audit.query;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.PostgresAuditStore;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A plan's report reads its subscriptions' decisions only, chosen by PostgreSQL: on a real database holding other
 * plans' and tenants' decisions in the same window, the read returns the named subscriptions' rows in recorded order
 * and nothing else.
 */
@IntegrationTest
class DecisionRowsOfSubscriptionsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final Instant T0 = Instant.parse("2027-05-06T10:00:00Z");

    @BeforeAll
    static void data() throws Exception {
        List<AuditEvent> rows = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            // one in ten on the plan's subscriptions, the rest another tenant's or no product's
            String subscription = i % 10 == 0 ? "sub-gold-" + (i % 20 == 0 ? "a" : "b") : "sub-other-" + (i % 7);
            AuditEvent.Builder row = AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                    .occurredAt(T0.plusMillis(i * 10L))
                    .requestId("req-" + i)
                    .method("GET")
                    .path("/")
                    .status(200)
                    .decision("allow")
                    .reason("ok")
                    .latencyUs(100);
            if (i % 3 != 1) {
                row.detail("subscription", subscription);
            }
            rows.add(row.build());
        }
        try (PostgresAuditStore store = new PostgresAuditStore(
                ConnectionSource.of(PG.dataSource()), BatchWriteMethod.COPY, Duration.ofSeconds(10))) {
            store.write(rows);
        }
    }

    @Test
    void decisionRowsOf_readsOnlyThePlansSubscriptions_inRecordedOrder() throws Exception {
        List<String> ids = new ArrayList<>();
        List<Instant> times = new ArrayList<>();
        long n = new AuditReader(PG.dataSource())
                .decisionRowsOf(
                        Set.of("sub-gold-a", "sub-gold-b"),
                        T0,
                        T0.plus(Duration.ofHours(1)),
                        List.of("subscription"),
                        7,
                        Duration.ofSeconds(10),
                        (requestId, at, columns, details) -> {
                            assertThat(details.get(0)).startsWith("sub-gold-");
                            ids.add(requestId);
                            times.add(at);
                        });
        // i % 10 == 0 and i % 3 != 1: 60 rows on the plan, 20 of them recorded without a subscription
        assertThat(n).isEqualTo(ids.size()).isEqualTo(40);
        assertThat(times).isSorted();
    }

    @Test
    void decisionRowsOf_noSubscriptions_readsNothing() throws Exception {
        assertThat(new AuditReader(PG.dataSource())
                        .decisionRowsOf(
                                Set.of(),
                                T0,
                                T0.plus(Duration.ofHours(1)),
                                List.of("subscription"),
                                100,
                                Duration.ofSeconds(10),
                                (requestId, at, columns, details) -> {
                                    throw new AssertionError("read " + requestId);
                                }))
                .isZero();
    }
}
