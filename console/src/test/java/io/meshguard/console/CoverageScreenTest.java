package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.PostgresAuditStore;
import io.meshguard.audit.query.CoverageReport;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The coverage screen on a real PostgreSQL: the join's counts grouped per namespace, uncovered namespaces first, the
 * drill-down's sample request ids, and the page as the template renders it.
 */
@IntegrationTest
class CoverageScreenTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    private static final Views.Chrome CHROME = new Views.Chrome("Coverage", "dora", "csrf", List.of(), "", false, "");

    private final CoverageScreen screen =
            new CoverageScreen(new CoverageReport(PG.dataSource()), Clock.fixed(NOW, ZoneOffset.UTC));

    @BeforeAll
    static void rows() throws Exception {
        try (PostgresAuditStore store = new PostgresAuditStore(
                ConnectionSource.of(PG.dataSource()), BatchWriteMethod.COPY, Duration.ofSeconds(10))) {
            store.write(List.of(
                    // payments: two requests checked, one that reached the pod with no Check (a bypass)
                    logged("pay-1", "api.payments.svc.cluster.local", 600),
                    check("pay-1", "api.payments.svc.cluster.local", 600),
                    logged("pay-2", "ledger.payments.svc.cluster.local", 500),
                    check("PAY-2", "ledger.payments.svc.cluster.local", 500),
                    logged("pay-bypass", "api.payments.svc.cluster.local", 300),
                    // shop: covered, plus one request logged without an id (unverifiable)
                    logged("shop-1", "reviews.shop.svc.cluster.local", 400),
                    check("shop-1", "reviews.shop.svc.cluster.local", 400),
                    logged(null, "reviews.shop.svc.cluster.local", 200),
                    // a pod reached by its address, and a request of the day before the hour
                    logged("ip-1", "10.1.2.3:9080", 100),
                    logged("old-1", "api.payments.svc.cluster.local", 7200)));
        }
    }

    private static AuditEvent logged(String requestId, String authority, int secondsAgo) {
        return AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(NOW.minusSeconds(secondsAgo))
                .requestId(requestId)
                .method("GET")
                .authority(authority)
                .path("/items")
                .status(200)
                .detail("upstream_cluster", "inbound|9080||")
                .build();
    }

    /** An allowing Check of the request: the proof joins on its id and authority. */
    private static AuditEvent check(String requestId, String authority, int secondsAgo) {
        return AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .occurredAt(NOW.minusSeconds(secondsAgo))
                .requestId(requestId)
                .authority(authority)
                .decision("allow")
                .status(200)
                .detail("policy", Map.of())
                .build();
    }

    @Test
    void lastHour_groupsServicesByNamespace_uncoveredFirst_withTheJoinsCounts() {
        CoverageScreen.Page page = screen.page("hour", "", CHROME);

        assertThat(page.error()).isEmpty();
        assertThat(page.namespaces())
                .extracting(CoverageScreen.NamespaceRow::namespace)
                .containsExactly("(pod IPs)", "payments", "shop");
        CoverageScreen.NamespaceRow payments = page.namespaces().get(1);
        assertThat(payments.ok()).isFalse();
        assertThat(payments.protectedRequests()).isEqualTo(3);
        assertThat(payments.covered()).isEqualTo(2);
        assertThat(payments.unchecked()).isEqualTo(1);
        assertThat(payments.services())
                .extracting(CoverageScreen.ServiceRow::service)
                .containsExactlyInAnyOrder("api.payments.svc.cluster.local", "ledger.payments.svc.cluster.local");
        CoverageScreen.NamespaceRow shop = page.namespaces().get(2);
        assertThat(shop.covered()).isEqualTo(1);
        assertThat(shop.unverifiable()).isEqualTo(1);
        assertThat(shop.ok()).as("unverifiable is never covered").isFalse();
        assertThat(page.samples()).isEmpty();
    }

    @Test
    void lastDay_countsTheOlderRequestToo() {
        CoverageScreen.NamespaceRow payments = screen.page("day", "", CHROME).namespaces().stream()
                .filter(n -> n.namespace().equals("payments"))
                .findFirst()
                .orElseThrow();
        assertThat(payments.unchecked()).isEqualTo(2);
    }

    @Test
    void drillDown_listsTheServicesUncoveredRequestIds_andTheTemplateRendersThem() {
        CoverageScreen.Page page = screen.page("hour", "api.payments.svc.cluster.local", CHROME);

        assertThat(page.samples()).singleElement().isEqualTo(new CoverageScreen.SampleRow("pay-bypass", "no Check"));
        String html = new String(new Pages().bytes("coverage.jte", page), StandardCharsets.UTF_8);
        assertThat(html)
                .contains("data-namespace=\"payments\" data-ok=\"false\"")
                .contains("<tr data-request-id=\"pay-bypass\">")
                .contains("href=\"/console/coverage?window=hour&amp;service=api.payments.svc.cluster.local#samples\"");
    }

    @Test
    void namespaceOf_readsTheServiceHost_andSetsPodIpsAndGatewayRoutesApart() {
        assertThat(CoverageScreen.namespaceOf("api.payments.svc.cluster.local")).isEqualTo("payments");
        assertThat(CoverageScreen.namespaceOf("api.payments.svc")).isEqualTo("payments");
        assertThat(CoverageScreen.namespaceOf("10.1.2.3")).isEqualTo(CoverageScreen.POD_IPS);
        assertThat(CoverageScreen.namespaceOf("demo.v2.accounts")).isEqualTo(CoverageScreen.NO_NAMESPACE);
    }
}
