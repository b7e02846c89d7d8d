package io.meshguard.xds.validate;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Duration;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.meshguard.xds.snapshot.GroupResources;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The verdicts EnvoyLoadCheck remembers between checks (a publish checks every unchanged resource again) never stand
 * in for a resource whose content differs.
 */
class EnvoyLoadCheckTest {
    private static GroupResources withCluster(Cluster cluster) {
        return new GroupResources("edge", List.of(), List.of(), List.of(cluster), List.of());
    }

    private static Cluster cluster(String name, long timeoutSeconds) {
        return Cluster.newBuilder()
                .setName(name)
                .setType(Cluster.DiscoveryType.EDS)
                .setConnectTimeout(Duration.newBuilder().setSeconds(timeoutSeconds))
                .build();
    }

    @Test
    void problems_sameResourceCheckedAgain_refusedAgainWithTheSameProblem() {
        List<Problem> first = EnvoyLoadCheck.problems(withCluster(cluster("again", -1)));
        List<Problem> second = EnvoyLoadCheck.problems(withCluster(cluster("again", -1)));

        assertThat(first).isNotEmpty();
        assertThat(first).allSatisfy(p -> assertThat(p.code()).isEqualTo(ProblemCode.ENVOY_REFUSES));
        assertThat(first).extracting(Problem::path).contains("groups[edge].cds[again].connect_timeout");
        assertThat(second).isEqualTo(first);
    }

    @Test
    void problems_resourceChangedBetweenChecks_judgedOnItsNewContent() {
        assertThat(EnvoyLoadCheck.problems(withCluster(cluster("changing", 5)))).isEmpty();
        assertThat(EnvoyLoadCheck.problems(withCluster(cluster("changing", -5))))
                .extracting(Problem::path)
                .contains("groups[edge].cds[changing].connect_timeout");
        assertThat(EnvoyLoadCheck.problems(withCluster(cluster("changing", 5)))).isEmpty();
    }

    @Test
    void problems_sameContentUnderAnotherName_reportsItsOwnName() {
        EnvoyLoadCheck.problems(withCluster(cluster("one", -1)));

        assertThat(EnvoyLoadCheck.problems(withCluster(cluster("two", -1))))
                .extracting(Problem::path)
                .contains("groups[edge].cds[two].connect_timeout")
                .allSatisfy(path -> assertThat(path).startsWith("groups[edge].cds[two]."));
    }
}
