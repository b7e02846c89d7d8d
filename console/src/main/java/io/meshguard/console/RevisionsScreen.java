package io.meshguard.console;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.access.AdminGate;
import io.meshguard.access.Scope;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.query.AuditQuery;
import io.meshguard.audit.query.AuditReader;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.xds.approval.FourEyes;
import io.meshguard.xds.approval.PublishRequest;
import io.meshguard.xds.approval.ReplayReport;
import io.meshguard.xds.change.RevisionDiff;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.revision.RevisionActions;
import io.meshguard.xds.server.Publisher;
import io.meshguard.xds.store.Ownership;
import io.meshguard.xds.store.PgGatewayStore;
import io.meshguard.xds.store.Revision;
import io.meshguard.xds.store.RevisionStore;
import io.meshguard.xds.validate.Problem;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Revisions: the timeline with who published and who approved, the revision each group serves, publish requests and
 * their decisions, the diff of two revisions, publish and rollback. Changes go through {@link RevisionActions}, the
 * code the admin API runs, after the console admitted the request for the same permission.
 */
public final class RevisionsScreen {
    static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);
    /** Rows in the timeline (the API's list returns as many). */
    static final int TIMELINE = 100;

    static final int REQUESTS_SHOWN = 20;

    private final RevisionStore revisions;
    private final FourEyes fourEyes;
    private final Publisher publisher;
    private final RevisionActions actions;
    private final PgGatewayStore draft;
    private final AdminGate gate;
    private final AuditReader audit;

    /** @param audit reads the audit rows a publish request's flip group drills down to */
    public RevisionsScreen(
            RevisionStore revisions,
            FourEyes fourEyes,
            Publisher publisher,
            RevisionActions actions,
            PgGatewayStore draft,
            AdminGate gate,
            AuditReader audit) {
        this.audit = audit;
        this.revisions = revisions;
        this.fourEyes = fourEyes;
        this.publisher = publisher;
        this.actions = actions;
        this.draft = draft;
        this.gate = gate;
    }

    /** The whole timeline, or one {@code group}'s (its gateway owners' view). */
    Views.Revisions page(Console.Request req, Views.Chrome chrome, Optional<String> group) {
        List<Revision.Summary> list = revisions.list(group, TIMELINE);
        List<PublishRequest> requests = fourEyes.store().list(group);
        Map<Long, String> approvers = new HashMap<>();
        requests.forEach(r ->
                r.revision().ifPresent(id -> approvers.put(id, r.decidedBy().orElse(""))));
        TreeSet<String> groups = new TreeSet<>(revisions.latestIds().keySet());
        group.ifPresent(g -> groups.retainAll(java.util.Set.of(g)));
        Map<String, Long> live = new HashMap<>();
        groups.forEach(g -> publisher.servedRevision(g).ifPresent(id -> live.put(g, id)));
        boolean mayRollback = gate.permits(req.caller(), "revision:rollback", Scope.SYSTEM);
        // who published, approved and asked, and why, describe every tenant's changes: a tenant-scoped caller sees the
        // timeline without them, as GET /revisions answers it
        boolean people = req.tenants().all();
        List<Views.RevisionRow> rows = list.stream()
                .map(r -> new Views.RevisionRow(
                        r.id(),
                        r.group(),
                        Views.Person.of(people ? r.actor() : ""),
                        people ? Views.Person.withoutSubjects(r.reason()) : "",
                        time(r.createdAt()),
                        Views.Person.of(people ? approvers.getOrDefault(r.id(), "") : ""),
                        live.getOrDefault(r.group(), -1L) == r.id(),
                        mayRollback,
                        "/console/audit?route=revision%2F" + r.id() + "&since=90d"))
                .toList();
        List<Views.RequestRow> requestRows = requests.stream()
                .filter(r -> people)
                .sorted((a, b) -> Long.compare(b.id(), a.id()))
                .limit(REQUESTS_SHOWN)
                .map(r -> new Views.RequestRow(
                        r.id(),
                        r.group(),
                        r.state().name().toLowerCase(java.util.Locale.ROOT),
                        Views.Person.of(r.requestedBy()),
                        r.reason(),
                        time(r.requestedAt()),
                        Views.Person.of(r.decidedBy().orElse("")),
                        changes(r.diff()),
                        r.state() == PublishRequest.State.PENDING,
                        mayDecide(req, r),
                        r.report().map(rep -> summary(r, rep, group))))
                .toList();
        List<Views.GroupLive> groupRows = groups.stream()
                .map(g -> new Views.GroupLive(
                        g,
                        Optional.ofNullable(live.get(g)).map(String::valueOf).orElse("none"),
                        fourEyes.store().protection(g).isPresent()))
                .toList();
        long from = number(req.param("from"));
        long to = number(req.param("to"));
        Optional<Views.Diff> diff = from > 0 && to > 0 ? diff(req, from, to, group) : Optional.empty();
        String self = group.map(g -> "/console/revisions/" + g).orElse("/console/revisions");
        return new Views.Revisions(
                chrome,
                self,
                groupRows,
                rows,
                requestRows,
                gate.permits(req.caller(), "revision:publish", Scope.SYSTEM),
                from,
                to,
                diff,
                people ? samples(req, requests) : Optional.empty());
    }

    /** A request's report as the screen shows it beside the request's diff. */
    private static Views.ReplaySummary summary(PublishRequest r, ReplayReport rep, Optional<String> group) {
        List<String> hrefs = new ArrayList<>();
        for (int i = 0; i < rep.groups().size(); i++) {
            hrefs.add(group.map(g -> "/console/revisions/" + g).orElse("/console/revisions") + "?request=" + r.id()
                    + "&flips=" + i + "#samples");
        }
        return new Views.ReplaySummary(
                rep.from() + " .. " + rep.to() + " (computed " + rep.computedAt() + ")",
                rep.decisions(),
                rep.unchanged(),
                rep.flipped(),
                rep.notReplayable(),
                r.reportCurrent(),
                rep.groups().stream().map(ReplayReport.FlipGroup::sentence).toList(),
                rep.groups().stream().map(ReplayReport.FlipGroup::samples).toList(),
                hrefs,
                rep.notReplayableByReason().entrySet().stream()
                        .map(e -> e.getValue() + "  " + e.getKey())
                        .sorted()
                        .toList());
    }

    /**
     * {@code ?request=N&flips=I}: the audit rows of flip group I's sample request ids of request N, read with
     * {@code audit:read} as the Audit screen reads them.
     */
    private Optional<Views.Samples> samples(Console.Request req, List<PublishRequest> requests) {
        long id = number(req.param("request"));
        if (id <= 0 || req.param("flips").isEmpty()) {
            return Optional.empty();
        }
        int index = (int) number(req.param("flips"));
        Optional<PublishRequest> r = requests.stream().filter(q -> q.id() == id).findFirst();
        Optional<ReplayReport> rep = r.flatMap(PublishRequest::report);
        if (rep.isEmpty() || index < 0 || index >= rep.get().groups().size()) {
            return Optional.empty();
        }
        ReplayReport.FlipGroup flips = rep.get().groups().get(index);
        if (!gate.permits(req.caller(), "audit:read", Scope.SYSTEM)) {
            return Optional.of(
                    new Views.Samples(id, flips.sentence(), List.of(), "Reading the sample rows needs audit:read."));
        }
        List<Views.AuditRow> rows = new ArrayList<>();
        try {
            for (String requestId : flips.samples()) {
                for (AuditEvent e : audit.query(
                        AuditQuery.since(rep.get().from())
                                .withRequestId(requestId)
                                .withLimit(10),
                        TenantScope.ALL)) {
                    rows.add(AuditScreen.row(e));
                }
            }
        } catch (SQLException e) {
            return Optional.of(new Views.Samples(
                    id, flips.sentence(), List.of(), "the audit database is unavailable: " + e.getMessage()));
        }
        return Optional.of(new Views.Samples(id, flips.sentence(), rows, ""));
    }

    /**
     * The approve and reject buttons: for a holder of revision:approve on the group who neither asked for it nor
     * authored it (by verified subject) and is not break-glass.
     */
    private boolean mayDecide(Console.Request req, PublishRequest r) {
        return r.state() == PublishRequest.State.PENDING
                && !r.authoredBy(req.caller().person())
                && req.caller().person().maySecond()
                && gate.permits(req.caller(), "revision:approve", Scope.gateway(r.group()));
    }

    private Optional<Views.Diff> diff(Console.Request req, long from, long to, Optional<String> group) {
        // on a group's page, only that group's revisions: its owners may not read other groups'
        Optional<Revision> a =
                revisions.get(from).filter(r -> group.isEmpty() || group.get().equals(r.group()));
        Optional<Revision> b =
                revisions.get(to).filter(r -> group.isEmpty() || group.get().equals(r.group()));
        if (a.isEmpty() || b.isEmpty()) {
            return Optional.of(new Views.Diff(
                    from,
                    to,
                    a.map(Revision::group).orElse("no such revision"),
                    b.map(Revision::group).orElse("no such revision"),
                    List.of()));
        }
        GatewayConfig fromConfig = a.get().config();
        GatewayConfig toConfig = b.get().config();
        if (!req.tenants().all()) {
            Ownership owners = draft.ownership(req.tenants());
            fromConfig = owners.visibleIn(fromConfig, req.tenants());
            toConfig = owners.visibleIn(toConfig, req.tenants());
        }
        List<Views.Change> changes = RevisionDiff.diff(fromConfig, toConfig).stream()
                .map(c -> change(c.path(), c.before(), c.after()))
                .toList();
        return Optional.of(new Views.Diff(from, to, a.get().group(), b.get().group(), changes));
    }

    /**
     * A request's stored diff ({@link RevisionDiff.Change}s as JSON: what its approval publishes against what the group
     * served when it was asked for), as the Compare screen shows a diff.
     */
    static List<Views.Change> changes(JsonNode diff) {
        if (diff == null || !diff.isArray()) {
            return List.of();
        }
        List<Views.Change> out = new java.util.ArrayList<>();
        diff.forEach(c -> out.add(change(c.path("path").asText(), c.get("before"), c.get("after"))));
        return List.copyOf(out);
    }

    private static Views.Change change(String path, JsonNode before, JsonNode after) {
        boolean added = before == null || before.isNull();
        boolean removed = after == null || after.isNull();
        return new Views.Change(path, text(before), text(after), added ? "added" : removed ? "removed" : "changed");
    }

    Console.Outcome publish(Console.Request req) {
        try {
            RevisionActions.Published p = actions.publish(req.actor(), req.param("reason"));
            StringBuilder msg = new StringBuilder();
            p.revisions().values().forEach(r -> msg.append("Group ")
                    .append(r.group())
                    .append(" now serves revision ")
                    .append(r.id())
                    .append(". "));
            p.requests().forEach(r -> msg.append("Publish request ")
                    .append(r.id())
                    .append(" for protected group ")
                    .append(r.group())
                    .append(" waits for a second person. "));
            return new Console.Outcome(
                    true,
                    msg.isEmpty()
                            ? "Nothing to publish: every group serves the draft."
                            : msg.toString().strip());
        } catch (RevisionActions.Refused | AdminJson.Refusal e) {
            return refused(e);
        }
    }

    Console.Outcome decide(Console.Request req, boolean approve) {
        String group = req.segment(2);
        long id = number(req.segment(3));
        try {
            if (approve) {
                FourEyes.Published p = actions.approve(req.actor(), group, id, req.param("reason"));
                return new Console.Outcome(
                        true,
                        "Request " + id + " approved: group " + group + " now serves revision "
                                + p.revision().id() + ".");
            }
            actions.reject(req.actor(), group, id, req.param("reason"));
            return new Console.Outcome(true, "Request " + id + " rejected.");
        } catch (RevisionActions.Refused | AdminJson.Refusal e) {
            return refused(e);
        }
    }

    Console.Outcome rollback(Console.Request req) {
        long id = number(req.segment(2));
        Optional<Revision> target = revisions.get(id);
        if (target.isEmpty()) {
            return new Console.Outcome(false, "There is no revision " + id + ".");
        }
        // the typed confirmation: the group's name, so a rollback is never one stray click
        if (!req.param("confirm").equals(target.get().group())) {
            return new Console.Outcome(
                    false,
                    "Rollback not done: type the group name " + target.get().group() + " to confirm.");
        }
        try {
            RevisionActions.RolledBack r = actions.rollback(req.actor(), id, req.param("reason"));
            return new Console.Outcome(
                    true,
                    "Group " + r.revision().group() + " now serves revision " + id
                            + " again, as revision " + r.revision().id() + "."
                            + (r.draftDiffers()
                                    ? " The draft still differs: the next publish serves the draft again unless it is changed."
                                    : ""));
        } catch (RevisionActions.Refused | AdminJson.Refusal e) {
            return refused(e);
        }
    }

    /** A refused action as the screen shows it: why, and the first problems when there are some. */
    private static Console.Outcome refused(RuntimeException e) {
        List<Problem> all = e instanceof RevisionActions.Refused r ? r.problems() : List.of();
        String problems = all.stream()
                .limit(3)
                .map(p -> p.path() + ": " + p.message())
                .reduce((x, y) -> x + "; " + y)
                .map(s -> " (" + s + ")")
                .orElse("");
        return new Console.Outcome(false, "Refused: " + e.getMessage() + problems);
    }

    static String time(Instant at) {
        return TIME.format(at);
    }

    private static String text(JsonNode node) {
        return node == null || node.isNull() ? "" : node.isTextual() ? node.asText() : node.toPrettyString();
    }

    private static long number(String text) {
        try {
            return Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
