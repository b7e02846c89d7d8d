package io.meshguard.xds.approval;

import io.meshguard.access.Person;
import io.meshguard.access.http.AdminRequest;
import io.meshguard.authz.policy.AuthzPolicyFiles;
import io.meshguard.dlp.policy.DlpPolicyFiles;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.policy.PolicyError;
import io.meshguard.runtime.policy.PolicyInvalidException;
import io.meshguard.runtime.policy.PolicyParser;
import io.meshguard.xds.change.ConfigChangeAudit;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Four eyes on the security team's policy files (docs/operate/change-policy.md "Policy changes"): a change of the
 * files a server enforces (extauthz's {@code authz}, the DLP server's {@code dlp}) is requested with exactly those files; the request keeps their digest, their diff against the
 * last approved bundle and the replay report of the window's recorded decisions against them; another person approves
 * or rejects it. An approval needs a report computed on the request's content after it was requested (a changed
 * request is a new request, which voids the old one and its report). Every step is a row of the admin trail.
 *
 * <p>With {@code policy.require_approval} extauthz, and with {@code dlp.require_approval} the DLP server, enforce only
 * files whose digest the newest approval of their policy recorded, so editing the ConfigMap alone changes nothing that
 * is enforced. Requests are kept per policy: a pending {@code dlp} request never voids an {@code authz} one.
 */
public final class PolicyChanges {
    /** The files extauthz loads. */
    public static final String AUTHZ = "authz";
    /** The dlp.yaml the DLP server loads (its profiles and pinned MCP tools). */
    public static final String DLP = "dlp";

    /**
     * A policy requests may be opened for.
     *
     * @param name as requests and approvals name it
     * @param validator reads the files as that server does (a request of files it would refuse is refused)
     * @param replay the report of a request: the requested files against the window's recorded decisions
     */
    public record Policy(String name, PolicyParser<?> validator, ChangeReplay<PolicyBundle> replay) {}

    /** extauthz's files, reported by {@code replay}. */
    public static Policy authz(ChangeReplay<PolicyBundle> replay) {
        return new Policy(AUTHZ, new AuthzPolicyFiles(), replay);
    }

    /** The DLP server's dlp.yaml (one file), reported by {@code replay}. */
    public static Policy dlp(ChangeReplay<PolicyBundle> replay) {
        return new Policy(DLP, new DlpPolicyFiles(), replay);
    }
    /** The window a report replays by default. */
    public static final Duration DEFAULT_WINDOW = Duration.ofDays(30);

    private static final Logger LOG = LoggerFactory.getLogger(PolicyChanges.class);

    private final PolicyRequestStore store;
    private final Map<String, Policy> policies = new LinkedHashMap<>();
    private final ConfigChangeAudit audit;
    private final Clock clock;
    private final Duration window;

    /** Requests of extauthz's files only. */
    public PolicyChanges(
            PolicyRequestStore store,
            ChangeReplay<PolicyBundle> replay,
            ConfigChangeAudit audit,
            Clock clock,
            Duration window) {
        this(store, List.of(authz(replay)), audit, clock, window);
    }

    /** Requests of each of {@code policies}. */
    public PolicyChanges(
            PolicyRequestStore store, List<Policy> policies, ConfigChangeAudit audit, Clock clock, Duration window) {
        this.store = store;
        policies.forEach(p -> this.policies.put(p.name(), p));
        this.audit = audit;
        this.clock = clock;
        this.window = window;
    }

    public PolicyRequestStore store() {
        return store;
    }

    /** Requests {@code files} for the {@code authz} policy ({@link #request(String, Person, String, PolicyBundle, String)}). */
    public PolicyRequest request(Person requester, String requestId, PolicyBundle files, String reason) {
        return request(AUTHZ, requester, requestId, files, reason);
    }

    /**
     * Requests {@code files} for {@code policy}: validated as its server would load them, stored with their diff against
     * the last approved bundle of that policy, then replayed over the window. A report that cannot be computed now (the
     * audit database is away) leaves the request without one: it can be recomputed ({@link #recompute}) and cannot be
     * approved before.
     */
    public PolicyRequest request(String policy, Person requester, String requestId, PolicyBundle files, String reason) {
        AdminRequest.requireReason(reason);
        Policy kind = policies.get(policy);
        if (kind == null) {
            throw new AdminJson.Refusal(
                    422, "no policy '" + policy + "': requests are for " + String.join(" or ", policies.keySet()));
        }
        try {
            kind.validator().parse(files.files());
        } catch (PolicyInvalidException e) {
            throw new AdminJson.Refusal(
                    422,
                    "the requested files are not a valid " + policy + " policy: "
                            + e.errors().stream().map(PolicyError::toString).collect(Collectors.joining("; ")));
        }
        Optional<PolicyRequestStore.Approved> base = store.latestApproved(policy);
        if (base.isPresent() && base.get().digest().equals(files.digest())) {
            throw new AdminJson.Refusal(
                    409,
                    "these files are already approved (request " + base.get().requestId() + ", digest " + files.digest()
                            + "): nothing to request");
        }
        String diff = PolicyDiff.unified(base.map(PolicyRequestStore.Approved::files), files);
        PolicyRequest opened = store.open(
                policy, requester, now(), reason, files, base.map(PolicyRequestStore.Approved::digest), diff);
        audit.record(new ConfigChangeAudit.ConfigChange(
                requester.name(),
                "policy-request",
                object(opened),
                policy + " policy " + files.digest() + " waits for a second person's approval: " + reason,
                requestId));
        return withReport(opened, requester.name(), requestId);
    }

