package io.meshguard.cli.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jwt.JWTClaimsSet;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.grpc.stub.StreamObserver;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.authz.jwt.JwksRegistry;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.cli.CliRun;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.ratelimit.TokenBucketLimiter;
import io.meshguard.extauthz.server.AuthorizationService;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.meshguard.extauthz.tools.CheckRequests;
import io.meshguard.extauthz.tools.TestKeys;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard policy impact} on a real PostgreSQL whose decision rows were written by the extauthz Check handler
 * ({@code AuthorizationService.check}) through the audit writer, as the server writes them: the policy in force replays
 * its own window with no flip, a draft tightening a role flips exactly the decisions it should, and a row whose replay
 * facts were edited in the database is named and makes the command fail.
 */
@IntegrationTest
class PolicyImpactCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private static final String ISSUER = "https://idp.impact.example";
    private static final String POLICY = """
            issuers:
              - name: idp
                issuer: %s
                jwks_uri: https://unused.example/jwks
                audiences: [meshguard]
                claims: {subject: sub, tenant: tenant, roles: realm_access.roles, scopes: scope}
            header_contract:
              tenant_header: x-tenant-id
              required: [x-tenant-id]
            deny:
              - name: no-debug
                when: '"x-debug" in request.headers && request.headers["x-debug"] == "1"'
            routes:
              - name: public
                match: {path_prefix: /public}
                auth: none
                header_contract: exempt
                when: request.headers["x-channel"] == "web"
              - name: orders
                match: {path_prefix: /orders}
                auth: jwt
                roles: [user]
              - name: admin
                match: {path_prefix: /admin}
                auth: jwt
                roles: {all_of: [admin]}
            """.formatted(ISSUER);

    /** Request ids of the decisions written, by what they were. */
    private static final Map<String, List<String>> WRITTEN = new LinkedHashMap<>();

    @TempDir
    static Path spool;

    @BeforeAll
    static void recordDecisionsThroughTheCheckHandler() throws Exception {
        TestKeys keys = TestKeys.generate("impact-rs", JWSAlgorithm.RS256);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AuthzPipeline pipeline = new AuthzPipeline(
                new JwksRegistry(registry, Map.of("idp", TestKeys.publicSet(List.of(keys))), Duration.ofSeconds(2)),
                Optional.empty(),
                new TokenBucketLimiter(1000, Duration.ofMinutes(1), System::nanoTime),
                new SecretFiles(System::nanoTime),
                Clock.systemUTC(),
                registry,
                1000,
                Duration.ofMinutes(5));
        pipeline.use(new AuthzPolicyParser().parse("authz.yaml", new StringReader(POLICY)));
        SimpleMeterRegistry auditMeters = new SimpleMeterRegistry();
        AuditWriter writer = AuditWriter.start(
                AuditWriterSettings.defaults(SpoolSettings.defaults(spool)).withFlushInterval(Duration.ofMillis(20)),
                ConnectionSource.forUrl(PG.jdbcUrl(), PG.user(), PG.password(), Duration.ofSeconds(5)),
                auditMeters);
        AuthorizationService service =
                new AuthorizationService(pipeline, new AuditSinkDecisions(writer), Clock.systemUTC(), registry);
        String alice = token(keys, "alice", "acme", List.of("user"));
        String bob = token(keys, "bob", "globex", List.of("guest"));
        String carol = token(keys, "carol", "acme", List.of("admin", "user"));
        int n = 0;
        for (int i = 0; i < 3; i++) {
            n += check(service, "alice-orders", "/orders/" + i, alice, "acme", Map.of());
            n += check(service, "bob-orders", "/orders/" + i, bob, "globex", Map.of());
            n += check(service, "carol-admin", "/admin/" + i, carol, "acme", Map.of());
            n += check(service, "alice-debug", "/orders/" + i, alice, "acme", Map.of("x-debug", "1"));
            n += check(service, "public-web", "/public/" + i, "", "", Map.of("x-channel", "web"));
        }
        int expected = n;
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(() -> auditMeters
                                .get("meshguard.audit.events.written")
                                .counter()
                                .count()
                        >= expected);
        writer.close();
        pipeline.close();
    }

    private static int check(
            AuthorizationService service,
            String kind,
            String path,
            String bearer,
            String tenant,
            Map<String, String> extra) {
        String requestId =
                kind + "-" + WRITTEN.values().stream().mapToInt(List::size).sum();
        Map<String, List<String>> headers = new LinkedHashMap<>();
        if (!bearer.isEmpty()) {
            headers.put("authorization", List.of(bearer));
        }
        if (!tenant.isEmpty()) {
            headers.put("x-tenant-id", List.of(tenant));
        }
        headers.put("x-request-id", List.of(requestId));
        extra.forEach((k, v) -> headers.put(k, List.of(v)));
        List<CheckResponse> answers = new ArrayList<>();
        service.check(
                CheckRequests.of("GET", "api.impact.example", path, headers, Map.of(), CheckRequests.Encoding.HEADERS),
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
        WRITTEN.computeIfAbsent(kind, k -> new ArrayList<>()).add(requestId);
        return 1;
    }

    private static String token(TestKeys keys, String sub, String tenant, List<String> roles) {
        Instant now = Instant.now();
        return "Bearer "
                + keys.sign(new JWTClaimsSet.Builder()
                        .issuer(ISSUER)
                        .subject(sub)
                        .audience("meshguard")
                        .issueTime(Date.from(now))
                        .expirationTime(Date.from(now.plusSeconds(3600)))
                        .claim("tenant", tenant)
                        .claim("realm_access", Map.of("roles", roles))
                        .build());
    }

    private static String dbUrl() {
        String sep = PG.jdbcUrl().contains("?") ? "&" : "?";
        return PG.jdbcUrl() + sep + "user=" + PG.user() + "&password=" + PG.password();
    }

    private static Path draft(Path dir, String policy) throws Exception {
        Files.writeString(dir.resolve("authz.yaml"), policy);
        return dir;
    }

    private static CliRun impact(Path dir) {
        return CliRun.of("policy", "impact", dir.toString(), "--db", dbUrl(), "--since", "1h");
    }

    private static CliRun impact(Path dir, Path inForce) {
        return CliRun.of(
                "policy", "impact", dir.toString(), "--in-force", inForce.toString(), "--db", dbUrl(), "--since", "1h");
    }

    @Test
    void impact_policyInForceOverItsOwnRows_flipsNothing_andEveryRowAgreesWithItsFacts(@TempDir Path dir)
            throws Exception {
        CliRun r = impact(draft(dir, POLICY));

        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("decisions: 15  unchanged: 15  flipped: 0  not replayable: 0");
        assertThat(r.out())
                .contains(
                        "rows checked: 15  facts disagreeing with their row (edited after they were " + "written?): 0");
        assertThat(r.out()).contains("decision rows are not in the admin trail's hash chain");
    }

    @Test
    void impact_draftRequiringAnotherRoleOnOrders_flipsAlicesAllowsToDeny_namingRouteCallerAndSamples(@TempDir Path dir)
            throws Exception {
        String tightened = POLICY.replace(
                "  - name: orders\n    match: {path_prefix: /orders}\n    auth: jwt\n    roles: [user]",
                "  - name: orders\n    match: {path_prefix: /orders}\n    auth: jwt\n    roles: [orders-writer]");
        assertThat(tightened).isNotEqualTo(POLICY);

        CliRun r = impact(draft(dir, tightened));

        assertThat(r.exit()).as(r.err()).isZero();
        // alice's three allows flip; bob was denied for his role already, alice's debug calls by the deny rule
        assertThat(r.out()).contains("decisions: 15  unchanged: 12  flipped: 3  not replayable: 0");
        assertThat(r.out())
                .contains("3 decisions of tenant acme on route orders by alice: allow 200 -> deny 403 (route:orders)");
        assertThat(r.out()).contains(WRITTEN.get("alice-orders").get(0));
        assertThat(CliRun.of("policy", "impact", dir.toString(), "--db", dbUrl(), "--since", "1h", "--fail-on-flip")
                        .exit())
                .isEqualTo(1);
    }

    private static final String ORDERS_WRITERS = POLICY.replace(
            "  - name: orders\n    match: {path_prefix: /orders}\n    auth: jwt\n    roles: [user]",
            "  - name: orders\n    match: {path_prefix: /orders}\n    auth: jwt\n    roles: [orders-writer]");

    @Test
    void impact_againstThePolicyInForce_flipsOnlyWhatTheDraftChanges_andWhatItDidNotDecideIsNotComparable(
            @TempDir Path dir, @TempDir Path inForce, @TempDir Path other) throws Exception {
        // the window was recorded under POLICY: held against it, the draft flips alice's three allows, to its status
        CliRun against = impact(draft(dir, ORDERS_WRITERS), draft(inForce, POLICY));
        assertThat(against.exit()).as(against.err()).isZero();
        assertThat(against.out())
                .contains("compared with " + inForce.resolve("authz.yaml") + ", the policy in force")
                .contains("decisions: 15  unchanged: 12  flipped: 3  not replayable: 0")
                .contains("3 decisions of tenant acme on route orders by alice: allow 200 -> deny 403 (route:orders)");

        // a policy named as in force that did not make alice's allows must not pass its difference off as the draft's
        String notMadeThere = impact(dir, draft(other, ORDERS_WRITERS)).out();
        assertThat(notMadeThere).contains("flipped: 0  not replayable: 3");
        assertThat(notMadeThere).contains("3  " + io.meshguard.authz.replay.DecisionReplay.NOT_COMPARABLE);
    }

    @Test
    void impact_rowWhoseReplayFactsWereEditedInTheDatabase_isNamedAndNotReplayed_andTheCommandFails(@TempDir Path dir)
            throws Exception {
        // an operator with database access makes a deny look like an allow in the facts, leaving the columns be
        String edited = WRITTEN.get("bob-orders").get(1);
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "update audit_event set details = jsonb_set(details, '{replay}', to_jsonb(replace(replace("
                                + "details->>'replay', '\"al\":false', '\"al\":true'), '\"st\":403', '\"st\":200')))"
                                + " where request_id = ? and kind = 'authz_decision'")) {
            ps.setString(1, edited);
            assertThat(ps.executeUpdate()).isEqualTo(1);
        }
        try {
            CliRun r = impact(draft(dir, POLICY));

            assertThat(r.exit()).as(r.out()).isEqualTo(3);
            assertThat(r.out()).contains("decisions: 15  unchanged: 14  flipped: 0  not replayable: 1");
            assertThat(r.out()).contains("1 rows disagree on status, decision; e.g. " + edited);
            assertThat(r.err()).contains("disagree with their own columns");
        } finally {
            restore(edited);
        }
    }

    /** Puts the facts back, so the other tests read the rows as written. */
    private static void restore(String requestId) throws Exception {
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "update audit_event set details = jsonb_set(details, '{replay}', to_jsonb(replace(replace("
                                + "details->>'replay', '\"al\":true', '\"al\":false'), '\"st\":200', '\"st\":403')))"
                                + " where request_id = ? and kind = 'authz_decision'")) {
            ps.setString(1, requestId);
            ps.executeUpdate();
        }
        try (Connection c = PG.dataSource().getConnection();
                PreparedStatement ps =
                        c.prepareStatement("select details->>'replay' from audit_event where request_id = ?")) {
            ps.setString(1, requestId);
            try (ResultSet rs = ps.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).contains("\"st\":403");
            }
        }
    }
}
