package io.meshguard.xds.approval;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.stub.StreamObserver;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.query.AuditReader;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.authz.jwt.JwksRegistry;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.replay.ImpactReport;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.ratelimit.TokenBucketLimiter;
import io.meshguard.extauthz.server.AuthorizationService;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.StringReader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The read path of a report on a real PostgreSQL: a window of decisions written by the Check handler through the audit
 * writer, larger than the rows fetched per round trip, is streamed through the cursor batch after batch and every
 * decision of it is decided again: none lost, none read twice, each against its own facts.
 */
@IntegrationTest
class RecordedDecisionsStreamingTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final String IN_FORCE = """
            routes:
              - name: public
                match: {path_prefix: /public}
                auth: none
                when: request.headers["x-channel"] == "web"
            """;
    /** The draft lets the app channel in too. */
    private static final String DRAFT = """
            routes:
              - name: public
                match: {path_prefix: /public}
                auth: none
                when: request.headers["x-channel"] == "web" || request.headers["x-channel"] == "app"
            """;

    /** Rows per round trip: the window below spans eleven of them and ends inside the last. */
    private static final int FETCH = 100;

    private static final int DECISIONS = 1_050;

    @TempDir
    static Path spool;

    private static Instant from;
    private static Instant to;
    private static int web;

    @BeforeAll
    static void recordTheWindow() throws Exception {
        from = Instant.now().minusSeconds(60);
        web = recordDecisions(DECISIONS);
        to = Instant.now().plusSeconds(60);
    }

    @Test
    void replay_windowLargerThanFetchSize_decidesEveryRowOnceAgainstItsOwnFacts() throws Exception {
        RecordedDecisions recorded = new RecordedDecisions(new AuditReader(PG.dataSource()), FETCH);

        ImpactReport self = recorded.replay(parse(IN_FORCE), from, to);
        assertThat(self.flipped()).isZero();
        assertThat(self.unchanged()).isEqualTo(DECISIONS);
        assertThat(self.notReplayableTotal()).isZero();

        ImpactReport draft = recorded.replay(parse(DRAFT), from, to);
        // exactly the app channel's decisions flip (deny -> allow), each once; the web channel's stay as they were
        assertThat(draft.flipped()).isEqualTo(DECISIONS - web);
        assertThat(draft.unchanged()).isEqualTo(web);
        assertThat(draft.groups()).singleElement().satisfies(g -> {
            assertThat(g.getKey().from()).isEqualTo("deny 403");
            assertThat(g.getKey().to()).isEqualTo("allow 200");
            // the first ones, in the window's order
            assertThat(g.getValue().samples()).containsExactly("app-0", "app-3", "app-6", "app-9", "app-12");
        });
    }

    /** Checks {@code n} requests through the Check handler, every third on the app channel; returns the web ones. */
    private static int recordDecisions(int n) throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        SimpleMeterRegistry auditMeters = new SimpleMeterRegistry();
        int web = 0;
        try (AuthzPipeline pipeline = new AuthzPipeline(
                        new JwksRegistry(registry, Map.of(), Duration.ofSeconds(2)),
                        Optional.empty(),
                        new TokenBucketLimiter(100_000, Duration.ofMinutes(1), System::nanoTime),
                        new SecretFiles(System::nanoTime),
                        Clock.systemUTC(),
                        registry,
                        1000,
                        Duration.ofMinutes(5));
                AuditWriter writer = AuditWriter.start(
                        AuditWriterSettings.defaults(SpoolSettings.defaults(spool))
                                .withFlushInterval(Duration.ofMillis(20)),
                        ConnectionSource.forUrl(PG.jdbcUrl(), PG.user(), PG.password(), Duration.ofSeconds(5)),
                        auditMeters)) {
            pipeline.use(parse(IN_FORCE));
            AuthorizationService service =
                    new AuthorizationService(pipeline, new AuditSinkDecisions(writer), Clock.systemUTC(), registry);
            for (int i = 0; i < n; i++) {
                boolean app = i % 3 == 0;
                check(service, (app ? "app-" : "web-") + i, app ? "app" : "web");
                web += app ? 0 : 1;
            }
            Awaitility.await()
                    .atMost(Duration.ofSeconds(60))
                    .until(() -> auditMeters
                                    .get("meshguard.audit.events.written")
                                    .counter()
                                    .count()
                            >= n);
        }
        return web;
    }

    private static void check(AuthorizationService service, String requestId, String channel) {
        List<CheckResponse> answers = new ArrayList<>();
        service.check(
                CheckRequests.of(
                        "GET",
                        "api.stream.example",
                        "/public/" + requestId,
                        Map.of("x-request-id", List.of(requestId), "x-channel", List.of(channel)),
                        Map.of(),
                        CheckRequests.Encoding.HEADERS),
                new StreamObserver<>() {
                    @Override
                    public void onNext(CheckResponse value) {
                        answers.add(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        throw new IllegalStateException(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        assertThat(answers).hasSize(1);
    }

    private static AuthzPolicy parse(String yaml) throws Exception {
        return new AuthzPolicyParser().parse("authz.yaml", new StringReader(yaml));
    }
}
