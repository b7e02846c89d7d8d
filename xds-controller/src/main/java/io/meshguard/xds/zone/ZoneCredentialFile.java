package io.meshguard.xds.zone;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.xds.model.ConfigJson;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Optional;

/**
 * The zone's current credential in its state directory (owner-only), replaced whenever central grants the next one:
 * a restarted zone reconnects with it, never needing its registration token again.
 */
public final class ZoneCredentialFile {
    private final Path file;

    public ZoneCredentialFile(Path stateDir) {
        this.file = stateDir.resolve("credential.json");
    }

    /** The stored credential, when there is one. */
    public synchronized Optional<ZoneRegistry.Credential> read() {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            JsonNode n = ConfigJson.mapper().readTree(Files.readString(file));
            return Optional.of(new ZoneRegistry.Credential(
                    n.path("secret").asText(),
                    Instant.parse(n.path("expires_at").asText())));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    public synchronized void write(String secret, Instant expiresAt) {
        try {
            Files.createDirectories(file.getParent());
            String json = ConfigJson.write(ConfigJson.mapper()
                    .createObjectNode()
                    .put("secret", secret)
                    .put("expires_at", expiresAt.toString()));
            Path tmp = file.resolveSibling("credential.json.tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp);
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the directory's permissions protect it
            }
            Files.writeString(tmp, json);
            Files.move(
                    tmp,
                    file,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store the zone credential in " + file, e);
        }
    }
}
