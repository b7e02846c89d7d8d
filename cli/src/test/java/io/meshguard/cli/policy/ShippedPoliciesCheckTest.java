package io.meshguard.cli.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.cli.CliRun;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The shipped {@code policies/} as {@code .ci/run} checks them on the released jar: valid against the sample gateway
 * (every route's profiles exist, hosts agree) and passing their own test cases — here in the unit tier, so that a
 * policy or sample edit fails where it is made.
 */
class ShippedPoliciesCheckTest {
    static final Path POLICIES = Path.of("..", "policies");
    static final Path SAMPLE_GATEWAY = Path.of(
            "..", "xds-controller", "src", "main", "resources", "io", "meshguard", "xds", "sample-gateway.yaml");

    @Test
    void shippedPolicies_checkAgainstTheSampleGateway() {
        CliRun r = CliRun.of("policy", "check", POLICIES.toString(), "--gateway", SAMPLE_GATEWAY.toString());
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
    }

    @Test
    void shippedPolicies_passTheirOwnCases() {
        CliRun r = CliRun.of("policy", "test", POLICIES.toString());
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("mcp");
    }
}
