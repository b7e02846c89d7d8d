package io.meshguard.xds.validate;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Duration;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
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

    private static VirtualHost host(String name, long timeoutSeconds) {
        return VirtualHost.newBuilder()
                .setName(name)
                .addDomains(name + ".example")
                .addRoutes(Route.newBuilder()
                        .setName("r")
                        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                        .setRoute(RouteAction.newBuilder()
                                .setCluster("c")
                                .setTimeout(Duration.newBuilder().setSeconds(timeoutSeconds))))
                .build();
    }

    private static GroupResources withTable(VirtualHost... hosts) {
        RouteConfiguration table = RouteConfiguration.newBuilder()
                .setName("http-8080")
                .addAllVirtualHosts(List.of(hosts))
                .build();
        return new GroupResources("edge", List.of(), List.of(table), List.of(), List.of());
    }

    @Test
    void problems_rememberedVirtualHostInANewTable_reportedAtItsPlaceInThatTable() {
        // a virtual host's verdict is remembered (a one-route change walks its virtual host, not all 200);
        // the same bad host in a new table, at another index, is reported where it now is
        VirtualHost bad = host("bad", -1);
        assertThat(EnvoyLoadCheck.problems(withTable(bad)))
                .extracting(Problem::path)
                .containsExactly("groups[edge].rds[http-8080].virtual_hosts[0].routes[0].route.timeout");

        long walked = EnvoyLoadCheck.walked();
        List<Problem> again = EnvoyLoadCheck.problems(withTable(host("good", 5), host("bad", -1)));

        assertThat(again)
                .extracting(Problem::path)
                .containsExactly("groups[edge].rds[http-8080].virtual_hosts[1].routes[0].route.timeout");
        // the new table and the new good host (and its route) walked; the bad host answered from its verdict
        assertThat(EnvoyLoadCheck.walked() - walked).isEqualTo(3);
    }

    private static List<VirtualHost> goodHosts(String prefix) {
        return java.util.stream.IntStream.range(0, 5)
                .mapToObj(i -> host(prefix + i, 5))
                .toList();
    }

    private static RouteConfiguration table(String name, List<VirtualHost> hosts) {
        return RouteConfiguration.newBuilder()
                .setName(name)
                .addAllVirtualHosts(hosts)
                .build();
    }

    private static List<String> paths(RouteConfiguration table) {
        return EnvoyLoadCheck.problems(new GroupResources("edge", List.of(), List.of(table), List.of(), List.of()))
                .stream()
                .map(Problem::path)
                .toList();
    }

    @Test
    void problems_tableWithOneHostReplaced_walksOnlyThatHost_andReportsWhatAWholeWalkReports() {
        List<VirtualHost> hosts = goodHosts("one-");
        assertThat(paths(table("http-one", hosts))).isEmpty();
        List<VirtualHost> changed = new java.util.ArrayList<>(hosts);
        changed.set(3, host("one-3", -7)); // a timeout no other test's route has: this route is not remembered
        RouteConfiguration next = table("http-one", changed);

        long walked = EnvoyLoadCheck.walked();
        List<String> found = paths(next);

        assertThat(found).containsExactly("groups[edge].rds[http-one].virtual_hosts[3].routes[0].route.timeout");
        assertThat(found)
                .containsExactlyElementsOf(io.meshguard.envoy.validation.EnvoyValidator.validate(next).stream()
                        .map(v -> "groups[edge].rds[http-one]." + v.path())
                        .toList());
        // the new host and its route; neither the table nor its other four hosts
        assertThat(EnvoyLoadCheck.walked() - walked).isEqualTo(2);
    }

    @Test
    void problems_tableWithTheSameHostsButAnotherFieldRefused_isWalkedWhole() {
        List<VirtualHost> hosts = goodHosts("two-");
        assertThat(paths(table("http-two", hosts))).isEmpty();
        // Envoy refuses a header name to remove with a line break in it; every virtual host is the clean table's own
        RouteConfiguration next = table("http-two", hosts).toBuilder()
                .addResponseHeadersToRemove("x\r\ny")
                .build();

        assertThat(paths(next)).containsExactly("groups[edge].rds[http-two].response_headers_to_remove[0]");
    }

    @Test
    void problems_hostAppendedToACleanTable_isChecked() {
        List<VirtualHost> hosts = goodHosts("three-");
        assertThat(paths(table("http-three", hosts))).isEmpty();
        List<VirtualHost> more = new java.util.ArrayList<>(hosts);
        more.add(host("three-5", -1));

        assertThat(paths(table("http-three", more)))
                .containsExactly("groups[edge].rds[http-three].virtual_hosts[5].routes[0].route.timeout");
        assertThat(paths(table("http-three", hosts.subList(0, 4)))).isEmpty();
    }
}
