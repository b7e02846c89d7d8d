package io.meshguard.devstack.part;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * A random secret that {@code meshguard up} makes the first time and reuses afterwards (the xds admin token, the
 * DLP hash key), kept in the data directory and readable by its owner only. Local development only: Kubernetes
 * and compose installs mount their secrets.
 */
public final class LocalSecret {
    private LocalSecret() {}

    /**
     * The file holding {@code prefix} + {@code randomBytes} random bytes in hex, created if absent.
     */
    public static Path ensure(Path file, String prefix, int randomBytes) throws IOException {
        if (!Files.exists(file)) {
            byte[] random = new byte[randomBytes];
            new SecureRandom().nextBytes(random);
            Files.writeString(file, prefix + HexFormat.of().formatHex(random) + "\n", StandardCharsets.UTF_8);
            try {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the data directory's own permissions protect it
            }
        }
        return file;
    }
}
