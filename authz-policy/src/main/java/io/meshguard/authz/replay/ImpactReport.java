package io.meshguard.authz.replay;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a draft would have changed over a window of recorded decisions: every flip grouped by direction, tenant, route,
 * caller and the rule responsible, with sample request ids; how many decisions stay as they were; how many could not be
 * replayed, by reason.
 */
public final class ImpactReport {
    /** Request ids kept per group. */
    public static final int SAMPLES = 5;

    /** The not-replayable reason of a row whose facts disagree with its own columns. */
    public static final String DISAGREES = "replay facts disagree with the row's own columns";

    /** One group of flips: the same change, for the same tenant, route, caller and rule. */
    public record Group(String from, String to, String tenant, String route, String caller, String rule) {}

    /** A group's count and its first request ids. */
    public static final class Flips {
        private long count;
        private final List<String> samples = new ArrayList<>(SAMPLES);

        public long count() {
            return count;
        }

        public List<String> samples() {
            return List.copyOf(samples);
        }
    }

    private long unchanged;
    private long flipped;
    private final Map<Group, Flips> groups = new LinkedHashMap<>();
    private final Map<String, Long> notReplayable = new TreeMap<>();
    private long rowsChecked;
    private final Map<String, Flips> disagreeing = new TreeMap<>();

    /** Adds one replayed decision, its flips grouped under the caller's subject (or peer). */
    public void add(RecordedDecision recorded, ReplayOutcome outcome) {
        add(recorded, outcome, caller(recorded));
    }

    /** Adds one replayed decision, its flips grouped under {@code caller}. */
    public void add(RecordedDecision recorded, ReplayOutcome outcome, String caller) {
        switch (outcome) {
            case ReplayOutcome.Unchanged u -> unchanged++;
            case ReplayOutcome.NotReplayable n -> notReplayable.merge(n.reason(), 1L, Long::sum);
            case ReplayOutcome.Flip f -> {
                flipped++;
                Group g = new Group(
                        f.from(),
                        f.to(),
                        recorded.identity().flatMap(i -> i.tenant()).orElse("-"),
                        f.route().or(recorded::route).orElse("-"),
                        caller,
                        f.rule());
                Flips flips = groups.computeIfAbsent(g, k -> new Flips());
                flips.count++;
                if (flips.samples.size() < SAMPLES) {
                    flips.samples.add(recorded.requestId());
                }
            }
        }
    }

    /** A record that could not be read at all (written before replay facts were kept, or unreadable). */
    public void notReplayable(String reason) {
        notReplayable.merge(reason, 1L, Long::sum);
    }

    /**
     * Holds the recorded facts against their row's own columns ({@link RecordedRowCheck}) before they are replayed:
     * facts that disagree are not replayed (a report must not rest on them) and are listed with sample request ids.
     *
     * @return whether the facts agree with the row (and may be replayed)
     */
    public boolean agrees(RecordedDecision recorded, RecordedRowCheck.Columns row) {
        rowsChecked++;
        List<String> fields = RecordedRowCheck.disagreements(recorded, row);
        if (fields.isEmpty()) {
            return true;
        }
        notReplayable.merge(DISAGREES, 1L, Long::sum);
        Flips f = disagreeing.computeIfAbsent(String.join(", ", fields), k -> new Flips());
        f.count++;
        if (f.samples.size() < SAMPLES) {
            f.samples.add(recorded.requestId());
        }
        return false;
    }

    /** Rows whose replay facts disagree with their own columns, by the columns that disagree. */
    public Map<String, Flips> disagreeing() {
        return java.util.Collections.unmodifiableMap(disagreeing);
    }

    /** How many rows' facts were held against their columns. */
    public long rowsChecked() {
        return rowsChecked;
    }

    private static String caller(RecordedDecision r) {
        if (r.identity().isPresent()) {
            return r.identity().get().subject();
        }
        return r.sourcePrincipal().isEmpty() ? "anonymous" : r.sourcePrincipal();
    }

    public long unchanged() {
        return unchanged;
    }

    public long flipped() {
        return flipped;
    }

    public long notReplayableTotal() {
        return notReplayable.values().stream().mapToLong(Long::longValue).sum();
    }

    public Map<String, Long> notReplayableByReason() {
        return Map.copyOf(notReplayable);
    }

    /** The groups, largest first. */
    public List<Map.Entry<Group, Flips>> groups() {
        List<Map.Entry<Group, Flips>> out = new ArrayList<>(groups.entrySet());
        out.sort(Comparator.comparingLong((Map.Entry<Group, Flips> e) -> e.getValue().count)
                .reversed());
        return out;
    }

    /** The report as the CLI prints it. */
    public String render() {
        StringBuilder sb = new StringBuilder();
        long total = unchanged + flipped + notReplayableTotal();
        sb.append("decisions: ")
                .append(total)
                .append("  unchanged: ")
                .append(unchanged)
                .append("  flipped: ")
                .append(flipped)
                .append("  not replayable: ")
                .append(notReplayableTotal())
                .append('\n');
        for (Map.Entry<Group, Flips> e : groups()) {
            Group g = e.getKey();
            sb.append(String.format(
                    "  %d decisions of tenant %s on route %s by %s: %s -> %s (%s); e.g. %s%n",
                    e.getValue().count,
                    g.tenant(),
                    g.route(),
                    g.caller(),
                    g.from(),
                    g.to(),
                    g.rule(),
                    String.join(", ", e.getValue().samples)));
        }
        if (rowsChecked > 0) {
            sb.append(RecordedRowCheck.COVERAGE).append('\n');
            long bad = disagreeing.values().stream().mapToLong(Flips::count).sum();
            sb.append("rows checked: ")
                    .append(rowsChecked)
                    .append("  facts disagreeing with their row (edited after they were written?): ")
                    .append(bad)
                    .append('\n');
            disagreeing.forEach((fields, f) -> sb.append(String.format(
                    "  %d rows disagree on %s; e.g. %s%n", f.count, fields, String.join(", ", f.samples))));
        }
        if (!notReplayable.isEmpty()) {
            sb.append("not replayable:\n");
            notReplayable.forEach((reason, n) ->
                    sb.append("  ").append(n).append("  ").append(reason).append('\n'));
        }
        return sb.toString();
    }
}
