package io.meshguard.dlpserver;

import io.meshguard.audit.approval.ApprovedPolicies;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyParser;
import io.meshguard.dlp.policy.PolicyInvalidException;
import io.meshguard.runtime.policy.PolicyReload;
import io.meshguard.runtime.policy.PolicySource;
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
 *
 * <p>With an approval gate ({@code dlp.require_approval}) a valid file is taken only when the newest approval of the
 * {@code dlp} policy names its digest; otherwise it is refused as an invalid file is, and {@link #problem()} says why.
 * At start such a file leaves no policy in force: the server is not ready and refuses every stream until an approved
 * file is read ({@link #reloadRefused()}, when the approvals change).
 */
public final class PolicyHolder implements Supplier<DlpPolicy> {
    private static final Logger log = LoggerFactory.getLogger(PolicyHolder.class);

    private final Path file;
    private final DlpMetrics metrics;
    private final Optional<ApprovedPolicies> approvals;
    private final AtomicReference<DlpPolicy> current = new AtomicReference<>();
    private byte[] lastContent = new byte[0];
    /** The bytes of the policy in force (lastContent may be a refused version); null while none is. */
    private byte[] runningContent;
    /** Why the newest file is not in force, if it is not. */
    private volatile Optional<String> problem = Optional.empty();

    private boolean lastReadFailed;
    private final List<Consumer<PolicyReload>> reloadListeners = new CopyOnWriteArrayList<>();

    /** Loads the file once; a server does not start on an invalid policy. */
    public PolicyHolder(Path file, DlpMetrics metrics) throws PolicyInvalidException, IOException {
        this(file, metrics, Optional.empty());
    }

    /**
     * Loads the file once; a server does not start on an invalid policy. With {@code approvals} a valid file no
     * approval names is not taken: nothing is in force until one is.
     */
    public PolicyHolder(Path file, DlpMetrics metrics, Optional<ApprovedPolicies> approvals)
            throws PolicyInvalidException, IOException {
        this.file = file;
        this.metrics = metrics;
        this.approvals = approvals;
        byte[] content = Files.readAllBytes(file);
        DlpPolicy parsed = DlpPolicyParser.parse(file.toString(), text(content));
        lastContent = content;
        Optional<String> refusal = refusal(content);
        if (refusal.isPresent()) {
            problem = refusal;
            log.error("dlp policy {} is not enforced, no policy is in force: {}", file, refusal.get());
            return;
        }
        current.set(parsed);
        runningContent = content;
    }

    /** Why the newest file is not in force ({@code not approved: ...}, an invalid line), if it is not. */
    public Optional<String> problem() {
        return problem;
    }

    /**
     * Reads the file again even when its content was refused before: for a refusal that depends on something besides
     * the file (an approval that arrived since).
     */
    public synchronized boolean reloadRefused() {
        lastContent = runningContent == null ? new byte[0] : runningContent;
        return reload();
    }

    private Optional<String> refusal(byte[] content) {
        return approvals.flatMap(
                a -> a.refusal(List.of(new PolicySource(file.getFileName().toString(), text(content)))));
    }

    private static String text(byte[] content) {
        return new String(content, java.nio.charset.StandardCharsets.UTF_8);
    }

    private static Optional<String> digest(byte[] content) {
        return Optional.ofNullable(content).map(PolicyReload::digestOf);
    }

    /** Called on the reloading thread for every reload: new content taken or refused, an unreadable file (once). */
    public void addReloadListener(Consumer<PolicyReload> listener) {
        reloadListeners.add(listener);
    }

    private void announce(Optional<String> before, Optional<String> after, boolean accepted, String detail) {
        PolicyReload r = new PolicyReload(Instant.now(), "dlp", file.toString(), before, after, accepted, detail);
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
                announce(digest(runningContent), Optional.empty(), false, "unreadable: " + e);
            }
            lastReadFailed = true;
            return false;
        }
        lastReadFailed = false;
        if (Arrays.equals(content, lastContent)) {
            return false;
        }
        try {
            DlpPolicy next = DlpPolicyParser.parse(file.toString(), text(content));
            Optional<String> refusal = refusal(content);
            if (refusal.isPresent()) {
                refuse(content, refusal.get());
                return false;
            }
            current.set(next);
            Optional<String> before = digest(runningContent);
            lastContent = content;
            runningContent = content;
            problem = Optional.empty();
            metrics.policyReload(true);
            log.info(
                    "dlp policy {} reloaded: {} profiles", file, next.profiles().size());
            announce(before, Optional.of(PolicyReload.digestOf(content)), true, "");
            return true;
        } catch (PolicyInvalidException e) {
            log.error("dlp policy {} is invalid, keeping the running policy:\n{}", file, e.getMessage());
            refuse(content, e.getMessage());
            return false;
        }
    }

    private void refuse(byte[] content, String why) {
        lastContent = content; // report each refused version once
        problem = Optional.of(why);
        metrics.policyReload(false);
        announce(digest(runningContent), Optional.of(PolicyReload.digestOf(content)), false, why);
    }
}
