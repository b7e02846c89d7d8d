package io.meshguard.audit.trail;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.runtime.policy.PolicyError;
import io.meshguard.runtime.policy.PolicyInvalidException;
import io.meshguard.runtime.policy.PolicyWatcher;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.jooq.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** A watched policy's reloads into the admin trail: taken and refused rows, chained, a long error cut to fit. */
@IntegrationTest
class TrailedPolicyReloadsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    Path dir;

    @Test
    void reloads_areChainedRows_withDigests_andLongTextCutToItsColumn() throws Exception {
        Path file = dir.resolve("p.yaml");
        Files.writeString(file, "ok: 1\n");
        // a policy is valid while it does not say "bad"; the error is longer than the outcome column
        PolicyWatcher<String> watcher = new PolicyWatcher<>(
                "test",
                file,
                sources -> {
                    String text = sources.get(0).text();
                    if (text.contains("bad")) {
                        throw new PolicyInvalidException(new PolicyError("p.yaml", 1, "bad ".repeat(300)));
                    }
                    return text;
                },
                new SimpleMeterRegistry());
        // a pod name as long as Kubernetes allows, and extauthz's replica suffix: longer than the source column
        String replica = "p".repeat(63) + "-0123456789abcdef";
        watcher.addReloadListener(new TrailedPolicyReloads(new AdminTrail(PG.dataSource()), "test-server", replica));
        watcher.reloadNow();
        Files.writeString(file, "ok: 2\n");
        watcher.reloadNow();
        Files.writeString(file, "bad: 3\n");
        watcher.reloadNow();
        watcher.close();

        var rows = PG.dsl().fetch("select * from admin_trail where action = 'policy_reload' order by seq");
        assertThat(rows).hasSize(2);
        Record refused = rows.get(1);
        assertThat(rows.get(0).get("outcome", String.class)).isEqualTo("accepted");
        assertThat(rows.get(0).get("source_address", String.class)).hasSize(64).startsWith("ppp");
        assertThat(rows.get(0).get("details", String.class)).contains(replica);
        assertThat(refused.get("outcome", String.class))
                .startsWith("refused: p.yaml:1")
                .hasSize(512);
        assertThat(refused.get("details", String.class)).contains("\"error\"");
        assertThat(refused.get("before_digest", String.class))
                .isEqualTo(rows.get(0).get("after_digest", String.class));
        assertThat(new AdminTrailVerifier(PG.dataSource())
                        .verify(Optional.empty())
                        .intact())
                .isTrue();
    }
}
