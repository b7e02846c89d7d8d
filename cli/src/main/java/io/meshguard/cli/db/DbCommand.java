package io.meshguard.cli.db;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code meshguard db}: the database schema, for a migration step of its own before the servers roll. */
@Command(
        name = "db",
        mixinStandardHelpOptions = true,
        description = "Apply or inspect the database schema (the Flyway history shipped in this release).",
        subcommands = {DbMigrateCommand.class, DbStatusCommand.class})
public final class DbCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: migrate or status");
    }
}
