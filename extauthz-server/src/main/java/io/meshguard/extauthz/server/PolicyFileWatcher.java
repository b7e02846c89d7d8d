package io.meshguard.extauthz.server;

import io.meshguard.extauthz.policy.AuthzPolicy;
import io.meshguard.extauthz.policy.AuthzPolicyParser;
import io.meshguard.extauthz.policy.PolicyInvalidException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches {@code authz.yaml} by content (polling), so edits, atomic renames and Kubernetes ConfigMap symlink swaps
 * are all seen. A changed file is validated first; only a valid one replaces the running policy, an invalid one is
 * logged with its file:line errors and the running policy stays.
 */
public final class PolicyFileWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PolicyFileWatcher.class);

    private final Path file;
    private final AuthzPipeline pipeline;
    private final AuthzPolicyParser parser = new AuthzPolicyParser();
    private final Counter reloadOk;
    private final Counter reloadFailed;
    private final AtomicReference<List<String>> lastErrors = new AtomicReference<>(List.of());
    private final ScheduledExecutorService scheduler;
    private byte[] lastDigest = new byte[0];

    public PolicyFileWatcher(Path file, AuthzPipeline pipeline, MeterRegistry registry) {
        this.file = file;
        this.pipeline = pipeline;
        this.reloadOk = Counter.builder("meshguard_authz_policy_reloads_total").tag("result", "success")
                .description("Policy loads and reloads").register(registry);
        this.reloadFailed = Counter.builder("meshguard_authz_policy_reloads_total").tag("result", "invalid")
                .description("Policy loads and reloads").register(registry);
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "authz-policy-watcher");
            t.setDaemon(true);
            return t;
        });
    }

    /** Loads the file now; false (with errors logged) when it is missing or invalid. */
    public synchronized boolean loadNow() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            fail(List.of(file + ":1: cannot read: " + e.getMessage()));
            return false;
        }
        byte[] digest = sha256(bytes);
        if (Arrays.equals(digest, lastDigest)) {
            return true;
        }
        try {
            AuthzPolicy policy = parser.parse(file.toString(), new StringReader(new String(bytes, StandardCharsets.UTF_8)));
            pipeline.use(policy);
            lastDigest = digest;
            lastErrors.set(List.of());
            reloadOk.increment();
            LOG.info("authz policy loaded from {}: {} routes, {} issuers", file, policy.routes().size(), policy.issuers().size());
            return true;
        } catch (PolicyInvalidException e) {
            lastDigest = digest;
            fail(e.errors().stream().map(Object::toString).toList());
            return false;
        }
    }

    private void fail(List<String> errors) {
        reloadFailed.increment();
        lastErrors.set(errors);
        LOG.error("authz policy {} not loaded, the running policy stays:\n{}", file, String.join("\n", errors));
    }

    /** Errors of the last load attempt (empty when it succeeded). */
    public List<String> lastErrors() {
        return lastErrors.get();
    }

    public void start(Duration interval) {
        scheduler.scheduleWithFixedDelay(() -> {
            try {
                loadNow();
            } catch (RuntimeException e) {
                LOG.error("policy watcher failed", e);
            }
        }, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }
}
