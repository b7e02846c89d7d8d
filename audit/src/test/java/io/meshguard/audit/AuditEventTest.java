package io.meshguard.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditEventTest {
    static AuditEvent fullEvent() {
        return AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .occurredAt(Instant.parse("2026-11-21T10:15:30.123456789Z"))
                .requestId("req-1")
                .traceId("4bf92f3577b34da6a3ce929d0e0e4736")
                .tenant("acme")
                .subject("alice")
                .clientId("agent-7")
                .source("web")
                .callerType("human")
                .method("POST")
                .authority("api.acme.test")
                .path("/v1/payments")
                .route("payments-v1")
                .status(403)
                .decision("deny")
                .reason("missing_scope")
                .latencyUs(1234)
                .requestBytes(100)
                .responseBytes(0)
                .detail("required_scope", "payments:write")
                .detail("roles", List.of("viewer"))
                .build();
    }

    @Test
    void occurredAt_isKeptAtMicrosecondPrecision_likePostgres() {
        assertThat(fullEvent().occurredAt()).isEqualTo(Instant.parse("2026-11-21T10:15:30.123456Z"));
    }

    @Test
    void eventId_isUuidV7CarryingTheEventTime() {
        AuditEvent e = fullEvent();
        assertThat(e.eventId().version()).isEqualTo(7);
        assertThat(e.eventId().variant()).isEqualTo(2);
        assertThat(EventIds.epochMillis(e.eventId())).isEqualTo(e.occurredAt().toEpochMilli());
    }

    @Test
    void eventIds_sortByTime() {
        Instant t = Instant.parse("2026-11-21T10:00:00Z");
        UUID a = EventIds.forInstant(t);
        UUID b = EventIds.forInstant(t.plusNanos(500_000));
        UUID c = EventIds.forInstant(t.plusMillis(1));
        assertThat(List.of(c, a, b).stream().sorted(EventIdsTestOrder.UNSIGNED).toList())
                .containsExactly(a, b, c);
    }

    @Test
    void codec_roundTripsEveryField() {
        AuditEvent e = fullEvent();
        AuditEvent back = AuditEventCodec.decode(AuditEventCodec.encode(e));
        assertThat(back).isEqualTo(e);
        assertThat(back.details()).containsEntry("required_scope", "payments:write");
        assertThat(back.status()).hasValue(403);
    }

    @Test
    void codec_roundTripsAnEventWithOnlyRequiredFields() {
        AuditEvent e = AuditEvent.builder(AuditKind.CONFIG_CHANGE).build();
        AuditEvent back = AuditEventCodec.decode(AuditEventCodec.encode(e));
        assertThat(back).isEqualTo(e);
        assertThat(back.status()).isEmpty();
        assertThat(back.tenant()).isEmpty();
        assertThat(back.detailsJson()).isEqualTo("{}");
    }

    @Test
    void codec_rejectsUnknownVersionAndTruncatedBytes() {
        byte[] bytes = AuditEventCodec.encode(fullEvent());
        byte[] future = bytes.clone();
        future[0] = 9;
        assertThatThrownBy(() -> AuditEventCodec.decode(future)).hasMessageContaining("version 9");
        byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 10);
        assertThatThrownBy(() -> AuditEventCodec.decode(cut)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void overlongText_isCutToColumnWidth_andListedInDetails() {
        AuditEvent e = AuditEvent.builder(AuditKind.API_CALL)
                .path("/" + "a".repeat(5000))
                .tenant("t")
                .build();
        assertThat(e.path().orElseThrow()).hasSize(2048);
        assertThat(e.details()).containsEntry("_truncated", List.of("path"));
        assertThat(e.tenant()).hasValue("t");
    }

    @Test
    void nulCharacters_areReplaced_becausePostgresTextCannotHoldThem() {
        AuditEvent e = AuditEvent.builder(AuditKind.API_CALL)
                .subject("a\u0000b")
                .detail("k", "x\u0000y")
                .build();
        assertThat(e.subject()).hasValue("a\uFFFDb");
        assertThat(e.details()).containsEntry("k", "x\uFFFDy");
    }

    @Test
    void detailsJson_mustBeAnObject() {
        assertThatThrownBy(() -> AuditEvent.builder(AuditKind.API_CALL).detailsJson("[1,2]"))
                .hasMessageContaining("must be a JSON object");
        assertThatThrownBy(() -> AuditEvent.builder(AuditKind.API_CALL).detailsJson("{oops"))
                .hasMessageContaining("not valid JSON");
        assertThat(AuditEvent.builder(AuditKind.API_CALL)
                        .detailsJson("{\"a\":1}")
                        .build()
                        .details())
                .isEqualTo(Map.of("a", 1));
    }

    @Test
    void kind_parsesDatabaseAndCliSpellings() {
        assertThat(AuditKind.parse("dlp_finding")).hasValue(AuditKind.DLP_FINDING);
        assertThat(AuditKind.parse("API-CALL")).hasValue(AuditKind.API_CALL);
        assertThat(AuditKind.parse("nope")).isEmpty();
    }

    @Test
    void traceparent_validHeader_yieldsTraceId() {
        assertThat(TraceContext.traceId("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
                .hasValue("4bf92f3577b34da6a3ce929d0e0e4736");
    }

    @Test
    void traceparent_malformedOrZero_yieldsNothing() {
        assertThat(TraceContext.traceId(null)).isEmpty();
        assertThat(TraceContext.traceId("garbage")).isEmpty();
        assertThat(TraceContext.traceId("00-00000000000000000000000000000000-00f067aa0ba902b7-01"))
                .isEmpty();
        assertThat(TraceContext.traceId("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"))
                .isEmpty();
        assertThat(TraceContext.traceId("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
                .isEmpty();
        assertThat(TraceContext.traceId("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"))
                .isEmpty();
    }

    @Test
    void pathPolicy_dropsQueryByDefault_andAlwaysForStreams() {
        assertThat(PathPolicy.DROP_QUERY.apply("/v1/a?card=4111", false)).isEqualTo("/v1/a");
        assertThat(PathPolicy.DROP_QUERY.apply("/v1/a#frag", false)).isEqualTo("/v1/a");
        PathPolicy keep = new PathPolicy(true);
        assertThat(keep.apply("/v1/a?x=1", false)).isEqualTo("/v1/a?x=1");
        assertThat(keep.apply("/v1/chat?x=1", true)).isEqualTo("/v1/chat");
    }

    @Test
    void dlpFinding_carriesHmacNeverTheValue(@TempDir Path dir) throws Exception {
        Path keyFile = dir.resolve("hmac.key");
        Files.writeString(keyFile, "k".repeat(40) + "\n", StandardCharsets.UTF_8);
        FindingHasher hasher = FindingHasher.fromKeyFile(keyFile);
        String pan = "4111111111111111";
        AuditEvent e = DlpFinding.of("pan", DlpFinding.Direction.RESPONSE, "/card/number", pan, hasher)
                .toEvent()
                .requestId("r1")
                .build();

        assertThat(e.kind()).isEqualTo(AuditKind.DLP_FINDING);
        assertThat(e.detailsJson()).doesNotContain(pan).doesNotContain("kkkk");
        assertThat(e.details())
                .containsEntry("detector", "pan")
                .containsEntry("direction", "response")
                .containsEntry("location", "/card/number")
                .containsEntry("length", 16)
                .containsEntry("hmac_key_id", hasher.keyId())
                .containsEntry("value_hmac", hasher.hmac(pan));
        assertThat(hasher.hmac(pan)).hasSize(64).isEqualTo(hasher.hmac(pan)).isNotEqualTo(hasher.hmac("4111"));
        assertThat(hasher.toString()).doesNotContain("kkkk");
    }

    @Test
    void findingHasher_differentKeys_giveDifferentHmacs() {
        FindingHasher a = FindingHasher.ofKey("a".repeat(32).getBytes(StandardCharsets.UTF_8));
        FindingHasher b = FindingHasher.ofKey("b".repeat(32).getBytes(StandardCharsets.UTF_8));
        assertThat(a.hmac("x")).isNotEqualTo(b.hmac("x"));
        assertThat(a.keyId()).isNotEqualTo(b.keyId());
    }

    @Test
    void findingHasher_shortMissingOrEmptyKey_isRejectedClearly(@TempDir Path dir) throws Exception {
        assertThatThrownBy(() -> FindingHasher.ofKey(new byte[8])).hasMessageContaining("at least 32 bytes");
        assertThatThrownBy(() -> FindingHasher.fromEnvironment(Map.of(), "MESHGUARD_AUDIT_HMAC_KEY"))
                .hasMessageContaining("MESHGUARD_AUDIT_HMAC_KEY");
        Path empty = Files.writeString(dir.resolve("empty"), "  \n");
        assertThatThrownBy(() -> FindingHasher.fromKeyFile(empty)).hasMessageContaining("is empty");
        assertThatThrownBy(() -> FindingHasher.fromKeyFile(dir.resolve("missing")))
                .hasMessageContaining("cannot read");
    }

    @Test
    void detailLater_isMadeWhenTheDetailsAreFirstRead_once_maskedAndInItsPlace() throws Exception {
        java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();
        AuditEvent e = AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .requestId("req-later")
                .detail("first", "a")
                .detailLater("replay", () -> {
                    made.incrementAndGet();
                    return "{\"card\":\"4111111111111111\"}";
                })
                .detail("last", "z")
                .build();
        assertThat(made).hasValue(0);

        // the writer's thread reads it first
        Thread writer = new Thread(e::detailsJson);
        writer.start();
        writer.join();
        String json = e.detailsJson();

        assertThat(made).hasValue(1);
        assertThat(json).startsWith("{\"first\":\"a\",\"replay\":").endsWith(",\"last\":\"z\"}");
        assertThat(json).doesNotContain("4111111111111111");
        assertThat(e.details().get("replay")).asString().contains("card");
        // an event rebuilt from it (the spool's path) carries the same details
        assertThat(e.toBuilder().build().detailsJson()).isEqualTo(json);
        assertThat(AuditEventCodec.decode(AuditEventCodec.encode(e))).isEqualTo(e);
    }

    @Test
    void detailLater_thatFails_isWrittenAsUnavailable_andTheEventStillWrites() {
        AuditEvent e = AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                .detailLater("replay", () -> {
                    throw new IllegalStateException("broken");
                })
                .build();

        assertThat(e.details()).containsEntry("replay", "unavailable: IllegalStateException");
    }
}
