package io.meshguard.cli.audit;

import io.meshguard.audit.query.AuditFormats;
import io.meshguard.audit.query.AuditReader;
import io.meshguard.audit.query.TimeArguments;
import io.meshguard.cli.common.DatabaseOptions;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.YearMonth;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code meshguard audit export}: every event of one month, oldest first, streamed. */
@Command(
        name = "export",
        mixinStandardHelpOptions = true,
        description = "Export one month of audit events (UTC), oldest first.")
public final class AuditExportCommand implements Callable<Integer> {
    /** Output formats of {@code --format}. */
    public enum Format {
        jsonl,
        csv
    }

    @Mixin
    DatabaseOptions database = new DatabaseOptions();

    @Mixin
    AuditAdminPlane admin = new AuditAdminPlane();

    @Spec
    CommandSpec spec;

    @Option(names = "--month", required = true, paramLabel = "YYYY-MM", description = "The month, e.g. 2026-11.")
    String month;

    @Option(names = "--format", defaultValue = "jsonl", description = "jsonl or csv (default: ${DEFAULT-VALUE}).")
    Format format;

    @Option(
            names = {"-o", "--output"},
            paramLabel = "FILE",
            description = "Write to FILE instead of standard output.")
    Path output;

    @Override
    public Integer call() throws Exception {
        YearMonth ym = TimeArguments.month(month);
        if (!admin.direct(spec, database)) {
            return viaAdminApi(ym);
        }
        AuditReader reader = new AuditReader(database.open("meshguard-audit-cli", System.getenv()));
        Writer out = output == null
                ? spec.commandLine().getOut()
                : new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(output), StandardCharsets.UTF_8));
        long n;
        try {
            if (format == Format.csv) {
                AuditFormats.writeCsvHeader(out);
                n = reader.exportMonth(ym, e -> AuditFormats.writeCsvRow(e, out));
            } else {
                n = reader.exportMonth(ym, e -> AuditFormats.writeJsonLine(e, out));
            }
            out.flush();
        } finally {
            if (output != null) {
                out.close();
            }
        }
        PrintWriter err = spec.commandLine().getErr();
        err.printf("exported %d event%s of %s%s%n", n, n == 1 ? "" : "s", ym, output == null ? "" : " to " + output);
        err.flush();
        return 0;
    }

    /** Through {@code GET /audit/export}: the admin trail records who exported the month before it is sent. */
    private int viaAdminApi(YearMonth ym) throws Exception {
        java.net.http.HttpResponse<String> r = admin.get(
                "/audit/export", java.util.Map.of("month", ym.toString(), "format", format.name()), database.dataDir());
        if (r.statusCode() != 200) {
            return AuditAdminPlane.refused(spec, r);
        }
        if (output == null) {
            spec.commandLine().getOut().print(r.body());
            spec.commandLine().getOut().flush();
        } else {
            Files.writeString(output, r.body(), StandardCharsets.UTF_8);
        }
        long n = r.body().lines().count() - (format == Format.csv ? 1 : 0);
        PrintWriter err = spec.commandLine().getErr();
        err.printf(
                "exported %d event%s of %s%s (recorded in the admin trail)%n",
                n, n == 1 ? "" : "s", ym, output == null ? "" : " to " + output);
        err.flush();
        return 0;
    }
}
