package io.meshguard.extauthz.jwt;

import com.nimbusds.jose.util.Resource;
import com.nimbusds.jose.util.ResourceRetriever;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URL;
import java.util.concurrent.atomic.AtomicBoolean;
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
        // one line a fetch: fetches are spaced (KeySetFetchLimit), and which one spent the refetch budget is the
        // question an operator asks when a good key is refused as unknown
        long start = System.nanoTime();
        try {
            Resource r = delegate.retrieveResource(url);
            successes.increment();
            LOG.info("issuer {}: fetched {} in {} ms", issuer, url, (System.nanoTime() - start) / 1_000_000);
            return r;
        } catch (IOException | RuntimeException e) {
            failures.increment();
            lastFailure.set(url + ": " + e.getMessage());
            LOG.warn(
                    "issuer {}: fetching {} failed after {} ms: {}",
                    issuer,
                    url,
                    (System.nanoTime() - start) / 1_000_000,
                    e.toString());
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
