package io.meshguard.xds.approval;

import io.meshguard.audit.query.AuditReader;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyFiles;
import io.meshguard.dlp.replay.FindingImpactReport;
import io.meshguard.dlp.replay.PinChanges;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * A {@code dlp} policy request's report: the window's recorded findings decided again against the requested dlp.yaml
 * ({@link RecordedFindings}, as {@code meshguard dlp impact} does), and the pinned MCP tools it changes with their
 * recorded calls. A finding group reads "on route profile P by request card": the finding rows name the profile, not
 * the route, and keep no tenant. A pin dropped (the tool's calls refused from now on) or added (its calls run) flips
 * its recorded calls; a pin changed cannot be replayed: a decision row keeps the tool's name, never its arguments.
 */
public final class DlpPolicyReplay implements ChangeReplay<PolicyBundle> {
    private final AuditReader reader;
    private final Supplier<Optional<DlpPolicy>> inForce;
    private final Clock clock;

    /**
     * @param inForce the dlp.yaml the findings were recorded under (the newest approved one, else the one loaded);
     *     empty: the requested one is held against itself, so only what it cannot replay shows
     */
    public DlpPolicyReplay(AuditReader reader, Supplier<Optional<DlpPolicy>> inForce, Clock clock) {
        this.reader = reader;
        this.inForce = inForce;
        this.clock = clock;
    }

    @Override
    public ReplayReport replay(PolicyBundle files, Instant from, Instant to) throws SQLException {
        DlpPolicy draft = files.parsed(new DlpPolicyFiles());
        DlpPolicy base = inForce.get().orElse(draft);
        FindingImpactReport findings = RecordedFindings.replay(reader, base, draft, from, to);
        List<ReplayReport.FlipGroup> groups = new ArrayList<>();
        for (Map.Entry<FindingImpactReport.Group, Long> e : findings.groups()) {
            FindingImpactReport.Group g = e.getKey();
            groups.add(new ReplayReport.FlipGroup(
                    g.from(),
                    g.to(),
                    "-",
                    "profile " + g.profile(),
                    g.direction() + " " + g.detector(),
                    g.why(),
                    e.getValue(),
                    findings.samples(g)));
        }
        long flipped = findings.changed();
        Map<String, Long> notReplayable = new TreeMap<>(findings.notReplayableByReason());
        List<PinChanges.Change> pins = PinChanges.between(base, draft);
        if (!pins.isEmpty()) {
            Map<String, Long> calls = RecordedFindings.recordedCalls(reader, from, to);
            for (PinChanges.Change c : pins) {
                long n = calls.getOrDefault(c.tool(), 0L);
                switch (c.kind()) {
                    case UNPINNED -> {
                        groups.add(pinGroup(c, "pinned", "refused", "no longer pinned: its calls are refused", n));
                        flipped += n;
                    }
                    case PINNED -> {
                        groups.add(pinGroup(c, "refused", "pinned", "pinned anew: its calls run", n));
                        flipped += n;
                    }
                    case CHANGED ->
                        notReplayable.merge(
                                "the pin of " + c.tool() + " in profile " + c.profile()
                                        + " changed: a decision row keeps the tool's name, never its arguments",
                                n,
                                Long::sum);
                }
            }
        }
        long notReplayableTotal =
                notReplayable.values().stream().mapToLong(Long::longValue).sum();
        return new ReplayReport(
                from, to, clock.instant(), findings.unchanged(), flipped, notReplayableTotal, groups, notReplayable);
    }

    private static ReplayReport.FlipGroup pinGroup(PinChanges.Change c, String from, String to, String why, long n) {
        return new ReplayReport.FlipGroup(
                from, to, "-", "profile " + c.profile(), "tools/call " + c.tool(), why, n, List.of());
    }
}
