package io.meshguard.cli.dev;

import io.meshguard.authz.policy.PolicyInvalidException;
import io.meshguard.cli.idp.ProductIdp;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the generated dev policy in step with {@code policies/authz.yaml} while {@code up} runs: an edit of the
 * base is validated and, when valid, the dev policy is rewritten (atomically), which extauthz's own watcher then
 * hot-reloads. An invalid edit is reported with the base's file and line, and the last good dev policy stays.
 *
 * <p>extauthz never sees an invalid edit of the base (only valid dev policies are written), so this writer reports
 * it where extauthz's own watcher would: {@code /readyz} detail of {@code policy:authz-source} and the policy reload
 * metric {@code meshguard_policy_reload_total{policy="authz",result="invalid"}} (the same counter extauthz's watcher
 * counts in, so a dashboard or alert on refused authz edits sees these too).
 */
public final class DevPolicyWriter implements ServerComponent {
    private static final Logger log = LoggerFactory.getLogger(DevPolicyWriter.class);

    private final Path base;
    private final Path target;
    private final Supplier<URI> jwksUri;
    private final Optional<ProductIdp> productIdp;
    private final Duration interval;
    private final DevPolicy policy = new DevPolicy();
    private ScheduledExecutorService poller;
    private Optional<String> lastBase = Optional.empty();
    private volatile Optional<String> lastProblem = Optional.empty();
    private final Counter refused;

    /**
     * @param base the repository's {@code authz.yaml}
     * @param target where the dev policy is written
     * @param jwksUri where extauthz fetches the dev issuer's keys (asked at start: the JWKS port may be picked then)
     * @param productIdp the issuer of customers' OAuth2 clients product routes also accept; empty: API keys only
     * @param interval how often the base is re-read
     * @param extauthzMeters extauthz's meter registry (its server view), where refused edits are counted
     */
    public DevPolicyWriter(
            Path base,
            Path target,
            Supplier<URI> jwksUri,
            Optional<ProductIdp> productIdp,
            Duration interval,
            MeterRegistry extauthzMeters) {
        this.base = base;
        this.target = target;
        this.jwksUri = jwksUri;
        this.productIdp = productIdp;
        this.interval = interval;
        // Name and tags of runtime's PolicyWatcher reload counter: one series for "an authz edit was refused".
        this.refused = Counter.builder("meshguard.policy.reload")
                .description("Policy reload attempts by result (each distinct content counted once)")
                .tags("policy", "authz", "result", "invalid")
                .register(extauthzMeters);
    }

    @Override
    public String name() {
        return "dev-policy";
    }

    /** Writes the dev policy once; fails (so {@code up} does not start) when the base policy is invalid. */
    @Override
    public synchronized void start() throws IOException, PolicyInvalidException {
        writeIfChanged();
        completeThePolicySet();
        poller = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("dev-policy").factory());
        poller.scheduleWithFixedDelay(this::refresh, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Re-reads the base now; true when the dev policy was rewritten. */
    public synchronized boolean refreshNow() throws IOException, PolicyInvalidException {
        return writeIfChanged();
    }

    private void refresh() {
        try {
            if (refreshNow()) {
                log.info("dev policy {} rewritten from {}", target, base);
            }
        } catch (PolicyInvalidException e) {
            log.error("{} is invalid; the dev policy keeps the last valid version:\n{}", base, e.getMessage());
        } catch (IOException | RuntimeException e) {
            lastProblem = Optional.of("cannot read: " + e.getMessage());
            log.error("cannot refresh the dev policy from {}: {}", base, e.toString());
        }
    }

    /**
     * Makes the dev policy's directory a complete policy set, as the servers of {@code up} load it: the generated
     * {@code authz.yaml} beside links to the base directory's other policy files ({@code dlp.yaml}, {@code access.yaml}),
     * so {@code meshguard xds apply --policies DATA_DIR/dev-issuer/policy} and {@code policy check} judge a gateway
     * config (the demo's {@code dev-demo} routes included) against exactly what {@code up} runs. Links, not copies:
     * an edit of {@code policies/dlp.yaml} is seen there at once.
     */
    private void completeThePolicySet() throws IOException {
        for (String name : List.of("dlp.yaml", "access.yaml")) {
            Path source = base.toAbsolutePath().normalize().resolveSibling(name);
            Path link = target.resolveSibling(name);
            if (Files.exists(source) && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, source);
            } else if (Files.isSymbolicLink(link)
                    && !Files.readSymbolicLink(link).equals(source)) {
                // a data directory reused with another --policies
                Files.delete(link);
                Files.createSymbolicLink(link, source);
            }
        }
    }

    private boolean writeIfChanged() throws IOException, PolicyInvalidException {
        if (!Files.isRegularFile(base)) {
            throw new IOException(
                    "no authz policy at " + base + " (the dev policy is made from it; pass --policies DIR)");
        }
        String text = Files.readString(base, StandardCharsets.UTF_8);
        if (lastBase.filter(text::equals).isPresent()) {
            return false;
        }
        try {
            DevIssuerFiles.writeAtomically(
                    target, policy.compose(base.toString(), text, jwksUri.get(), productIdp), "rw-r--r--");
            lastProblem = Optional.empty();
        } catch (PolicyInvalidException e) {
            lastProblem = Optional.of(e.getMessage().strip().replace('\n', ' '));
            refused.increment();
            throw e;
        } finally {
            // An invalid base is reported once, not every interval, until it changes again.
            lastBase = Optional.of(text);
        }
        return true;
    }

    /**
     * Ready once the dev policy is written; when the newest edit of the base was refused, the detail says so and why
     * (the last valid policy keeps serving).
     */
    @Override
    public List<ReadinessCheck> readinessChecks() {
        return List.of(ReadinessCheck.of("policy:authz-source", () -> {
            Optional<String> problem = lastProblem;
            return ReadinessCheck.Result.ready(
                    problem.isEmpty()
                            ? "serving the dev policy made from " + base
                            : "last edit of " + base
                                    + " refused, the dev policy from its last valid version keeps serving: "
                                    + problem.get());
        }));
    }

    @Override
    public synchronized void close() {
        if (poller != null) {
            poller.shutdownNow();
        }
    }
}
