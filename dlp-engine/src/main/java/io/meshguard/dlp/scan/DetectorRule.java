package io.meshguard.dlp.scan;

import java.util.List;
import java.util.Set;

/**
 * One detector as a scan applies it: how sure a finding must be, what nearby words do, which values are allowed,
 * and the action for the direction being scanned.
 *
 * @param name detector name (built-in id or the policy's name)
 * @param minConfidence findings below this are dropped
 * @param context context words
 * @param allowValues values never reported, compared after removing spaces and dashes (e.g. test card numbers)
 * @param allowDomains for e-mail: domains (and their subdomains) never reported
 * @param action what to do with a finding
 */
public record DetectorRule(
        String name,
        double minConfidence,
        ContextRule context,
        Set<String> allowValues,
        List<String> allowDomains,
        Action action) {
    public DetectorRule {
        allowValues = Set.copyOf(allowValues);
        allowDomains = List.copyOf(allowDomains);
    }

    boolean allowed(String value) {
        if (!allowValues.isEmpty() && allowValues.contains(normalize(value))) {
            return true;
        }
        if (allowDomains.isEmpty()) {
            return false;
        }
        String lower = value.toLowerCase(java.util.Locale.ROOT);
        for (String d : allowDomains) {
            String dl = d.toLowerCase(java.util.Locale.ROOT);
            if (lower.endsWith("@" + dl) || lower.endsWith("." + dl)) {
                return true;
            }
        }
        return false;
    }

    /** The form allow-list entries are compared in. */
    public static String normalize(String value) {
        return value.replace(" ", "").replace("-", "");
    }
}
