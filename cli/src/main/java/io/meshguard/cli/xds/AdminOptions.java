package io.meshguard.cli.xds;

import io.meshguard.cli.common.AdminTokenFileOption;
import io.meshguard.xds.model.ConfigJson;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options of the commands that talk to a running controller's admin API (a picocli mixin): {@code --url} and
 * {@code --token-file} for any controller; without them, the controller of the {@code meshguard up} running on
 * {@code --data-dir}, found the way every command finds it ({@link RunningStack}). With {@code --url} and no
 * {@code --token-file}, the token {@code meshguard login} keeps is sent when there is one.
 */
public final class AdminOptions {
    @Option(
            names = "--url",
            description = "Admin API, e.g. http://127.0.0.1:9103 (default: the running `meshguard up`'s).")
    String url;

    @Mixin
    AdminTokenFileOption tokenFile = new AdminTokenFileOption();

    @Option(
            names = "--data-dir",
            defaultValue = ".meshguard",
            description =
                    "Data directory of the running `meshguard up` used without --url (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    /** A client for the controller these options name. */
    public AdminClient client() throws IOException {
        return AdminClient.resolve(url, tokenFile.file(), dataDir);
    }

    /** The body of a call that gives only its reason: {@code {"reason": …}}. */
    static String reason(String reason) {
        return ConfigJson.mapper().createObjectNode().put("reason", reason).toString();
    }

    /** {@code text} as one path segment (a group name from the command line). */
    public static String segment(String text) {
        return java.net.URLEncoder.encode(text, java.nio.charset.StandardCharsets.UTF_8)
                .replace("+", "%20");
    }
}
