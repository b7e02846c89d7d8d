package io.meshguard.audit.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.runtime.policy.PolicyInvalidException;
import io.meshguard.runtime.policy.PolicyParser;
import io.meshguard.runtime.policy.PolicyReload;
import io.meshguard.runtime.policy.PolicySource;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Four eyes on the policy files against a real PostgreSQL ({@code policy_request}, {@code approved_policy}): an
 * approval is of a transition, so after v1 and then v2 were approved only v2 is enforceable; putting v1 back into the
 * files is refused until a new request for v1 is approved, which then supersedes v2 in turn.
 */
@IntegrationTest
class ApprovedPoliciesTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final List<PolicySource> V1 = List.of(new PolicySource("authz.yaml", "routes: []\n# v1\n"));
    static final List<PolicySource> V2 = List.of(new PolicySource("authz.yaml", "routes: []\n# v2, the fix\n"));

    /** A request for {@code files}, approved by a second person (the rows the controller's policy requests write). */
    static void approve(String policy, List<PolicySource> files) {
        String digest = PolicyReload.digestOf(files);
        Long id = PG.dsl()
                .fetchOne(
                        "insert into policy_request (policy, state, requested_by, requested_by_person, reason, files,"
                                + " digest, diff, decided_by, decided_at) values (?, 'approved', 'sally', 'sally',"
                                + " 'test', '[]'::jsonb, ?, '', 'victor', now()) returning id",
                        policy,
                        digest)
                .get(0, Long.class);
        PG.dsl()
                .execute(
                        "insert into approved_policy (digest, policy, request_id, approved_by, approved_at)"
                                + " values (?, ?, ?, 'victor', now()) on conflict (policy, digest) do update set"
                                + " request_id = excluded.request_id, approved_by = excluded.approved_by,"
                                + " approved_at = excluded.approved_at",
                        digest,
                        policy,
                        id);
    }

    static PolicyParser<String> approvals(String policy) {
        return new ApprovedPolicies(policy, PG.dataSource(), new SimpleMeterRegistry()).gate(sources -> "parsed");
    }

    @Test
    void afterV1ThenV2WereApproved_v1IsRefused_andV2Enforced() throws Exception {
        approve("authz-a", V1);
        approve("authz-a", V2);
        PolicyParser<String> approvals = approvals("authz-a");
        assertThat(approvals.parse(V2)).isEqualTo("parsed");
        assertThatThrownBy(() -> approvals.parse(V1))
                .isInstanceOf(PolicyInvalidException.class)
                .hasMessageContaining("a newer approval replaced it")
                .hasMessageContaining("a new request");
    }

    @Test
    void goingBackToV1_isANewRequest_whoseApprovalSupersedesV2() throws Exception {
        approve("authz-b", V1);
        approve("authz-b", V2);
        approve("authz-b", V1);
        PolicyParser<String> approvals = approvals("authz-b");
        assertThat(approvals.parse(V1)).isEqualTo("parsed");
        assertThatThrownBy(() -> approvals.parse(V2)).isInstanceOf(PolicyInvalidException.class);
    }

    @Test
    void anotherPolicysApproval_approvesNothingHere() {
        approve("authz-c", V1);
        approve("dlp-c", V2);
        assertThatThrownBy(() -> approvals("authz-c").parse(V2))
                .isInstanceOf(PolicyInvalidException.class)
                .hasMessageContaining("no approval names digest");
    }

    @Test
    void nothingApproved_refused() {
        assertThatThrownBy(() -> approvals("authz-d").parse(V1))
                .isInstanceOf(PolicyInvalidException.class)
                .hasMessageContaining("not approved");
    }
}
