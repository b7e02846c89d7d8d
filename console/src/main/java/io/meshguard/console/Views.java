package io.meshguard.console;

import java.util.List;

/** What the templates show: values only, every text already what a person reads (times formatted, in UTC). */
public final class Views {
    private Views() {}

    /** A screen in the navigation, shown only to callers who may open it. */
    public record NavItem(String href, String label, boolean current) {}

    /**
     * What every page carries: title, the signed-in person, the CSRF token for its forms, the flash message, and a
     * secret shown this once (a new key), empty when none.
     */
    public record Chrome(
            String title,
            String user,
            String csrf,
            List<NavItem> nav,
            String flash,
            boolean flashIsError,
            String secret) {}

    /** A group and the revision it serves now. */
    public record GroupLive(String group, String live, boolean isProtected) {}

    /**
     * One revision in the timeline.
     *
     * @param approver who approved it, for revisions a publish request produced; empty otherwise
     * @param auditHref the audit search for its trail rows
     */
    public record RevisionRow(
            long id,
            String group,
            Person actor,
            String reason,
            String at,
            Person approver,
            boolean live,
            boolean canRollback,
            String auditHref) {}

    /**
     * A person as the console shows them: the name, with the verified subject (or token name) only on hover, so a page
     * reads "alice", not "alice (0b5c…)".
     */
    public record Person(String name, String id) {
        private static final java.util.regex.Pattern NAMED = java.util.regex.Pattern.compile("(.+) \\(([^()]+)\\)");

        /** From an actor as the trail and change records write it ({@code AdminCaller.actor()}: "name (subject)"). */
        public static Person of(String actor) {
            java.util.regex.Matcher m = NAMED.matcher(actor);
            return m.matches() ? new Person(m.group(1), m.group(2)) : new Person(actor, "");
        }

        private static final java.util.regex.Pattern SUBJECT =
                java.util.regex.Pattern.compile(" \\([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\)");

        /**
         * A text that names people as the trail writes them (a four-eyes revision's reason: "requested by alice
         * (subject) …"), with the subjects left out: the columns beside it carry them on hover.
         */
        public static String withoutSubjects(String text) {
            return SUBJECT.matcher(text).replaceAll("");
        }

        /** The hover text; null leaves the attribute out. */
        public String title() {
            return id.isEmpty() ? null : id;
        }
    }

    /**
     * A publish request; {@code canDecide}: the caller may approve or reject it (the server checks again);
     * {@code changes}: what its approval publishes, against what the group served when it was asked for.
     */
    public record RequestRow(
            long id,
            String group,
            String state,
            Person requestedBy,
            String reason,
            String at,
            Person decidedBy,
            List<Change> changes,
            boolean pending,
            boolean canDecide,
            java.util.Optional<ReplaySummary> report) {}

    /**
     * A publish request's replay report beside its diff: the window, the counts, one sentence per flip group
     * with its sample request ids and the link that drills down to their audit rows, the not-replayable reasons.
     */
    public record ReplaySummary(
            String window,
            long decisions,
            long unchanged,
            long flipped,
            long notReplayable,
            boolean current,
            List<String> groups,
            List<List<String>> samples,
            List<String> groupHrefs,
            List<String> notReplayableReasons) {}

    /** The audit rows of one flip group's sample request ids, as recorded; {@code note} says why none are shown. */
    public record Samples(long request, String group, List<AuditRow> rows, String note) {}

    /**
     * The Revisions screen; {@code self}: its path (forms come back to it), {@code diff}: the comparison asked for
     * with {@code ?from=&to=}.
     */
    public record Revisions(
            Chrome chrome,
            String self,
            List<GroupLive> groups,
            List<RevisionRow> rows,
            List<RequestRow> requests,
            boolean canPublish,
            long diffFrom,
            long diffTo,
            java.util.Optional<Diff> diff,
            java.util.Optional<Samples> samples) {}

    /** One changed field between two revisions. */
    public record Change(String path, String before, String after, String kind) {}

    public record Diff(long from, long to, String fromGroup, String toGroup, List<Change> changes) {}

