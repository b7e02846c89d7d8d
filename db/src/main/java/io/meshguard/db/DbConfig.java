package io.meshguard.db;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The {@code db.*} keys every server that uses PostgreSQL reads, and the {@link DbSettings} they make. The
 * password comes from a file (a mounted Kubernetes Secret) or {@code MESHGUARD_DB_PASSWORD}; never from the
 * YAML file, which lives in a ConfigMap.
 */
public final class DbConfig implements ConfigGroup<DbSettings> {
    public static final ConfigKey<String> URL = ConfigKey.string(
            "db.url", "", "JDBC URL of the PostgreSQL database, e.g. jdbc:postgresql://postgres:5432/meshguard.");
    public static final ConfigKey<String> USER = ConfigKey.string("db.user", "meshguard", "Database user.");
    public static final ConfigKey<Optional<Path>> PASSWORD_FILE = ConfigKey.optionalPath(
            "db.password_file",
            "File holding the database password (a mounted Secret); takes precedence over db.password.");
    public static final ConfigKey<String> PASSWORD = ConfigKey.string(
            "db.password", "", "Database password; set it through MESHGUARD_DB_PASSWORD, not in the YAML file.");
    public static final ConfigKey<Integer> POOL_SIZE =
            ConfigKey.integer("db.pool_size", 10, 1, 200, "Maximum connections in this server's pool.");
    public static final ConfigKey<Duration> CONNECTION_TIMEOUT = ConfigKey.duration(
            "db.connection_timeout",
            Duration.ofSeconds(5),
            "How long a caller waits for a pooled connection before failing.");

    private final String applicationName;

    /** @param applicationName what PostgreSQL shows in {@code pg_stat_activity}, e.g. {@code meshguard-xds} */
    public DbConfig(String applicationName) {
        this.applicationName = applicationName;
    }

    @Override
    public List<ConfigKey<?>> keys() {
        return List.of(URL, USER, PASSWORD_FILE, PASSWORD, POOL_SIZE, CONNECTION_TIMEOUT);
    }

    /**
     * Reads the settings.
     *
     * @throws IllegalStateException when {@code db.url} is empty
     * @throws UncheckedIOException when the password file cannot be read
     */
    @Override
    public DbSettings read(Config config) {
        String url = config.get(URL);
        if (url.isBlank()) {
            throw new IllegalStateException("db.url (MESHGUARD_DB_URL) is required by " + applicationName);
        }
        String password = config.get(PASSWORD_FILE).map(DbConfig::readPassword).orElse(config.get(PASSWORD));
        return DbSettings.of(url, config.get(USER), password)
                .withApplicationName(applicationName)
                .withPoolSize(config.get(POOL_SIZE), 1)
                .withConnectionTimeout(config.get(CONNECTION_TIMEOUT));
    }

    private static String readPassword(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read db.password_file " + file + ": " + e.getMessage(), e);
        }
    }
}
