package io.meshguard.dlp.policy;

/** Which body a scan applies to. */
public enum Direction {
    REQUEST,
    RESPONSE;

    public String id() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