    /**
     * One node of the fleet; {@code status} is computed from last seen and the ACKed revision, never stored.
     *
     * @param statusClass the CSS class of the status badge
     */
    public record NodeRow(
            String cluster,
            String group,
            String nodeId,
            String status,
            String statusClass,
            String lastSeen,
            String acked,
            String published,
            String lastNack,
            String clientKind,
            String clientVersion) {}

    public record Fleet(Chrome chrome, List<NodeRow> nodes, String generatedAt) {}

    public record AuditRow(
            String at,
            String kind,
            String tenant,
            String subject,
            String route,
            String status,
            String decision,
            String requestId,
            String detail) {}

    /**
     * The search as typed (echoed into the form), one page of its results, and the admin trail's chain status.
     *
     * @param olderHref the next page's address (every filter and the last row's position), empty on the last page
     * @param newestHref the first page's address, empty on the first page
     */
    public record Audit(
            Chrome chrome,
            AuditFilter filter,
            List<AuditRow> rows,
            String error,
            String chain,
            boolean chainIntact,
            boolean chainShown,
            boolean canExport,
            String olderHref,
            String newestHref) {}

    public record AuditFilter(String subject, String tenant, String route, String kind, String since, String until) {}

    /** Local mode's sign-in form; {@code binding}: the value its cookie double-submits. */
    public record TokenSignIn(String binding, String next, String error) {}

    /** A page with one message: signed out, no sign-in configured, refused. */
    public record Message(String title, String text, String linkHref, String linkLabel) {}

    /** The page after the issuer's callback that moves on to {@code next} (a console path) by itself. */
    public record SignedIn(String next) {}

    /** Policy changes: the authz policy files' requests, newest first. */
    public record PolicyRequests(Chrome chrome, List<PolicyRequestRow> rows) {}

    /** One request in the list: {@code flips} is "N of M" decisions of its report, or "no report". */
    public record PolicyRequestRow(
            long id,
            String policy,
            String state,
            Person requestedBy,
            String requestedAt,
            String reason,
            String digest,
            String flips) {}

    /**
     * One policy request: who asked and why, the replay report (window, counts, one sentence and the sample request
     * ids per flip group, what could not be replayed) beside the diff, and the drilled group's sample audit rows.
     */
    public record PolicyRequestPage(
            Chrome chrome,
            long id,
            String state,
            Person requestedBy,
            String requestedAt,
            String reason,
            String digest,
            java.util.Optional<Person> decidedBy,
            String decisionReason,
            String window,
            long decisions,
            long unchanged,
            long flipped,
            long notReplayable,
            List<String> groups,
            List<List<String>> groupSamples,
            List<String> notReplayableReasons,
            boolean hasReport,
            boolean reportCurrent,
            List<String> diffLines,
            int drilled,
            List<AuditRow> samples,
            String samplesNote,
            boolean canDecide) {
        /** The drill-down link of group {@code index}. */
        public String groupHref(int index) {
            return PolicyChangesScreen.groupHref(id, index);
        }

        /** A diff line's class: added, removed, hunk or context. */
        public static String lineClass(String line) {
            if (line.startsWith("+++") || line.startsWith("---")) {
                return "file";
            }
            return line.startsWith("+") ? "add" : line.startsWith("-") ? "del" : line.startsWith("@@") ? "hunk" : "ctx";
        }
    }

    /** Held tool calls: those waiting for approvers, then the decided, expired and run ones (at most 100 in all). */
    public record ToolCalls(Chrome chrome, List<ToolCallRow> pending, List<ToolCallRow> others) {}

    /**
     * One held MCP tool call: its binding, the masked arguments, its expiry and who approved so far ({@code votes}: "1
     * of 2"); {@code canDecide}: pending and the caller holds {@code tool-call:approve} (the server checks the four-eyes
     * rules again); {@code auditHref}: its trail rows.
     */
    public record ToolCallRow(
            long id,
            String state,
            String tool,
            String server,
            String caller,
            String agent,
            String agentOwner,
            String arguments,
            String requestedAt,
            String expiresAt,
            List<Person> approvedBy,
            String votes,
            String decisionReason,
            boolean canDecide,
            String auditHref) {}
}
