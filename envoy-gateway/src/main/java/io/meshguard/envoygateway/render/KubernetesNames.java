package io.meshguard.envoygateway.render;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Names and label values Kubernetes accepts, derived from meshguard's names: kept as they are when already valid,
 * otherwise folded to the allowed characters with a short hash of the original, so two meshguard names never fold to
 * one Kubernetes name.
 */
public final class KubernetesNames {

    private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    private static final Pattern LABEL_VALUE = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");

    private KubernetesNames() {}

    /** A DNS-1123 label (at most 63): valid as an object name of every kind and as a label value. */
    static String name(String raw) {
        if (raw.length() <= 63 && DNS_LABEL.matcher(raw).matches()) {
            return raw;
        }
        String folded = raw.toLowerCase(Locale.ROOT)
                .replaceAll("[^a-z0-9-]+", "-")
                .replaceAll("-{2,}", "-")
                .replaceAll("^-+|-+$", "");
        String hash = hash(raw);
        int room = 63 - hash.length() - 1;
        if (folded.length() > room) {
            folded = folded.substring(0, room).replaceAll("-+$", "");
        }
        return folded.isEmpty() ? "mg-" + hash : folded + "-" + hash;
    }

    /**
     * A label value (at most 63 of {@code [-A-Za-z0-9_.]}, alphanumeric at both ends): the zone selects a group's
     * resources by it.
     */
    public static String labelValue(String raw) {
        if (raw.length() <= 63 && LABEL_VALUE.matcher(raw).matches()) {
            return raw;
        }
        return name(raw);
    }

    private static String hash(String raw) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(raw.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
