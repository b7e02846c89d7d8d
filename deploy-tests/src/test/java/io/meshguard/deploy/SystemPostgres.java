package io.meshguard.deploy;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A throwaway PostgreSQL cluster run from the machine's own binaries ({@code /usr/lib/postgresql/<major>/bin}, the
 * Debian/Ubuntu layout), for what the embedded test server cannot do: zonky's binaries ship no {@code pg_dump}, and
 * {@code pg_dump} refuses a server of a newer major than its own. Server and client tools here are of one major.
 *
 * <p>initdb, postgres and pg_ctl refuse to run as root; as root they run in a user namespace of their own
 * ({@code unshare -U}), where they are "nobody" and the files they create stay root's: zonky does the same
 * ({@code EmbeddedPostgres.Command}).
 */
final class SystemPostgres implements AutoCloseable {
    static final Path DEBIAN_LAYOUT = Path.of("/usr/lib/postgresql");
    /** The programs a backup and restore round trip needs. */
    static final List<String> PROGRAMS =
            List.of("initdb", "pg_ctl", "postgres", "pg_dump", "pg_dumpall", "pg_restore", "psql");

    private final Path bin;
    private final Path dataDir;
    private final int port;

    private SystemPostgres(Path bin, Path dataDir, int port) {
        this.bin = bin;
        this.dataDir = dataDir;
        this.port = port;
    }

    /** The newest major under {@link #DEBIAN_LAYOUT} whose bin/ has every one of {@link #PROGRAMS}. */
    static Optional<Path> binaries() {
        if (!Files.isDirectory(DEBIAN_LAYOUT)) {
            return Optional.empty();
        }
        try (Stream<Path> majors = Files.list(DEBIAN_LAYOUT)) {
            return majors.filter(m -> m.getFileName().toString().matches("[0-9]+"))
                    .sorted(Comparator.comparingInt(
                                    (Path m) -> Integer.parseInt(m.getFileName().toString()))
                            .reversed())
                    .map(m -> m.resolve("bin"))
                    .filter(b -> PROGRAMS.stream().allMatch(p -> Files.isExecutable(b.resolve(p))))
                    .findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** initdb into {@code dataDir} (trust authentication, superuser {@code postgres}) and start on a free port. */
    static SystemPostgres start(Path bin, Path dataDir) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        SystemPostgres pg = new SystemPostgres(bin, dataDir, port);
        pg.server(
                "initdb",
                "-D",
                dataDir.resolve("data").toString(),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8");
        // TCP on loopback only, no Unix socket (Debian's default socket directory may not be writable here)
        pg.server(
                "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                dataDir.resolve("data").toString(),
                "-l",
                dataDir.resolve("server.log").toString(),
                "-o",
                "-p " + port + " -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off");
        return pg;
    }

    int port() {
        return port;
    }

    /** A data source on {@code database} as the superuser. */
    PGSimpleDataSource dataSource(String database) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setUrl("jdbc:postgresql://127.0.0.1:" + port + "/" + database);
        ds.setUser("postgres");
        return ds;
    }

    /** Runs a client program of this major against this server ({@code -h}, {@code -p}, {@code -U} added); its output. */
    String client(String program, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                bin.resolve(program).toString(), "-h", "127.0.0.1", "-p", Integer.toString(port), "-U", "postgres"));
        command.addAll(List.of(args));
        return run(command);
    }

    private void server(String program, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (runsAsRoot()) {
            command.addAll(List.of("unshare", "-U"));
        }
        command.add(bin.resolve(program).toString());
        command.addAll(List.of(args));
        run(command);
    }

    private String run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dataDir, "cmd", ".out");
        Process p = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(out.toFile())
                .start();
        if (!p.waitFor(Duration.ofMinutes(2).toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish in 2 minutes");
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + p.exitValue() + ":\n" + output);
        }
        return output;
    }

    private static boolean runsAsRoot() throws IOException {
        return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
    }

    /** Fast shutdown; waits until the server is down. */
    @Override
    public void close() throws IOException, InterruptedException {
        server(
                "pg_ctl",
                "stop",
                "-w",
                "-m",
                "fast",
                "-D",
                dataDir.resolve("data").toString());
    }
}
