package io.meshguard.dlpserver;

import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyParser;
import io.meshguard.dlp.policy.PolicyInvalidException;
import io.meshguard.runtime.policy.PolicyReload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running dlp.yaml. {@link #reload()} re-reads the file and swaps only a policy that validates; an invalid or
 * unreadable file is reported with its file:line errors and the running policy stays. Every reload after the load at
 * start, taken or refused, goes to the reload listeners (the admin trail).
 */
public final class PolicyHolder implements Supplier<DlpPolicy> {
    private static final Logger log = LoggerFactory.getLogger(PolicyHolder.class);

    private final Path file;
    private final DlpMetrics metrics;
    private final AtomicReference<DlpPolicy> current = new AtomicReference<>();
    private byte[] lastContent = new byte[0];
    /** The bytes of the policy in force (lastContent may be a refused version). */
    private byte[] runningContent;

    private boolean lastReadFailed;
    private final List<Consumer<PolicyReload>> reloadListeners = new CopyOnWriteArrayList<>();

    /** Loads the file once; a server does not start on an invalid policy. */
    public PolicyHolder(Path file, DlpMetrics metrics) throws PolicyInvalidException, IOException {
        this.file = file;
        this.metrics = metrics;
        byte[] content = Files.readAllBytes(file);
        current.set(
                DlpPolicyParser.parse(file.toString(), new String(content, java.nio.charset.StandardCharsets.UTF_8)));
        lastContent = content;
        runningContent = content;
    }

    /** Called on the reloading thread for every reload: new content taken or refused, an unreadable file (once). */
    public void addReloadListener(Consumer<PolicyReload> listener) {
        reloadListeners.add(listener);
    }

    private void announce(String before, Optional<String> after, boolean accepted, String detail) {
        PolicyReload r =
                new PolicyReload(Instant.now(), "dlp", file.toString(), Optional.of(before), after, accepted, detail);
        for (Consumer<PolicyReload> listener : reloadListeners) {
            try {
                listener.accept(r);
            } catch (RuntimeException e) {
                log.error("dlp policy reload listener failed", e);
            }
        }
    }

    @Override
    public DlpPolicy get() {
        return current.get();
    }

    /** Re-reads the file; returns true when a new policy is now running. */
    public synchronized boolean reload() {
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            log.warn("dlp policy {} unreadable, keeping the running policy: {}", file, e.toString());
            metrics.policyReload(false);
            if (!lastReadFailed) {
                announce(PolicyReload.digestOf(runningContent), Optional.empty(), false, "unreadable: " + e);
            }
            lastReadFailed = true;
            return false;
        }
        lastReadFailed = false;
        if (Arrays.equals(content, lastContent)) {
            return false;
        }
        try {
            DlpPolicy next = DlpPolicyParser.parse(
                    file.toString(), new String(content, java.nio.charset.StandardCharsets.UTF_8));
            current.set(next);
            String before = PolicyReload.digestOf(runningContent);
            lastContent = content;
            runningContent = content;
            metrics.policyReload(true);
            log.info(
                    "dlp policy {} reloaded: {} profiles", file, next.profiles().size());
            announce(before, Optional.of(PolicyReload.digestOf(content)), true, "");
            return true;
        } catch (PolicyInvalidException e) {
            lastContent = content; // report each bad version once
            metrics.policyReload(false);
            log.error("dlp policy {} is invalid, keeping the running policy:\n{}", file, e.getMessage());
            announce(
                    PolicyReload.digestOf(runningContent),
                    Optional.of(PolicyReload.digestOf(content)),
                    false,
                    e.getMessage());
            return false;
        }
    }
}
