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
 * Admin API tokens (xDS controller admin API, extauthz quota endpoint) from a mounted secret file, one per line:
 * {@code name:token} or a bare token (name {@code admin}). A client sends {@code Authorization: Bearer TOKEN}, or the
 * whole line {@code Bearer name:token}. Re-read when a file changes, so a rotated Kubernetes secret takes effect
 * without a restart. Comparison is constant-time.
 */
public final class BearerTokens {
    private record Entry(String name, byte[] token) {}

    private final List<Path> files;
    private volatile List<Entry> entries = List.of();
    private volatile List<FileTime> loadedAt = List.of();

    public BearerTokens(Optional<Path> file) {
        this(file.stream().toList());
    }

    /**
     * The tokens of several files, read as one list: a local stack keeps its second person's token apart from the
     * admin's, so that each file stays one line a shell can send as it is.
     */
    public BearerTokens(List<Path> files) {
        this.files = List.copyOf(files);
    }

    /** False when no token file is configured: the admin API is then closed. */
    public boolean configured() {
        return !files.isEmpty();
    }

    /** The actor name of a valid {@code Authorization} header value. */
    public Optional<String> authenticate(String authorizationHeader) {
        if (files.isEmpty() || authorizationHeader == null || !authorizationHeader.startsWith("Bearer ")) {
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
        try {
            List<FileTime> modified = new ArrayList<>();
            for (Path file : files) {
                modified.add(Files.getLastModifiedTime(file));
            }
            if (modified.equals(loadedAt)) {
                return;
            }
            List<Entry> fresh = new ArrayList<>();
            for (Path file : files) {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
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
            }
            entries = List.copyOf(fresh);
            loadedAt = List.copyOf(modified);
        } catch (IOException e) {
            // an unreadable secret: refuse everything rather than keep stale tokens forever
            entries = List.of();
            loadedAt = List.of();
        }
    }
}