    /** Computes the request's report again on its stored content (for a request opened while the audit was away). */
    public PolicyRequest recompute(long id, Person actor, String requestId) {
        PolicyRequest r = pending(id);
        return withReport(r, actor.name(), requestId);
    }

    /**
     * Approves: the policy's server may now enforce exactly the requested files. Refused to the requester, to the break-glass
     * token, and while the request has no report computed after it was requested.
     */
    public PolicyRequest approve(long id, Person approver, String requestId, String reason) {
        AdminRequest.requireReason(reason);
        PolicyRequest r = found(id);
        if (r.state() != PolicyRequest.State.PENDING) {
            throw new AdminJson.Refusal(409, "policy request " + id + " is " + lower(r.state()));
        }
        if (!approver.maySecond()) {
            throw new AdminJson.Refusal(
                    403,
                    "the break-glass token is no second person: policy request " + id
                            + " needs another signed-in person with policy:approve");
        }
        if (r.requestedByPerson().equals(approver.id())) {
            throw new AdminJson.Refusal(
                    403, approver.name() + " requested policy request " + id + "; another person must approve it");
        }
        if (!r.reportCurrent()) {
            throw new AdminJson.Refusal(
                    409,
                    "policy request " + id + " has no replay report computed on its content since it was requested;"
                            + " compute it (POST /policy-requests/" + id + "/report) and read it before approving");
        }
        Instant at = now();
        Optional<PolicyRequest> decided = store.whilePending(id, (c, pending) -> {
            PolicyRequestStore.close(c, pending, PolicyRequest.State.APPROVED, approver.name(), reason, at);
            return pending;
        });
        if (decided.isEmpty()) {
            throw new AdminJson.Refusal(409, "policy request " + id + " was decided by someone else meanwhile");
        }
        ReplayReport report = r.report().orElseThrow();
        audit.record(new ConfigChangeAudit.ConfigChange(
                approver.name(),
                "policy-approve",
                object(r),
                r.policy() + " policy " + r.digest() + " requested by " + r.requestedBy() + " (" + r.reason()
                        + ") approved: " + reason + "; its report: " + report.flipped() + " flipped of "
                        + report.decisions() + " decisions",
                requestId));
        return store.get(id).orElseThrow();
    }

    /** Rejects a pending request; anyone with {@code policy:approve} may, the requester too (a withdrawal). */
    public PolicyRequest reject(long id, Person decider, String requestId, String reason) {
        AdminRequest.requireReason(reason);
        found(id);
        Instant at = now();
        Optional<PolicyRequest> decided = store.whilePending(id, (c, pending) -> {
            PolicyRequestStore.close(c, pending, PolicyRequest.State.REJECTED, decider.name(), reason, at);
            return pending;
        });
        if (decided.isEmpty()) {
            throw new AdminJson.Refusal(409, "policy request " + id + " is no longer pending");
        }
        audit.record(new ConfigChangeAudit.ConfigChange(
                decider.name(),
                "policy-reject",
                object(decided.get()),
                decided.get().policy() + " policy " + decided.get().digest() + " rejected: " + reason,
                requestId));
        return store.get(id).orElseThrow();
    }

    private PolicyRequest withReport(PolicyRequest r, String actor, String requestId) {
        Instant to = now();
        Policy kind = policies.get(r.policy());
        if (kind == null) {
            LOG.warn(
                    "policy request {}: no report for policy {}, which this controller does not serve",
                    r.id(),
                    r.policy());
            return r;
        }
        ReplayReport report;
        try {
            report = kind.replay().replay(store.files(r.id()), to.minus(window), to);
        } catch (SQLException | RuntimeException e) {
            LOG.warn("policy request {}: the replay report could not be computed: {}", r.id(), e.getMessage());
            return r;
        }
        if (!store.attachReport(r.id(), report)) {
            return store.get(r.id()).orElseThrow();
        }
        audit.record(new ConfigChangeAudit.ConfigChange(
                actor,
                "policy-report",
                object(r),
                "replayed " + report.decisions() + " decisions of " + report.from() + " .. " + report.to() + ": "
                        + report.flipped() + " flipped, " + report.notReplayable() + " not replayable",
                requestId));
        return store.get(r.id()).orElseThrow();
    }

    private PolicyRequest found(long id) {
        return store.get(id).orElseThrow(() -> new AdminJson.Refusal(404, "no policy request " + id));
    }

    private PolicyRequest pending(long id) {
        PolicyRequest r = found(id);
        if (r.state() != PolicyRequest.State.PENDING) {
            throw new AdminJson.Refusal(409, "policy request " + id + " is " + lower(r.state()));
        }
        return r;
    }

    /** Microseconds: what PostgreSQL keeps, so a report computed now is never older than its request read back. */
    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    private static String object(PolicyRequest r) {
        return "policy-request/" + r.policy() + "/" + r.id();
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(java.util.Locale.ROOT);
    }
}
