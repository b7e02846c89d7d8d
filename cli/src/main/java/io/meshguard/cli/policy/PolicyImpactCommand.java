package io.meshguard.cli.policy;

import io.meshguard.audit.query.AuditReader;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyFiles;
import io.meshguard.authz.replay.DecisionReplay;
import io.meshguard.authz.replay.ImpactReport;
import io.meshguard.authz.replay.RecordedDecision;
import io.meshguard.authz.replay.ReplayOutcome;
import io.meshguard.cli.common.DatabaseOptions;
import io.meshguard.cli.common.ReplayWindow;
import io.meshguard.cli.dev.DevIssuerFiles;
import io.meshguard.cli.dev.DevPolicy;
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
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
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

    @Mixin
    ReplayWindow window = new ReplayWindow();

    @Option(names = "--fail-on-flip", description = "Exit 1 when any recorded decision would go otherwise.")
    boolean failOnFlip;

    @Option(
            names = "--in-force",
            paramLabel = "DIR",
            description = "The policy the window's decisions were made under (its authz.yaml): each decision is "
                    + "decided under it and under the draft, and only a difference between the two is a flip; a "
                    + "decision it does not decide as recorded is not comparable. Default: the policy the running "
                    + "`meshguard up` serves (the draft then gets its dev issuer and demo routes, as `up` would serve "
                    + "it), else none (the draft is held against the recorded outcomes).")
    Path inForce;

    @Override
    public Integer call() throws IOException, SQLException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ReplayWindow.Bounds bounds = window.read(Clock.systemUTC());
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
        Optional<Path> inForceFile = inForceFile();
        Function<RecordedDecision, ReplayOutcome> decide;
        if (inForceFile.isPresent()) {
            Path served = inForceFile.get();
            AuthzPolicy policyInForce;
            try {
                policyInForce = new AuthzPolicyFiles().parse(PolicyFiles.read(served));
                String servedText = java.nio.file.Files.readString(served);
                if (DevPolicy.isGenerated(servedText)) {
                    // decisions of a local stack were made under the dev policy: the draft is held as `up` would
                    // serve it, or every dev-issuer decision would flip to 401 for want of the issuer
                    draft = new io.meshguard.authz.policy.AuthzPolicyParser()
                            .parse(
                                    file + " as `up` serves it",
                                    new java.io.StringReader(new DevPolicy()
                                            .servedLike(
                                                    file.toString(),
                                                    java.nio.file.Files.readString(file),
                                                    servedText)));
                }
            } catch (PolicyInvalidException e) {
                e.errors().forEach(x -> err.println(x.toString()));
                err.printf("meshguard policy impact: %s is not a valid policy; nothing replayed%n", served);
                err.flush();
                return 2;
            } catch (io.meshguard.authz.policy.PolicyInvalidException e) {
                err.println(e.getMessage());
                err.printf("meshguard policy impact: %s as `up` would serve it is not valid; nothing replayed%n", file);
                err.flush();
                return 2;
            }
            decide = DecisionReplay.comparing(policyInForce, draft);
        } else {
            decide = new DecisionReplay(draft)::replay;
        }
        ImpactReport report = new RecordedDecisions(
                        new AuditReader(database.open("meshguard-policy-impact", System.getenv())))
                .replay(decide, bounds.from(), bounds.to());
        out.printf(
                "replayed against %s, decisions recorded %s .. %s (PostgreSQL audit_event)%n",
                file, bounds.from(), bounds.to());
        out.println(inForceFile
                .map(p -> "compared with " + p + ", the policy in force: a flip is where the two decide otherwise")
                .orElse("compared with the recorded outcomes (the policy in force unknown: pass --in-force DIR)"));
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

    /** The policy in force: {@code --in-force DIR}'s, else the dev policy of the running local stack, if any. */
    private Optional<Path> inForceFile() throws IOException {
        if (inForce != null) {
            return Optional.of(inForce.resolve(ProfileCatalog.AUTHZ_FILE));
        }
        return database.runningStack(System.getenv())
                .map(stack -> DevIssuerFiles.under(stack.dataDir()).policy())
                .filter(java.nio.file.Files::isRegularFile);
    }

    /** Streams the window's decisions through the draft (the same read path as a policy request's report). */
    public static ImpactReport replay(AuditReader reader, AuthzPolicy draft, Instant from, Instant to)
            throws SQLException {
        return new RecordedDecisions(reader).replay(draft, from, to);
    }
}
