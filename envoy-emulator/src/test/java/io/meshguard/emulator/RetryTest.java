package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetryTest {
    private static Retry on(String retryOn) {
        return new Retry(
                RouteAction.newBuilder()
                        .setRetryPolicy(
                                RetryPolicy.newBuilder().setRetryOn(retryOn).setNumRetries(UInt32Value.of(1)))
                        .build(),
                1024 * 1024);
    }

    @Test
    void gatewayError_retriesResetsAndConnectFailures_likeFiveXx() throws Exception {
        // retry_state_impl.cc wouldRetryFromReset counts a reset as "5xx" and as "gateway-error"
        List<String> steps = new ArrayList<>();
        assertThat(on("gateway-error").onReset(1, List.of(), steps)).isTrue();
        assertThat(on("gateway-error").onConnectFailure(1, List.of(), steps)).isTrue();
        assertThat(on("5xx").onReset(1, List.of(), steps)).isTrue();
    }

    @Test
    void gatewayError_doesNotRetryA500_andNoPolicyRetriesNothing() throws Exception {
        List<String> steps = new ArrayList<>();
        assertThat(on("gateway-error").onStatus(500, 1, List.of(), steps)).isFalse();
        assertThat(on("gateway-error").onStatus(503, 1, List.of(), steps)).isTrue();
        assertThat(on("gateway-error").onReset(2, List.of(), steps))
                .as("num_retries 1 spent")
                .isFalse();
        assertThat(new Retry(RouteAction.getDefaultInstance(), 1024).onReset(1, List.of(), steps))
                .isFalse();
    }
}
