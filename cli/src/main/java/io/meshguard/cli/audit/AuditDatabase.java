package io.meshguard.cli.audit;

import io.meshguard.cli.UpState;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import picocli.CommandLine.Option;

/**
 * Which database the audit commands read: {@code --db URL}, else {@code MESHGUARD_DB_URL}, else the database of
 * the {@code meshguard up} running on {@code --data-dir}. User and password come from {@code --db-user} /
 * {@code MESHGUARD_DB_USER} and {@code MESHGUARD_DB_PASSWORD} (or the URL itself), or from {@code up}'s state.
 */
final class AuditDatabase {
    static final String URL_ENV = "MESHGUARD_DB_URL";
    static final String USER_ENV = "MESHGUARD_DB_USER";
    static final String PASSWORD_ENV = "MESHGUARD_DB_PASSWORD";

    @Option(names = "--db", paramLabel = "URL",
            description = "JDBC URL of the database (default: $MESHGUARD_DB_URL, else the running `meshguard up`).")
    String url;

    @Option(names = "--db-user", paramLabel = "USER", description = "Database user (default: $MESHGUARD_DB_USER).")
    String user;

    @Option(names = "--data-dir", defaultValue = ".meshguard",
            description = "Data directory of a running `meshguard up` (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    DataSource open(Map<String, String> env) throws IOException {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setApplicationName("meshguard-audit-cli");
        ds.setConnectTimeout(10);
        Optional<String> explicit = Optional.ofNullable(url).or(() -> Optional.ofNullable(env.get(URL_ENV)));
        if (explicit.isPresent()) {
            if (!explicit.get().startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("--db must be a jdbc:postgresql: URL, got '" + explicit.get() + "'");
            }
            ds.setUrl(explicit.get());
            Optional.ofNullable(user).or(() -> Optional.ofNullable(env.get(USER_ENV))).ifPresent(ds::setUser);
            Optional.ofNullable(env.get(PASSWORD_ENV)).ifPresent(ds::setPassword);
            return ds;
        }
        UpState up = UpState.readRunning(dataDir).orElseThrow(() -> new IllegalArgumentException(
                "no database given: pass --db URL, set " + URL_ENV + ", or start `meshguard up` (looked for "
                        + dataDir.resolve(UpState.FILE_NAME) + ")"));
        ds.setUrl(up.jdbcUrl());
        ds.setUser(up.dbUser());
        ds.setPassword(up.dbPassword());
        return ds;
    }
}
