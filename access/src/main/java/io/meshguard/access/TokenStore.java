package io.meshguard.access;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.text.ParseException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Where {@code meshguard login} keeps its token: {@code $XDG_CONFIG_HOME/meshguard/token.json} (else
 * {@code ~/.config/meshguard/token.json}), readable by the user only (0600, directory 0700), replaced atomically.
 */
public final class TokenStore {
    private final Path file;

    public TokenStore(Path file) {
        this.file = file;
    }

    /** The user's token file, following the XDG base directory specification. */
    public static TokenStore forUser(Map<String, String> env) {
        String xdg = env.getOrDefault("XDG_CONFIG_HOME", "");
        Path config = xdg.isBlank() ? Path.of(System.getProperty("user.home"), ".config") : Path.of(xdg);
        return new TokenStore(config.resolve("meshguard").resolve("token.json"));
    }

    public Path file() {
        return file;
    }

    public void save(SignedInToken token) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
            // not a POSIX file system: the user's profile directory is private already
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("issuer", token.issuer());
        json.put("client_id", token.clientId());
        json.put("access_token", token.accessToken());
        json.put("refresh_token", token.refreshToken());
        json.put("expires_at", token.expiresAt().toString());
        Path tmp = Files.createTempFile(dir, "token", ".tmp");
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException e) {
            // as above
        }
        Files.writeString(tmp, JSONObjectUtils.toJSONString(json), StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public Optional<SignedInToken> load() throws IOException {
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            Map<String, Object> j = JSONObjectUtils.parse(Files.readString(file, StandardCharsets.UTF_8));
            return Optional.of(new SignedInToken(
                    JSONObjectUtils.getString(j, "issuer"),
                    JSONObjectUtils.getString(j, "client_id"),
                    JSONObjectUtils.getString(j, "access_token"),
                    Optional.ofNullable(JSONObjectUtils.getString(j, "refresh_token"))
                            .orElse(""),
                    Instant.parse(JSONObjectUtils.getString(j, "expires_at"))));
        } catch (ParseException | RuntimeException e) {
            throw new IOException(
                    file + " is not a meshguard token file (run meshguard login again): " + e.getMessage(), e);
        }
    }
}
