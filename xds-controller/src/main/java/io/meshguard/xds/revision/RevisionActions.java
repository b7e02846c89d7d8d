package io.meshguard.xds.revision;

import io.meshguard.access.Person;
import io.meshguard.access.http.AdminRequest;
import io.meshguard.xds.approval.FourEyes;
import io.meshguard.xds.approval.PublishRequest;
import io.meshguard.xds.change.ConfigChangeAudit;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.model.GatewayGroup;
import io.meshguard.xds.product.ProductPublisher;
import io.meshguard.xds.product.ProductRoutes;
import io.meshguard.xds.server.Publisher;
import io.meshguard.xds.store.Revision;
import io.meshguard.xds.store.RevisionStore;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ProblemCode;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What changes the served configuration — publish, the second person's approve or reject, rollback — for every
 * admin surface: the REST API ({@code AdminApi}) and the console call these same methods after the same
 * permission check, so the rules (a reason, four eyes on protected groups, rollback only to approved revisions) and
 * the {@code config_change} rows of the admin trail are one code path.
 */
public final class RevisionActions {
    /** A refused action: the HTTP status and why, with the validation problems when there are some. */
    public static final class Refused extends RuntimeException {
        private static final long serialVersionUID = 1L;
        private final int status;
        private final transient List<Problem> problems;

        public Refused(int status, String message, List<Problem> problems) {
            super(message);
            this.status = status;
            this.problems = List.copyOf(problems);
        }

        public Refused(int status, String message) {
            this(status, message, List.of());
        }

        public int status() {
            return status;
        }

        public List<Problem> problems() {
            return problems;
        }
    }

    /** Who acts and on which request: the person (compared by verified subject), and the request id of the trail. */
    public record Actor(Person person, String requestId) {
        /** The actor as the trail names it. */
        public String name() {
            return person.name();
        }
    }

    /** What a publish did: revisions served now, requests waiting for a second person, and warnings. */
    public record Published(Map<String, Revision> revisions, List<PublishRequest> requests, List<Problem> warnings) {}

    /** What a rollback did: the new revision, and whether the draft still differs (the next publish undoes it). */
    public record RolledBack(Revision revision, boolean draftDiffers) {}

    private final RevisionStore revisions;
    private final Publisher publisher;
    private final FourEyes fourEyes;
    private final ProductPublisher products;
    private final ConfigChangeAudit audit;

    public RevisionActions(
            RevisionStore revisions,
            Publisher publisher,
            FourEyes fourEyes,
            ProductPublisher products,
            ConfigChangeAudit audit) {
        this.revisions = revisions;
        this.publisher = publisher;
        this.fourEyes = fourEyes;
        this.products = products;
        this.audit = audit;
    }

    /**
     * Publishes the draft (with the published products compiled in): unprotected groups at once, protected groups as
     * publish requests.
     */
    public Published publish(Actor actor, String reason) {
        return publish(actor, reason, Optional.empty());
    }

    /**
     * Publishes {@code only} this group's draft when given (its gateway owners' publish: the other groups keep serving
     * what they serve, their drafts untouched), every group's otherwise. The whole draft is still validated.
     */
    public Published publish(Actor actor, String reason, Optional<String> only) {
        AdminRequest.requireReason(reason);
        ProductRoutes.Compiled compiled = products.compiledDraft();
        if (!compiled.valid()) {
            throw new Refused(
                    422,
                    "publish refused: published products need what the draft no longer has; the"
                            + " served revisions keep serving",
                    compiled.problems());
        }
        GatewayConfig config = compiled.config();
        if (only.isPresent() && config.group(only.get()).isEmpty()) {
            throw new Refused(404, "the draft has no group " + only.get());
        }
        Set<String> held = new java.util.TreeSet<>(fourEyes.held(config));
        only.ifPresent(g -> held.retainAll(Set.of(g)));
        Set<String> kept = new java.util.TreeSet<>(held);
        only.ifPresent(g -> config.groups().stream()
                .map(GatewayGroup::name)
                .filter(n -> !n.equals(g))
                .forEach(kept::add));
        long through = fourEyes.store().latestChange();
        Publisher.Result result = publisher.publish(config, actor.name(), reason, kept);
        if (!result.published()) {
            audit.record(new ConfigChangeAudit.ConfigChange(
                    actor.name(),
                    "publish",
                    "draft",
                    "refused: " + result.problems().size() + " problem(s)",
                    actor.requestId()));
            throw new Refused(422, "publish refused; the served revisions keep serving", result.problems());
        }
        fourEyes.served(
                result.revisions().values().stream().map(Revision::group).toList(), through);
        voided(actor, result.revisions().values());
        result.revisions()
                .values()
                .forEach(r -> audit.record(new ConfigChangeAudit.ConfigChange(
                        actor.name(),
                        "publish",
                        "revision/" + r.id(),
                        "group " + r.group() + ": " + reason,
                        actor.requestId())));
        List<PublishRequest> requests = held.stream()
                .map(g -> fourEyes.open(g, config, actor.person(), reason))
                .toList();
        requests.forEach(r -> {
            audit.record(new ConfigChangeAudit.ConfigChange(
                    actor.name(),
                    "publish-request",
                    "publish-request/" + r.group() + "/" + r.id(),
                    "protected group " + r.group() + " waits for a second person's approval: " + reason,
                    actor.requestId()));
            reported(actor, r);
        });
        return new Published(result.revisions(), requests, result.problems());
    }

