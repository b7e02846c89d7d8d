package io.meshguard.cli.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.audit.DecisionLogSettings;
import io.meshguard.audit.PathPolicy;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigException;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which audit sinks a server started by the command line records into, from its settings. */
class ServerAuditTest {
    private static Config config(Map<String, String> env) throws Exception {
        return ConfigLoader.load(ServerAudit.withAuditKeys(ExtAuthzConfig.SCHEMA), Optional.empty(), env);
    }

    @Test
    void sink_noDatabase_decisionLogOnStdoutByDefault() throws Exception {
        try (ProcessMetrics metrics = ProcessMetrics.create();
                ComponentStack stack = new ComponentStack()) {
            var sink = ServerAudit.sink(config(Map.of()), "meshguard-extauthz", metrics, stack, Optional.empty());

            assertThat(sink).isPresent();
            assertThat(stack.readinessChecks()).extracting(ReadinessCheck::name).containsExactly("decision-log");
            // the names the operator guide ("Decision log on standard output") and the DecisionLogDropping alert use
            assertThat(metrics.scrape())
                    .contains(
                            "meshguard_decision_log_events_written_total{server=\"audit\"}",
                            "meshguard_decision_log_written_bytes_total{",
                            "meshguard_decision_log_writes_total{",
                            "meshguard_decision_log_dropped_total{reason=\"queue_full\",server=\"audit\"}",
                            "meshguard_decision_log_queue_events{",
                            "meshguard_decision_log_queue_capacity{",
                            "meshguard_decision_log_up{");
        }
    }

    @Test
    void sink_noDatabaseAndDecisionLogOff_recordsNowhere() throws Exception {
        try (ProcessMetrics metrics = ProcessMetrics.create();
                ComponentStack stack = new ComponentStack()) {
            var sink = ServerAudit.sink(
                    config(Map.of("MESHGUARD_AUDIT_DECISION_LOG", "off")),
                    "meshguard-extauthz",
                    metrics,
                    stack,
                    Optional.empty());

            assertThat(sink).isEmpty();
            assertThat(stack.readinessChecks()).isEmpty();
        }
    }

    @Test
    void decisionLogOn_autoFollowsTheDatabase_explicitValuesWin() throws Exception {
        assertThat(AuditConfig.decisionLogOn(config(Map.of()), false)).isTrue();
        assertThat(AuditConfig.decisionLogOn(config(Map.of()), true)).isFalse();
        Config stdout = config(Map.of("MESHGUARD_AUDIT_DECISION_LOG", "stdout"));
        assertThat(AuditConfig.decisionLogOn(stdout, true)).isTrue();
        assertThat(AuditConfig.decisionLogOn(config(Map.of("MESHGUARD_AUDIT_DECISION_LOG", "off")), false))
                .isFalse();
    }

    @Test
    void decisionLog_settingsFromKeys_queryStringRuleSharedWithTheDatabase() throws Exception {
        DecisionLogSettings s = AuditConfig.decisionLog(
                config(Map.of(
                        "MESHGUARD_AUDIT_DECISION_LOG_QUEUE_CAPACITY", "5000",
                        "MESHGUARD_AUDIT_DECISION_LOG_FLUSH_INTERVAL", "50ms",
                        "MESHGUARD_AUDIT_DECISION_LOG_MAX_WAIT", "5ms",
                        "MESHGUARD_AUDIT_KEEP_QUERY_STRING", "true")),
                Map.of("service", "s"));

        assertThat(s.queueCapacity()).isEqualTo(5000);
        assertThat(s.flushInterval()).isEqualTo(Duration.ofMillis(50));
        assertThat(s.maxWait()).isEqualTo(Duration.ofMillis(5));
        assertThat(s.paths()).isEqualTo(new PathPolicy(true));
    }

    @Test
    void decisionLog_unknownValueOrWaitAboveOneSecond_refusedNamingTheKey() throws Exception {
        assertThatThrownBy(() -> config(Map.of("MESHGUARD_AUDIT_DECISION_LOG", "stderr")))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("audit.decision_log");
        Config longWait = config(Map.of("MESHGUARD_AUDIT_DECISION_LOG_MAX_WAIT", "2s"));
        assertThatThrownBy(() -> AuditConfig.decisionLog(longWait, Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("audit.decision_log_max_wait");
    }
}
