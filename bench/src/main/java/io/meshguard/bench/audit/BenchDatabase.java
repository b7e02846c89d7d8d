package io.meshguard.bench.audit;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import io.meshguard.devstack.db.LocalPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/** A throwaway embedded PostgreSQL (same binaries as {@code meshguard up}), migrated, for one benchmark run. */
final class BenchDatabase implements AutoCloseable {
    final LocalPostgres server;
    final HikariDataSource dataSource;

    private BenchDatabase(LocalPostgres server, HikariDataSource dataSource) {
        this.server = server;
        this.dataSource = dataSource;
    }

    static BenchDatabase start() throws IOException {
        Path dir = Files.createTempDirectory("meshguard-bench-pg");
        LocalPostgres server = LocalPostgres.start(dir, 0);
        HikariDataSource ds = DataSourceFactory.create(server.dbSettings("meshguard-bench"));
        Migrations.apply(ds);
        return new BenchDatabase(server, ds);
    }

    void truncateAuditEvents() throws SQLException {
        try (Connection c = dataSource.getConnection();
                Statement s = c.createStatement()) {
            s.execute("truncate audit_event");
            s.execute("vacuum analyze audit_event");
        }
    }

    long countAuditEvents() throws SQLException {
        try (Connection c = dataSource.getConnection();
                Statement s = c.createStatement();
                var rs = s.executeQuery("select count(*) from audit_event")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Override
    public void close() {
        dataSource.close();
        server.close();
    }
}
