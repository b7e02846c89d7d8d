package io.meshguard.xds.approval;

import io.meshguard.audit.query.AuditReader;
import io.meshguard.dlp.policy.Direction;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.replay.FindingImpactReport;
import io.meshguard.dlp.replay.FindingReplay;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The recorded DLP side of a window, read for a draft {@code dlp.yaml}: the findings ({@code dlp_finding} rows,
 * streamed through a cursor) decided again by {@link FindingReplay}, and the {@code tools/call} decisions by tool. What
 * {@code meshguard dlp impact} prints and a {@code dlp} policy request's report ({@link DlpPolicyReplay}) keeps.
 */
public final class RecordedFindings {
    /** Rows fetched per round trip. */
    public static final int BATCH = 5000;

    static final List<String> KEYS = List.of("profile", "direction", "detector", "confidence", "action");

    private RecordedFindings() {}

    /**
     * The window's recorded {@code tools/call} decisions by tool (extauthz's rows name the tool, {@code mcp_name}), of
     * any MCP route: decision rows do not name the DLP profile.
     */
    public static Map<String, Long> recordedCalls(AuditReader reader, Instant from, Instant to) throws SQLException {
        Map<String, Long> calls = new TreeMap<>();
        reader.decisionDetails(from, to, List.of("mcp_method", "mcp_name"), BATCH, (requestId, at, d) -> {
            if ("tools/call".equals(d.get(0)) && d.get(1) != null && !d.get(1).isEmpty()) {
                calls.merge(d.get(1), 1L, Long::sum);
            }
        });
        return calls;
    }

    /** Streams the window's findings through the draft. */
    public static FindingImpactReport replay(
            AuditReader reader, DlpPolicy inForce, DlpPolicy draft, Instant from, Instant to) throws SQLException {
        FindingReplay replay = new FindingReplay(inForce, draft);
        FindingImpactReport report = new FindingImpactReport();
        reader.findingDetails(from, to, KEYS, BATCH, (requestId, at, details) -> {
            Optional<FindingReplay.RecordedFinding> f = finding(requestId, details);
            if (f.isEmpty()) {
                report.notReplayable("finding recorded without profile, direction, detector, confidence or action");
                return;
            }
            report.add(f.get(), replay.replay(f.get()));
        });
        return report;
    }

    private static Optional<FindingReplay.RecordedFinding> finding(String requestId, List<String> d) {
        if (d.stream().anyMatch(v -> v == null || v.isEmpty())) {
            return Optional.empty();
        }
        Direction direction;
        double confidence;
        try {
            direction = Direction.valueOf(d.get(1).toUpperCase(java.util.Locale.ROOT));
            confidence = Double.parseDouble(d.get(3));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        return Optional.of(new FindingReplay.RecordedFinding(
                requestId == null ? "-" : requestId, d.get(0), direction, d.get(2), confidence, d.get(4)));
    }
}
