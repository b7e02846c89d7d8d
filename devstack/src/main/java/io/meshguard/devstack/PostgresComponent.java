package io.meshguard.devstack;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbSettings;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/** The embedded PostgreSQL of {@code meshguard up}: started, migrated and pooled; stopped last. */
final class PostgresComponent implements ServerComponent {
    private final Path dataDir;
    private final int port;
    private LocalPostgres server;
    private HikariDataSource dataSource;
    private Migrations.MigrationResult migration;

    PostgresComponent(Path dataDir, int port) {
        this.dataDir = dataDir;
        this.port = port;
    }

    @Override
    public String name() {
        return "postgres";
    }

    @Override
    public void start() {
        server = LocalPostgres.start(dataDir, port);
        // The stack closes PostgreSQL after the servers have drained; its own hook would stop it at once.
        server.stopOnlyOnClose();
        dataSource = DataSourceFactory.create(settings());
        migration = Migrations.apply(dataSource);
    }

    DbSettings settings() {
        return server.dbSettings("meshguard-up");
    }

    HikariDataSource dataSource() {
        return dataSource;
    }

    LocalPostgres server() {
        return server;
    }

    Migrations.MigrationResult migration() {
        return migration;
    }

    @Override
    public List<ReadinessCheck> readinessChecks() {
        return List.of(ReadinessCheck.of("postgres", this::check));
    }

    private ReadinessCheck.Result check() {
        if (!server.isRunning()) {
            return ReadinessCheck.Result.notReady("PostgreSQL process " + server.pid() + " is not running");
        }
        try (Connection connection = dataSource.getConnection()) {
            return connection.isValid(1)
                    ? ReadinessCheck.Result.ready("schema " + migration.currentVersion() + " on port " + server.port())
                    : ReadinessCheck.Result.notReady("connection to port " + server.port() + " is not valid");
        } catch (SQLException e) {
            return ReadinessCheck.Result.notReady("cannot connect: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        if (dataSource != null) {
            dataSource.close();
        }
        if (server != null) {
            server.close();
        }
    }
}
