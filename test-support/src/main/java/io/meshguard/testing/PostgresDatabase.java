package io.meshguard.testing;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.db.DbSettings;
import org.jooq.DSLContext;

/** A PostgreSQL database that a test fixture created for one test class. */
public interface PostgresDatabase {

    /** Application name of the fixture's own pool, and the default for {@link #dbSettings()}. */
    String APPLICATION_NAME = "meshguard-test";

    /** JDBC URL of the database; credentials are {@link #user()} and {@link #password()}. */
    String jdbcUrl();

    String user();

    /** Empty when the server trusts local connections. */
    String password();

    /** The database's name, unique per test class. */
    String databaseName();

    /** A pool on the database, closed after the test class. */
    HikariDataSource dataSource();

    /** jOOQ on {@link #dataSource()}, PostgreSQL dialect. */
    DSLContext dsl();

    /** Settings for code under test that builds its own pool (e.g. through {@code DataSourceFactory}). */
    default DbSettings dbSettings() {
        return DbSettings.of(jdbcUrl(), user(), password()).withApplicationName(APPLICATION_NAME);
    }
}
