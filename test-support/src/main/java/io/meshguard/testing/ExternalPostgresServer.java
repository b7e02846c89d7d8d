package io.meshguard.testing;

import io.meshguard.db.DbSettings;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.postgresql.Driver;

/** A server someone else runs, named by {@code MESHGUARD_TEST_JDBC_URL}; we only add and drop databases. */
final class ExternalPostgresServer implements PostgresServer {

    static final String URL_VARIABLE = "MESHGUARD_TEST_JDBC_URL";
    static final String USER_VARIABLE = "MESHGUARD_TEST_JDBC_USER";
    static final String PASSWORD_VARIABLE = "MESHGUARD_TEST_JDBC_PASSWORD";

    private static final Pattern URL = Pattern.compile("(jdbc:postgresql://[^/?]+)(?:/([^?]*))?(\\?.*)?");

    private final String adminUrl;
    private final String adminDatabase;
    private final String user;
    private final String password;

    private ExternalPostgresServer(String adminUrl, String adminDatabase, String user, String password) {
        this.adminUrl = adminUrl;
        this.adminDatabase = adminDatabase;
        this.user = user;
        this.password = password;
    }

    /**
     * From the environment: the admin URL (credentials as {@code user}/{@code password} parameters, or in
     * {@value #USER_VARIABLE} and {@value #PASSWORD_VARIABLE}, which win).
     */
    static ExternalPostgresServer fromEnvironment(Map<String, String> env) {
        String url = Objects.requireNonNull(env.get(URL_VARIABLE), URL_VARIABLE);
        Matcher m = URL.matcher(url);
        Properties parsed = Driver.parseURL(url, new Properties());
        if (!m.matches() || parsed == null) {
            throw new IllegalArgumentException(URL_VARIABLE + " must look like "
                    + "jdbc:postgresql://host:5432/postgres?user=...&password=..., got '" + DbSettings.redactUrl(url)
                    + "'");
        }
        String database = m.group(2) == null || m.group(2).isEmpty() ? "postgres" : m.group(2);
        String user = env.getOrDefault(USER_VARIABLE, parsed.getProperty("user", ""));
        String password = env.getOrDefault(PASSWORD_VARIABLE, parsed.getProperty("password", ""));
        if (user.isBlank()) {
            throw new IllegalArgumentException(
                    "No user for " + URL_VARIABLE + ": add ?user=... to the URL or set " + USER_VARIABLE);
        }
        return new ExternalPostgresServer(url, database, user, password);
    }

    /** {@code adminUrl} with its database replaced by {@code database}, parameters kept. */
    static String databaseUrl(String adminUrl, String database) {
        Matcher m = URL.matcher(adminUrl);
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    "Not a jdbc:postgresql://host[:port]/database URL: '" + DbSettings.redactUrl(adminUrl) + "'");
        }
        return m.group(1) + "/" + database + (m.group(3) == null ? "" : m.group(3));
    }

    @Override
    public String backend() {
        return "external";
    }

    @Override
    public String jdbcUrl(String database) {
        return databaseUrl(adminUrl, database);
    }

    @Override
    public String adminDatabase() {
        return adminDatabase;
    }

    @Override
    public String user() {
        return user;
    }

    @Override
    public String password() {
        return password;
    }

    @Override
    public void close() {
        // Not ours to stop.
    }

    @Override
    public String toString() {
        return "external PostgreSQL at " + DbSettings.redactUrl(adminUrl);
    }
}
