package io.meshguard.dlp.content;

/** Told when bytes go on unscanned because the profile lets them (a binary part under {@code non_text: pass}). */
@FunctionalInterface
public interface Unscanned {
    Unscanned IGNORE = (reason, bytes) -> {};

    void passed(String reason, long bytes);
}
