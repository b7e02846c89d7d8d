package io.meshguard.catalog;

import io.meshguard.db.TenantScope;
import io.meshguard.db.TenantScopedTransactions;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * The catalogue stores' one way into PostgreSQL: a transaction confined to the caller's tenants, its SQL errors said
 * in words ({@link CatalogRows#translate}).
 */
final class CatalogTransactions {
    private final DataSource dataSource;
    private final TenantScopedTransactions tx;

    CatalogTransactions(DataSource dataSource) {
        this.dataSource = dataSource;
        this.tx = new TenantScopedTransactions(dataSource);
    }

    <T> T run(TenantScope scope, TenantScopedTransactions.SqlWork<T> work) {
        try {
            return tx.inScope(scope, work);
        } catch (SQLException e) {
            throw CatalogRows.translate(e);
        }
    }

    /** A plain connection, outside any tenant scope (the snapshot reads every tenant's rows). */
    Connection connection() throws SQLException {
        return dataSource.getConnection();
    }
}
