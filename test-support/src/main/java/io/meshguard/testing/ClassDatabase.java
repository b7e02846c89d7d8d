package io.meshguard.testing;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbSettings;
import io.meshguard.db.Migrations;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Locale;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One test class's database: created empty (or migrated), with a pool; dropped when closed. */
final class ClassDatabase implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ClassDatabase.class);
    private static final SecureRandom RANDOM = new SecureRandom();

    private final PostgresServer server;
    private final String name;
    private final HikariDataSource dataSource;
    private final DSLContext dsl;

    private ClassDatabase(PostgresServer server, String name, HikariDataSource dataSource) {
        this.server = server;
        this.name = name;
        this.dataSource = dataSource;
        this.dsl = DSL.using(dataSource, SQLDialect.POSTGRES);
    }

    /** A new database, migrated with Flyway or left empty. */
    static ClassDatabase create(PostgresServer server, Class<?> testClass, boolean migrate) {
        String name = uniqueName(testClass);
        admin(server, "create database \"" + name + "\"");
        return open(
                server,
                testClass,
                name,
                () -> {
                    if (migrate) {
                        Migrations.apply(plainDataSource(server, name));
                    }
                },
                migrate ? ", migrations applied" : "");
    }

    /** A copy of {@code template} (a migrated database): much quicker than running Flyway again. */
    static ClassDatabase copyOf(PostgresServer server, Class<?> testClass, String template) {
        String name = uniqueName(testClass);
        admin(server, "create database \"" + name + "\" template \"" + template + "\"");
        return open(server, testClass, name, () -> {}, ", copied from migrated " + template);
    }

    /** Creates {@code name} and runs every migration in it; no connection may use it afterwards. */
    static void createMigratedTemplate(PostgresServer server, String name) {
        admin(server, "create database \"" + name + "\"");
        try {
            Migrations.apply(plainDataSource(server, name));
            // Copying needs a database nobody is connected to.
            admin(server, "alter database \"" + name + "\" with allow_connections false");
        } catch (RuntimeException e) {
            drop(server, name);
            throw e;
        }
    }

    private static ClassDatabase open(
            PostgresServer server, Class<?> testClass, String name, Runnable prepare, String how) {
        try {
            prepare.run();
            DbSettings settings = DbSettings.of(server.jdbcUrl(name), server.user(), server.password())
                    .withApplicationName(PostgresDatabase.APPLICATION_NAME)
                    .withPoolSize(8, 0);
            ClassDatabase db = new ClassDatabase(server, name, DataSourceFactory.create(settings));
            LOG.info(
                    "Test database {} for {} on {} PostgreSQL{}",
                    name,
                    testClass.getSimpleName(),
                    server.backend(),
                    how);
            return db;
        } catch (RuntimeException e) {
            drop(server, name);
            throw e;
        }
    }

    private static PGSimpleDataSource plainDataSource(PostgresServer server, String name) {
        PGSimpleDataSource plain = new PGSimpleDataSource();
        plain.setURL(server.jdbcUrl(name));
        plain.setUser(server.user());
        plain.setPassword(server.password());
        return plain;
    }

    /** {@code mg_<class>_<random>}: readable in pg_stat_activity, unique across JVMs sharing a server. */
    static String uniqueName(Class<?> testClass) {
        String base = testClass
                .getSimpleName()
                .replaceAll("([A-Z])([A-Z][a-z])", "$1_$2")
                .replaceAll("([a-z0-9])([A-Z])", "$1_$2")
                .toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9_]", "_");
        if (base.length() > 40) {
            base = base.substring(0, 40);
        }
        byte[] suffix = new byte[4];
        RANDOM.nextBytes(suffix);
        return "mg_" + base + "_" + HexFormat.of().formatHex(suffix);
    }

    String name() {
        return name;
    }

    String jdbcUrl() {
        return server.jdbcUrl(name);
    }

    HikariDataSource dataSource() {
        return dataSource;
    }

    DSLContext dsl() {
        return dsl;
    }

    @Override
    public void close() {
        dataSource.close();
        drop(server, name);
    }

    static void drop(PostgresServer server, String name) {
        try {
            // FORCE: a test that leaked a connection must not leave its database behind.
            admin(server, "drop database if exists \"" + name + "\" with (force)");
        } catch (RuntimeException e) {
            LOG.warn("Could not drop test database {}: {}", name, e.getMessage());
        }
    }

    private static void admin(PostgresServer server, String sql) {
        try (Connection c = DriverManager.getConnection(
                        server.jdbcUrl(server.adminDatabase()), server.user(), server.password());
                Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + " failed on " + server + ": " + e.getMessage(), e);
        }
    }
}
