package io.meshguard.xds.approval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.authz.replay.ImpactReport;
import io.meshguard.xds.model.ConfigJson;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A replay report as a change request keeps it: what the requested content would have changed over a window of
 * recorded decisions ({@link ImpactReport}'s counts, flip groups with their sample request ids, and what could not be
 * replayed by reason), the window, and when it was computed. The approver reads it beside the diff; the sample request
 * ids lead to their audit rows.
 */
public record ReplayReport(
        Instant from,
        Instant to,
        Instant computedAt,
        long unchanged,
        long flipped,
        long notReplayable,
        List<FlipGroup> groups,
        Map<String, Long> notReplayableByReason) {

    /** One group of flips: the same change for the same tenant, route, caller and rule, with sample request ids. */
    public record FlipGroup(
            String from,
            String to,
            String tenant,
            String route,
            String caller,
            String rule,
            long count,
            List<String> samples) {
        public FlipGroup {
            samples = List.copyOf(samples);
        }

        /** {@code 312 decisions of tenant acme on route payments-write would go allow 200 -> deny 403 (deny:x)}. */
        public String sentence() {
            return count + " decision" + (count == 1 ? "" : "s") + " of tenant " + tenant + " on route " + route
                    + " by " + caller + " would go " + from + " -> " + to + " (" + rule + ")";
        }
    }

    public ReplayReport {
        groups = List.copyOf(groups);
        notReplayableByReason = Map.copyOf(notReplayableByReason);
    }

    /** The report of {@code impact} over {@code from .. to}, computed at {@code computedAt}. */
    public static ReplayReport of(ImpactReport impact, Instant from, Instant to, Instant computedAt) {
        List<FlipGroup> groups = new ArrayList<>();
        for (Map.Entry<ImpactReport.Group, ImpactReport.Flips> e : impact.groups()) {
            ImpactReport.Group g = e.getKey();
            groups.add(new FlipGroup(
                    g.from(),
                    g.to(),
                    g.tenant(),
                    g.route(),
                    g.caller(),
                    g.rule(),
                    e.getValue().count(),
                    e.getValue().samples()));
        }
        return new ReplayReport(
                from,
                to,
                computedAt,
                impact.unchanged(),
                impact.flipped(),
                impact.notReplayableTotal(),
                groups,
                new TreeMap<>(impact.notReplayableByReason()));
    }

    public long decisions() {
        return unchanged + flipped + notReplayable;
    }

    /** Whether this report was computed for content requested at {@code requestedAt} (not before it). */
    public boolean coversRequestOf(Instant requestedAt) {
        return !computedAt.isBefore(requestedAt);
    }

    public ObjectNode toJson() {
        return ConfigJson.mapper().valueToTree(this);
    }

    public static ReplayReport fromJson(JsonNode json) {
        try {
            return ConfigJson.mapper().treeToValue(json, ReplayReport.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("a stored replay report is unreadable: " + e.getOriginalMessage(), e);
        }
    }

    /** The report as the CLI prints it: the counts, one sentence per group with its samples, the reasons. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        sb.append("replay of the decisions recorded ")
                .append(from)
                .append(" .. ")
                .append(to)
                .append(" (computed ")
                .append(computedAt)
                .append(")\n");
        sb.append("decisions: ")
                .append(decisions())
                .append("  unchanged: ")
                .append(unchanged)
                .append("  flipped: ")
                .append(flipped)
                .append("  not replayable: ")
                .append(notReplayable)
                .append('\n');
        for (FlipGroup g : groups) {
            sb.append("  ")
                    .append(g.sentence())
                    .append("; e.g. ")
                    .append(String.join(", ", g.samples()))
                    .append('\n');
        }
        if (!notReplayableByReason.isEmpty()) {
            sb.append("not replayable:\n");
            new TreeMap<>(notReplayableByReason).forEach((reason, n) -> sb.append("  ")
                    .append(n)
                    .append("  ")
                    .append(reason)
                    .append('\n'));
        }
        return sb.toString();
    }
}
