package io.meshguard.cli.audit;

import io.meshguard.cli.common.DatabaseOptions;
import io.meshguard.cli.xds.AdminClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * Where {@code meshguard audit query|export|verify} read: by default the admin API's {@code /audit} operations as the
 * caller its token names (the permission check, tenant scoping and, for an export, an admin-trail row apply), with
 * {@code --url URL --token-file FILE}, {@code --url} and the {@code meshguard login} token, or the running
 * {@code meshguard up}; {@code --direct-db} is break-glass with the database's own credentials.
 */
final class AuditAdminPlane {
    @Option(
            names = "--url",
            description = "Admin API (the controller's admin port) (default: the running `meshguard up`'s).")
    String url;

    @Option(
            names = "--token-file",
            description =
                    "File holding the admin bearer token (default: the `meshguard login` token with --url, else the running `meshguard up`'s).")
    Path tokenFile;

    @Option(
            names = "--direct-db",
            description =
                    "Break-glass: read the database with its own credentials instead of the admin API (no permission check, no tenant scoping, an export is not trailed).")
    boolean directDb;

    /** True when the command reads the database itself; says so on standard error, as break-glass. */
    boolean direct(CommandSpec spec, DatabaseOptions database) {
        if (!directDb && database.explicit()) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--db reads the database with its own "
                            + "credentials: add --direct-db (break-glass), or drop --db to go through the admin API");
        }
        if (directDb) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("meshguard audit: --direct-db reads the database with its own credentials: no permission "
                    + "check, no tenant scoping, and exports are not recorded in the admin trail (break-glass)");
            err.flush();
        }
        return directDb;
    }

    /** GET {@code path} with {@code query} on the admin API. */
    HttpResponse<String> get(String path, Map<String, String> query, Path dataDir)
            throws IOException, InterruptedException {
        String q = query.entrySet().stream()
                .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return AdminClient.resolve(url, tokenFile, dataDir).send("GET", path + (q.isEmpty() ? "" : "?" + q), null);
    }

    /** Non-zero and the admin API's answer on standard error when it refused. */
    static int refused(CommandSpec spec, HttpResponse<String> r) {
        PrintWriter err = spec.commandLine().getErr();
        err.printf(
                "meshguard audit: the admin API answered %d: %s%n",
                r.statusCode(), r.body().strip());
        err.flush();
        return 1;
    }
}
