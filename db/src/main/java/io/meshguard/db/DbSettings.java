package io.meshguard.db;

import java.time.Duration;
import java.util.Objects;

/**
 * How to reach PostgreSQL and how to size the connection pool.
 *
 * <p>Callers map their own configuration keys onto this record; {@link #of(String, String, String)} gives
 * the defaults and the {@code with*} methods change one thing at a time. The constructor rejects values
 * the pool would otherwise silently adjust. {@link #toString()} never shows the password.
 *
 * @param jdbcUrl                 {@code jdbc:postgresql://host:port/database[?params]}
 * @param user                    database role
 * @param password                its password; empty for trust authentication
 * @param maxPoolSize             most connections the pool keeps open
 * @param minIdle                 idle connections the pool tries to keep ready
 * @param connectionTimeout       how long a caller waits for a connection before it gets an error
 * @param validationTimeout       how long a connection liveness check may take (less than connectionTimeout)
 * @param idleTimeout             when an idle connection above minIdle is closed; zero keeps them
 * @param maxLifetime             when a connection is replaced; zero never replaces it
 * @param applicationName         shown as {@code application_name} in {@code pg_stat_activity} and the pool name
 * @param requireDatabaseAtStart  true: creating the pool fails when the database cannot be reached;
 *                                false: the pool starts empty and connects on first use (servers that must
 *                                keep serving, and spool their audit records, while the database is away)
 */
