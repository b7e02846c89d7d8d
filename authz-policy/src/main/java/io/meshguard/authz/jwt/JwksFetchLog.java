package io.meshguard.authz.jwt;

import com.nimbusds.jose.util.Resource;
import com.nimbusds.jose.util.ResourceRetriever;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URL;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wraps the HTTP retriever of one issuer to count fetches and failures and to know whether a key set was ever
 * retrieved (readiness). Also used for the OIDC discovery document.
 */
final class JwksFetchLog implements ResourceRetriever {
    private static final Logger LOG = LoggerFactory.getLogger(JwksFetchLog.class);

    private final String issuer;
    private final ResourceRetriever delegate;
    private final Counter successes;
    private final Counter failures;
    private final AtomicBoolean everSucceeded = new AtomicBoolean();
    private final AtomicLong failedInARow = new AtomicLong();
    private final AtomicReference<String> lastFailure = new AtomicReference<>("not fetched yet");

    JwksFetchLog(String issuer, ResourceRetriever delegate, MeterRegistry registry) {
        this.issuer = issuer;
        this.delegate = delegate;
        this.successes = Counter.builder("meshguard_authz_jwks_fetches_total")
                .tag("issuer", issuer)
                .tag("result", "success")
                .description("JWKS and OIDC discovery fetches per issuer")
                .register(registry);
        this.failures = Counter.builder("meshguard_authz_jwks_fetches_total")
                .tag("issuer", issuer)
                .tag("result", "failure")
                .description("JWKS and OIDC discovery fetches per issuer")
                .register(registry);
    }

    /** For local key files: always ready, never fetches. */
    static JwksFetchLog local() {
        JwksFetchLog log = new JwksFetchLog(
                "local",
                url -> {
                    throw new IOException("local key set");
                },
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
        log.everSucceeded.set(true);
        log.lastFailure.set("");
        return log;
    }

    @Override
    public Resource retrieveResource(URL url) throws IOException {
        // a line for each fetch that worked (one per TTL, plus the spaced refetches: which one spent the refetch budget
        // is what an operator asks when a good key is refused as unknown), and one when fetches start failing: an IdP
        // without a usable key set is retried every second (KeySetFetchLimit), so each failure is only counted
        long start = System.nanoTime();
        try {
            Resource r = delegate.retrieveResource(url);
            successes.increment();
            long failedBefore = failedInARow.getAndSet(0);
            LOG.info(
                    "issuer {}: fetched {} in {} ms{}",
                    issuer,
                    url,
                    (System.nanoTime() - start) / 1_000_000,
                    failedBefore == 0 ? "" : " after " + failedBefore + " failed fetches");
            return r;
        } catch (IOException | RuntimeException e) {
            failures.increment();
            lastFailure.set(url + ": " + e.getMessage());
            if (failedInARow.getAndIncrement() == 0) {
                LOG.warn(
                        "issuer {}: fetching {} failed after {} ms ({}); logged again once a fetch works",
                        issuer,
                        url,
                        (System.nanoTime() - start) / 1_000_000,
                        e.toString());
            }
            throw e;
        }
    }

    void markKeySetRetrieved() {
        everSucceeded.set(true);
    }

    boolean everSucceeded() {
        return everSucceeded.get();
    }

    String lastFailure() {
        return lastFailure.get();
    }
}
