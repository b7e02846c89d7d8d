package io.meshguard.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/**
 * Runs work for one admin caller in a transaction PostgreSQL itself confines to the caller's tenants: the transaction
 * switches to the role {@code meshguard_tenant_scoped} and sets {@code meshguard.tenants}, so the row-level security
 * policies of migration V35 hide and refuse every other tenant's APIs, versions, routes, upstreams, endpoints and API
 * keys, whatever the queries inside forget to filter. Both settings are {@code LOCAL}: they end with the transaction
 * and never leak to the next user of a pooled connection. A {@link TenantScope#ALL} scope runs unconfined.
 */
public final class TenantScopedTransactions {
    /** The role migration V35 creates. */
    public static final String SCOPED_ROLE = "meshguard_tenant_scoped";

    /** Work on a connection inside the transaction. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    private final DataSource dataSource;

    public TenantScopedTransactions(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Runs {@code work} confined to {@code scope}; commits when it returns, rolls back when it throws. */
    public <T> T inScope(TenantScope scope, SqlWork<T> work) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                if (!scope.all()) {
                    try (Statement st = c.createStatement()) {
                        st.execute("set local role " + SCOPED_ROLE);
                    }
                    try (PreparedStatement ps = c.prepareStatement("select set_config('meshguard.tenants', ?, true)")) {
                        ps.setString(1, scope.setting());
                        ps.execute();
                    }
                }
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        }
    }
}
