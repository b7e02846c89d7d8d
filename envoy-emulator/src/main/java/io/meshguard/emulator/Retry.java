package io.meshguard.emulator;

import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A route's {@code retry_policy} as the router applies it (source/common/router/retry_state_impl.cc): at most
 * {@code num_retries} more attempts; {@code 5xx} retries any 5xx answer and no answer at all (reset, connect
 * failure), {@code gateway-error} 502/503/504, {@code reset} no answer (disconnect, reset, connect failure),
 * {@code connect-failure} a failed connect (the router filter's {@code x-envoy-retry-on} documentation,
 * docs/root/configuration/http/http_filters/router_filter.rst); the back-off is fully
 * jittered from {@code base_interval} doubling up to {@code max_interval}; a request whose body no longer fits the
 * buffer limit (the router keeps it for retries, source/common/router/router.cc) is not retried. Other
 * {@code retry_on} values are not modelled.
 * The route's global {@code timeout} is never retried: it is a deadline for the whole response and answers 504
 * {@code UT} (source/common/router/router.cc {@code onResponseTimeout}); only a per-try timeout is retried, and
 * {@code per_try_timeout} is refused as unmodelled.
 */
final class Retry {
    private static final Set<String> MODELLED = Set.of("5xx", "gateway-error", "reset", "connect-failure");

    private final int maxRetries;
    private final Set<String> on;
    private final long baseMs;
    private final long maxMs;
    private final long bufferLimit;

    Retry(RouteAction action, long bufferLimit) {
        this.bufferLimit = bufferLimit;
        if (!action.hasRetryPolicy()) {
            maxRetries = 0;
            on = Set.of();
            baseMs = 25;
            maxMs = 250;
            return;
        }
        RetryPolicy p = action.getRetryPolicy();
        if (p.hasPerTryTimeout()) {
            throw new UnmodelledException("retry per_try_timeout");
        }
        maxRetries = p.hasNumRetries() ? p.getNumRetries().getValue() : 1;
        on = Set.of(p.getRetryOn().split(","));
        for (String o : on) {
            if (!MODELLED.contains(o.trim())) {
                throw new UnmodelledException("retry_on " + o);
            }
        }
        baseMs = p.hasRetryBackOff()
                ? Gateway.duration(p.getRetryBackOff().getBaseInterval()).toMillis()
                : 25;
        maxMs = p.hasRetryBackOff() && p.getRetryBackOff().hasMaxInterval()
                ? Gateway.duration(p.getRetryBackOff().getMaxInterval()).toMillis()
                : baseMs * 10;
    }

    boolean onStatus(int status, int attempt, List<byte[]> sent, List<String> steps) throws InterruptedException {
        boolean retriable = on.contains("5xx") && status >= 500
                || on.contains("gateway-error") && (status == 502 || status == 503 || status == 504);
        return retriable && again(attempt, sent, steps, "status " + status);
    }

    /**
     * {@code wouldRetryFromReset} (source/common/router/retry_state_impl.cc): "Currently we count an upstream reset
     * as a "5xx" (since it will result in one). With the exception of reset-before-request, we also count this as
     * "gateway-error"" — so both retry resets and connect failures, like {@code reset}.
     */
    boolean onReset(int attempt, List<byte[]> sent, List<String> steps) throws InterruptedException {
        return (on.contains("5xx") || on.contains("gateway-error") || on.contains("reset"))
                && again(attempt, sent, steps, "reset");
    }

    boolean onConnectFailure(int attempt, List<byte[]> sent, List<String> steps) throws InterruptedException {
        return (on.contains("5xx")
                        || on.contains("gateway-error")
                        || on.contains("reset")
                        || on.contains("connect-failure"))
                && again(attempt, sent, steps, "connect failure");
    }

    private boolean again(int attempt, List<byte[]> sent, List<String> steps, String why) throws InterruptedException {
        if (attempt > maxRetries) {
            return false;
        }
        long bytes = sent.stream().mapToLong(b -> b.length).sum();
        if (bytes > bufferLimit) {
            steps.add("router: no retry after " + why + ": the body outgrew the buffer limit");
            return false;
        }
        long ceiling = Math.min(maxMs, baseMs << Math.min(20, attempt - 1));
        long wait = ThreadLocalRandom.current().nextLong(ceiling + 1);
        steps.add("router: " + why + ", retrying after " + wait + " ms");
        Thread.sleep(wait);
        return true;
    }
}
