package io.meshguard.extauthz.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.jooq.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * extauthz's policy reloads are admin-trail rows: a taken reload and a refused one each leave a chained row with the
 * files' digests before and after (and, refused, why), and {@code meshguard audit verify}'s walk accepts the chain.
 */
@IntegrationTest
class PolicyReloadTrailTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    static final String POLICY = """
            rate_limits:
              default_tier: free
              tiers: {free: {requests_per_second: 1000, burst: 1000}}
            routes:
              - {name: api, match: {path_prefix: /api}, auth: apikey}
            """;

    @Test
    void aTakenAndARefusedReload_eachLeaveAChainedRow_thatVerifyAccepts() throws Exception {
        Path policy = dir.resolve("authz.yaml");
        Files.writeString(policy, POLICY);
        ExtAuthzConfig config = ExtAuthzConfig.onLoopback(policy, Duration.ofHours(1));
        try (ExtAuthzServer server = new ExtAuthzServer(
                config, new SimpleMeterRegistry(), Optional.of(PG.dataSource()), e -> {}, Clock.systemUTC())) {
            server.start();
            assertThat(rows()).as("the load at start is no reload").isEmpty();

            Files.writeString(policy, POLICY.replace("path_prefix: /api", "path_prefix: /v2"));
            server.watcher().reloadNow();
            Files.writeString(policy, POLICY + "rulez: yes\n");
            server.watcher().reloadNow();
            assertThat(server.watcher().lastProblem())
                    .as("the refused files are not in force")
                    .isPresent();
        }
        List<Record> rows = rows();
        assertThat(rows).hasSize(2);
        Record taken = rows.get(0);
        Record refused = rows.get(1);
        assertThat(taken.get("outcome", String.class)).isEqualTo("accepted");
        assertThat(taken.get("actor", String.class)).isEqualTo("extauthz");
        assertThat(taken.get("target", String.class)).isEqualTo("policies/authz");
        assertThat(taken.get("before_digest", String.class))
                .matches("[0-9a-f]{64}")
                .isNotEqualTo(taken.get("after_digest", String.class));
        assertThat(refused.get("outcome", String.class)).startsWith("refused: ").contains("rulez");
        assertThat(refused.get("before_digest", String.class))
                .as("the files in force when refused")
                .isEqualTo(taken.get("after_digest", String.class));
        assertThat(refused.get("prev_hash", String.class)).as("chained").isEqualTo(taken.get("row_hash", String.class));

        AdminTrailVerifier.Report report = new AdminTrailVerifier(PG.dataSource()).verify(Optional.empty());
        assertThat(report.intact()).as("%s", report.firstBad()).isTrue();
        assertThat(report.headHash()).isEqualTo(refused.get("row_hash", String.class));
    }

    private static List<Record> rows() {
        return PG.dsl().fetch("select * from admin_trail where action = 'policy_reload' order by seq");
    }
}
