package io.meshguard.cli.audit;

import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.cli.DatabaseOptions;
import java.io.PrintWriter;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard audit verify}: walks the hash-chained admin trail and names the first row that was altered,
 * removed or inserted. Exit 0 when intact, 1 when not (or the database cannot be read). Prints the head to record
 * outside the database; {@code --expect SEQ:HASH} checks a head recorded earlier, which also finds the newest rows cut
 * off together with the head.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Verify the admin trail's hash chain; names the first altered, removed or inserted row.")
public final class AuditVerifyCommand implements Callable<Integer> {
    @Mixin
    DatabaseOptions database = new DatabaseOptions();

    @Spec
    CommandSpec spec;

    @Option(names = "--expect", paramLabel = "SEQ:HASH",
            description = "A head printed by an earlier verify and kept outside the database: row SEQ must still have HASH.")
    String expect;

    @Override
    public Integer call() throws Exception {
        Optional<AdminTrailVerifier.Head> head;
        try {
            head = Optional.ofNullable(expect).map(AdminTrailVerifier.Head::parse);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--expect: " + e.getMessage());
        }
        AdminTrailVerifier.Report r = new AdminTrailVerifier(database.open("meshguard-audit-verify", System.getenv()))
                .verify(head);
        PrintWriter out = spec.commandLine().getOut();
        if (r.intact()) {
            out.printf("admin trail intact: %d rows checked; head %d:%s (record it outside the database and pass it back "
                    + "with --expect)%n", r.rowsChecked(), r.headSeq(), r.headHash());
            out.flush();
            return 0;
        }
        AdminTrailVerifier.Finding f = r.firstBad().orElseThrow();
        PrintWriter err = spec.commandLine().getErr();
        err.printf("admin trail TAMPERED at row %d (%s): %s%n", f.seq(), f.problem().name().toLowerCase(java.util.Locale.ROOT),
                f.explanation());
        err.flush();
        return 1;
    }
}
