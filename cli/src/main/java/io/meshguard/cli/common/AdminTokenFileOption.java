package io.meshguard.cli.common;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --token-file} of the commands that call an admin API with the running {@code meshguard up}'s token by default
 * (a picocli mixin, so the option's name and help are written once).
 */
public final class AdminTokenFileOption {
    @Option(
            names = "--token-file",
            description = "File holding the admin bearer token (default: the running `meshguard up`'s).")
    private Path file;

    /** The file given, or null for the default. */
    public Path file() {
        return file;
    }
}
