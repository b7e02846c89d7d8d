package io.meshguard.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.util.Objects;
import java.util.function.Consumer;

/** Builds the one kind of connection pool meshguard uses: HikariCP over the PostgreSQL JDBC driver. */
public final class DataSourceFactory {

    private DataSourceFactory() {}

    /** A started pool for {@code settings}; close it when done. */
    public static HikariDataSource create(DbSettings settings) {
        return create(settings, config -> {});
    }

    /**
     * A started pool for {@code settings}, after {@code customizer} has seen the configuration: the hook
     * for what {@code db} does not know about, such as a Micrometer metrics tracker or driver properties
     * like {@code socketTimeout}.
     */
    public static HikariDataSource create(DbSettings settings, Consumer<HikariConfig> customizer) {
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(customizer, "customizer");
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(settings.jdbcUrl());
        config.setUsername(settings.user());
        config.setPassword(settings.password());
        config.setPoolName(settings.applicationName());
        config.setMaximumPoolSize(settings.maxPoolSize());
        config.setMinimumIdle(settings.minIdle());
        config.setConnectionTimeout(settings.connectionTimeout().toMillis());
        config.setValidationTimeout(settings.validationTimeout().toMillis());
        config.setIdleTimeout(settings.idleTimeout().toMillis());
        config.setMaxLifetime(settings.maxLifetime().toMillis());
        // 1 ms: try once and fail the constructor; -1: start empty and connect on first use.
        config.setInitializationFailTimeout(settings.requireDatabaseAtStart() ? 1 : -1);
        config.addDataSourceProperty("ApplicationName", settings.applicationName());
        // Without a connect timeout an unreachable host blocks a pool thread for the OS's TCP timeout.
        config.addDataSourceProperty("connectTimeout", Long.toString(ceilSeconds(settings)));
        config.addDataSourceProperty("tcpKeepAlive", "true");
        customizer.accept(config);
        return new HikariDataSource(config);
    }

    private static long ceilSeconds(DbSettings settings) {
        long millis = settings.connectionTimeout().toMillis();
        return Math.max(1, (millis + 999) / 1000);
    }
}
