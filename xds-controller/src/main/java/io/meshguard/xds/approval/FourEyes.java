package io.meshguard.xds.approval;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.access.Person;
import io.meshguard.xds.change.ConfigChangeAudit;
import io.meshguard.xds.change.RevisionDiff;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.server.Publisher;
import io.meshguard.xds.store.Revision;
import io.meshguard.xds.store.RevisionStore;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Four eyes on protected gateway groups (docs/operate/change-policy.md "Four eyes"): what a publish would change in
 * a protected group becomes a {@link PublishRequest}; another person with {@code revision:approve} who authored none
 * of it approves it, and exactly the requested content is published. A draft edit after the request voids it (the
 * content's SHA-256 no longer matches the draft). Rollback to a revision that was approved (or published before the
 * group was protected) needs no second person, so on-call can act alone.
 *
 * <p>Each request carries the replay report of the group's recorded decisions against exactly the requested content
 * ({@link GatewayReplay}), computed when it is opened and again on demand ({@link #recompute}); approving
 * needs a report computed after the request was opened, as a policy request does ({@link PolicyChanges}).
 */
public final class FourEyes {

    /** A refused decision: the HTTP status and why. */
    public record Refusal(int status, String message) {}

    /** What an approval did: the revision it published, or why it did not. */
    public sealed interface Outcome {}

    public record Published(Revision revision, PublishRequest request) implements Outcome {}

    public record Refused(Refusal refusal) implements Outcome {}

    private static final Logger LOG = LoggerFactory.getLogger(FourEyes.class);

    private final FourEyesStore store;
    private final RevisionStore revisions;
    private final Publisher publisher;
    private final ChangeReplay<GatewayConfig> replay;
    private final Clock clock;
    private final Duration window;

    /**
     * @param replay decides the group's recorded decisions as a requested slice would ({@link GatewayReplay})
     * @param window how far back a report replays ({@link PolicyChanges#DEFAULT_WINDOW})
     */
    public FourEyes(
            FourEyesStore store,
            RevisionStore revisions,
            Publisher publisher,
            ChangeReplay<GatewayConfig> replay,
            Clock clock,
            Duration window) {
        this.store = store;
        this.revisions = revisions;
        this.publisher = publisher;
        this.replay = replay;
        this.clock = clock;
        this.window = window;
    }

    public FourEyesStore store() {
        return store;
    }

    /** The protected groups whose slice of {@code draft} differs from what they serve: these wait for approval. */
    public Set<String> held(GatewayConfig draft) {
        Set<String> held = new TreeSet<>();
        Map<String, Long> latest = revisions.latestIds();
        for (GatewayGroup g : draft.groups()) {
            if (store.protection(g.name()).isPresent() && !draft.slice(g.name()).equals(served(g.name(), latest))) {
                held.add(g.name());
            }
        }
        return held;
    }

    /**
     * Opens the request for {@code group}'s slice of {@code draft}; the authors are read now, with the requester: every
     * person whose draft change in the group no decision has served yet. Its replay report is computed on the stored
     * slice; when it cannot be (the audit database is away) the request waits without one, and cannot be approved
     * before it is recomputed.
     */
    public PublishRequest open(String group, GatewayConfig draft, Person requester, String reason) {
        GatewayConfig slice = draft.slice(group);
        Map<String, Long> latest = revisions.latestIds();
        JsonNode content = ConfigJson.mapper().valueToTree(slice);
        JsonNode diff = ConfigJson.mapper().valueToTree(RevisionDiff.diff(served(group, latest), slice));
        PublishRequest opened = store.open(
                group,
                requester,
                now(),
                reason,
                content,
                sha256(ConfigJson.write(slice)),
                diff,
                store.openAuthors(group));
        return withReport(opened);
    }

    /**
     * Computes a pending request's report again on its stored content (for one opened while the audit was away, or to
     * read the newest decisions).
     */
    public Outcome recompute(String group, long id) {
        Optional<PublishRequest> found = store.get(id).filter(r -> r.group().equals(group));
        if (found.isEmpty()) {
            return new Refused(new Refusal(404, "no publish request " + id + " for group " + group));
        }
        if (found.get().state() != PublishRequest.State.PENDING) {
            return new Refused(new Refusal(
                    409, "publish request " + id + " is " + lower(found.get().state())));
        }
        PublishRequest r = withReport(found.get());
        if (r.report().isEmpty()) {
            return new Refused(new Refusal(
                    503, "the replay report of publish request " + id + " cannot be computed now (see the log)"));
        }
        return new Reported(r);
    }

    /** A request with the report just computed on its content. */
    public record Reported(PublishRequest request) implements Outcome {}

    private PublishRequest withReport(PublishRequest r) {
        Instant to = now();
        ReplayReport report;
        try {
            report = replay.replay(ConfigJson.readConfig(store.content(r.id()).toString()), to.minus(window), to);
        } catch (SQLException | RuntimeException e) {
            LOG.warn("publish request {}: the replay report could not be computed: {}", r.id(), e.getMessage());
            return r;
        }
        store.attachReport(r.id(), report);
        return store.get(r.id()).orElseThrow();
    }

    /** Microseconds: what PostgreSQL keeps, so a report computed now is never older than its request read back. */
    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    /** The draft changes up to {@code through} in {@code groups} are served by a publish that needed no approval. */
    public void served(Collection<String> groups, long through) {
        groups.forEach(g -> store.settle(g, through));
    }

    /**
     * Voids the requests still pending for the groups of {@code served}, each with its trail row: each group now serves
     * a revision no approval made (a publish or product publish once the group was unprotected, a rollback, another
     * request's approval), so approving a request would no longer change what its diff shows. Without this they would
     * wait as "pending" until someone tried to approve them. Called by whoever served, after serving.
     *
     * @return the requests voided
     */
    public List<PublishRequest> supersededBy(
            Collection<Revision> served, String actor, String requestId, ConfigChangeAudit audit) {
        List<PublishRequest> voided = new java.util.ArrayList<>();
        for (Revision r : served) {
            for (PublishRequest p : store.pending(r.group())) {
                store.whilePending(p.id(), (c, pending) -> {
                            FourEyesStore.close(
                                    c,
                                    p.id(),
                                    PublishRequest.State.VOIDED,
                                    actor,
                                    "group " + r.group() + " serves revision " + r.id()
                                            + ", made without this request's approval; its diff no longer shows what"
                                            + " approving would change",
                                    Optional.empty());
                            return p;
                        })
                        .ifPresent(voided::add);
            }
        }
        voided.forEach(p -> audit.record(new ConfigChangeAudit.ConfigChange(
                actor,
                "void",
                "publish-request/" + p.group() + "/" + p.id(),
                "group " + p.group() + " served a revision made without this request's approval",
                requestId)));
        return voided;
    }

    /**
     * Approves and publishes exactly the requested content, unless the approver is the requester or an author (by
     * verified subject), signed in with the break-glass token, the draft of the group changed since (the request is
     * voided), or the request is no longer pending.
     */
    public Outcome approve(String group, long id, Person approver, String reason, GatewayConfig draftNow) {
        Optional<PublishRequest> found = store.get(id).filter(r -> r.group().equals(group));
        if (found.isEmpty()) {
            return new Refused(new Refusal(404, "no publish request " + id + " for group " + group));
        }
        PublishRequest r = found.get();
        if (r.state() != PublishRequest.State.PENDING) {
            return new Refused(new Refusal(409, "publish request " + id + " is " + lower(r.state())));
        }
        if (!approver.maySecond()) {
            return new Refused(new Refusal(
                    403,
                    "the break-glass token is no second person: publish request " + id
                            + " needs another signed-in person with revision:approve"));
        }
        if (r.authoredBy(approver)) {
            return new Refused(new Refusal(
                    403,
                    approver.name() + " requested or authored changes in publish request " + id
                            + "; another person must approve it"));
        }
        if (!r.reportCurrent()) {
            return new Refused(new Refusal(
                    409,
                    "publish request " + id + " has no replay report computed on its content since it was requested;"
                            + " compute it (POST /publish-requests/" + group + "/" + id + "/report) and read it before"
                            + " approving"));
        }
        GatewayConfig requested = ConfigJson.readConfig(store.content(id).toString());
        boolean draftChanged = !sha256(ConfigJson.write(draftNow.slice(group))).equals(r.contentSha256());
        Optional<Outcome> decided = store.whilePending(id, (c, pending) -> {
            if (draftChanged) {
                FourEyesStore.close(
                        c,
                        id,
                        PublishRequest.State.VOIDED,
                        approver.name(),
                        "the draft changed after the request; what was asked for is no longer what would be served",
                        Optional.empty());
                return new Refused(new Refusal(
                        409,
                        "publish request " + id + " is void: the draft of group " + group
                                + " changed after it was requested; publish again to request the new content"));
            }
            // the approver read the diff against what was served at the request; a rollback or another approval since
            // makes this approval change something else than that diff shows
            if (!diffNow(group, requested).equals(pending.diff())) {
                FourEyesStore.close(
                        c,
                        id,
                        PublishRequest.State.VOIDED,
                        approver.name(),
                        "what the group serves changed after the request; its diff no longer shows what approval changes",
                        Optional.empty());
                return new Refused(new Refusal(
                        409,
                        "publish request " + id + " is void: what group " + group
                                + " serves changed after it was requested (a rollback or another approval), so its diff no"
                                + " longer shows what approving it would change; publish again to request it against what is"
                                + " served now"));
            }
            Publisher.Result result = publisher.publishApproved(
                    group,
                    requested,
                    pending.requestedBy(),
                    "requested by " + pending.requestedBy() + " (" + pending.reason() + "), approved by "
                            + approver.name() + " (" + reason + "), request " + id);
            if (!result.published()) {
                return new Refused(new Refusal(422, "the approved content no longer publishes: " + result.problems()));
            }
            Revision rev = result.revision().orElseThrow();
            FourEyesStore.close(c, id, PublishRequest.State.PUBLISHED, approver.name(), reason, Optional.of(rev.id()));
            FourEyesStore.settle(c, group, pending.authorsThrough());
            return new Published(rev, pending);
        });
        return decided.orElseGet(() ->
                new Refused(new Refusal(409, "publish request " + id + " was decided by someone else meanwhile")));
    }

    /** Rejects a pending request; anyone with {@code revision:approve} may, the requester too (a withdrawal). */
    public Optional<Refusal> reject(String group, long id, Person decider, String reason) {
        if (store.get(id).filter(r -> r.group().equals(group)).isEmpty()) {
            return Optional.of(new Refusal(404, "no publish request " + id + " for group " + group));
        }
        Optional<Boolean> done = store.whilePending(id, (c, pending) -> {
            FourEyesStore.close(c, id, PublishRequest.State.REJECTED, decider.name(), reason, Optional.empty());
            return true;
        });
        return done.isPresent()
                ? Optional.empty()
                : Optional.of(new Refusal(409, "publish request " + id + " is no longer pending"));
    }

    /**
     * Whether {@code target} may be served again without a second person: always for unprotected groups; for a
     * protected group only a revision an approval published, or one published before the group was protected.
     */
    public Optional<Refusal> rollbackRefusal(Revision target) {
        Optional<FourEyesStore.Protection> p = store.protection(target.group());
        if (p.isEmpty()
                || target.createdAt().isBefore(p.get().protectedAt())
                || store.publishedAs(target.id()).isPresent()) {
            return Optional.empty();
        }
        return Optional.of(new Refusal(
                409,
                "revision " + target.id() + " of protected group " + target.group()
                        + " was never approved: rollback serves only approved revisions without a second person; publish it"
                        + " through a request instead"));
    }

    /** Who approved {@code revision}, for the rollback's trail row. */
    public Optional<PublishRequest> approvalOf(long revision) {
        return store.publishedAs(revision);
    }

    /** Records {@code actor} as an author of every group whose slice differs between {@code before} and {@code after}. */
    public void recordAuthors(GatewayConfig before, GatewayConfig after, Person actor) {
        Set<String> groups = new TreeSet<>();
        before.groups().forEach(g -> groups.add(g.name()));
        after.groups().forEach(g -> groups.add(g.name()));
        List<String> touched = groups.stream()
                .filter(g -> !before.slice(g).equals(after.slice(g)))
                .toList();
        if (!touched.isEmpty()) {
            store.authored(touched, actor);
        }
    }

    /** The diff approving {@code requested} would make now, read back as the store reads a request's diff. */
    private JsonNode diffNow(String group, GatewayConfig requested) {
        try {
            return ConfigJson.mapper()
                    .readTree(ConfigJson.mapper()
                            .writeValueAsString(RevisionDiff.diff(served(group, revisions.latestIds()), requested)));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a revision diff is always JSON", e);
        }
    }

    private GatewayConfig served(String group, Map<String, Long> latest) {
        return Optional.ofNullable(latest.get(group))
                .flatMap(revisions::get)
                .map(Revision::config)
                .orElse(GatewayConfig.EMPTY);
    }

    static String sha256(String text) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JDK", e);
        }
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(java.util.Locale.ROOT);
    }
}
