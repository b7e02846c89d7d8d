package io.meshguard.devstack.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.Migrations;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("integration")
class LocalPostgresTest {

    @TempDir
    Path tmp;

    @Test
    void closeThenStart_sameDataDirectory_stopsProcessAndKeepsDataAndSchemaVersion() throws Exception {
        Path dir = tmp.resolve("pgdata");
        LocalPostgres first = LocalPostgres.start(dir, 0);
        long firstPid = first.pid();
        try (var ds = DataSourceFactory.create(first.dbSettings("meshguard-test"))) {
            assertThat(first.isRunning()).isTrue();
            assertThat(LocalPostgres.postmasterPid(dir)).contains(firstPid);
            Migrations.MigrationResult applied = Migrations.apply(ds);
            assertThat(applied.previousVersion()).isEmpty();
            assertThat(applied.applied()).isGreaterThanOrEqualTo(2);
            execute(first, "create table kept (v varchar(16))", "insert into kept values ('first run')");
        } finally {
            first.close();
        }
        assertThat(isAlive(firstPid)).as("server process gone after close").isFalse();
        assertThat(first.isRunning()).isFalse();
        assertThat(dir.resolve("postmaster.pid")).doesNotExist();
        first.close(); // a second close is harmless

        try (LocalPostgres pg = LocalPostgres.start(dir, 0)) {
            assertThat(pg.pid()).isNotEqualTo(firstPid);
            assertThat(queryString(pg, "select v from kept")).isEqualTo("first run");
            try (var ds = DataSourceFactory.create(pg.dbSettings("meshguard-test"))) {
                Migrations.MigrationResult second = Migrations.apply(ds);
                assertThat(second.applied()).isZero();
                assertThat(second.previousVersion()).contains(second.currentVersion());
                assertThat(Migrations.currentVersion(ds)).contains(second.currentVersion());
                assertThat(Migrations.pendingVersions(ds)).isEmpty();
            }
        }
    }

