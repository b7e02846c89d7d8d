package io.meshguard.audit;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/** Events of every kind, as producers build them. */
final class TestEvents {
    private TestEvents() {}

    static final FindingHasher HASHER =
            FindingHasher.ofKey("test-key-0123456789-0123456789-0123456789".getBytes(StandardCharsets.UTF_8));

    static AuditEvent numbered(int i, Instant at) {
        return AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(at)
                .requestId("req-" + i)
                .tenant("t" + (i % 7))
                .subject("user-" + (i % 100))
                .method("GET")
                .path("/v1/items/" + i)
                .status(200)
                .latencyUs(i)
                .detail("i", i)
                .build();
    }

    static List<AuditEvent> everyKind(Instant at) {
        AuditEvent authz = AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .occurredAt(at)
                .requestId("req-authz")
                .traceId("4bf92f3577b34da6a3ce929d0e0e4736")
                .tenant("acme")
                .subject("alice")
                .clientId("web-app")
                .source("portal")
                .callerType("human")
                .method("POST")
                .authority("api.acme.test")
                .path("/v1/payments")
                .route("payments")
                .status(403)
                .decision("deny")
                .reason("missing_scope")
                .latencyUs(812)
                .detail("required_scopes", List.of("payments:write"))
                .detail("issuer", "https://idp.acme.test")
                .build();
        AuditEvent dlp = DlpFinding.of(
                        "pan", DlpFinding.Direction.RESPONSE, "/cards/0/number", "4111111111111111", HASHER)
                .toEvent()
                .occurredAt(at.plusMillis(1))
                .requestId("req-dlp")
                .tenant("acme")
                .subject("alice")
                .route("cards")
                .decision("mask")
                .reason("pan")
                .build();
        AuditEvent api = AuditEvent.builder(AuditKind.API_CALL)
                .occurredAt(at.plusMillis(2))
                .requestId("req-api")
                .tenant("acme")
                .subject("alice")
                .clientId("agent-9")
                .method("GET")
                .authority("api.acme.test")
                .path("/v1/chat")
                .route("chat")
                .status(200)
                .latencyUs(2_000_000)
                .stream(true)
                .build();
        AuditEvent config = AuditEvent.builder(AuditKind.CONFIG_CHANGE)
                .occurredAt(at.plusMillis(3))
                .subject("operator@bank")
                .reason("policy_reload")
                .decision("applied")
                .detail("file", "policies/authz.yaml")
                .detail("sha256", "ab12")
                .build();
        return List.of(authz, dlp, api, config);
    }
}
