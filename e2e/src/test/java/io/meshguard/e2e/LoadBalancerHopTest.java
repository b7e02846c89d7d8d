package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.devstack.demo.DemoGateway;
import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.EnvoyNode;
import io.meshguard.emulator.Exchange;
import io.meshguard.emulator.Gateway;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The edge gateway behind two load balancers, each appending its client to {@code x-forwarded-for}, with
 * the controller set to trust them ({@code xds.gateway.xff_num_trusted_hops: 2}, emitted on the gateway's HCM). The
 * emulated Envoy picks the client as Envoy does (the entry two places from the right of the chain it received), and
 * extauthz decides on that verdict. The fixture policy denies {@code 203.0.113.0/24} ({@code sanctioned-networks}).
 */
@IntegrationTest
class LoadBalancerHopTest {
    /** A database of the class's own on the run's shared server (nothing here stops PostgreSQL). */
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    /** The second load balancer: the gateway's socket peer. */
    static final String LB2 = "10.0.0.2";
    /** The first load balancer: what the second one appended. */
    static final String LB1 = "10.0.0.1";

    static E2eStack stack;
    static DemoGateway.Upstreams upstreams;
    static Gateway behindLoadBalancers;

    @BeforeAll
    static void start() throws Exception {
        stack = E2eStack.startBehindLoadBalancers(PG, Files.createTempDirectory("meshguard-e2e-lb"), 2);
        upstreams = DemoGateway.Upstreams.start();
        Gateway direct = stack.publish(DemoGateway.yaml("local", upstreams), "local", DemoGateway.LISTENER_PORT);
        assertThat(direct).isNotNull();
        behindLoadBalancers = new Gateway(
                stack.ads(), EnvoyNode.localGateway(), DemoGateway.LISTENER_PORT, 1, E2eStack.TIMEOUT_SCALE, LB2);
    }

    @AfterAll
    static void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {behindLoadBalancers, upstreams, stack}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static Exchange get(String tenant, String xff) throws Exception {
        return behindLoadBalancers.send(
                DownstreamRequest.get(DemoGateway.HOST, "/demo/v2/accounts", "x-forwarded-for", xff)
                        .with("authorization", "Bearer " + stack.token("alice", tenant, List.of("demo")))
                        .with("x-tenant-id", tenant));
    }

    @Test
    void sanctionedClient_behindTwoLoadBalancers_isDenied_thoughTheGatewaysPeerIsALoadBalancer() throws Exception {
        Exchange exchange = get("t-lb-sanctioned", "203.0.113.77, " + LB1);
        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(403);
        assertThat(exchange.body()).contains("sanctioned-networks");
    }

    @Test
    void sanctionedClient_forgingAnEarlierEntry_isStillDenied() throws Exception {
        // the client wrote 198.51.100.5 itself; the first load balancer appended the real peer after it
        Exchange exchange = get("t-lb-forged", "198.51.100.5, 203.0.113.77, " + LB1);
        assertThat(exchange.status()).as(exchange.describe()).isEqualTo(403);
        assertThat(exchange.body()).contains("sanctioned-networks");
    }

    @Test
    void cleanClient_behindTwoLoadBalancers_isAllowed_evenWhenItForgesASanctionedEntry() throws Exception {
        Exchange exchange = get("t-lb-clean", "203.0.113.77, 198.51.100.9, " + LB1);
        assertThat(exchange.status())
                .as("the client is the entry the load balancers appended: " + exchange.describe())
                .isEqualTo(200);
    }
}
