package io.meshguard.db;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * The one schema history of meshguard: the Flyway scripts under {@value #LOCATION}, applied in order and
 * never rewritten (a change is a new script).
 */
public final class Migrations {

    /** Where the scripts live on the classpath. */
    public static final String LOCATION = "classpath:db/migration";

    /**
     * The description Flyway records for {@code V1__baseline.sql}, the 1.0 schema whole. A database whose version 1
     * says anything else was migrated by a build from before 1.0, whose history the baseline replaced.
     */
    static final String BASELINE = "baseline";

    private Migrations() {}

    /**
     * Brings the database behind {@code dataSource} up to the newest schema. Safe to call from several
     * processes at once (Flyway serialises them with a PostgreSQL advisory lock). Fails if an applied
     * script was changed since it ran.
     */
    public static MigrationResult apply(DataSource dataSource) {
        Flyway flyway = flyway(dataSource);
        refuseHistoryBeforeBaseline(flyway);
        MigrateResult result = flyway.migrate();
        Optional<String> before = Optional.ofNullable(result.initialSchemaVersion);
        String after = Optional.ofNullable(result.targetSchemaVersion)
                .or(() -> before)
                .orElseThrow(() -> new IllegalStateException("no migration found under " + LOCATION));
        return new MigrationResult(before, after, result.migrationsExecuted);
    }

    /** The version of the newest script applied to the database, empty when none has been. */
    public static Optional<String> currentVersion(DataSource dataSource) {
        return Optional.ofNullable(flyway(dataSource).info().current())
                .map(info -> info.getVersion().getVersion());
    }

    /** Versions of the scripts on the classpath that the database has not run yet, oldest first. */
    public static List<String> pendingVersions(DataSource dataSource) {
        return Arrays.stream(flyway(dataSource).info().pending())
                .map(MigrationInfo::getVersion)
                .map(v -> v.getVersion())
                .toList();
    }

    /**
     * Checks, without changing anything, that the database has every script of this release: what a server whose
     * role may not change the schema does at start instead of {@link #apply}.
     *
     * @return the schema version
     * @throws IllegalStateException naming the pending versions and what applies them
     */
    public static String requireCurrent(DataSource dataSource) {
        List<String> pending = pendingVersions(dataSource);
        String current = currentVersion(dataSource).orElse("none");
        if (!pending.isEmpty()) {
            throw new IllegalStateException("the database schema is at version " + current + " and this release needs "
                    + pending.size() + " more script(s) (" + pending.getFirst() + " .. " + pending.getLast()
                    + "): run `meshguard db migrate` as the schema owner first (the migrate Job,"
                    + " docs/install.md section 3)");
        }
        return current;
    }

    /**
     * Fails when the database was migrated by a build from before 1.0: its version 1 is another script, and
     * reconciling that history is not supported (no installation of it exists outside development). Flyway alone
     * would say only that a checksum differs.
     */
    private static void refuseHistoryBeforeBaseline(Flyway flyway) {
        for (MigrationInfo applied : flyway.info().applied()) {
            if (applied.getVersion() != null
                    && applied.getVersion().getVersion().equals("1")
                    && !applied.getDescription().equals(BASELINE)) {
                throw new IllegalStateException("the database's schema was created by a meshguard build from before"
                        + " 1.0 (version 1 is '" + applied.getDescription() + "', not the 1.0 " + BASELINE
                        + "); such a database cannot be upgraded: create an empty database and run `meshguard db"
                        + " migrate` on it (db/README.md, \"The baseline\")");
            }
        }
    }

    private static Flyway flyway(DataSource dataSource) {
        Objects.requireNonNull(dataSource, "dataSource");
        return Flyway.configure(Migrations.class.getClassLoader())
                .dataSource(dataSource)
                .locations(LOCATION)
                .failOnMissingLocations(true)
                .validateMigrationNaming(true)
                .cleanDisabled(true)
                .load();
    }

    /**
     * What {@link #apply} did.
     *
     * @param previousVersion schema version before, empty for a fresh database
     * @param currentVersion  schema version after
     * @param applied         how many scripts ran
     */
    public record MigrationResult(Optional<String> previousVersion, String currentVersion, int applied) {
        public MigrationResult {
            Objects.requireNonNull(previousVersion, "previousVersion");
            Objects.requireNonNull(currentVersion, "currentVersion");
        }
    }
}
