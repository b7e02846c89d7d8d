package io.meshguard.dlp.server;

import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyParser;
import io.meshguard.dlp.policy.PolicyInvalidException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running dlp.yaml. {@link #reload()} re-reads the file and swaps only a policy that validates; an invalid or
 * unreadable file is reported with its file:line errors and the running policy stays.
 */
public final class PolicyHolder implements Supplier<DlpPolicy> {
    private static final Logger log = LoggerFactory.getLogger(PolicyHolder.class);

    private final Path file;
    private final DlpMetrics metrics;
    private final AtomicReference<DlpPolicy> current = new AtomicReference<>();
    private byte[] lastContent = new byte[0];

    /** Loads the file once; a server does not start on an invalid policy. */
    public PolicyHolder(Path file, DlpMetrics metrics) throws PolicyInvalidException, IOException {
        this.file = file;
        this.metrics = metrics;
        byte[] content = Files.readAllBytes(file);
        current.set(DlpPolicyParser.parse(file.toString(), new String(content, java.nio.charset.StandardCharsets.UTF_8)));
        lastContent = content;
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
            return false;
        }
        if (Arrays.equals(content, lastContent)) {
            return false;
        }
        try {
            DlpPolicy next = DlpPolicyParser.parse(file.toString(),
                    new String(content, java.nio.charset.StandardCharsets.UTF_8));
            current.set(next);
            lastContent = content;
            metrics.policyReload(true);
            log.info("dlp policy {} reloaded: {} profiles", file, next.profiles().size());
            return true;
        } catch (PolicyInvalidException e) {
            lastContent = content; // report each bad version once
            metrics.policyReload(false);
            log.error("dlp policy {} is invalid, keeping the running policy:\n{}", file, e.getMessage());
            return false;
        }
    }
}
