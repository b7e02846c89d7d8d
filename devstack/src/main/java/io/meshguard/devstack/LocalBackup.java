package io.meshguard.devstack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.cli.common.UpState;
import io.meshguard.devstack.db.LocalPostgres;
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
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A cold copy of a local stack's data directory ({@code meshguard local backup|restore}): the embedded PostgreSQL's
 * files with everything else {@code up} keeps there (its keys, the admin token, the audit spools), taken while no
 * {@code up} runs on it. PostgreSQL's own rule for a file-system backup is that the server is shut down
 * (PostgreSQL 17 documentation, "File System Level Backup"): the data directory's lock, held here for the whole copy,
 * is what keeps an {@code up} from starting meanwhile, and a server a killed {@code up} left running is refused.
 * A dump is not an option on a stock machine: the embedded distribution ships no {@code pg_dump}, and a distribution's
 * older {@code pg_dump} refuses a newer server.
 *
 * <p>A restore runs what the archive holds (PostgreSQL reads its configuration files at {@code up}; a changed
 * {@code postgresql.auto.conf} can run any {@code archive_command}), so it restores only an archive this stack's
 * backup wrote: the manifest lists every file with its SHA-256 and is followed by its HMAC-SHA256 (the JDK's
 * {@code Mac}) under {@code DATA_DIR/backup-mac.key}, a key that never goes into an archive; every entry must be
 * listed with that digest. Both directions also refuse PostgreSQL configuration meshguard does not write (settings
 * beyond initdb's in {@code postgresql.conf}, any in {@code postgresql.auto.conf} or {@code pg_ident.conf}, a
 * recovery or standby signal), and a restore writes {@code pg_hba.conf} from meshguard's own. The trail checkpoint
 * key stays out of the archive as well: it exists to be beyond the reach of whoever holds the database.
 */
final class LocalBackup {
    static final String MANIFEST = "meshguard-backup.json";
    /** The manifest's HMAC-SHA256, hex, the entry right after it. */
    static final String MAC_ENTRY = "meshguard-backup.mac";
    /** The HMAC key in the data directory: made by the first backup, never archived, kept by a restore. */
    static final String MAC_KEY = "backup-mac.key";
    /** Format 2: a manifest of every file's SHA-256, under a MAC (format 1 archives had none and are refused). */
    static final int FORMAT = 2;

