package io.meshguard.cli.xds;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options of the commands that talk to a running controller's admin API (a picocli mixin). */
final class AdminOptions {
    @Option(names = "--url", defaultValue = "http://127.0.0.1:9103", description = "Admin API (default: ${DEFAULT-VALUE}).")
    String url;

    @Option(names = "--token-file", description = "File holding the admin bearer token.")
    Path tokenFile;

    boolean hasToken() {
        return tokenFile != null;
    }

    AdminClient client() throws IOException {
        return new AdminClient(url, tokenFile);
    }
}
