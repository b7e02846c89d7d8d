package io.meshguard.cli.db;

import io.meshguard.cli.common.DatabaseOptions;
import io.meshguard.db.Migrations;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import javax.sql.DataSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard db status}: the database's schema version and the scripts of this release it has not run; exit 1
 * when some are pending, so an upgrade run-book can check that the migration Job ran before rolling the servers.
 */
@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = {
            "Show the database's schema version and this release's pending migrations (exit 1: some pending).",
            "Database options as for `meshguard db migrate`. Changes nothing."
        })
public final class DbStatusCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    DatabaseOptions database = new DatabaseOptions();

    @Override
    public Integer call() throws Exception {
        DataSource dataSource = database.openFor(spec, "meshguard-db-status", System.getenv());
        String current = Migrations.currentVersion(dataSource).orElse("none");
        List<String> pending = Migrations.pendingVersions(dataSource);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("schema version: %s%n", current);
        out.printf("pending: %s%n", pending.isEmpty() ? "none" : String.join(", ", pending));
        out.flush();
        return pending.isEmpty() ? 0 : 1;
    }
}
