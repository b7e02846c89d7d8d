package io.meshguard.envoygateway.render;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Names and label values Kubernetes accepts, derived from meshguard's names: kept as they are when already valid,
 * otherwise folded to the allowed characters with a hash of the original. A group's member object (route, backend) is
 * named {@code group.member}: meshguard's names never hold a dot, so two (group, member) pairs never share a name (with
 * {@code group-member}, {@code egw} + {@code x-charges} and {@code egw-x} + {@code charges} did). Only a name too long
 * to spell out is folded, and a folded name holds no dot either; what a hash could still make equal, the publish check
 * refuses ({@link RenderedResources#duplicateNames}).
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
     * The object name of {@code member} of {@code group} (a DNS-1123 subdomain, what every kind the renderer emits
     * takes): {@code group.member} when both are DNS labels, else a folded name that cannot contain a dot.
     */
    static String memberName(String group, String member) {
        if (DNS_LABEL.matcher(group).matches()
                && DNS_LABEL.matcher(member).matches()
                && group.length() + 1 + member.length() <= 253) {
            return group + "." + member;
        }
        return name(group + "\u0000" + member);
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
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
