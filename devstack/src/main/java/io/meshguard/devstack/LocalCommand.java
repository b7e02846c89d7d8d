package io.meshguard.devstack;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code meshguard local}: the local stack's data directory as a whole (backup and restore). */
@Command(
        name = "local",
        mixinStandardHelpOptions = true,
        description = "Back up and restore the data directory of `meshguard up` (its PostgreSQL, keys, spools).",
        subcommands = {LocalCommand.Backup.class, LocalCommand.Restore.class})
final class LocalCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: backup or restore");
    }

    @Command(
            name = "backup",
            mixinStandardHelpOptions = true,
            description = {
                "Copy the data directory to FILE (a new zip, owner-only: it holds the stack's keys and "
                        + "admin token).",
                "",
                "`meshguard up` must be stopped (Ctrl-C): PostgreSQL's files are copied as they lie, which "
                        + "is consistent only with the server shut down; the data directory stays locked against an "
                        + "up while the copy runs."
            })
    static final class Backup implements Callable<Integer> {
        @Parameters(
                index = "0",
                paramLabel = "FILE",
                description = "The backup to write, e.g. meshguard-2026-11-25.zip.")
        Path file;

        @Option(
                names = "--data-dir",
                defaultValue = ".meshguard",
                description = "The stack's data (default: ${DEFAULT-VALUE}).")
        Path dataDir;

        @Override
        public Integer call() throws Exception {
            LocalBackup.Result r = LocalBackup.backup(dataDir, file);
            System.out.printf(
                    "backed up %s to %s: %d files, %d bytes, PostgreSQL %s data%n",
                    dataDir.toAbsolutePath().normalize(), file, r.files(), r.bytes(), r.postgresVersion());
            return 0;
        }
    }

    @Command(
            name = "restore",
            mixinStandardHelpOptions = true,
            description = {
                "Replace the data directory's contents with the backup FILE (what `meshguard local backup` "
                        + "wrote); everything changed since the backup is gone.",
                "",
                "`meshguard up` must be stopped; start it again afterwards."
            })
    static final class Restore implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FILE", description = "A backup `meshguard local backup` wrote.")
        Path file;

        @Option(
                names = "--data-dir",
                defaultValue = ".meshguard",
                description = "The stack's data (default: ${DEFAULT-VALUE}).")
        Path dataDir;

        @Override
        public Integer call() throws Exception {
            LocalBackup.Result r = LocalBackup.restore(file, dataDir);
            System.out.printf(
                    "restored %s from %s: %d files, PostgreSQL %s data; start it with `meshguard up%s`%n",
                    dataDir.toAbsolutePath().normalize(),
                    file,
                    r.files(),
                    r.postgresVersion(),
                    dataDir.equals(Path.of(".meshguard")) ? "" : " --data-dir " + dataDir);
            return 0;
        }
    }
}
