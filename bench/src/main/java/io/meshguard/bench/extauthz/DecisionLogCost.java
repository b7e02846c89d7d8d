package io.meshguard.bench.extauthz;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import com.zaxxer.hikari.HikariDataSource;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.meshguard.audit.AuditSink;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.DecisionLog;
import io.meshguard.audit.DecisionLogSettings;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.authz.decision.CheckResponses;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.bench.ProcReadings;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbSettings;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.audit.DecisionEvents;
import io.meshguard.extauthz.audit.DecisionSink;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * CPU per Check with each audit path, in one run: audit off, the log line servers without a database wrote before
 * (JSON text inside a logback line's {@code message}, on standard error), the PostgreSQL writer (embedded PostgreSQL
 * 17, COPY, the database server's CPU counted too), the decision log on standard output, and both. Each Check is what the
 * server does on its Check thread — request view, decision, response, audit event, {@code record()} — and the
 * asynchronous work is counted as well: the figure is the whole JVM's CPU time (every thread, so the writer threads
 * and the garbage collector are in) plus the CPU of every PostgreSQL process serving this run, divided by the
 * Checks, after the round's events are written. Checks are sent at a fixed rate (an audit path must keep up with
 * real traffic, not with a tight loop), the cases interleaved round by round, median of the rounds.
 *
 * <p>The decision log writes to this process's standard output (file descriptor 1): run with stdout redirected to
 * a file or {@code /dev/null}, as a log shipper would read it. Results go to standard error, between the "before"
 * case's log lines (filter them out with {@code grep -v '^\{'}).
 *
 * <p>Arguments (all optional): Checks per second (default 5000), seconds per case and round (4), rounds (5).
 */
public final class DecisionLogCost {
    private static final PrintStream OUT = System.err;

    private record Case(String name, DecisionSink sink, Runnable drain) {}

    private DecisionLogCost() {}

    public static void main(String[] args) throws Exception {
        int rate = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        TestKeys rs = TestKeys.generate("bench-rs", JWSAlgorithm.RS256);
        AuthzPipeline pipeline = DecisionCost.pipeline(
                BenchPolicies.policy("https://unused.example/jwks", 8), TestKeys.publicSet(List.of(rs)));
        CheckRequest request = request(rs);
        Path dir = Files.createTempDirectory("decision-log-bench");
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (LocalPostgres pg = LocalPostgres.start(dir.resolve("pg"), 0)) {
            DbSettings db = pg.dbSettings("meshguard-bench");
            try (HikariDataSource ds = DataSourceFactory.create(db)) {
                Migrations.apply(ds);
                AuditWriter writer = AuditWriter.start(
                        AuditWriterSettings.defaults(SpoolSettings.defaults(dir.resolve("spool"))),
                        ConnectionSource.forUrl(db.jdbcUrl(), db.user(), db.password(), Duration.ofSeconds(10)),
                        meters);
                DecisionLog decisionLog = DecisionLog.toStdout(
                        DecisionLogSettings.defaults(Map.of("service", "meshguard-extauthz")), meters);
                decisionLog.start();
                try {
                    Runnable drainDb = () -> await(() -> writer.awaitWritten(Duration.ofMinutes(2)));
                    Runnable drainLog = () -> await(() -> decisionLog.awaitWritten(Duration.ofMinutes(2)));
                    List<Case> cases = List.of(
                            new Case("audit off", DecisionSink.NONE, () -> {}),
                            new Case("before: JSON text in a log line's message", new MessageLogLine(), () -> {}),
                            new Case("PostgreSQL audit writer", new AuditSinkDecisions(writer), drainDb),
                            new Case("decision log on stdout", new AuditSinkDecisions(decisionLog), drainLog),
                            new Case("both", new AuditSinkDecisions(AuditSink.both(writer, decisionLog)), () -> {
                                drainDb.run();
                                drainLog.run();
                            }));
                    run(cases, pipeline, request, rate, seconds, rounds, ds);
                } finally {
                    decisionLog.close();
                    writer.close();
                }
                OUT.printf(
                        "%nlines on stdout: %.0f in %.0f writes; dropped: %.0f; rows in audit_event: %d%n",
                        meters.get("meshguard.decision_log.events.written")
                                .counter()
                                .count(),
                        meters.get("meshguard.decision_log.writes").counter().count(),
                        meters.find("meshguard.decision_log.dropped").counters().stream()
                                .mapToDouble(c -> c.count())
                                .sum(),
                        CheckPodBench.auditEvents(ds));
            }
        } finally {
            pipeline.close();
        }
    }

    private static void run(
            List<Case> cases,
            AuthzPipeline pipeline,
            CheckRequest request,
            int rate,
            int seconds,
            int rounds,
            HikariDataSource ds)
            throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        int checks = rate * seconds;
        // warm-up: every path, two rounds' worth, not measured (the JIT compiler's threads count as process CPU)
        for (int w = 0; w < 2; w++) {
            for (Case c : cases) {
                paced(c, pipeline, request, rate, checks);
                c.drain().run();
            }
        }
        List<List<Double>> jvm = new ArrayList<>();
        List<List<Double>> db = new ArrayList<>();
        cases.forEach(c -> {
            jvm.add(new ArrayList<>());
            db.add(new ArrayList<>());
        });
        for (int r = 0; r < rounds; r++) {
            for (int i = 0; i < cases.size(); i++) {
                Case c = cases.get(i);
                long pg0 = ProcReadings.postgresCpuNanos(ds);
                long cpu0 = os.getProcessCpuTime();
                paced(c, pipeline, request, rate, checks);
                c.drain().run();
                long cpu1 = os.getProcessCpuTime();
                long pg1 = ProcReadings.postgresCpuNanos(ds);
                jvm.get(i).add((cpu1 - cpu0) / 1000.0 / checks);
                db.get(i).add((pg1 - pg0) / 1000.0 / checks);
            }
            OUT.printf("round %d of %d done%n", r + 1, rounds);
        }
        OUT.printf(
                "%nJDK %s, %d CPUs; %d Checks/s, %d Checks per case and round, %d rounds (median shown)%n%n",
                Runtime.version(), Runtime.getRuntime().availableProcessors(), rate, checks, rounds);
        OUT.println("| audit path | µs CPU per Check, JVM | µs CPU per Check, PostgreSQL | total | audit's share"
                + " (total − off) |");
        OUT.println("|---|---:|---:|---:|---:|");
        double off = median(jvm.get(0)) + median(db.get(0));
        for (int i = 0; i < cases.size(); i++) {
            double j = median(jvm.get(i));
            double d = median(db.get(i));
            OUT.printf("| %s | %.1f | %.1f | %.1f | %.1f |%n", cases.get(i).name(), j, d, j + d, j + d - off);
        }
    }

    /** {@code checks} Checks at {@code rate} per second, as the server runs each one. */
    private static void paced(Case c, AuthzPipeline pipeline, CheckRequest request, int rate, int checks) {
        Clock clock = Clock.systemUTC();
        long start = System.nanoTime();
        double intervalNanos = 1e9 / rate;
        for (int i = 0; i < checks; i++) {
            long due = start + (long) (i * intervalNanos);
            long now = System.nanoTime();
            if (due - now > 100_000) {
                LockSupport.parkNanos(due - now);
            }
            long t0 = System.nanoTime();
            HttpRequestView view = HttpRequestView.of(request);
            Decision d = pipeline.decide(view);
            if (CheckResponses.toResponse(d).getStatus().getCode() != 0) {
                throw new IllegalStateException(c.name() + ": Check not allowed; the scenario is broken");
            }
            c.sink().record(DecisionEvents.of(view, d, clock.instant(), (System.nanoTime() - t0) / 1000));
        }
    }

    /**
     * What servers without a database did before the decision log (the {@code LogDecisionSink} removed with it, as
     * of commit fff3afb): a Jackson tree per decision, written as text into the {@code message} of a logback JSON
     * line on standard error, synchronously on the Check thread.
     */
    private static final class MessageLogLine implements DecisionSink {
        private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger("meshguard.audit");
        private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
                new com.fasterxml.jackson.databind.ObjectMapper();

        @Override
        public void record(io.meshguard.extauthz.audit.AuthzDecisionEvent e) {
            var n = JSON.createObjectNode();
            n.put("kind", io.meshguard.extauthz.audit.AuthzDecisionEvent.KIND);
            n.put("time", e.time().toString());
            n.put("request_id", e.requestId());
            e.traceId().ifPresent(v -> n.put("trace_id", v));
            e.tenant().ifPresent(v -> n.put("tenant", v));
            e.subject().ifPresent(v -> n.put("subject", v));
            e.clientId().ifPresent(v -> n.put("client_id", v));
            n.put("method", e.method());
            n.put("authority", e.authority());
            n.put("path", e.path());
            e.route().ifPresent(v -> n.put("route", v));
            n.put("status", e.status());
            n.put("decision", e.decision());
            n.put("reason", e.reason());
            n.put("latency_us", e.latencyMicros());
            var d = n.putObject("details");
            e.details().forEach(d::put);
            try {
                LOG.info(JSON.writeValueAsString(n));
            } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
                throw new IllegalStateException(ex);
            }
        }
    }

    private interface Wait {
        boolean await() throws InterruptedException;
    }

    private static void await(Wait w) {
        try {
            if (!w.await()) {
                throw new IllegalStateException("audit events not written within 2 minutes");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static CheckRequest request(TestKeys rs) {
        JWTClaimsSet claims = BenchPolicies.alice("https://idp.bench.example");
        Map<String, List<String>> headers = new LinkedHashMap<>();
        headers.put("authorization", List.of("Bearer " + rs.sign(claims)));
        headers.put("x-tenant-id", List.of("t1"));
        headers.put("x-request-id", List.of("bench"));
        headers.put("user-agent", List.of("bench/1.0"));
        return CheckRequests.of(
                "GET", "api.bench.example", "/v1/orders/42", headers, Map.of(), CheckRequests.Encoding.HEADERS);
    }

    private static double median(List<Double> values) {
        List<Double> s = new ArrayList<>(values);
        s.sort(null);
        return s.get(s.size() / 2);
    }
}
