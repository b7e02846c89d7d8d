package io.meshguard.cli.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Timestamp;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.data.accesslog.v3.AccessLogCommon;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPAccessLogEntry;
import io.envoyproxy.envoy.data.accesslog.v3.HTTPRequestProperties;
import io.envoyproxy.envoy.service.accesslog.v3.AccessLogServiceGrpc;
import io.envoyproxy.envoy.service.accesslog.v3.StreamAccessLogsMessage;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.PostgresAuditStore;
import io.meshguard.cli.CliRun;
import io.meshguard.cli.Main;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.StreamSink;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

@IntegrationTest
class AuditCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final Instant NOW = Instant.now().truncatedTo(ChronoUnit.SECONDS);
    private static final Instant OLD = Instant.parse("2026-10-05T12:00:00Z");
    private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

    @BeforeAll
    static void events() throws Exception {
        try (PostgresAuditStore store = new PostgresAuditStore(
                ConnectionSource.of(PG.dataSource()), BatchWriteMethod.COPY, Duration.ofSeconds(10))) {
            store.write(List.of(
                    AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                            .occurredAt(NOW.minusSeconds(60))
                            .tenant("acme")
                            .subject("alice")
                            .requestId("r-1")
                            .path("/v1/pay")
                            .status(403)
                            .decision("deny")
                            .reason("missing_scope")
                            .build(),
                    AuditEvent.builder(AuditKind.API_CALL)
                            .occurredAt(NOW.minusSeconds(30))
                            .tenant("globex")
                            .subject("bob")
                            .requestId("r-2")
                            .traceId(TRACE)
                            .path("/v1/x")
                            .status(200)
                            .build(),
                    AuditEvent.builder(AuditKind.API_CALL)
                            .occurredAt(OLD)
                            .tenant("acme")
                            .subject("carol")
                            .requestId("r-old")
                            .path("/v1/old,comma")
                            .status(200)
                            .build(),
                    // a canary's Check and its gateway row (marked), beside one real request of the same tenant
                    AuditEvent.builder(AuditKind.AUTHZ_DECISION)
                            .occurredAt(NOW.minusSeconds(50))
                            .tenant("initech")
                            .requestId("r-canary")
                            .status(401)
                            .decision("deny")
                            .reason("token_expired")
                            .build(),
                    AuditEvent.builder(AuditKind.API_CALL)
                            .occurredAt(NOW.minusSeconds(50))
                            .tenant("initech")
                            .requestId("r-canary")
                            .status(401)
                            .detail("canary", "expired_token")
                            .build(),
                    AuditEvent.builder(AuditKind.API_CALL)
                            .occurredAt(NOW.minusSeconds(40))
                            .tenant("initech")
                            .subject("dora")
                            .requestId("r-real")
                            .status(200)
                            .build(),
                    AuditEvent.builder(AuditKind.CONFIG_CHANGE)
                            .occurredAt(OLD.plusSeconds(5))
                            .subject("ops")
                            .reason("policy_reload")
                            .build()));
        }
    }

    private static String dbUrl() {
        String sep = PG.jdbcUrl().contains("?") ? "&" : "?";
        return PG.jdbcUrl() + sep + "user=" + PG.user() + "&password=" + PG.password();
    }

    @Test
    void queryHelp_listsEveryKind() {
        CliRun r = CliRun.of("audit", "query", "--help");
        assertThat(r.exit()).isZero();
        for (io.meshguard.audit.AuditKind k : io.meshguard.audit.AuditKind.values()) {
            assertThat(r.out()).contains(k.dbName());
        }
    }

    @Test
    void query_filtersByTenantAndTime_asTable() {
        CliRun r = CliRun.of("audit", "query", "--direct-db", "--db", dbUrl(), "--since", "1h", "--tenant", "acme");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out())
                .contains("OCCURRED_AT", "alice", "deny", "missing_scope", "(1 event)")
                .doesNotContain("bob")
                .doesNotContain("carol");
    }

    @Test
    void query_byRequestId_asJson() throws Exception {
        CliRun r = CliRun.of(
                "audit",
                "query",
                "--direct-db",
                "--db",
                dbUrl(),
                "--since",
                "2026-10-01",
                "--request-id",
                "r-old",
                "--format",
                "json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode rows = new ObjectMapper().readTree(r.out());
        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).get("subject").asText()).isEqualTo("carol");
    }

    @Test
    void query_byTraceId_directAndThroughTheAdminApi_findTheOneRequestsRows(@TempDir Path dir) throws Exception {
        CliRun direct = CliRun.of(
                "audit",
                "query",
                "--direct-db",
                "--db",
                dbUrl(),
                "--since",
                "1h",
                "--trace-id",
                TRACE,
                "--format",
                "json");
        assertThat(direct.exit()).as(direct.err()).isZero();
        assertThat(new ObjectMapper().readTree(direct.out()))
                .singleElement()
                .satisfies(e -> assertThat(e.get("subject").asText()).isEqualTo("bob"));

        Path tokens = dir.resolve("tokens");
        Files.writeString(tokens, "auditor:" + "a".repeat(32) + "\n");
        Path token = dir.resolve("token");
        Files.writeString(token, "a".repeat(32) + "\n");
        try (io.meshguard.cli.xds.LocalAdminApi api =
                io.meshguard.cli.xds.LocalAdminApi.start("audit-trace-cli", PG.dataSource(), tokens)) {
            CliRun viaApi = CliRun.of(
                    "audit",
                    "query",
                    "--url",
                    "http://127.0.0.1:" + api.port(),
                    "--token-file",
                    token.toString(),
                    "--since",
                    "1h",
                    // the traceparent's spelling may be upper case; the id is the same
                    "--trace-id",
                    TRACE.toUpperCase(java.util.Locale.ROOT),
                    "--format",
                    "json");
            assertThat(viaApi.exit()).as(viaApi.err()).isZero();
            assertThat(new ObjectMapper().readTree(viaApi.out()))
                    .singleElement()
                    .satisfies(e -> assertThat(e.get("subject").asText()).isEqualTo("bob"));
        }
    }

    @Test
    void query_badTraceId_failsWithOneClearLine() {
        CliRun r = CliRun.of("audit", "query", "--direct-db", "--db", dbUrl(), "--since", "1h", "--trace-id", "r-2");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--trace-id: a W3C trace id is 32 hex digits");
    }

    @Test
    void query_canaryRows_includedByDefault_leftOutOrAloneWhenAsked() throws Exception {
        List<String> base = List.of(
                "audit",
                "query",
                "--direct-db",
                "--db",
                dbUrl(),
                "--since",
                "1h",
                "--tenant",
                "initech",
                "--format",
                "json");
        CliRun all = CliRun.of(base.toArray(String[]::new));
        assertThat(all.exit()).as(all.err()).isZero();
        assertThat(requestIds(all.out())).containsExactly("r-real", "r-canary", "r-canary");

        CliRun without = CliRun.of(concat(base, "--canary", "exclude"));
        assertThat(without.exit()).as(without.err()).isZero();
        // the Check of the canary goes too: it shares the marked row's request id
        assertThat(requestIds(without.out())).containsExactly("r-real");

        CliRun only = CliRun.of(concat(base, "--canary", "only"));
        assertThat(only.exit()).as(only.err()).isZero();
        assertThat(requestIds(only.out())).containsExactly("r-canary", "r-canary");

        CliRun bad = CliRun.of(concat(base, "--canary", "hide"));
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.err()).contains("include, exclude or only");
    }

    private static String[] concat(List<String> base, String... more) {
        List<String> all = new java.util.ArrayList<>(base);
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private static List<String> requestIds(String json) throws Exception {
        List<String> ids = new java.util.ArrayList<>();
        new ObjectMapper()
                .readTree(json)
                .forEach(e -> ids.add(e.path("request_id").asText()));
        return ids;
    }

    @Test
    void query_byKindAndSubject() {
        CliRun r = CliRun.of(
                "audit",
                "query",
                "--direct-db",
                "--db",
                dbUrl(),
                "--since",
                "2026-10-01",
                "--kind",
                "config_change",
                "--subject",
                "ops",
                "--format",
                "json");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("policy_reload").doesNotContain("carol");
    }

    @Test
    void export_month_asJsonLinesAndCsv(@TempDir Path dir) throws Exception {
        CliRun jsonl = CliRun.of("audit", "export", "--direct-db", "--db", dbUrl(), "--month", "2026-10");
        assertThat(jsonl.exit()).as(jsonl.err()).isZero();
        List<String> lines = jsonl.out().lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(new ObjectMapper().readTree(lines.get(0)).get("request_id").asText())
                .isEqualTo("r-old");
        assertThat(jsonl.err()).contains("exported 2 events of 2026-10");

        Path csv = dir.resolve("oct.csv");
        CliRun c = CliRun.of(
                "audit",
                "export",
                "--direct-db",
                "--db",
                dbUrl(),
                "--month",
                "2026-10",
                "--format",
                "csv",
                "-o",
                csv.toString());
        assertThat(c.exit()).as(c.err()).isZero();
        List<String> rows = Files.readAllLines(csv);
        assertThat(rows).hasSize(3);
        assertThat(rows.get(0)).startsWith("event_id,occurred_at,kind");
        assertThat(rows.get(1)).contains("\"/v1/old,comma\"");
    }

    @Test
    void badArguments_failWithOneClearLine() {
        CliRun kind = CliRun.of("audit", "query", "--direct-db", "--db", dbUrl(), "--since", "1h", "--kind", "nope");
        assertThat(kind.exit()).isEqualTo(1);
        assertThat(kind.err()).contains("unknown --kind 'nope'");

        CliRun month = CliRun.of("audit", "export", "--direct-db", "--db", dbUrl(), "--month", "November");
        assertThat(month.exit()).isEqualTo(1);
        assertThat(month.err()).contains("YYYY-MM");
    }

    @Test
    void receiver_runsAlone_writesEnvoyAccessLogs_andStopsCleanlyOnSigterm(@TempDir Path dir) throws Exception {
        int alsPort;
        try (ServerSocket free = new ServerSocket(0)) {
            alsPort = free.getLocalPort();
        }
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder builder = new ProcessBuilder(
                        javaBin.toString(),
                        "-Xmx256m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        Main.class.getName(),
                        "audit",
                        "receiver",
                        "--db",
                        dbUrl(),
                        "--als-port",
                        String.valueOf(alsPort))
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("out.log").toFile());
        builder.environment()
                .put("MESHGUARD_AUDIT_SPOOL_DIR", dir.resolve("spool").toString());
        builder.environment().put("MESHGUARD_HTTP_PORT", "0");
        // a receiver on a developer's machine: loopback senders, no sidecar to name them (the default, xfcc with no
        // senders, refuses every stream)
        builder.environment().put("MESHGUARD_AUDIT_ALS_PEER_IDENTITY", "local-development");
        Process process = builder.start();
        try {
            Instant start = Instant.parse("2026-11-20T03:00:00Z");
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(300))
                    .failFast("receiver exited early", () -> !process.isAlive())
                    .until(() -> Files.readString(dir.resolve("out.log")).contains("audit receiver up"));
            var channel = NettyChannelBuilder.forAddress("127.0.0.1", alsPort)
                    .usePlaintext()
                    .build();
            try {
                var envoy = AccessLogServiceGrpc.newStub(channel).streamAccessLogs(StreamSink.discarding());
                envoy.onNext(StreamAccessLogsMessage.newBuilder()
                        .setIdentifier(StreamAccessLogsMessage.Identifier.newBuilder()
                                .setNode(Node.newBuilder().setId("n"))
                                .setLogName("l"))
                        .setHttpLogs(StreamAccessLogsMessage.HTTPAccessLogEntries.newBuilder()
                                .addLogEntry(HTTPAccessLogEntry.newBuilder()
                                        .setCommonProperties(AccessLogCommon.newBuilder()
                                                .setStartTime(
                                                        Timestamp.newBuilder().setSeconds(start.getEpochSecond())))
                                        .setRequest(HTTPRequestProperties.newBuilder()
                                                .setPath("/standalone")
                                                .setRequestId("standalone-1"))))
                        .build());
                await().atMost(Duration.ofSeconds(90))
                        .failFast("receiver exited: " + dir.resolve("out.log"), () -> !process.isAlive())
                        .until(() -> CliRun.of(
                                        "audit",
                                        "query",
                                        "--direct-db",
                                        "--db",
                                        dbUrl(),
                                        "--since",
                                        "2026-11-20",
                                        "--request-id",
                                        "standalone-1")
                                .out()
                                .contains("/standalone"));
            } finally {
                channel.shutdownNow();
            }
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("receiver output:\n" + Files.readString(dir.resolve("out.log")), e);
        } finally {
            process.destroy(); // SIGTERM: the shutdown hook closes receiver, writer, status listener
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(Files.readString(dir.resolve("out.log"))).doesNotContain("Exception");
    }

    @Test
    void explicitDb_takesThePasswordFromAFile(@TempDir Path dir) throws Exception {
        Path right = Files.writeString(dir.resolve("pw"), PG.password() + "\n");
        CliRun ok = CliRun.of(
                "audit",
                "query",
                "--direct-db",
                "--db",
                PG.jdbcUrl(),
                "--db-user",
                PG.user(),
                "--db-password-file",
                right.toString(),
                "--since",
                "1h",
                "--tenant",
                "acme");
        assertThat(ok.exit()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("acme");
    }

    @Test
    void noDatabaseAnywhere_saysWhereItLooked(@TempDir Path dir) {
        CliRun r = CliRun.of("audit", "query", "--direct-db", "--since", "1h", "--data-dir", dir.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("--db").contains("meshguard up").contains("break-glass");
    }

    @Test
    void byDefault_readsThroughTheAdminApi_andSaysHowToReachIt(@TempDir Path dir) {
        CliRun r = CliRun.of("audit", "query", "--since", "1h", "--data-dir", dir.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("--url").contains("meshguard up");
        CliRun db = CliRun.of("audit", "export", "--db", dbUrl(), "--month", "2026-10");
        assertThat(db.exit()).isNotZero();
        assertThat(db.err()).contains("add --direct-db (break-glass)");
    }
}
