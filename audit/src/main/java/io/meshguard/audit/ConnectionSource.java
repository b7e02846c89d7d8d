package io.meshguard.audit;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Opens a database connection for the audit writer. The writer keeps one connection of its own (it writes from a
 * single thread) and reopens it after a failure, so it does not depend on a pool's timeouts to notice that
 * PostgreSQL is gone or back.
 */
@FunctionalInterface
public interface ConnectionSource {
    Connection open() throws SQLException;

    /** Connections from an existing DataSource (a pool works; its connection timeout then bounds outages). */
    static ConnectionSource of(DataSource dataSource) {
        Objects.requireNonNull(dataSource, "dataSource");
        return dataSource::getConnection;
    }

    /**
     * Unpooled connections to a {@code jdbc:postgresql:} URL, with connect and socket timeouts so a database that
     * vanishes (or hangs) is detected within {@code timeout}.
     */
    static ConnectionSource forUrl(String jdbcUrl, String user, String password, Duration timeout) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl(jdbcUrl);
        if (user != null && !user.isEmpty()) {
            ds.setUser(user);
        }
        if (password != null && !password.isEmpty()) {
            ds.setPassword(password);
        }
        int seconds = (int) Math.max(1, timeout.toSeconds());
        ds.setConnectTimeout(seconds);
        ds.setLoginTimeout(seconds);
        ds.setSocketTimeout(Math.max(seconds, 30));
        ds.setTcpKeepAlive(true);
        ds.setApplicationName("meshguard-audit");
        return ds::getConnection;
    }
}
