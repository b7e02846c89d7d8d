package io.meshguard.cli.dlp;

import io.meshguard.audit.query.AuditReader;
import io.meshguard.cli.common.DatabaseOptions;
import io.meshguard.cli.common.ReplayWindow;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyParser;
import io.meshguard.dlp.policy.PolicyInvalidException;
import io.meshguard.dlp.replay.FindingImpactReport;
import io.meshguard.dlp.replay.PinChanges;
import io.meshguard.xds.approval.RecordedFindings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard dlp impact DIR --in-force DIR --since 30d}: the recorded DLP findings of a window (the audit's
 * {@code dlp_finding} rows, streamed through a cursor) decided again against the draft {@code dlp.yaml} in DIR
 * ({@link RecordedFindings}), and which would now be acted on otherwise; and the pinned MCP tools the draft changes, each
 * with its recorded calls in the window ({@link PinChanges}).
 */
@Command(
        name = "impact",
        mixinStandardHelpOptions = true,
        description = "Replay the recorded DLP findings of a window against the draft dlp.yaml in DIR; prints every "
                + "changed action grouped by profile, direction and detector, and what could not be replayed. Exit 2 "
                + "when a policy is invalid, 1 when any finding changes (--fail-on-change), else 0.")
public final class DlpImpactCommand implements Callable<Integer> {
    @Mixin
    DatabaseOptions database = new DatabaseOptions();

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "Draft policy directory (its dlp.yaml is replayed)")
    Path dir;

    @Option(
            names = "--in-force",
            required = true,
            paramLabel = "DIR",
            description = "Policy directory the findings were recorded under (what the draft is held against).")
    Path inForce;

    @Mixin
    ReplayWindow window = new ReplayWindow();

    @Option(names = "--fail-on-change", description = "Exit 1 when any recorded finding would be acted on otherwise.")
    boolean failOnChange;

    @Override
    public Integer call() throws IOException, SQLException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ReplayWindow.Bounds bounds = window.read(Clock.systemUTC());
        DlpPolicy draft;
        DlpPolicy current;
        try {
            draft = DlpPolicyParser.parse(dir.resolve("dlp.yaml"));
            current = DlpPolicyParser.parse(inForce.resolve("dlp.yaml"));
        } catch (PolicyInvalidException e) {
            e.errors().forEach(x -> err.println(x.toString()));
            err.println("meshguard dlp impact: a dlp.yaml is not valid; nothing replayed");
            err.flush();
            return 2;
        }
        AuditReader reader = new AuditReader(database.open("meshguard-dlp-impact", System.getenv()));
        FindingImpactReport report = RecordedFindings.replay(reader, current, draft, bounds.from(), bounds.to());
        out.printf(
                "replayed against %s (in force: %s), findings recorded %s .. %s (PostgreSQL audit_event)%n",
                dir.resolve("dlp.yaml"), inForce.resolve("dlp.yaml"), bounds.from(), bounds.to());
        out.print(report.render());
        List<PinChanges.Change> pins = PinChanges.between(current, draft);
        if (!pins.isEmpty()) {
            out.print(pinReport(pins, RecordedFindings.recordedCalls(reader, bounds.from(), bounds.to())));
        }
        out.println("integrity: finding rows are not in the admin trail's hash chain nor its signed checkpoints;"
                + " whoever can write audit_event can change them and this report.");
        out.flush();
        return failOnChange && report.changed() > 0 ? 1 : 0;
    }

    /**
     * One line per pinned tool the draft changes, with the window's recorded calls of it, and why those calls cannot be
     * replayed against a new schema: their arguments were never recorded.
     */
    static String pinReport(List<PinChanges.Change> changes, Map<String, Long> calls) {
        StringBuilder out =
                new StringBuilder("pinned MCP tools the draft changes (recorded tools/call decisions of the "
                        + "window, any MCP route):\n");
        for (PinChanges.Change c : changes) {
            out.append("  profile ")
                    .append(c.profile())
                    .append(": ")
                    .append(c.tool())
                    .append(' ')
                    .append(
                            switch (c.kind()) {
                                case PINNED -> "pinned anew (" + c.draft().orElse("") + ")";
                                case CHANGED ->
                                    "changed (" + c.inForce().orElse("") + " -> "
                                            + c.draft().orElse("") + ")";
                                case UNPINNED -> "no longer pinned: its calls will be refused";
                            })
                    .append(": ")
                    .append(calls.getOrDefault(c.tool(), 0L))
                    .append(" recorded calls\n");
        }
        out.append("  not replayable against the new schemas: a decision row keeps the tool's name, never its "
                + "arguments (a held call keeps an HMAC of them)\n");
        return out.toString();
    }
}
