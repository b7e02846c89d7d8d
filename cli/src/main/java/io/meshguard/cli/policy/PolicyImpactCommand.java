package io.meshguard.cli.policy;

import io.meshguard.audit.query.AuditReader;
import io.meshguard.audit.query.TimeArguments;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyFiles;
import io.meshguard.authz.replay.ImpactReport;
import io.meshguard.cli.common.DatabaseOptions;
import io.meshguard.runtime.policy.PolicyFiles;
import io.meshguard.runtime.policy.PolicyInvalidException;
import io.meshguard.xds.approval.RecordedDecisions;
import io.meshguard.xds.validate.ProfileCatalog;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard policy impact DIR --since 30d}: the recorded authorization decisions of the window (the audit's
 * PostgreSQL rows, streamed through a cursor) decided again against the draft {@code authz.yaml} in DIR, and what would
 * have gone otherwise.
 */
@Command(
        name = "impact",
        mixinStandardHelpOptions = true,
        description = "Replay the recorded authorization decisions of a window against the draft policy in DIR; prints "
                + "every flip grouped by tenant, route, caller and rule, and what could not be replayed. Exit 2 when "
                + "the draft is invalid, 3 when rows' replay facts disagree with their own columns (edited rows), 1 when "
                + "any decision flips (--fail-on-flip), else 0.")
public final class PolicyImpactCommand implements Callable<Integer> {
    /** Rows fetched from PostgreSQL per round trip. */
    static final int BATCH = RecordedDecisions.BATCH;

    @Mixin
    DatabaseOptions database = new DatabaseOptions();

    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "DIR", description = "Draft policy directory (its authz.yaml is replayed)")
    Path dir;

    @Option(
            names = "--since",
            defaultValue = "30d",
            paramLabel = "WHEN",
            description = "Start of the window: a duration ago (30d, 12h) or a time (default: ${DEFAULT-VALUE}).")
    String since;

    @Option(names = "--until", paramLabel = "WHEN", description = "End of the window (default: now).")
    String until;

    @Option(names = "--fail-on-flip", description = "Exit 1 when any recorded decision would go otherwise.")
    boolean failOnFlip;

    @Override
    public Integer call() throws IOException, SQLException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Clock clock = Clock.systemUTC();
        Instant from = TimeArguments.pointInTime(since, clock);
        Instant to = until == null ? clock.instant() : TimeArguments.pointInTime(until, clock);
        Path file = dir.resolve(ProfileCatalog.AUTHZ_FILE);
        AuthzPolicy draft;
        try {
            draft = new AuthzPolicyFiles().parse(PolicyFiles.read(file));
        } catch (PolicyInvalidException e) {
            e.errors().forEach(x -> err.println(x.toString()));
            err.printf("meshguard policy impact: %s is not a valid policy; nothing replayed%n", file);
            err.flush();
            return 2;
        }
        ImpactReport report =
                replay(new AuditReader(database.open("meshguard-policy-impact", System.getenv())), draft, from, to);
        out.printf("replayed against %s, decisions recorded %s .. %s (PostgreSQL audit_event)%n", file, from, to);
        out.print(report.render());
        out.flush();
        if (!report.disagreeing().isEmpty()) {
            err.println("meshguard policy impact: some rows' replay facts disagree with their own columns (listed "
                    + "above): the window's rows were changed after they were written, or written by another tool");
            err.flush();
            return 3;
        }
        return failOnFlip && report.flipped() > 0 ? 1 : 0;
    }

    /** Streams the window's decisions through the draft (the same read path as a policy request's report). */
    public static ImpactReport replay(AuditReader reader, AuthzPolicy draft, Instant from, Instant to)
            throws SQLException {
        return new RecordedDecisions(reader).replay(draft, from, to);
    }
}