    /** The settings initdb writes into postgresql.conf; any other is configuration meshguard does not own. */
    private static final Set<String> INITDB_SETTINGS = Set.of(
            "max_connections",
            "shared_buffers",
            "dynamic_shared_memory_type",
            "max_wal_size",
            "min_wal_size",
            "log_timezone",
            "datestyle",
            "timezone",
            "lc_messages",
            "lc_monetary",
            "lc_numeric",
            "lc_time",
            "default_text_search_config");
    /**
     * Not part of the copy: the lock and up.json belong to a running up; Keycloak's and Redis's directories hold
     * only a pid file, a log and a password regenerated at each start (the local realm is in memory, the local Redis
     * persists nothing); PostgreSQL's pid file names a process of the machine the copy came from.
     */
    private static final Set<String> LEFT_OUT = Set.of(
            // keys that are the stack's, not the database's: the archive's MAC key, and the trail checkpoint key
            // (with its public half), which must stay out of reach of whoever holds the database or its copy
            MAC_KEY,
            "trail-checkpoint.key",
            "trail-checkpoint.pub",
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
            refuseForeignConfiguration(postgres, dir.toString());
            String version = Files.readString(postgres.resolve("PG_VERSION")).strip();
            List<Path> files = filesOf(dir);
            byte[] key = macKey(dir, true);
            // the manifest goes first, so a restore checks its MAC before it writes a byte: digests in a first pass
            ObjectMapper json = new ObjectMapper();
            ObjectNode manifest = json.createObjectNode()
                    .put("format", FORMAT)
                    .put("postgres_version", version)
                    .put("taken_at", Instant.now().toString())
                    .put(
                            "meshguard_version",
                            io.meshguard.runtime.BuildInfo.current().version());
            ObjectNode listed = manifest.putObject("files");
            var dirs = manifest.putArray("directories");
            for (Path file : files) {
                String name = nameOf(dir, file);
                if (Files.isDirectory(file, LinkOption.NOFOLLOW_LINKS)) {
                    dirs.add(name);
                } else {
                    listed.put(name, sha256(file));
                }
            }
            byte[] manifestBytes = manifest.toPrettyString().getBytes(StandardCharsets.UTF_8);
            long bytes = 0;
            try (OutputStream out =
                    Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ownerOnly(target);
                try (ZipOutputStream zip = new ZipOutputStream(out)) {
                    zip.putNextEntry(new ZipEntry(MANIFEST));
                    zip.write(manifestBytes);
                    zip.closeEntry();
                    zip.putNextEntry(new ZipEntry(MAC_ENTRY));
                    zip.write(HexFormat.of().formatHex(mac(key, manifestBytes)).getBytes(StandardCharsets.US_ASCII));
                    zip.closeEntry();
                    for (Path file : files) {
                        String name = nameOf(dir, file);
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
            byte[] key = macKey(dir, false);
            Path staging = Files.createTempDirectory(dir, ".restore-");
            try {
                Result unpacked = unpack(archive, staging, key);
                refuseForeignConfiguration(staging.resolve("postgres"), archive.toString());
                // pg_hba.conf is meshguard's (LocalPostgres writes it at every start): the archive's is not used
                Files.writeString(staging.resolve("postgres/pg_hba.conf"), LocalPostgres.HBA, StandardCharsets.UTF_8);
                ownerOnly(staging.resolve("postgres/pg_hba.conf"));
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

    private static Result unpack(Path archive, Path staging, byte[] key) throws IOException {
        int files = 0;
        long bytes = 0;
        String notOurs = archive + " is not a `meshguard local backup` of this stack";
        try (InputStream in = Files.newInputStream(archive);
                ZipInputStream zip = new ZipInputStream(in)) {
            ZipEntry first = zip.getNextEntry();
            if (first == null || !first.getName().equals(MANIFEST)) {
                throw new IllegalArgumentException(notOurs + " (no " + MANIFEST + " first)");
            }
            byte[] manifestBytes = zip.readAllBytes();
            ZipEntry second = zip.getNextEntry();
            byte[] mac;
            try {
                mac = second != null && second.getName().equals(MAC_ENTRY)
                        ? HexFormat.of().parseHex(new String(zip.readAllBytes(), StandardCharsets.US_ASCII).strip())
                        : new byte[0];
            } catch (IllegalArgumentException e) {
                mac = new byte[0];
            }
            var doc = new ObjectMapper().readTree(manifestBytes);
            if (doc == null || !doc.isObject()) {
                throw new IllegalArgumentException(notOurs + " (its " + MANIFEST + " is no JSON object)");
            }
            if (mac.length == 0 && doc.path("format").asInt() < FORMAT) {
                throw new IllegalArgumentException(archive + " is a backup of format "
                        + doc.path("format").asText("?") + ", which carries no MAC: this meshguard restores only "
                        + "archives whose manifest it can verify (format " + FORMAT + ")");
            }
            if (!MessageDigest.isEqual(mac, mac(key, manifestBytes))) {
                throw new IllegalArgumentException(notOurs + ": its manifest's MAC does not verify with " + MAC_KEY
                        + " (it was changed since it was written, or another stack wrote it; a restore on another "
                        + "machine needs the writing stack's " + MAC_KEY + " copied into the data directory first)");
            }
            if (doc.path("format").asInt() != FORMAT) {
                throw new IllegalArgumentException(archive + " is a backup of format "
                        + doc.path("format").asText("?") + "; this meshguard reads format " + FORMAT);
            }
            String version = doc.path("postgres_version").asText();
            Map<String, String> expected = new HashMap<>();
            doc.path("files")
                    .fields()
                    .forEachRemaining(f -> expected.put(f.getKey(), f.getValue().asText()));
            Set<String> directories = new HashSet<>();
            doc.path("directories").forEach(d -> directories.add(d.asText()));
            Set<String> seen = new HashSet<>();
            for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                String name = entry.getName();
                // a name that climbs out of the data directory (zip slip) or is absolute is not ours
                Path target = staging.resolve(name).normalize();
                if (!target.startsWith(staging) || target.equals(staging) || LEFT_OUT.contains(name)) {
                    throw new IllegalArgumentException(archive + " holds an entry outside a data directory: " + name);
                }
                if (entry.isDirectory()) {
                    if (!directories.contains(name.substring(0, name.length() - 1))) {
                        throw new IllegalArgumentException(notOurs + ": " + name + " is not in its manifest");
                    }
                    Files.createDirectories(target);
                    ownerOnlyDirectory(target);
                    continue;
                }
                String digest = expected.get(name);
                if (digest == null || !seen.add(name)) {
                    throw new IllegalArgumentException(
                            notOurs + ": " + name + (digest == null ? " is not in its manifest" : " appears twice"));
                }
                Files.createDirectories(target.getParent());
                ownerOnlyDirectory(target.getParent());
                MessageDigest sha = sha256();
                try (InputStream entryIn = new DigestInputStream(new NonClosing(zip), sha)) {
                    bytes += Files.copy(entryIn, target);
                }
                ownerOnly(target);
                if (!MessageDigest.isEqual(HexFormat.of().parseHex(digest), sha.digest())) {
                    throw new IllegalArgumentException(notOurs + ": " + name
                            + " does not match the digest its manifest records (it was changed inside the archive)");
                }
                files++;
            }
            if (!seen.equals(expected.keySet())) {
                Set<String> missing = new java.util.TreeSet<>(expected.keySet());
                missing.removeAll(seen);
                throw new IllegalArgumentException(
                        notOurs + ": files its manifest lists are missing: " + String.join(", ", missing));
            }
            if (!Files.isRegularFile(staging.resolve("postgres/PG_VERSION"))) {
                throw new IllegalArgumentException(notOurs + " (no database in it)");
            }
            return new Result(files, bytes, version);
        } catch (java.util.zip.ZipException | com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(archive + " is not a readable backup: " + e.getMessage(), e);
        }
    }

    /**
     * Refuses PostgreSQL configuration meshguard does not write: PostgreSQL reads it at {@code up} and some of it runs
     * commands ({@code archive_command}, {@code restore_command}, {@code ssl_passphrase_command}) or loads libraries.
     */
    static void refuseForeignConfiguration(Path postgres, String where) throws IOException {
        for (String signal : List.of("recovery.signal", "standby.signal")) {
            if (Files.exists(postgres.resolve(signal), LinkOption.NOFOLLOW_LINKS)) {
                throw new IllegalArgumentException(
                        where + " holds postgres/" + signal
                                + ": meshguard never writes one (it would start PostgreSQL in recovery, running restore_command)");
            }
        }
        for (String file : List.of("postgresql.auto.conf", "pg_ident.conf", "postgresql.conf")) {
            Path path = postgres.resolve(file);
            if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                continue;
            }
            List<String> lines = Files.readAllLines(path, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                int hash = line.indexOf('#');
                String setting = (hash < 0 ? line : line.substring(0, hash)).strip();
                if (setting.isEmpty()) {
                    continue;
                }
                String name = setting.split("[\\s=]", 2)[0].toLowerCase(java.util.Locale.ROOT);
                if (!file.equals("postgresql.conf") || !INITDB_SETTINGS.contains(name)) {
                    throw new IllegalArgumentException(where + ": postgres/" + file + " line " + (i + 1) + " sets '"
                            + name + "', which meshguard does not write (PostgreSQL would read it at `meshguard up`)"
                            + "; remove it from the data directory's file and back up again");
                }
            }
        }
    }

    /** The HMAC key of this data directory's archives; made on the first backup, never by a restore. */
    private static byte[] macKey(Path dir, boolean create) throws IOException {
        Path file = dir.resolve(MAC_KEY);
        if (!Files.exists(file)) {
            if (!create) {
                throw new IllegalArgumentException(file + " does not exist: a restore verifies the archive with the "
                        + "key of the stack that wrote it, kept out of the archive; copy that stack's " + MAC_KEY
                        + " here (owner-readable only) and restore again");
            }
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            Path tmp = dir.resolve(MAC_KEY + ".tmp");
            Files.writeString(tmp, HexFormat.of().formatHex(key) + "\n", StandardCharsets.US_ASCII);
            ownerOnly(tmp);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            return key;
        }
        try {
            byte[] key = HexFormat.of()
                    .parseHex(Files.readString(file, StandardCharsets.US_ASCII).strip());
            if (key.length < 32) {
                throw new IllegalArgumentException("shorter than 32 bytes");
            }
            return key;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + " is not a backup MAC key (64 hex digits): " + e.getMessage(), e);
        }
    }

    static byte[] mac(byte[] key, byte[] manifest) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(manifest);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest sha = sha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static String nameOf(Path dir, Path file) {
        return dir.relativize(file).toString().replace('\\', '/');
    }

    /** The current zip entry's bytes, without closing the archive when the entry's stream is closed. */
    private static final class NonClosing extends java.io.FilterInputStream {
        NonClosing(InputStream in) {
            super(in);
        }

        @Override
        public void close() {}
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
                String name = nameOf(dir, p);
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
