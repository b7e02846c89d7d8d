package io.meshguard.cli.audit;

import io.meshguard.audit.trail.AdminTrailVerifier;
import io.meshguard.audit.trail.CheckpointDirectory;
import io.meshguard.audit.trail.CheckpointKeys;
import io.meshguard.cli.common.DatabaseOptions;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
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
 * off together with the head. {@code --checkpoints DIR --checkpoint-key FILE} checks every head the controller signed
 * outside the database (TrailCheckpointer): truncated, rewritten or prematurely anchored rows are named.
 */
@Command(
        name = "verify",
        mixinStandardHelpOptions = true,
        description = "Verify the admin trail's hash chain; names the first altered, removed or inserted row.")
public final class AuditVerifyCommand implements Callable<Integer> {
    @Mixin
    DatabaseOptions database = new DatabaseOptions();

    @Mixin
    AuditAdminPlane admin = new AuditAdminPlane();

    @Spec
    CommandSpec spec;

    @Option(
            names = "--expect",
            paramLabel = "SEQ:HASH",
            description =
                    "A head printed by an earlier verify and kept outside the database: row SEQ must still have HASH.")
    String expect;

    @Option(
            names = "--checkpoints",
            paramLabel = "DIR",
            description = "The controller's checkpoint directory (audit.admin_trail.checkpoint.dir): every signed head "
                    + "must still be in the trail. Needs --checkpoint-key and --direct-db.")
    Path checkpoints;

    @Option(
            names = "--checkpoint-key",
            paramLabel = "FILE",
            description = "The checkpoint key's public half (PEM; `openssl pkey -in KEY -pubout`; `meshguard up`: "
                    + "DATA_DIR/trail-checkpoint.pub). Repeat it for every key the controller signed with since the "
                    + "oldest checkpoint kept (a rotated key's checkpoints name it and verify with it).")
    List<Path> checkpointKeys;

    @Override
    public Integer call() throws Exception {
        Optional<AdminTrailVerifier.Head> head;
        try {
            head = Optional.ofNullable(expect).map(AdminTrailVerifier.Head::parse);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--expect: " + e.getMessage());
        }
        if ((checkpoints == null) != (checkpointKeys == null || checkpointKeys.isEmpty())) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(), "--checkpoints and --checkpoint-key go together");
        }
        boolean direct = admin.direct(spec, database);
        if (checkpoints != null && !direct) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--checkpoints compares the database with "
                            + "files on this machine: add --direct-db (with --db) to read the trail itself");
        }
        // the files before the database: a checkpoint signed after the walk's snapshot could name rows it lacks
        Optional<AdminTrailVerifier.SignedCheckpoints> signed = Optional.empty();
        if (checkpoints != null) {
            try {
                List<java.security.PublicKey> keys = new java.util.ArrayList<>();
                for (Path key : checkpointKeys) {
                    keys.add(CheckpointKeys.readPublic(key));
                }
                signed = Optional.of(
                        new AdminTrailVerifier.SignedCheckpoints(CheckpointDirectory.read(checkpoints), keys));
            } catch (java.io.IOException | IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--checkpoints: " + e.getMessage());
            }
        }
        AdminTrailVerifier.Report r = direct
                ? io.meshguard.xds.store.RevisionSeal.trailVerifier(
                                database.open("meshguard-audit-verify", System.getenv()))
                        .verify(head, signed)
                : viaAdminApi();
        if (r == null) {
            return 1;
        }
        PrintWriter out = spec.commandLine().getOut();
        if (r.intact()) {
            out.printf(
                    "admin trail intact: %d rows checked; head %d:%s (record it outside the database and pass it back "
                            + "with --expect)%n",
                    r.rowsChecked(), r.headSeq(), r.headHash());
            signed.ifPresent(s -> out.printf(
                    "%d signed checkpoints agree with it%n",
                    s.contents().checkpoints().size()));
            out.flush();
            return 0;
        }
        AdminTrailVerifier.Finding f = r.firstBad().orElseThrow();
        PrintWriter err = spec.commandLine().getErr();
        String problem = f.problem().name().toLowerCase(java.util.Locale.ROOT);
        if (problem.startsWith("record_")) {
            // the chain is intact; a row it recorded (a published revision) is not what was recorded
            err.printf("a row the admin trail recorded was TAMPERED with (%s): %s%n", problem, f.explanation());
        } else {
            err.printf("admin trail TAMPERED at row %d (%s): %s%n", f.seq(), problem, f.explanation());
        }
        err.flush();
        return 1;
    }

    /** {@code GET /audit/trail/verify} as the caller; null when the admin API refused (said on standard error). */
    private AdminTrailVerifier.Report viaAdminApi() throws Exception {
        java.net.http.HttpResponse<String> res = admin.get(
                "/audit/trail/verify",
                expect == null ? java.util.Map.of() : java.util.Map.of("expect", expect),
                database.dataDir());
        if (res.statusCode() != 200) {
            AuditAdminPlane.refused(spec, res);
            return null;
        }
        com.fasterxml.jackson.databind.JsonNode j =
                new com.fasterxml.jackson.databind.ObjectMapper().readTree(res.body());
        Optional<AdminTrailVerifier.Finding> bad = j.has("first_bad")
                ? Optional.of(new AdminTrailVerifier.Finding(
                        j.path("first_bad").path("seq").asLong(),
                        AdminTrailVerifier.Problem.valueOf(
                                j.path("first_bad").path("problem").asText().toUpperCase(java.util.Locale.ROOT)),
                        j.path("first_bad").path("explanation").asText()))
                : Optional.empty();
        return new AdminTrailVerifier.Report(
                j.path("rows_checked").asLong(),
                j.path("head_seq").asLong(),
                j.path("head_hash").asText(),
                bad);
    }
}