    @Test
    void start_onAPortAProgramListensOnWithoutAnswering_failsAtOnceSayingItIsNotPostgres() throws Exception {
        try (java.net.ServerSocket silent =
                new java.net.ServerSocket(0, 50, java.net.InetAddress.getByName("127.0.0.1"))) {
            // Accepts (the kernel's backlog does) and never says a word: the readiness check once hung on it forever.
            Path dir = tmp.resolve("pgdata");
            assertThatThrownBy(() -> LocalPostgres.start(dir, silent.getLocalPort()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("port " + silent.getLocalPort())
                    .hasMessageContaining("already in use by a program that is not PostgreSQL");
            assertThat(dir.resolve("postgresql.conf")).as("nothing initialised").doesNotExist();
        }
    }

    @Nested
    class OneServer {

        @TempDir
        static Path dir;

        static LocalPostgres pg;

        @BeforeAll
        static void start() {
            pg = LocalPostgres.start(dir.resolve("pgdata"), 0);
        }

        @AfterAll
        static void stop() {
            pg.close();
        }

        @Test
        void aSecondServer_onThePortOfThisOne_failsAtOnceNamingAnotherPostgres(@TempDir Path other) {
            assertThatThrownBy(() -> LocalPostgres.start(other.resolve("pgdata"), pg.port()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("port " + pg.port())
                    .hasMessageContaining("already in use by another PostgreSQL server");
        }

        @Test
        void connect_wrongPassword_rejected() throws Exception {
            assertThat(pg.password()).hasSizeGreaterThanOrEqualTo(20);
            assertThatThrownBy(() -> DriverManager.getConnection(pg.jdbcUrl(), pg.user(), "not-the-password")
                            .close())
                    .isInstanceOf(SQLException.class)
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
            assertThat(queryString(pg, "select current_database()")).isEqualTo(LocalPostgres.DEFAULT_DATABASE);
        }

        @Test
        void passwordFile_readableByOwnerOnly() throws Exception {
            Path file = pg.dataDirectory().resolve("meshguard-superuser-password");
            assertThat(Files.readString(file).trim()).isEqualTo(pg.password());
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                    .isEqualTo("rw-------");
        }

        @Test
        void start_directoryAlreadyServed_refusedAndFirstServerUnharmed() throws Exception {
            assertThatThrownBy(() -> LocalPostgres.start(pg.dataDirectory(), 0))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("in use");
            assertThat(pg.isRunning()).isTrue();
            assertThat(queryString(pg, "select 'still serving'")).isEqualTo("still serving");
        }
    }

    /**
     * Another PostgreSQL on this port number listening on its Unix socket only (no TCP): its socket lock file in /tmp
     * once made the start wait the whole start-up wait and fail with no reason; the local server has no socket now.
     */
    @Test
    void start_whileAnotherServerHoldsTheSocketLockOfThePort_startsOnTcpAlone() throws Exception {
        int port = freePort();
        Path lock = Path.of("/tmp/.s.PGSQL." + port + ".lock");
        Process holder = new ProcessBuilder("sleep", "600").start();
        try {
            // what a live postmaster writes there: its pid first (PostgreSQL refuses a lock whose pid is alive)
            Files.writeString(lock, holder.pid() + "\n/var/lib/postgresql/15/main\n");
            try (LocalPostgres pg = LocalPostgres.start(tmp.resolve("pgdata"), port)) {
                assertThat(queryString(pg, "select 'up'")).isEqualTo("up");
                assertThat(queryString(pg, "show unix_socket_directories")).isEmpty();
            }
            assertThat(Files.readString(lock))
                    .as("the other server's lock is untouched")
                    .startsWith(holder.pid() + "\n");
        } finally {
            holder.destroy();
            Files.deleteIfExists(lock);
        }
    }

    @Test
    void start_customDatabaseAndFixedPort_areUsed() throws Exception {
        int port = freePort();
        try (LocalPostgres pg = LocalPostgres.start(tmp.resolve("pgdata"), port, "mg_local")) {
            assertThat(pg.port()).isEqualTo(port);
            assertThat(pg.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:" + port + "/mg_local");
            assertThat(queryString(pg, "select current_database()")).isEqualTo("mg_local");
        }
    }

    @Test
    void start_directoryWithOtherFiles_rejectedAndFilesKept() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("not-pg"));
        Path notes = Files.writeString(dir.resolve("notes.txt"), "important");

        assertThatThrownBy(() -> LocalPostgres.start(dir, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not empty")
                .hasMessageContaining("notes.txt");
        assertThat(notes).hasContent("important");
    }

    @Test
    void start_invalidArguments_rejected() {
        assertThatThrownBy(() -> LocalPostgres.start(tmp.resolve("a"), 70000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("port");
        assertThatThrownBy(() -> LocalPostgres.start(tmp.resolve("a"), 0, "Drop Table"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("database name");
    }

    @Test
    void start_serverLeftByKilledProcess_isReplacedAndDataKept() throws Exception {
        Path dir = tmp.resolve("pgdata");
        Process child = new ProcessBuilder(
                        javaBinary(), "-cp", testClassPath(), OrphaningMain.class.getName(), dir.toString())
                .redirectErrorStream(true)
                .start();
        long orphanPid;
        try {
            orphanPid = awaitReady(child);
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hook, the server stays behind
            child.waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(isAlive(orphanPid)).as("server outlives its killed owner").isTrue();

        try (LocalPostgres pg = LocalPostgres.start(dir, 0)) {
            assertThat(isAlive(orphanPid)).isFalse();
            assertThat(pg.pid()).isNotEqualTo(orphanPid);
            assertThat(queryString(pg, "select v from kept")).isEqualTo("written by the killed process");
        }
    }

    /** Runs in a child JVM: starts a server, writes a row, reports the server's pid, waits to be killed. */
    public static final class OrphaningMain {
        public static void main(String[] args) throws Exception {
            LocalPostgres pg = LocalPostgres.start(Path.of(args[0]), 0);
            execute(
                    pg,
                    "create table kept (v varchar(64))",
                    "insert into kept values ('written by the killed process')");
            System.out.println("READY " + pg.pid());
            System.out.flush();
            Thread.sleep(TimeUnit.MINUTES.toMillis(5));
        }
    }

    private static long awaitReady(Process child) throws IOException {
        List<String> output = new ArrayList<>();
        BufferedReader reader =
                new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        String line;
        while ((line = reader.readLine()) != null) {
            output.add(line);
            if (line.startsWith("READY ")) {
                return Long.parseLong(line.substring("READY ".length()).trim());
            }
        }
        throw new AssertionError("child JVM ended before its server was ready:\n" + String.join("\n", output));
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static String testClassPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    static void execute(LocalPostgres pg, String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    static String queryString(LocalPostgres pg, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(), pg.user(), pg.password());
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).as("a row from: " + sql).isTrue();
            return rs.getString(1);
        }
    }

    static boolean isAlive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    static int freePort() throws IOException {
        try (var socket = new java.net.ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