    /** Voids the requests that {@code served} overtook, each with its trail row. */
    private void voided(Actor actor, Collection<Revision> served) {
        fourEyes.supersededBy(served, actor.name(), actor.requestId(), audit);
    }

    /** Computes a pending request's replay report again on its stored content; the trail keeps its counts. */
    public PublishRequest recompute(Actor actor, String group, long id) {
        FourEyes.Outcome outcome = fourEyes.recompute(group, id);
        if (outcome instanceof FourEyes.Refused refused) {
            throw new Refused(refused.refusal().status(), refused.refusal().message());
        }
        PublishRequest r = ((FourEyes.Reported) outcome).request();
        reported(actor, r);
        return r;
    }

    private void reported(Actor actor, PublishRequest r) {
        r.reportRow(actor.name(), actor.requestId()).ifPresent(audit::record);
    }

    /** The second person's approval: publishes exactly what was requested, or says why not. */
    public FourEyes.Published approve(Actor actor, String group, long id, String reason) {
        AdminRequest.requireReason(reason);
        FourEyes.Outcome outcome = fourEyes.approve(
                group, id, actor.person(), reason, products.compiledDraft(id).config());
        if (outcome instanceof FourEyes.Refused refused) {
            audit.record(new ConfigChangeAudit.ConfigChange(
                    actor.name(),
                    "approve",
                    "publish-request/" + group + "/" + id,
                    "refused " + refused.refusal().status() + ": "
                            + refused.refusal().message(),
                    actor.requestId()));
            throw new Refused(refused.refusal().status(), refused.refusal().message());
        }
        FourEyes.Published published = (FourEyes.Published) outcome;
        Revision r = published.revision();
        products.decided(id, Optional.of(r.id()));
        audit.record(new ConfigChangeAudit.ConfigChange(
                actor.name(),
                "approve",
                "revision/" + r.id(),
                "group " + group + ": request " + id + " of "
                        + published.request().requestedBy() + " approved and published: " + reason
                        + published
                                .request()
                                .report()
                                .map(rep -> "; its report: " + rep.flipped() + " flipped of " + rep.decisions()
                                        + " decisions (" + rep.notReplayable() + " not replayable)")
                                .orElse(""),
                actor.requestId()));
        voided(actor, List.of(r));
        return published;
    }

    /** The second person's rejection. */
    public PublishRequest reject(Actor actor, String group, long id, String reason) {
        AdminRequest.requireReason(reason);
        fourEyes.reject(group, id, actor.person(), reason).ifPresent(r -> {
            throw new Refused(r.status(), r.message());
        });
        products.decided(id, Optional.empty());
        audit.record(new ConfigChangeAudit.ConfigChange(
                actor.name(),
                "reject",
                "publish-request/" + group + "/" + id,
                "rejected: " + reason,
                actor.requestId()));
        return fourEyes.store().get(id).orElseThrow();
    }

    /** Serves revision {@code id} again as a new revision of its group; on-call may act alone on approved ones. */
    public RolledBack rollback(Actor actor, long id, String reason) {
        return rollback(actor, id, reason, Optional.empty());
    }

    /** As above, of a revision of group {@code of} when given (its gateway owners' rollback); another group's is 404. */
    public RolledBack rollback(Actor actor, long id, String reason, Optional<String> of) {
        // Same rule as publish: what is served changes, so the revision and the audit record say why.
        AdminRequest.requireReason(reason);
        Optional<Revision> target = revisions.get(id);
        if (of.isPresent() && target.filter(r -> r.group().equals(of.get())).isEmpty()) {
            throw new Refused(404, "group " + of.get() + " has no revision " + id);
        }
        target.flatMap(fourEyes::rollbackRefusal).ifPresent(refusal -> {
            audit.record(new ConfigChangeAudit.ConfigChange(
                    actor.name(), "rollback", "revision/" + id, "refused: " + refusal.message(), actor.requestId()));
            throw new Refused(refusal.status(), refusal.message());
        });
        Publisher.Result result = publisher.rollback(id, actor.name(), reason);
        if (!result.published()) {
            boolean missing = result.problems().stream().anyMatch(p -> p.path().equals("revision"));
            boolean served = result.problems().stream().anyMatch(p -> p.code() == ProblemCode.PUBLISH_ALREADY_SERVED);
            throw new Refused(missing ? 404 : served ? 409 : 422, "rollback refused", result.problems());
        }
        Revision r = result.revision().orElseThrow();
        voided(actor, List.of(r));
        // on-call acts alone on a protected group; the trail says on whose earlier approval
        String approval = fourEyes.store().protection(r.group()).isEmpty()
                ? ""
                : fourEyes.approvalOf(id)
                        .map(a -> " (rollback without a second approver: revision " + id + " was approved by "
                                + a.decidedBy().orElse("?") + ")")
                        .orElse(" (rollback without a second approver: revision " + id
                                + " was published before the group was protected)");
        audit.record(new ConfigChangeAudit.ConfigChange(
                actor.name(),
                "rollback",
                "revision/" + id,
                "group " + r.group() + " now serves it as revision " + r.id() + ": " + reason + approval,
                actor.requestId()));
        // A rollback changes what is served, not the draft: say so when the next publish would undo it.
        boolean draftDiffers =
                !products.compiledDraft().config().slice(r.group()).equals(r.config());
        return new RolledBack(r, draftDiffers);
    }
}
