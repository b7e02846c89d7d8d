package io.meshguard.cli.dev;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Where the local development issuer keeps its files below a data directory ({@code .meshguard/} for
 * {@code meshguard up}):
 * <pre>
 * DATA/dev-issuer/            0700
 *   signing-key.jwk           0600  the private EC P-256 key, never leaves this folder
 *   public/jwks.json          0644  its public half, served to extauthz
 *   policy/authz.yaml         0644  policies/authz.yaml plus the dev issuer and the demo route
 * </pre>
 * The public and policy files sit in their own folders so that Docker Compose can mount them into containers
 * without the private key.
 */
public record DevIssuerFiles(Path dir) {
    private static final boolean POSIX =
            FileSystems.getDefault().supportedFileAttributeViews().contains("posix");

    /** The issuer folder below {@code dataDir}. */
    public static DevIssuerFiles under(Path dataDir) {
        return new DevIssuerFiles(dataDir.toAbsolutePath().normalize().resolve("dev-issuer"));
    }

    public Path signingKey() {
        return dir.resolve("signing-key.jwk");
    }

    public Path publicJwks() {
        return dir.resolve("public").resolve("jwks.json");
    }

    public Path policy() {
        return dir.resolve("policy").resolve("authz.yaml");
    }

    /**
     * Writes {@code text} to {@code file} (whose folder exists) through a temporary file and a rename, so a reader
     * (extauthz's policy watcher, the JWKS server) never sees half a file; the file has {@code mode} from the moment
     * it exists.
     */
    static void writeAtomically(Path file, String text, String mode) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        if (POSIX) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(mode)); // exactly, whatever the umask
        } else {
            Files.createFile(tmp);
        }
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Creates the issuer folder (0700) and its public and policy folders (0755) when missing. */
    void createFolders() throws IOException {
        ensureDirectory(dir, "rwx------");
        ensureDirectory(publicJwks().getParent(), "rwxr-xr-x");
        ensureDirectory(policy().getParent(), "rwxr-xr-x");
    }

    /** Creates {@code dir} (and parents) with {@code mode} when missing; an existing folder keeps its mode. */
    private static void ensureDirectory(Path dir, String mode) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Files.createDirectories(dir.getParent());
        if (POSIX) {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
            // umask may have taken bits away from what was asked; set exactly what was asked.
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
        } else {
            Files.createDirectory(dir);
        }
    }

    /** True when group or others may read or write {@code file} (always false where the file system has no modes). */
    static boolean readableByOthers(Path file) throws IOException {
        if (!POSIX) {
            return false;
        }
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        return perms.contains(PosixFilePermission.GROUP_READ)
                || perms.contains(PosixFilePermission.GROUP_WRITE)
                || perms.contains(PosixFilePermission.OTHERS_READ)
                || perms.contains(PosixFilePermission.OTHERS_WRITE);
    }
}
