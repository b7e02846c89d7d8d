package io.meshguard.extauthz.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.runtime.config.Config;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PolicyApprovalSettingTest {
    @Test
    void requireApproval_isOffByDefault_andReadFromTheEnvironment() throws Exception {
        assertThat(ExtAuthzConfig.defaults().policyRequireApproval()).isFalse();
        Config config = ExtAuthzConfig.load(Optional.empty(), Map.of("MESHGUARD_POLICY_REQUIRE_APPROVAL", "true"));
        assertThat(ExtAuthzConfig.read(config).policyRequireApproval()).isTrue();
        assertThat(ExtAuthzConfig.read(config).withPolicyApproval(false).policyRequireApproval())
                .isFalse();
    }

    @Test
    void requireApproval_withoutADatabase_refusesToStart_becauseApprovalsLiveInPostgres() {
        assertThatThrownBy(() -> new ExtAuthzServer(
                        ExtAuthzConfig.defaults().withPolicyApproval(true),
                        new SimpleMeterRegistry(),
                        Optional.empty(),
                        e -> {},
                        Clock.systemUTC()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("policy.require_approval needs db.url");
    }
}
