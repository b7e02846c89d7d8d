package io.meshguard.devstack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.cli.UpState;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * A cold copy of a local stack's data directory ({@code meshguard local backup|restore}): the embedded PostgreSQL's
 * files with everything else {@code up} keeps there (its keys, the admin token, the audit spools), taken while no
 * {@code up} runs on it. PostgreSQL's own rule for a file-system backup is that the server is shut down
 * (PostgreSQL 17 documentation, "File System Level Backup"): the data directory's lock, held here for the whole copy,
 * is what keeps an {@code up} from starting meanwhile, and a server a killed {@code up} left running is refused.
 * A dump is not an option on a stock machine: the embedded distribution ships no {@code pg_dump}, and a distribution's
 * older {@code pg_dump} refuses a newer server.
 */
final class LocalBackup {
    static final String MANIFEST = "meshguard-backup.json";
    static final int FORMAT = 1;
    /**
     * Not part of the copy: the lock and up.json belong to a running up; Keycloak's and Redis's directories hold
     * only a pid file, a log and a password regenerated at each start (the local realm is in memory, the local Redis
     * persists nothing); PostgreSQL's pid file names a process of the machine the copy came from.
     */
    private static final Set<String> LEFT_OUT = Set.of(
            DataDirLock.FILE_NAME,
            UpState.FILE_NAME,
            UpState.FILE_NAME + ".tmp",
            "keycloak",
            "redis",
            "postgres/postmaster.pid",
            "postgres/epg-lock");

    private LocalBackup() {}

    /** What a backup or restore did. */
    record Result(int files, long bytes, String postgresVersion) {}

