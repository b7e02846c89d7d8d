package io.meshguard.testing;

/** A running PostgreSQL server in which fixtures create and drop databases as its superuser. */
interface PostgresServer extends AutoCloseable {

    /** Which kind of server: {@code external}, {@code testcontainers} or {@code embedded}. */
    String backend();

    /** JDBC URL of {@code database} on this server. */
    String jdbcUrl(String database);

    /** The database to connect to for CREATE/DROP DATABASE. */
    String adminDatabase();

    String user();

    String password();

    @Override
    void close();
}
