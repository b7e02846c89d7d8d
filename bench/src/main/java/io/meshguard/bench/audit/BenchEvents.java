package io.meshguard.bench.audit;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Events shaped like production ones: authz decisions and API calls with ids, identity and a few details. */
final class BenchEvents {
    private BenchEvents() {}

    static List<AuditEvent> make(int count, Instant start) {
        List<AuditEvent> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(one(i, start.plusNanos(i * 10_000L)));
        }
        return out;
    }

    static AuditEvent one(int i, Instant at) {
        boolean authz = i % 2 == 0;
        AuditEvent.Builder b = AuditEvent.builder(authz ? AuditKind.AUTHZ_DECISION : AuditKind.API_CALL)
                .occurredAt(at)
                .requestId("8f14e45f-ceea-467f-a2b7-" + String.format("%012d", i))
                .traceId(String.format("%032x", 0x4bf92f3577b3L + i))
                .tenant("tenant-" + (i % 50))
                .subject("user-" + (i % 5000) + "@bank.example")
                .clientId("mobile-app")
                .source("mobile")
                .callerType("human")
                .method(i % 3 == 0 ? "POST" : "GET")
                .authority("payments.bank.svc.cluster.local")
                .path("/v1/accounts/" + (i % 10_000) + "/transactions")
                .route("payments-v1")
                .status(authz ? (i % 10 == 0 ? 403 : 200) : 200)
                .latencyUs(200 + i % 5000);
        if (authz) {
            b.decision(i % 10 == 0 ? "deny" : "allow")
                    .reason(i % 10 == 0 ? "missing_scope" : "ok")
                    .detail("issuer", "https://idp.bank.example")
                    .detail("scopes", List.of("accounts:read"));
        } else {
            b.requestBytes(i % 2048).responseBytes(4096 + i % 8192).detail("upstream_cluster", "payments");
        }
        return b.build();
    }
}
