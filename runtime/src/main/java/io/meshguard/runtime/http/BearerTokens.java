package io.meshguard.runtime.http;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Admin API tokens (xDS controller admin API, extauthz quota endpoint) from a mounted secret file, one per line: {@code name:token} or a bare token (name
 * {@code admin}). A client sends {@code Authorization: Bearer TOKEN}, or the whole line {@code Bearer name:token}. Re-read when the file changes, so a rotated Kubernetes secret takes effect without a restart.
 * Comparison is constant-time.
 */
public final class BearerTokens {
    private record Entry(String name, byte[] token) {}

    private final Optional<Path> file;
    private volatile List<Entry> entries = List.of();
    private volatile FileTime loadedAt = FileTime.fromMillis(0);

    public BearerTokens(Optional<Path> file) {
        this.file = file;
    }

    /** False when no token file is configured: the admin API is then closed. */
    public boolean configured() {
        return file.isPresent();
    }

    /** The actor name of a valid {@code Authorization} header value. */
    public Optional<String> authenticate(String authorizationHeader) {
        if (file.isEmpty() || authorizationHeader == null || !authorizationHeader.startsWith("Bearer ")) {
            return Optional.empty();
        }
        String value = authorizationHeader.substring(7).trim();
        byte[] presented = value.getBytes(StandardCharsets.UTF_8);
        if (presented.length == 0) {
            return Optional.empty();
        }
        // A whole line of the file ("name:token", e.g. `Bearer $(cat token-file)`) is accepted too: the name is then
        // checked along with the token, so it cannot be used to claim another entry's actor name.
        int colon = value.indexOf(':');
        byte[] tokenPart = colon > 0 ? value.substring(colon + 1).getBytes(StandardCharsets.UTF_8) : presented;
        String namePart = colon > 0 ? value.substring(0, colon) : null;
        reloadIfChanged();
        Optional<String> match = Optional.empty();
        for (Entry e : entries) {
            // no early exit: the time taken does not say which entry matched
            boolean bare = MessageDigest.isEqual(e.token(), presented);
            boolean line = namePart != null
                    && MessageDigest.isEqual(e.token(), tokenPart)
                    && e.name().equals(namePart);
            if ((bare || line) && match.isEmpty()) {
                match = Optional.of(e.name());
            }
        }
        return match;
    }

    private void reloadIfChanged() {
        Path path = file.orElseThrow();
        try {
            FileTime modified = Files.getLastModifiedTime(path);
            if (modified.equals(loadedAt)) {
                return;
            }
            List<Entry> fresh = new ArrayList<>();
            for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
                String l = line.strip();
                if (l.isEmpty() || l.startsWith("#")) {
                    continue;
                }
                int colon = l.indexOf(':');
                String name = colon > 0 ? l.substring(0, colon) : "admin";
                String token = colon > 0 ? l.substring(colon + 1) : l;
                if (token.length() >= 16) {
                    fresh.add(new Entry(name, token.getBytes(StandardCharsets.UTF_8)));
                }
            }
            entries = List.copyOf(fresh);
            loadedAt = modified;
        } catch (IOException e) {
            // unreadable secret: refuse everything rather than keep stale tokens forever
            entries = List.of();
            loadedAt = FileTime.fromMillis(0);
        }
    }
}
