package io.meshguard.dlp.replay;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a draft {@code dlp.yaml} would have changed over a window of recorded findings: each change grouped by profile,
 * direction, detector and the actions before and after, with sample request ids; how many stay as they were; how many
 * could not be replayed, by reason.
 */
public final class FindingImpactReport {
    /** Request ids kept per group. */
    public static final int SAMPLES = 5;

    /** One group of changes. */
    public record Group(String profile, String direction, String detector, String from, String to, String why) {}

    private long unchanged;
    private long changed;
    private final Map<Group, Long> counts = new LinkedHashMap<>();
    private final Map<Group, List<String>> samples = new LinkedHashMap<>();
    private final Map<String, Long> notReplayable = new TreeMap<>();

    public void add(FindingReplay.RecordedFinding f, FindingReplay.Outcome outcome) {
        switch (outcome) {
            case FindingReplay.Outcome.Unchanged u -> unchanged++;
            case FindingReplay.Outcome.NotReplayable n -> notReplayable(n.reason());
            case FindingReplay.Outcome.Changed c -> {
                changed++;
                Group g = new Group(f.profile(), f.direction().id(), f.detector(), c.from(), c.to(), c.why());
                counts.merge(g, 1L, Long::sum);
                List<String> s = samples.computeIfAbsent(g, k -> new ArrayList<>(SAMPLES));
                if (s.size() < SAMPLES) {
                    s.add(f.requestId());
                }
            }
        }
    }

    /** A row that could not be read as a finding at all. */
    public void notReplayable(String reason) {
        notReplayable.merge(reason, 1L, Long::sum);
    }

    public long unchanged() {
        return unchanged;
    }

    public long changed() {
        return changed;
    }

    public Map<String, Long> notReplayableByReason() {
        return Map.copyOf(notReplayable);
    }

    /** The groups with their counts, largest first. */
    public List<Map.Entry<Group, Long>> groups() {
        List<Map.Entry<Group, Long>> out = new ArrayList<>(counts.entrySet());
        out.sort(Map.Entry.<Group, Long>comparingByValue(Comparator.reverseOrder()));
        return out;
    }

    public List<String> samples(Group g) {
        return List.copyOf(samples.getOrDefault(g, List.of()));
    }

    /** The report as the CLI prints it. */
    public String render() {
        long nr = notReplayable.values().stream().mapToLong(Long::longValue).sum();
        StringBuilder sb = new StringBuilder();
        sb.append("findings: ")
                .append(unchanged + changed + nr)
                .append("  unchanged: ")
                .append(unchanged)
                .append("  changed: ")
                .append(changed)
                .append("  not replayable: ")
                .append(nr)
                .append('\n');
        for (Map.Entry<Group, Long> e : groups()) {
            Group g = e.getKey();
            sb.append(String.format(
                    "  %d findings of %s in profile %s (%s): %s -> %s (%s); e.g. %s%n",
                    e.getValue(),
                    g.detector(),
                    g.profile(),
                    g.direction(),
                    g.from(),
                    g.to(),
                    g.why(),
                    String.join(", ", samples(g))));
        }
        if (!notReplayable.isEmpty()) {
            sb.append("not replayable:\n");
            notReplayable.forEach((reason, n) ->
                    sb.append("  ").append(n).append("  ").append(reason).append('\n'));
        }
        return sb.toString();
    }
}