    /** Writes the copy of {@code dataDir} to {@code archive} (a new file, owner-only: it holds the keys). */
    static Result backup(Path dataDir, Path archive) throws IOException {
        Path dir = dataDir.toAbsolutePath().normalize();
        Path postgres = dir.resolve("postgres");
        if (!Files.isRegularFile(postgres.resolve("PG_VERSION"))) {
            throw new IllegalArgumentException(dir + " holds no local stack's database (no postgres/PG_VERSION):"
                    + " pass --data-dir of the stack `meshguard up` ran on");
        }
        Path target = archive.toAbsolutePath().normalize();
        if (target.startsWith(dir)) {
            throw new IllegalArgumentException(archive + " is inside the data directory it copies: write it elsewhere");
        }
        try (DataDirLock lock = DataDirLock.acquire(dir)) {
            requireNoServer(postgres);
            String version = Files.readString(postgres.resolve("PG_VERSION")).strip();
            List<Path> files = filesOf(dir);
            long bytes = 0;
            try (OutputStream out =
                    Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ownerOnly(target);
                try (ZipOutputStream zip = new ZipOutputStream(out)) {
                    ObjectNode manifest = new ObjectMapper()
                            .createObjectNode()
                            .put("format", FORMAT)
                            .put("postgres_version", version)
                            .put("taken_at", Instant.now().toString())
                            .put(
                                    "meshguard_version",
                                    io.meshguard.runtime.BuildInfo.current().version())
                            .put("files", files.size());
                    zip.putNextEntry(new ZipEntry(MANIFEST));
                    zip.write(manifest.toPrettyString().getBytes(StandardCharsets.UTF_8));
                    zip.closeEntry();
                    for (Path file : files) {
                        String name = dir.relativize(file).toString().replace('\\', '/');
                        if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
                            zip.putNextEntry(new ZipEntry(name + "/"));
                        } else {
                            zip.putNextEntry(new ZipEntry(name));
                            bytes += Files.copy(file, zip);
                        }
                        zip.closeEntry();
                    }
                }
            } catch (FileAlreadyExistsException e) {
                throw new IllegalArgumentException(archive + " exists: a backup never overwrites a file", e);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(target);
                throw e;
            }
            return new Result(files.size(), bytes, version);
        }
    }

    /**
     * Replaces what {@code dataDir} holds with the copy in {@code archive}. The archive is read to the end into a
     * directory beside the data first, so a damaged or foreign file changes nothing; only then is the old data removed
     * and the copy moved in.
     */
    static Result restore(Path archive, Path dataDir) throws IOException {
        Path dir = dataDir.toAbsolutePath().normalize();
        if (!Files.isRegularFile(archive)) {
            throw new IllegalArgumentException(archive + " does not exist");
        }
        Files.createDirectories(dir);
        try (DataDirLock lock = DataDirLock.acquire(dir)) {
            requireNoServer(dir.resolve("postgres"));
            Path staging = Files.createTempDirectory(dir, ".restore-");
            try {
                Result unpacked = unpack(archive, staging);
                for (Path entry : topLevel(dir)) {
                    if (!entry.equals(staging)) {
                        deleteTree(entry);
                    }
                }
                for (Path entry : topLevel(staging)) {
                    Files.move(entry, dir.resolve(entry.getFileName().toString()), StandardCopyOption.ATOMIC_MOVE);
                }
                return unpacked;
            } finally {
                deleteTree(staging);
            }
        }
    }

    private static Result unpack(Path archive, Path staging) throws IOException {
        int files = 0;
        long bytes = 0;
        String version = "";
        boolean manifest = false;
        try (InputStream in = Files.newInputStream(archive);
                ZipInputStream zip = new ZipInputStream(in)) {
            for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                if (entry.getName().equals(MANIFEST)) {
                    var doc = new ObjectMapper().readTree(zip.readAllBytes());
                    if (doc.path("format").asInt() != FORMAT) {
                        throw new IllegalArgumentException(archive + " is a backup of format "
                                + doc.path("format").asText("?") + "; this meshguard reads format " + FORMAT);
                    }
                    version = doc.path("postgres_version").asText();
                    manifest = true;
                    continue;
                }
                if (!manifest) {
                    throw new IllegalArgumentException(
                            archive + " is not a `meshguard local backup` (no " + MANIFEST + " first)");
                }
                // a name that climbs out of the data directory (zip slip) or is absolute is not ours
                Path target = staging.resolve(entry.getName()).normalize();
                if (!target.startsWith(staging) || target.equals(staging) || LEFT_OUT.contains(entry.getName())) {
                    throw new IllegalArgumentException(
                            archive + " holds an entry outside a data directory: " + entry.getName());
                }
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                    ownerOnlyDirectory(target);
                } else {
                    Files.createDirectories(target.getParent());
                    ownerOnlyDirectory(target.getParent());
                    bytes += Files.copy(zip, target);
                    ownerOnly(target);
                    files++;
                }
            }
        } catch (java.util.zip.ZipException e) {
            throw new IllegalArgumentException(archive + " is not a readable backup: " + e.getMessage(), e);
        }
        if (!manifest || !Files.isRegularFile(staging.resolve("postgres/PG_VERSION"))) {
            throw new IllegalArgumentException(
                    archive + " is not a `meshguard local backup` (no manifest or no" + " database in it)");
        }
        return new Result(files, bytes, version);
    }

    /** A PostgreSQL still running on the directory (an up killed with -9 leaves one) would change files under us. */
    private static void requireNoServer(Path postgres) throws IOException {
        Path pidFile = postgres.resolve("postmaster.pid");
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile, StandardCharsets.US_ASCII);
        if (lines.isEmpty()) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).strip());
        } catch (NumberFormatException e) {
            return;
        }
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            throw new IllegalStateException("PostgreSQL (pid " + pid + ") still runs on " + postgres + ", left by an"
                    + " up that did not stop cleanly: start `meshguard up` on this data directory once (it stops that"
                    + " server) and stop it with Ctrl-C, then run this again");
        }
    }

    private static List<Path> filesOf(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
                if (p.equals(dir)) {
                    continue;
                }
                String name = dir.relativize(p).toString().replace('\\', '/');
                if (LEFT_OUT.stream().anyMatch(out -> name.equals(out) || name.startsWith(out + "/"))) {
                    continue;
                }
                if (Files.isSymbolicLink(p)) {
                    // up links the dev policy set to --policies at each start (DevPolicyWriter): not data. In the
                    // database's directory a link (a moved pg_wal) is data that a copy of the link would lose.
                    if (name.startsWith("postgres/")) {
                        throw new IllegalStateException(p + " is a symbolic link: a copy of the link would not be a"
                                + " copy of the data (move what it points to back into the data directory)");
                    }
                    continue;
                }
                files.add(p);
            }
        }
        return files;
    }

    private static List<Path> topLevel(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(p -> !LEFT_OUT.contains(p.getFileName().toString()))
                    .toList();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    private static void ownerOnly(Path file) throws IOException {
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException notPosix) {
            // Windows: the directory's ACL protects it
        }
    }

    // PostgreSQL refuses a data directory others can read (0700 or 0750)
    private static void ownerOnlyDirectory(Path dir) throws IOException {
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException notPosix) {
            // Windows
        }
    }
}
