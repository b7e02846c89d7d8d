package io.meshguard.cli.db;

import io.meshguard.cli.common.DatabaseOptions;
import io.meshguard.db.Migrations;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.sql.DataSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard db migrate}: brings the database to this release's schema and exits; what the migration Job
 * (manifests/istio/ops/db-migrate.yaml) runs with the schema owner's role, so the servers can run with DML only.
 * {@code meshguard xds} applies the same scripts at start; both are safe to run at once (Flyway's advisory lock).
 */
@Command(
        name = "migrate",
        mixinStandardHelpOptions = true,
        description = {
            "Apply this release's schema migrations to the database and exit (0: schema current).",
            "Database: --db / MESHGUARD_DB_URL, --db-user / MESHGUARD_DB_USER, password from",
            "--db-password-file / MESHGUARD_DB_PASSWORD_FILE or MESHGUARD_DB_PASSWORD (the servers' settings).",
            "The role needs CREATE on the database's schema: use the schema owner, not the servers' role."
        })
public final class DbMigrateCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    DatabaseOptions database = new DatabaseOptions();

    @Override
    public Integer call() throws Exception {
        return migrate(System.getenv());
    }

    int migrate(Map<String, String> env) throws Exception {
        DataSource dataSource = database.openFor(spec, "meshguard-db-migrate", env);
        Migrations.MigrationResult result = Migrations.apply(dataSource);
        PrintWriter out = spec.commandLine().getOut();
        if (result.applied() == 0) {
            out.printf("schema at version %s: nothing to apply%n", result.currentVersion());
        } else {
            out.printf(
                    "schema migrated from version %s to %s (%d script(s) applied)%n",
                    result.previousVersion().orElse("none"), result.currentVersion(), result.applied());
        }
        out.flush();
        return 0;
    }
}
