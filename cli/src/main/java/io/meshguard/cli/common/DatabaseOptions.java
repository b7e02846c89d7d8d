package io.meshguard.cli.common;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * Which database a command works on (a picocli mixin shared by {@code audit}, {@code apikey} …): {@code --db URL}
 * or {@code MESHGUARD_DB_URL} when given, with the user from {@code --db-user} / {@code MESHGUARD_DB_USER} (or the
 * URL) and the password from {@code --db-password-file}, {@code MESHGUARD_DB_PASSWORD_FILE} or
 * {@code MESHGUARD_DB_PASSWORD} (or the URL); otherwise the database of the {@code meshguard up} running on
 * {@code --data-dir}, credentials included ({@link RunningStack}).
 */
public final class DatabaseOptions {
    public static final String URL_ENV = "MESHGUARD_DB_URL";
    public static final String USER_ENV = "MESHGUARD_DB_USER";
    public static final String PASSWORD_ENV = "MESHGUARD_DB_PASSWORD";
    public static final String PASSWORD_FILE_ENV = "MESHGUARD_DB_PASSWORD_FILE";

    @Option(
            names = "--db",
            paramLabel = "URL",
            description = "JDBC URL of the database (default: $MESHGUARD_DB_URL, else the running `meshguard up`).")
    String url;

    @Option(
            names = "--db-user",
            paramLabel = "USER",
            description = "Database user with --db (default: $MESHGUARD_DB_USER).")
    String user;

    @Option(
            names = "--db-password-file",
            paramLabel = "FILE",
            description =
                    "File holding the password with --db (default: $MESHGUARD_DB_PASSWORD_FILE, else $MESHGUARD_DB_PASSWORD).")
    Path passwordFile;

    @Option(
            names = "--data-dir",
            defaultValue = ".meshguard",
            description = "Data directory of the running `meshguard up` used without --db (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    /** Whether {@code --db} names a database on the command line. */
    public boolean explicit() {
        return url != null;
    }

    /** The data directory of the {@code meshguard up} this command falls back to. */
    public Path dataDir() {
        return dataDir;
    }

    /**
     * Where to connect and as whom.
     *
     * @param origin how the database was found, for error messages ({@code --db}, {@code the meshguard up on …})
     * @param passwordSource where the password came from, for error messages
     */
    public record Target(
            String url, Optional<String> user, Optional<String> password, String origin, String passwordSource) {}

    /**
     * The running {@code meshguard up} this command's database comes from; empty when a database is named
     * ({@code --db}, {@code MESHGUARD_DB_URL}) or none runs. Commands take the stack's other parts (its Redis) from
     * the same place, so a command never mixes one stack's database with another's Redis.
     */
    public Optional<RunningStack> runningStack(Map<String, String> env) throws IOException {
        if (url != null || env.get(URL_ENV) != null) {
            return Optional.empty();
        }
        return RunningStack.find(dataDir);
    }

    /** The database this command uses; reads {@code env} for the {@code MESHGUARD_DB_*} variables. */
    public Target target(Map<String, String> env) throws IOException {
        Optional<String> explicit = Optional.ofNullable(url).or(() -> Optional.ofNullable(env.get(URL_ENV)));
        if (explicit.isPresent()) {
            String jdbc = explicit.get();
            if (!jdbc.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("--db must be a jdbc:postgresql: URL, got '" + jdbc + "'");
            }
            Optional<String> dbUser = Optional.ofNullable(user).or(() -> Optional.ofNullable(env.get(USER_ENV)));
            Optional<Path> file = Optional.ofNullable(passwordFile)
                    .or(() -> Optional.ofNullable(env.get(PASSWORD_FILE_ENV)).map(Path::of));
            if (file.isPresent()) {
                return new Target(
                        jdbc,
                        dbUser,
                        Optional.of(readPassword(file.get())),
                        url != null ? "--db" : URL_ENV,
                        "password file " + file.get());
            }
            Optional<String> password = Optional.ofNullable(env.get(PASSWORD_ENV));
            return new Target(
                    jdbc,
                    dbUser,
                    password,
                    url != null ? "--db" : URL_ENV,
                    password.isPresent() ? PASSWORD_ENV : "no password given");
        }
        if (user != null || passwordFile != null) {
            throw new IllegalArgumentException(
                    "--db-user and --db-password-file go with --db URL (or MESHGUARD_DB_URL)");
        }
        Optional<RunningStack> stack = RunningStack.find(dataDir);
        if (stack.isEmpty()) {
            throw new IllegalStateException("no database given: pass --db URL, set " + URL_ENV
                    + ", or start `meshguard up` (" + RunningStack.notRunning(dataDir) + ")");
        }
        RunningStack up = stack.get();
        return new Target(
                up.jdbcUrl(),
                Optional.of(up.dbUser()),
                Optional.of(up.dbPassword()),
                "the `meshguard up` on " + up.dataDir(),
                "that stack's password file " + up.state().dbPasswordFile());
    }

    /**
     * A connection-per-use data source on the database, checked once: a database that refuses the login fails here,
     * with a message that says which database, which user and where the password came from.
     */
    public DataSource open(String applicationName, Map<String, String> env) throws IOException {
        Target target = target(env);
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setApplicationName(applicationName);
        ds.setConnectTimeout(10);
        ds.setUrl(target.url());
        target.user().ifPresent(ds::setUser);
        target.password().ifPresent(ds::setPassword);
        try (Connection probe = ds.getConnection()) {
            return ds;
        } catch (SQLException e) {
            throw new IllegalStateException(explain(target, e), e);
        }
    }

    /** {@link #open}, with a bad setting (no URL, an unreadable password file) refused as a usage error of the command. */
    public DataSource openFor(CommandSpec spec, String applicationName, Map<String, String> env) throws IOException {
        try {
            return open(applicationName, env);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** What failed when connecting to {@code target}, and for a refused login what to pass. */
    public static String explain(Target target, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String where = redact(target.url()) + " (from " + target.origin() + ")";
        // 28P01 invalid_password, 28000 invalid_authorization_specification (PostgreSQL errcodes.txt)
        if (state.equals("28P01") || state.equals("28000")) {
            return "the database at " + where + " refused the login of user '"
                    + target.user().orElse("(from the URL)")
                    + "' with the password from " + target.passwordSource() + ": pass the right one with"
                    + " --db-password-file FILE, " + PASSWORD_FILE_ENV + " or " + PASSWORD_ENV + " (" + e.getMessage()
                    + ")";
        }
        return "cannot connect to the database at " + where + ": " + e.getMessage();
    }

    private static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    private static String readPassword(Path file) throws IOException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IOException("cannot read the database password file " + file + ": " + e.getMessage(), e);
        }
    }
}
