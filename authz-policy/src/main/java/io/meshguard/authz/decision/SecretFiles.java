package io.meshguard.authz.decision;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Reads mounted secret files (upstream service credentials). Content is kept in memory and re-read when the file's
 * modification time changes, checked at most once a second, so a rotated Kubernetes secret is picked up without a
 * restart. A missing or empty file gives nothing (the request is then denied).
 */
public final class SecretFiles {
    private record Cached(String value, FileTime modified, long checkedAtNanos) {}

    private final ConcurrentHashMap<Path, Cached> cache = new ConcurrentHashMap<>();
    private final LongSupplier nanoTime;
    private final java.util.Map<Path, String> fixed;

    public SecretFiles(LongSupplier nanoTime) {
        this(nanoTime, java.util.Map.of());
    }

    /** With fixed contents for some paths instead of reading them (offline policy tests declare their secrets). */
    public SecretFiles(LongSupplier nanoTime, java.util.Map<Path, String> fixed) {
        this.nanoTime = nanoTime;
        this.fixed = java.util.Map.copyOf(fixed);
    }

    public Optional<String> read(Path file) {
        if (fixed.containsKey(file)) {
            return Optional.of(fixed.get(file)).filter(v -> !v.isEmpty());
        }
        long now = nanoTime.getAsLong();
        Cached c = cache.get(file);
        if (c != null && now - c.checkedAtNanos() < 1_000_000_000L) {
            return Optional.of(c.value()).filter(v -> !v.isEmpty());
        }
        try {
            FileTime modified = Files.getLastModifiedTime(file);
            if (c != null && modified.equals(c.modified())) {
                cache.put(file, new Cached(c.value(), modified, now));
                return Optional.of(c.value()).filter(v -> !v.isEmpty());
            }
            String value = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
                // a header value cannot hold line breaks; refuse rather than inject a broken header
                value = "";
            }
            cache.put(file, new Cached(value, modified, now));
            return Optional.of(value).filter(v -> !v.isEmpty());
        } catch (IOException e) {
            cache.remove(file);
            return Optional.empty();
        }
    }
}