public record DbSettings(
        String jdbcUrl,
        String user,
        String password,
        int maxPoolSize,
        int minIdle,
        Duration connectionTimeout,
        Duration validationTimeout,
        Duration idleTimeout,
        Duration maxLifetime,
        String applicationName,
        boolean requireDatabaseAtStart) {

    /** PostgreSQL keeps at most this many bytes of {@code application_name} (NAMEDATALEN - 1). */
    public static final int MAX_APPLICATION_NAME_LENGTH = 63;

    private static final Duration MIN_TIMEOUT = Duration.ofMillis(250);
    private static final Duration MIN_IDLE_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration MIN_LIFETIME = Duration.ofSeconds(30);

    public DbSettings {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password (use an empty string for none)");
        Objects.requireNonNull(connectionTimeout, "connectionTimeout");
        Objects.requireNonNull(validationTimeout, "validationTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(maxLifetime, "maxLifetime");
        Objects.requireNonNull(applicationName, "applicationName");
        if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException(
                    "jdbcUrl must start with 'jdbc:postgresql:', got '" + redactUrl(jdbcUrl) + "'");
        }
        if (user.isBlank()) {
            throw new IllegalArgumentException("user must not be blank");
        }
        if (maxPoolSize < 1) {
            throw new IllegalArgumentException("maxPoolSize must be at least 1, got " + maxPoolSize);
        }
        if (minIdle < 0 || minIdle > maxPoolSize) {
            throw new IllegalArgumentException(
                    "minIdle must be between 0 and maxPoolSize (" + maxPoolSize + "), got " + minIdle);
        }
        requireAtLeast("connectionTimeout", connectionTimeout, MIN_TIMEOUT);
        requireAtLeast("validationTimeout", validationTimeout, MIN_TIMEOUT);
        if (validationTimeout.compareTo(connectionTimeout) >= 0) {
            throw new IllegalArgumentException("validationTimeout (" + validationTimeout
                    + ") must be shorter than connectionTimeout (" + connectionTimeout + ")");
        }
        if (!idleTimeout.isZero()) {
            requireAtLeast("idleTimeout", idleTimeout, MIN_IDLE_TIMEOUT);
        }
        if (!maxLifetime.isZero()) {
            requireAtLeast("maxLifetime", maxLifetime, MIN_LIFETIME);
        }
        if (applicationName.isBlank()
                || applicationName.length() > MAX_APPLICATION_NAME_LENGTH
                || !applicationName.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException("applicationName must be 1 to " + MAX_APPLICATION_NAME_LENGTH
                    + " printable ASCII characters, got '" + applicationName + "'");
        }
    }

    /**
     * Settings with the defaults: 10 connections at most, 1 kept idle, 5 s to get a connection, 2 s to
     * validate one, idle connections closed after 10 min, connections replaced after 30 min, application
     * name {@code meshguard}, database not required at start.
     */
    public static DbSettings of(String jdbcUrl, String user, String password) {
        return new DbSettings(
                jdbcUrl,
                user,
                password,
                10,
                1,
                Duration.ofSeconds(5),
                Duration.ofSeconds(2),
                Duration.ofMinutes(10),
                Duration.ofMinutes(30),
                "meshguard",
                false);
    }

    public DbSettings withPoolSize(int newMaxPoolSize, int newMinIdle) {
        return new DbSettings(
                jdbcUrl,
                user,
                password,
                newMaxPoolSize,
                newMinIdle,
                connectionTimeout,
                validationTimeout,
                idleTimeout,
                maxLifetime,
                applicationName,
                requireDatabaseAtStart);
    }

    public DbSettings withConnectionTimeout(Duration newConnectionTimeout) {
        return new DbSettings(
                jdbcUrl,
                user,
                password,
                maxPoolSize,
                minIdle,
                newConnectionTimeout,
                validationTimeout,
                idleTimeout,
                maxLifetime,
                applicationName,
                requireDatabaseAtStart);
    }

    public DbSettings withValidationTimeout(Duration newValidationTimeout) {
        return new DbSettings(
                jdbcUrl,
                user,
                password,
                maxPoolSize,
                minIdle,
                connectionTimeout,
                newValidationTimeout,
                idleTimeout,
                maxLifetime,
                applicationName,
                requireDatabaseAtStart);
    }

    public DbSettings withIdleTimeout(Duration newIdleTimeout) {
        return new DbSettings(
                jdbcUrl,
                user,
                password,
                maxPoolSize,
                minIdle,
                connectionTimeout,
                validationTimeout,
                newIdleTimeout,
                maxLifetime,
                applicationName,
                requireDatabaseAtStart);
    }

    public DbSettings withMaxLifetime(Duration newMaxLifetime) {
        return new DbSettings(
                jdbcUrl,
                user,
                password,
                maxPoolSize,
                minIdle,
                connectionTimeout,
                validationTimeout,
                idleTimeout,
                newMaxLifetime,
                applicationName,
                requireDatabaseAtStart);
    }

    /** Names the pool and the PostgreSQL sessions, e.g. {@code meshguard-extauthz}. */
    public DbSettings withApplicationName(String newApplicationName) {
        return new DbSettings(
                jdbcUrl,
                user,
                password,
                maxPoolSize,
                minIdle,
                connectionTimeout,
                validationTimeout,
                idleTimeout,
                maxLifetime,
                newApplicationName,
                requireDatabaseAtStart);
    }

    public DbSettings withRequireDatabaseAtStart(boolean newRequireDatabaseAtStart) {
        return new DbSettings(
                jdbcUrl,
                user,
                password,
                maxPoolSize,
                minIdle,
                connectionTimeout,
                validationTimeout,
                idleTimeout,
                maxLifetime,
                applicationName,
                newRequireDatabaseAtStart);
    }

    /** Same as the record's, with the password and any password in the URL masked. */
    @Override
    public String toString() {
        return "DbSettings[jdbcUrl=" + redactUrl(jdbcUrl) + ", user=" + user + ", password="
                + (password.isEmpty() ? "" : "****") + ", maxPoolSize=" + maxPoolSize + ", minIdle=" + minIdle
                + ", connectionTimeout=" + connectionTimeout + ", validationTimeout=" + validationTimeout
                + ", idleTimeout=" + idleTimeout + ", maxLifetime=" + maxLifetime
                + ", applicationName=" + applicationName + ", requireDatabaseAtStart=" + requireDatabaseAtStart + "]";
    }

    /** The URL with the value of any {@code password=} parameter replaced, for logs and messages. */
    public static String redactUrl(String jdbcUrl) {
        return jdbcUrl.replaceAll("(?i)(password=)[^&]*", "$1****");
    }

    private static void requireAtLeast(String name, Duration value, Duration min) {
        if (value.compareTo(min) < 0) {
            throw new IllegalArgumentException(
                    name + " must be at least " + min.toMillis() + " ms, got " + value.toMillis() + " ms");
        }
    }
}
